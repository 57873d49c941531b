//! Reloading data without downtime: a new [`Atlas`] is loaded and validated off the async
//! threads, then swapped in whole; requests in flight finish on the generation they started
//! with. Invalid new data is rejected and the current data keeps serving.

use std::time::Instant;

use crate::api::AppState;
use crate::atlas::Atlas;

/// Builds a fresh data generation (the same sources and settings as at start).
pub type Loader = Box<dyn Fn() -> Result<Atlas, String> + Send + Sync>;

/// One server's reload: at most one runs at a time.
pub struct Reloader {
    state: AppState,
    load: std::sync::Arc<Loader>,
    running: std::sync::Arc<tokio::sync::Mutex<()>>,
}

#[derive(Debug, thiserror::Error)]
pub enum ReloadError {
    #[error("a reload is already running")]
    Busy,
    #[error("new data rejected, current data kept: {0}")]
    Rejected(String),
}

/// A finished reload.
#[derive(Debug, Clone, Copy, serde::Serialize, utoipa::ToSchema)]
pub struct Reloaded {
    /// The generation now serving.
    pub data_version: u64,
    pub millis: u64,
}

impl Reloader {
    pub fn new(state: AppState, load: Loader) -> Self {
        Reloader {
            state,
            load: std::sync::Arc::new(load),
            running: std::sync::Arc::new(tokio::sync::Mutex::new(())),
        }
    }

    /// Loads, validates and swaps in a new generation. The work is a task of its own, holding
    /// the reload lock until it has swapped or failed: a caller that goes away (a client that
    /// disconnects) neither cancels it halfway nor lets a second reload run beside it.
    pub async fn reload(&self) -> Result<Reloaded, ReloadError> {
        let Ok(running) = self.running.clone().try_lock_owned() else {
            return Err(ReloadError::Busy);
        };
        let (state, load) = (self.state.clone(), self.load.clone());
        let job = tokio::spawn(async move {
            let _running = running;
            let started = Instant::now();
            let loaded = tokio::task::spawn_blocking(move || load())
                .await
                .map_err(|e| format!("reload task failed: {e}"))
                .and_then(|r| r);
            match loaded {
                Ok(atlas) => {
                    let data_version = state.swap(atlas);
                    state.metrics.count_reload(true);
                    let millis = started.elapsed().as_millis() as u64;
                    tracing::info!(version = data_version, ms = millis, "data reloaded");
                    Ok(Reloaded { data_version, millis })
                }
                Err(e) => {
                    state.metrics.count_reload(false);
                    tracing::error!(error = %e, "reload rejected; the current data keeps serving");
                    Err(ReloadError::Rejected(e))
                }
            }
        });
        job.await
            .unwrap_or_else(|e| Err(ReloadError::Rejected(format!("reload task failed: {e}"))))
    }
}

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
    running: tokio::sync::Mutex<()>,
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
            running: tokio::sync::Mutex::new(()),
        }
    }

    /// Loads, validates and swaps in a new generation.
    pub async fn reload(&self) -> Result<Reloaded, ReloadError> {
        let Ok(_running) = self.running.try_lock() else {
            return Err(ReloadError::Busy);
        };
        let started = Instant::now();
        let load = self.load.clone();
        let loaded = tokio::task::spawn_blocking(move || load())
            .await
            .map_err(|e| format!("reload task failed: {e}"))
            .and_then(|r| r);
        match loaded {
            Ok(atlas) => {
                let data_version = self.state.swap(atlas);
                self.state.metrics.count_reload(true);
                let millis = started.elapsed().as_millis() as u64;
                tracing::info!(version = data_version, ms = millis, "data reloaded");
                Ok(Reloaded { data_version, millis })
            }
            Err(e) => {
                self.state.metrics.count_reload(false);
                tracing::error!(error = %e, "reload rejected; the current data keeps serving");
                Err(ReloadError::Rejected(e))
            }
        }
    }
}

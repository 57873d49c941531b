//! Reloading data without downtime, as jobs: a request (SIGHUP, `POST /admin/reload`,
//! `alliance-map reload`) only asks; one worker task loads and validates a new [`Atlas`] off
//! the async threads and swaps it in whole, whoever asked and whether or not they are still
//! waiting. Requests in flight finish on the generation they started with; invalid new data
//! is rejected and the current data keeps serving.
//!
//! Requests coalesce: asks that arrive while a reload runs are served by *one* more reload
//! that starts after it (so a file changed mid-reload is picked up, and a burst of signals
//! costs two loads, not one per signal). Every ask gets a job number; the job is finished
//! once [`ReloadStatus::finished`] reaches it, and the outcome is published in the status
//! (`GET /admin/reload`), the logs and the metrics.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{watch, Notify};

use crate::api::AppState;
use crate::atlas::Atlas;

/// Builds a fresh data generation (the same sources and settings as at start).
pub type Loader = Box<dyn Fn() -> Result<Atlas, String> + Send + Sync>;

/// One server's reloads: at most one runs at a time.
pub struct Reloader {
    requested: AtomicU64,
    wake: Notify,
    status: watch::Sender<ReloadStatus>,
}

/// Where reloads stand.
#[derive(Debug, Clone, Default, serde::Serialize, utoipa::ToSchema)]
pub struct ReloadStatus {
    /// Reloads asked for so far; each ask's job number is the count after it.
    pub requested: u64,
    /// Asks served by finished reloads: job `n` is finished once this is `n` or more.
    pub finished: u64,
    /// Whether a reload is loading now.
    pub running: bool,
    /// The latest finished reload.
    pub last: Option<ReloadOutcome>,
}

/// A finished reload.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct ReloadOutcome {
    /// The last job number this reload served.
    pub job: u64,
    pub ok: bool,
    /// The generation serving after it (unchanged when rejected).
    pub data_version: u64,
    pub millis: u64,
    /// Why the new data was rejected.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl Reloader {
    /// Starts the reload worker for `state` (call from within the runtime).
    pub fn start(state: AppState, load: Loader) -> Arc<Self> {
        let (status, _) = watch::channel(ReloadStatus::default());
        let reloader = Arc::new(Reloader {
            requested: AtomicU64::new(0),
            wake: Notify::new(),
            status,
        });
        let worker = reloader.clone();
        let load = Arc::new(load);
        tokio::spawn(async move {
            loop {
                // One stored wake-up however many asks came in meanwhile: they coalesce.
                worker.wake.notified().await;
                let upto = worker.requested.load(Ordering::SeqCst);
                worker.status.send_modify(|s| s.running = true);
                let outcome = run_once(&state, load.clone(), upto).await;
                worker.status.send_modify(|s| {
                    s.running = false;
                    s.finished = s.finished.max(upto);
                    s.last = Some(outcome);
                });
            }
        });
        reloader
    }

    /// Asks for a reload; returns its job number. Never waits.
    pub fn request(&self) -> u64 {
        let job = self.requested.fetch_add(1, Ordering::SeqCst) + 1;
        self.status.send_modify(|s| s.requested = s.requested.max(job));
        self.wake.notify_one();
        job
    }

    pub fn status(&self) -> ReloadStatus {
        self.status.borrow().clone()
    }

    /// Waits up to `wait` for job `job` to finish; its outcome (or a later one), if it did.
    pub async fn wait_for(&self, job: u64, wait: Duration) -> Option<ReloadOutcome> {
        let mut rx = self.status.subscribe();
        let done = tokio::time::timeout(wait, rx.wait_for(|s| s.finished >= job)).await;
        match done {
            Ok(Ok(status)) => status.last.clone(),
            _ => None,
        }
    }
}

/// One reload: load and validate off the async threads, then swap in or reject.
async fn run_once(state: &AppState, load: Arc<Loader>, job: u64) -> ReloadOutcome {
    let started = Instant::now();
    let loaded = tokio::task::spawn_blocking(move || load())
        .await
        .map_err(|e| format!("reload task failed: {e}"))
        .and_then(|r| r);
    let millis = started.elapsed().as_millis() as u64;
    match loaded {
        Ok(atlas) => {
            let data_version = state.swap(atlas);
            state.metrics.count_reload(true);
            tracing::info!(version = data_version, ms = millis, job, "data reloaded");
            ReloadOutcome {
                job,
                ok: true,
                data_version,
                millis,
                error: None,
            }
        }
        Err(e) => {
            state.metrics.count_reload(false);
            tracing::error!(error = %e, job, "reload rejected; the current data keeps serving");
            ReloadOutcome {
                job,
                ok: false,
                data_version: state.atlas().version,
                millis,
                error: Some(format!("new data rejected, current data kept: {e}")),
            }
        }
    }
}

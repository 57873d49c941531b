//! `server::run`: everything a running server is, in one function that both `main` and the
//! loopback tests call — the public listener with the protection stack and its
//! Content-Security-Policy, the admin listener, reload on SIGHUP, and graceful drain on
//! shutdown.

use std::future::Future;
use std::net::SocketAddr;
use tokio::net::TcpListener;

use super::admin::{self, AdminState};
use super::listen::ConnConfig;
use super::protect::{content_security_policy, protect, Limits};
use super::reload::{Loader, Reloader};
use crate::api::{self, AppState};

/// Open connections at most on the admin listener.
const ADMIN_MAX_CONNECTIONS: usize = 64;

/// The two bound sockets: the public API and map, and the admin listener.
pub struct Listeners {
    public: TcpListener,
    admin: TcpListener,
}

impl Listeners {
    /// Binds both addresses (`127.0.0.1:0` picks a free port).
    pub async fn bind(public: &str, admin: &str) -> anyhow::Result<Self> {
        let bind = |addr: String| async move {
            TcpListener::bind(&addr)
                .await
                .map_err(|e| anyhow::anyhow!("cannot listen on {addr}: {e}"))
        };
        Ok(Listeners {
            public: bind(public.to_string()).await?,
            admin: bind(admin.to_string()).await?,
        })
    }

    pub fn public_addr(&self) -> std::io::Result<SocketAddr> {
        self.public.local_addr()
    }

    pub fn admin_addr(&self) -> std::io::Result<SocketAddr> {
        self.admin.local_addr()
    }
}

/// How a server runs beyond its data.
#[derive(Default)]
pub struct RunOptions {
    pub limits: Limits,
    /// Reloads the data (SIGHUP, `POST /admin/reload`); `None` disables reload.
    pub loader: Option<Loader>,
    /// SIGHUP, registered by the caller before its initial load (so a SIGHUP then neither
    /// kills the process nor is lost: one reload follows the start). `None`: registered here.
    #[cfg(unix)]
    pub hangup: Option<tokio::signal::unix::Signal>,
}

/// Serves `state` until `shutdown` resolves, then stops accepting on both listeners and lets
/// in-flight requests finish.
pub async fn run(
    listeners: Listeners,
    state: AppState,
    options: RunOptions,
    shutdown: impl Future<Output = ()> + Send,
) -> anyhow::Result<()> {
    let public_addr = listeners.public_addr()?;
    let admin_addr = listeners.admin_addr()?;
    state.warm_up();
    let csp = content_security_policy(state.web.basemap_origin().as_deref());
    let public = protect(api::app(state.clone()), state.metrics.clone(), &options.limits, &csp);
    let reloader = options.loader.map(|load| Reloader::start(state.clone(), load));
    let admin = admin::app(AdminState {
        app: state.clone(),
        reloader: reloader.clone(),
        reload_wait: options.limits.reload_wait,
    });
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    #[cfg(unix)]
    if let Some(reloader) = reloader {
        use tokio::signal::unix::{signal, SignalKind};
        let hangup = match options.hangup {
            Some(h) => Some(h),
            None => signal(SignalKind::hangup()).ok(),
        };
        if let Some(mut hup) = hangup {
            let mut stop = stop_rx.clone();
            tokio::spawn(async move {
                loop {
                    tokio::select! {
                        got = hup.recv() => {
                            if got.is_none() { break; }
                            // Only asks: the loop never waits for a reload, so a SIGHUP during
                            // one is taken at once and coalesced into the next.
                            let job = reloader.request();
                            tracing::info!(job, "SIGHUP: reload requested");
                        }
                        _ = stop.changed() => break,
                    }
                }
            });
        }
    }
    let fd_limit = super::conn::raise_fd_limit();
    let limits = &options.limits;
    let public_conns = ConnConfig {
        header_timeout: limits.header_timeout,
        idle_timeout: limits.idle_timeout,
        write_timeout: limits.write_timeout,
        max_connections: limits.max_connections,
        metrics: Some(state.metrics.clone()),
    }
    .fitted_to(fd_limit);
    tracing::info!(
        max_connections = public_conns.max_connections,
        fd_limit,
        "connection limits"
    );
    // The admin listener has a small cap of its own: a flood of the public port cannot
    // lock operators out.
    let admin_conns = ConnConfig {
        max_connections: ADMIN_MAX_CONNECTIONS,
        metrics: None,
        ..public_conns.clone()
    };
    let admin_task = tokio::spawn(super::listen::serve(
        listeners.admin,
        admin,
        async move {
            let mut rx = stop_rx;
            let _ = rx.wait_for(|stop| *stop).await;
        },
        admin_conns,
    ));
    tracing::info!(addr = %public_addr, admin = %admin_addr, "serving; map at http://{public_addr}/");
    super::listen::serve(
        listeners.public,
        public,
        async move {
            shutdown.await;
            let _ = stop_tx.send(true);
        },
        public_conns,
    )
    .await;
    let _ = admin_task.await;
    tracing::info!("stopped");
    Ok(())
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutdown requested; finishing in-flight requests");
}

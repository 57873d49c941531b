//! `alliance-map serve`: the HTTP API and the map, plus the admin listener.

use clap::Args;

use super::{load, DataArgs, Failure, PostcodeArgs};
use crate::api::AppState;
use crate::server::{self, Limits, Listeners, RunOptions};

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// Public address: the API and the map.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub addr: String,
    /// Admin address: /metrics and /admin/reload. Keep it on loopback or a private network.
    #[arg(long, default_value = "127.0.0.1:9090")]
    pub admin_addr: String,
    #[command(flatten)]
    pub data: DataArgs,
    #[command(flatten)]
    pub postcodes: PostcodeArgs,
    /// Serve boundaries only.
    #[arg(long)]
    pub no_postcodes: bool,
}

pub fn run(args: ServeArgs) -> Result<(), Failure> {
    crate::atlas::tune_allocator_for_serving();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(anyhow::Error::from)?;
    let served = runtime.block_on(serve(args));
    // The drain is over: a reload (or an initial import cut short by SIGTERM) still loading in
    // the blocking pool is not waited for.
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    served
}

async fn serve(args: ServeArgs) -> Result<(), Failure> {
    // Signal handlers first, before the initial load (which may import postcodes for a while):
    // a SIGHUP then must not kill the process (its default action), and SIGTERM must stop it.
    let mut signals = Signals::install()?;
    let postcodes = (!args.no_postcodes).then_some(args.postcodes);
    let data = args.data;
    let initial = {
        let (data, postcodes) = (data.clone(), postcodes.clone());
        tokio::task::spawn_blocking(move || load(&data, postcodes.as_ref()))
    };
    let atlas = tokio::select! {
        loaded = initial => loaded.map_err(|e| Failure::Other(anyhow::anyhow!("the initial load failed: {e}")))??,
        _ = signals.terminated() => {
            tracing::info!("shutdown requested during the initial load; exiting");
            return Ok(());
        }
    };
    // A reload re-reads the same sources with the same settings.
    let loader: server::reload::Loader = Box::new(move || load(&data, postcodes.as_ref()).map_err(|f| f.message()));
    let state = AppState::new(atlas);
    let listeners = Listeners::bind(&args.addr, &args.admin_addr).await?;
    let options = RunOptions {
        limits: Limits::default(),
        loader: Some(loader),
        #[cfg(unix)]
        hangup: signals.hangup.take(),
    };
    server::run(listeners, state, options, async move { signals.terminated().await }).await?;
    Ok(())
}

/// The process's signal streams, registered once at start.
struct Signals {
    #[cfg(unix)]
    hangup: Option<tokio::signal::unix::Signal>,
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
}

impl Signals {
    fn install() -> Result<Self, Failure> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            let register = |kind: SignalKind| {
                signal(kind).map_err(|e| Failure::Other(anyhow::anyhow!("cannot install a signal handler: {e}")))
            };
            Ok(Signals {
                hangup: Some(register(SignalKind::hangup())?),
                terminate: register(SignalKind::terminate())?,
                interrupt: register(SignalKind::interrupt())?,
            })
        }
        #[cfg(not(unix))]
        Ok(Signals {})
    }

    /// Resolves on SIGTERM or SIGINT.
    async fn terminated(&mut self) {
        #[cfg(unix)]
        tokio::select! {
            _ = self.terminate.recv() => {},
            _ = self.interrupt.recv() => {},
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("shutdown requested; finishing in-flight requests");
    }
}

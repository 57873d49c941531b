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
    let postcodes = (!args.no_postcodes).then_some(args.postcodes);
    let atlas = load(&args.data, postcodes.as_ref())?;
    let data = args.data;
    // A reload re-reads the same sources with the same settings.
    let loader: server::reload::Loader = Box::new(move || load(&data, postcodes.as_ref()).map_err(|f| f.message()));
    let state = AppState::new(atlas);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(anyhow::Error::from)?;
    let served = runtime.block_on(async move {
        let listeners = Listeners::bind(&args.addr, &args.admin_addr).await?;
        let options = RunOptions {
            limits: Limits::default(),
            loader: Some(loader),
        };
        server::run(listeners, state, options, server::shutdown_signal()).await
    });
    // The drain is over: a reload still loading in the blocking pool is not waited for.
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    served?;
    Ok(())
}

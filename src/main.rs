//! The `alliance-map` command: serve the API and map, look up one point, check the data.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use alliance_map::api::{self, AppState};
use alliance_map::data::{self, DataDirSource};
use alliance_map::locate::DEFAULT_TOLERANCE_M;
use alliance_map::service::{Options, Service};

#[derive(Parser)]
#[command(
    name = "alliance-map",
    version,
    about = "Which NHS Cancer Alliance and STP (England, 2017) covers a point"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Log as JSON lines instead of text.
    #[arg(long, global = true)]
    log_json: bool,
}

#[derive(Args, Clone)]
struct DataArgs {
    /// Data directory (else $ALLIANCE_MAP_DATA, else ./data, else ../shared/data).
    #[arg(long, value_name = "DIR")]
    data: Option<PathBuf>,
    /// How far (metres) a point covered by no area may be from the nearest one and still get it.
    #[arg(long, default_value_t = DEFAULT_TOLERANCE_M, value_name = "METRES")]
    tolerance_m: f64,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the HTTP API and the map.
    Serve {
        #[arg(long, default_value = "127.0.0.1:8080")]
        addr: String,
        #[command(flatten)]
        data: DataArgs,
    },
    /// Print the lookup answer for one point, as the API gives it.
    Lookup {
        #[arg(long, allow_negative_numbers = true)]
        lon: f64,
        #[arg(long, allow_negative_numbers = true)]
        lat: f64,
        #[command(flatten)]
        data: DataArgs,
    },
    /// Validate the data directory (including full OGC validity) and print a summary.
    CheckData {
        #[command(flatten)]
        data: DataArgs,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.log_json);
    match run(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Data(e)) => {
            eprintln!("alliance-map: data error: {e}");
            ExitCode::from(2)
        }
        Err(Failure::Usage(e)) => {
            eprintln!("alliance-map: {e}");
            ExitCode::from(64)
        }
        Err(Failure::Other(e)) => {
            eprintln!("alliance-map: {e:#}");
            ExitCode::FAILURE
        }
    }
}

enum Failure {
    Data(data::DataError),
    Usage(String),
    Other(anyhow::Error),
}

impl From<data::DataError> for Failure {
    fn from(e: data::DataError) -> Self {
        Failure::Data(e)
    }
}

impl From<anyhow::Error> for Failure {
    fn from(e: anyhow::Error) -> Self {
        Failure::Other(e)
    }
}

fn init_logging(json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

fn load(args: &DataArgs) -> Result<Service, Failure> {
    if !(args.tolerance_m.is_finite() && args.tolerance_m >= 0.0 && args.tolerance_m <= 50_000.0) {
        return Err(Failure::Usage(format!(
            "--tolerance-m must be between 0 and 50000, got {}",
            args.tolerance_m
        )));
    }
    let env = std::env::var_os(data::DATA_ENV).map(PathBuf::from);
    let (dir, source) = data::resolve_data_dir(args.data.as_deref(), env.as_deref())?;
    let how = match source {
        DataDirSource::Flag => "--data",
        DataDirSource::Env => data::DATA_ENV,
        DataDirSource::Default => "default search",
    };
    tracing::info!(dir = %dir.display(), from = how, "using data directory");
    Ok(Service::load(
        &dir,
        &Options {
            tolerance_m: args.tolerance_m,
        },
    )?)
}

fn run(command: Command) -> Result<(), Failure> {
    match command {
        Command::Serve { addr, data } => {
            let service = load(&data)?;
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .map_err(anyhow::Error::from)?;
            runtime.block_on(serve(addr, service))?;
            Ok(())
        }
        Command::Lookup { lon, lat, data } => {
            for (name, v, range) in [
                ("lon", lon, api::params::LON_RANGE),
                ("lat", lat, api::params::LAT_RANGE),
            ] {
                api::params::check_range(name, v, range).map_err(|e| Failure::Usage(e.to_string()))?;
            }
            let service = load(&data)?;
            let answer = service.lookup(lon, lat);
            println!(
                "{}",
                serde_json::to_string_pretty(&answer).map_err(anyhow::Error::from)?
            );
            Ok(())
        }
        Command::CheckData { data } => {
            let service = load(&data)?;
            check_data(&service)
        }
    }
}

async fn serve(addr: String, service: Service) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(&addr)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {addr}: {e}"))?;
    tracing::info!(addr = %listener.local_addr()?, "serving; map at http://{}/", listener.local_addr()?);
    axum::serve(listener, api::app(AppState::new(service)))
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    tracing::info!("stopped");
    Ok(())
}

async fn shutdown_signal() {
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

/// Prints one row per area and fails (exit 2) on any OGC validity problem.
fn check_data(service: &Service) -> Result<(), Failure> {
    use alliance_map::data::boundaries::ogc_problems;
    let data = &service.data;
    println!("data directory: {}", data.dir.display());
    println!(
        "{:<10} {:<62} {:>6} {:>6} {:>9} {:>5}",
        "code", "name", "parts", "STPs", "vertices", "CCGs"
    );
    for a in &data.alliances {
        let vertices: usize = a
            .geometry
            .0
            .iter()
            .map(|p| p.exterior().0.len() + p.interiors().iter().map(|r| r.0.len()).sum::<usize>())
            .sum();
        println!(
            "{:<10} {:<62} {:>6} {:>6} {:>9} {:>5}",
            a.code,
            a.name,
            a.geometry.0.len(),
            a.stps.len(),
            vertices,
            a.ccgs.len()
        );
    }
    // Full OGC validation takes seconds on ~240k vertices: spread it over the cores.
    use rayon::prelude::*;
    let layers = data
        .alliances
        .iter()
        .map(|a| (data::ALLIANCES.file, &a.code, &a.geometry))
        .chain(data.stps.iter().map(|s| (data::STPS.file, &s.code, &s.geometry)))
        .collect::<Vec<_>>();
    let problems: Vec<String> = layers
        .par_iter()
        .flat_map_iter(|(file, code, g)| ogc_problems(g).into_iter().map(move |p| format!("{file} {code}: {p}")))
        .collect();
    let split: Vec<&str> = data
        .stps
        .iter()
        .filter(|s| s.alliances.len() > 1)
        .map(|s| s.code.as_str())
        .collect();
    println!(
        "{} alliances, {} STPs ({} split between alliances: {}), {} CCGs, {} countries",
        data.alliances.len(),
        data.stps.len(),
        split.len(),
        split.join(", "),
        data.ccgs.len(),
        data.countries.len()
    );
    if problems.is_empty() {
        println!("all geometries are valid (OGC)");
        Ok(())
    } else {
        Err(Failure::Data(data::DataError::File {
            path: data.dir.clone(),
            problem: format!("{} invalid geometries:\n  {}", problems.len(), problems.join("\n  ")),
        }))
    }
}

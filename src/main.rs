//! The `alliance-map` command: serve the API and map, look up points and postcodes, import
//! postcode files, annotate CSVs, check the data.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use alliance_map::api::{self, AppState};
use alliance_map::data::{self, DataDirSource};
use alliance_map::locate::DEFAULT_TOLERANCE_M;
use alliance_map::postcode::{annotate, cache, file, import, Postcode};
use alliance_map::server;
use alliance_map::service::{LoadError, Options, PostcodeOptions, PostcodeSource, Service};

#[derive(Parser)]
#[command(
    name = "alliance-map",
    version,
    about = "Which NHS Cancer Alliance and STP (England, 2017) covers a point or postcode"
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

#[derive(Args, Clone)]
struct PostcodeArgs {
    /// Postcode source: a Code-Point Open zip, an ONSPD/NSPL CSV or a built index
    /// (default: <data>/postcodes/codepo_gb.zip).
    #[arg(long, value_name = "FILE")]
    postcodes: Option<PathBuf>,
    /// Where imported postcode indexes are cached.
    #[arg(long, value_name = "DIR", env = "ALLIANCE_MAP_CACHE", default_value = ".cache")]
    cache_dir: PathBuf,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the HTTP API and the map (builds the postcode index on first start).
    Serve {
        #[arg(long, default_value = "127.0.0.1:8080")]
        addr: String,
        #[command(flatten)]
        data: DataArgs,
        #[command(flatten)]
        postcodes: PostcodeArgs,
        /// Serve boundaries only.
        #[arg(long)]
        no_postcodes: bool,
    },
    /// Print the answer for one point (--lon/--lat) or one postcode, as the API gives it.
    Lookup {
        #[arg(long, allow_negative_numbers = true, requires = "lat", conflicts_with = "postcode")]
        lon: Option<f64>,
        #[arg(long, allow_negative_numbers = true, requires = "lon")]
        lat: Option<f64>,
        #[arg(long, required_unless_present = "lon")]
        postcode: Option<String>,
        #[command(flatten)]
        data: DataArgs,
        #[command(flatten)]
        postcodes: PostcodeArgs,
    },
    /// Import a postcode file (Code-Point Open zip, ONSPD/NSPL CSV) into an index file.
    ImportPostcodes {
        file: PathBuf,
        /// Output index (default: FILE with extension .amp).
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        #[command(flatten)]
        data: DataArgs,
    },
    /// Append alliance and STP columns to a CSV, by its postcode column or by its longitude
    /// and latitude columns.
    Annotate {
        input: PathBuf,
        #[arg(long, value_name = "NAME", required_unless_present = "lon_column", conflicts_with_all = ["lon_column", "lat_column"])]
        postcode_column: Option<String>,
        #[arg(long, value_name = "NAME", requires = "lat_column")]
        lon_column: Option<String>,
        #[arg(long, value_name = "NAME", requires = "lon_column")]
        lat_column: Option<String>,
        /// Output CSV (default: standard output).
        #[arg(short = 'o', long, value_name = "FILE")]
        output: Option<PathBuf>,
        #[command(flatten)]
        data: DataArgs,
        #[command(flatten)]
        postcodes: PostcodeArgs,
    },
    /// Ask a running server (on loopback) to reload its data; same as sending it SIGHUP.
    Reload {
        #[arg(long, default_value = "127.0.0.1:8080")]
        addr: String,
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
        Err(Failure::NotFound(e)) => {
            eprintln!("alliance-map: {e}");
            ExitCode::from(3)
        }
        Err(Failure::Other(e)) => {
            eprintln!("alliance-map: {e:#}");
            ExitCode::FAILURE
        }
    }
}

enum Failure {
    /// Bad or missing data: exit status 2.
    Data(String),
    Usage(String),
    NotFound(String),
    Other(anyhow::Error),
}

impl Failure {
    fn message(&self) -> String {
        match self {
            Failure::Data(m) | Failure::Usage(m) | Failure::NotFound(m) => m.clone(),
            Failure::Other(e) => format!("{e:#}"),
        }
    }
}

impl From<data::DataError> for Failure {
    fn from(e: data::DataError) -> Self {
        Failure::Data(e.to_string())
    }
}

impl From<LoadError> for Failure {
    fn from(e: LoadError) -> Self {
        Failure::Data(e.to_string())
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

fn data_dir(args: &DataArgs) -> Result<PathBuf, Failure> {
    let env = std::env::var_os(data::DATA_ENV).map(PathBuf::from);
    let (dir, source) = data::resolve_data_dir(args.data.as_deref(), env.as_deref())?;
    let how = match source {
        DataDirSource::Flag => "--data",
        DataDirSource::Env => data::DATA_ENV,
        DataDirSource::Default => "default search",
    };
    tracing::info!(dir = %dir.display(), from = how, "using data directory");
    Ok(dir)
}

fn load(args: &DataArgs, postcodes: Option<&PostcodeArgs>) -> Result<Service, Failure> {
    if !(args.tolerance_m.is_finite() && (0.0..=50_000.0).contains(&args.tolerance_m)) {
        return Err(Failure::Usage(format!(
            "--tolerance-m must be between 0 and 50000, got {}",
            args.tolerance_m
        )));
    }
    let dir = data_dir(args)?;
    let options = Options {
        tolerance_m: args.tolerance_m,
        postcodes: postcodes.map(|p| PostcodeOptions {
            source: p
                .postcodes
                .clone()
                .map_or(PostcodeSource::Default, PostcodeSource::File),
            cache_dir: p.cache_dir.clone(),
        }),
    };
    Ok(Service::load(&dir, &options)?)
}

fn print_json(value: &impl serde::Serialize) -> Result<(), Failure> {
    println!("{}", serde_json::to_string_pretty(value).map_err(anyhow::Error::from)?);
    Ok(())
}

fn run(command: Command) -> Result<(), Failure> {
    match command {
        Command::Serve {
            addr,
            data,
            postcodes,
            no_postcodes,
        } => {
            let postcodes = (!no_postcodes).then_some(postcodes);
            let service = load(&data, postcodes.as_ref())?;
            // A reload re-reads the same sources with the same settings.
            let reloader: api::Reloader = Box::new(move || load(&data, postcodes.as_ref()).map_err(|f| f.message()));
            let state = AppState::with(service, api::web::WebConfig::from_env(), Some(reloader));
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .map_err(anyhow::Error::from)?;
            runtime.block_on(serve(addr, state))?;
            Ok(())
        }
        Command::Lookup {
            lon,
            lat,
            postcode,
            data,
            postcodes,
        } => match (lon, lat, postcode) {
            (Some(lon), Some(lat), _) => {
                for (name, v, range) in [
                    ("lon", lon, api::params::LON_RANGE),
                    ("lat", lat, api::params::LAT_RANGE),
                ] {
                    api::params::check_range(name, v, range).map_err(|e| Failure::Usage(e.to_string()))?;
                }
                let service = load(&data, None)?;
                print_json(&service.lookup(lon, lat))
            }
            (_, _, Some(raw)) => {
                let pc = Postcode::parse(&raw)
                    .map_err(|e| Failure::Usage(format!("{raw:?} is not a valid UK postcode: {e}")))?;
                let service = load(&data, Some(&postcodes))?;
                let index = service.postcodes.as_ref().ok_or_else(|| {
                    Failure::Data("no postcode file in the data directory; give --postcodes FILE".into())
                })?;
                let found = index
                    .get(&pc)
                    .ok_or_else(|| Failure::NotFound(format!("postcode {pc} is not in {}", index.meta.source)))?;
                print_json(&service.data.postcode_result(&found, &index.meta.source))
            }
            _ => Err(Failure::Usage("give --lon and --lat, or --postcode".into())),
        },
        Command::ImportPostcodes {
            file: source,
            out,
            data,
        } => {
            let service = load(&data, None)?;
            let out = out.unwrap_or_else(|| source.with_extension("amp"));
            let fp = cache::fingerprint(&source, &service);
            let started = std::time::Instant::now();
            let (index, summary) = import::import(&source, &service, fp).map_err(|e| Failure::Data(e.to_string()))?;
            file::write(&index, &out)
                .map_err(|e| Failure::Other(anyhow::anyhow!("{}: cannot write: {e}", out.display())))?;
            eprint!("{}", summary.table());
            eprintln!(
                "wrote {} ({} postcodes, {} bytes) in {:.1} s",
                out.display(),
                index.len(),
                std::fs::metadata(&out).map(|m| m.len()).unwrap_or(0),
                started.elapsed().as_secs_f64()
            );
            Ok(())
        }
        Command::Annotate {
            input,
            postcode_column,
            lon_column,
            lat_column,
            output,
            data,
            postcodes,
        } => {
            let service = load(&data, postcode_column.is_some().then_some(&postcodes))?;
            let by = match (&postcode_column, &lon_column, &lat_column) {
                (Some(column), _, _) => annotate::By::Postcode {
                    column,
                    index: service.postcodes.as_ref().ok_or_else(|| {
                        Failure::Data("no postcode file in the data directory; give --postcodes FILE".into())
                    })?,
                },
                (None, Some(lon), Some(lat)) => annotate::By::Point {
                    lon,
                    lat,
                    locator: &service.locator,
                },
                _ => {
                    return Err(Failure::Usage(
                        "give --postcode-column, or --lon-column and --lat-column".into(),
                    ))
                }
            };
            annotate_csv(&service, &input, by, output.as_deref())
        }
        Command::Reload { addr } => reload(&addr),
        Command::CheckData { data } => {
            let service = load(&data, None)?;
            check_data(&service)
        }
    }
}

fn annotate_csv(service: &Service, input: &Path, by: annotate::By, output: Option<&Path>) -> Result<(), Failure> {
    let reader =
        std::fs::File::open(input).map_err(|e| Failure::Usage(format!("{}: cannot read: {e}", input.display())))?;
    let writer: Box<dyn Write> = match output {
        Some(p) => Box::new(
            std::fs::File::create(p).map_err(|e| Failure::Usage(format!("{}: cannot create: {e}", p.display())))?,
        ),
        None => Box::new(std::io::stdout().lock()),
    };
    let mut reported = 0u64;
    const SHOWN: u64 = 20;
    let stats = annotate::annotate(
        std::io::BufReader::with_capacity(1 << 16, reader),
        std::io::BufWriter::with_capacity(1 << 16, writer),
        by,
        &service.data,
        |line, value, why| {
            reported += 1;
            if reported <= SHOWN {
                let why = match why {
                    annotate::Unmatched::Malformed => "not a valid postcode or point",
                    annotate::Unmatched::NotFound => "postcode not found",
                    annotate::Unmatched::NoArea => "not in an English alliance",
                };
                eprintln!("line {line}: {value:?}: {why}");
            }
        },
    )
    .map_err(|e| match e {
        annotate::AnnotateError::MissingColumn { .. } => Failure::Usage(format!("{}: {e}", input.display())),
        other => Failure::Other(anyhow::anyhow!("{}: {other}", input.display())),
    })?;
    if reported > SHOWN {
        eprintln!("… and {} more unmatched rows", reported - SHOWN);
    }
    eprintln!(
        "{} rows: {} matched, {} unmatched ({} malformed, {} not found, {} outside English alliances)",
        stats.rows,
        stats.matched,
        stats.rows - stats.matched,
        stats.malformed,
        stats.not_found,
        stats.no_area
    );
    Ok(())
}

async fn serve(addr: String, state: AppState) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(&addr)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {addr}: {e}"))?;
    let local = listener.local_addr()?;
    state.warm_up();
    let limits = server::Limits::default();
    let basemap_origin = state.web.basemap.as_ref().and_then(|b| origin_of(&b.tiles));
    let csp = server::protect::content_security_policy(basemap_origin.as_deref());
    let app = server::protect(api::app(state.clone()), &limits, &csp);
    #[cfg(unix)]
    {
        let state = state.clone();
        tokio::spawn(async move {
            use tokio::signal::unix::{signal, SignalKind};
            if let Ok(mut hup) = signal(SignalKind::hangup()) {
                while hup.recv().await.is_some() {
                    tracing::info!("SIGHUP: reloading data");
                    let _ = state.reload().await;
                }
            }
        });
    }
    tracing::info!(addr = %local, "serving; map at http://{local}/");
    server::serve(listener, app, shutdown_signal(), limits.header_timeout).await;
    tracing::info!("stopped");
    Ok(())
}

/// `scheme://host[:port]` of a URL template, for the Content-Security-Policy.
fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let host = rest.split('/').next().filter(|h| !h.is_empty() && !h.contains('{'))?;
    Some(format!("{scheme}://{host}"))
}

/// POSTs /admin/reload to a server on loopback with a minimal HTTP/1.1 client.
fn reload(addr: &str) -> Result<(), Failure> {
    use std::io::Read;
    let mut stream = std::net::TcpStream::connect(addr)
        .map_err(|e| Failure::Other(anyhow::anyhow!("cannot connect to {addr}: {e}")))?;
    let _ = stream.set_read_timeout(Some(std::time::Duration::from_secs(600)));
    write!(
        stream,
        "POST /admin/reload HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .map_err(|e| Failure::Other(e.into()))?;
    let mut response = String::new();
    stream
        .read_to_string(&mut response)
        .map_err(|e| Failure::Other(e.into()))?;
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    let ok = head.starts_with("HTTP/1.1 200");
    println!("{}", body.trim());
    if ok {
        Ok(())
    } else {
        Err(Failure::Data(format!(
            "reload failed: {}",
            head.lines().next().unwrap_or("")
        )))
    }
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
    use rayon::prelude::*;
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
        Err(Failure::Data(format!(
            "{}: {} invalid geometries:\n  {}",
            data.dir.display(),
            problems.len(),
            problems.join("\n  ")
        )))
    }
}

//! The binary's commands, one module each; `main` only parses and dispatches. Shared here:
//! the data and postcode arguments, loading an [`Atlas`] from them, and how failures map to
//! exit statuses.

pub mod annotate;
pub mod check_data;
pub mod import;
pub mod lookup;
pub mod pack_data;
pub mod reload;
pub mod serve;

use std::path::PathBuf;
use std::sync::Arc;

use clap::Args;

use crate::atlas::{Atlas, Editions, LoadError, Options, PostcodeOptions, PostcodeSource};
use crate::locate::DEFAULT_TOLERANCE_M;
use crate::model::{self, DataDirSource, DataSource};
use crate::pack::Pack;

/// Where the data comes from and how points are matched.
#[derive(Args, Clone, Debug)]
pub struct DataArgs {
    /// Data directory: the official ONS/OS files (laid out as the manifest says) or packed
    /// data (written by `pack-data`); else $ALLIANCE_MAP_DATA, else the data embedded in the
    /// binary.
    #[arg(long, value_name = "DIR")]
    pub data: Option<PathBuf>,
    /// The manifest describing the data directory (else its own manifest.toml, else the
    /// built-in one for the official ONS/OS files).
    #[arg(long, value_name = "FILE", env = "ALLIANCE_MAP_MANIFEST")]
    pub manifest: Option<PathBuf>,
    /// How far (metres) a point covered by no area may be from the nearest one and still get it.
    #[arg(long, default_value_t = DEFAULT_TOLERANCE_M, value_name = "METRES")]
    pub tolerance_m: f64,
}

/// Where postcodes come from and where their index is cached.
#[derive(Args, Clone, Debug)]
pub struct PostcodeArgs {
    /// Postcode source: a Code-Point Open zip, an ONSPD/NSPL CSV (plain or gzipped) or a built
    /// index (default: the packed index, or the manifest's postcode files in the data directory).
    #[arg(long, value_name = "FILE")]
    pub postcodes: Option<PathBuf>,
    /// Where imported postcode indexes are cached (default: $XDG_CACHE_HOME/alliance-map,
    /// else ~/.cache/alliance-map).
    #[arg(long, value_name = "DIR", env = "ALLIANCE_MAP_CACHE")]
    pub cache_dir: Option<PathBuf>,
}

/// Why a command failed; each kind has its exit status.
#[derive(Debug)]
pub enum Failure {
    /// Bad or missing data: exit status 2.
    Data(String),
    /// Bad arguments: 64.
    Usage(String),
    /// The postcode asked for is not in the data: 3.
    NotFound(String),
    /// Writing the output failed (a full disk, a closed pipe): 74 (`EX_IOERR`).
    Output(String),
    /// Anything else: 1.
    Other(anyhow::Error),
}

impl Failure {
    pub fn exit_code(&self) -> u8 {
        match self {
            Failure::Data(_) => 2,
            Failure::Usage(_) => 64,
            Failure::NotFound(_) => 3,
            Failure::Output(_) => 74,
            Failure::Other(_) => 1,
        }
    }

    pub fn message(&self) -> String {
        match self {
            Failure::Data(m) => format!("data error: {m}"),
            Failure::Usage(m) | Failure::NotFound(m) => m.clone(),
            Failure::Output(m) => format!("output error: {m}"),
            Failure::Other(e) => format!("{e:#}"),
        }
    }
}

impl From<model::DataError> for Failure {
    fn from(e: model::DataError) -> Self {
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

/// The data the arguments name, logged with where it came from: a directory of official files
/// or of packed data (`--data`, `$ALLIANCE_MAP_DATA`), else the data embedded in the binary.
pub fn data_source(args: &DataArgs) -> Result<DataSource, Failure> {
    let env = std::env::var_os(model::DATA_ENV).map(PathBuf::from);
    let Some((dir, from)) = model::resolve_data_dir(args.data.as_deref(), env.as_deref()) else {
        tracing::info!(
            from = crate::pack::embedded::LABEL,
            "using the data embedded in the binary"
        );
        return Ok(DataSource::Packed(Arc::new(
            crate::pack::embedded::open().map_err(Failure::Data)?,
        )));
    };
    let how = match from {
        DataDirSource::Flag => "--data",
        DataDirSource::Env => model::DATA_ENV,
    };
    if !dir.is_dir() {
        return Err(Failure::Data(format!(
            "{}: no such data directory (from {how})",
            dir.display()
        )));
    }
    if Pack::is_packed_dir(&dir) {
        tracing::info!(dir = %dir.display(), from = how, "using packed data");
        return Ok(DataSource::Packed(Arc::new(
            Pack::read_dir(&dir).map_err(Failure::Data)?,
        )));
    }
    tracing::info!(dir = %dir.display(), from = how, "using data directory");
    Ok(DataSource::Dir(dir))
}

/// Loads an atlas as the arguments say; with `postcodes`, the postcode index too.
pub fn load(args: &DataArgs, postcodes: Option<&PostcodeArgs>) -> Result<Atlas, Failure> {
    load_editions(args, postcodes, Editions::All)
}

fn load_editions(args: &DataArgs, postcodes: Option<&PostcodeArgs>, editions: Editions) -> Result<Atlas, Failure> {
    if !(args.tolerance_m.is_finite() && (0.0..=50_000.0).contains(&args.tolerance_m)) {
        return Err(Failure::Usage(format!(
            "--tolerance-m must be between 0 and 50000, got {}",
            args.tolerance_m
        )));
    }
    let source = data_source(args)?;
    let options = Options {
        manifest: args.manifest.clone(),
        tolerance_m: args.tolerance_m,
        postcodes: postcodes.map(|p| PostcodeOptions {
            source: p
                .postcodes
                .clone()
                .map_or(PostcodeSource::Default, PostcodeSource::File),
            cache_dir: p
                .cache_dir
                .clone()
                .unwrap_or_else(crate::postcode::cache::default_cache_dir),
        }),
        editions,
    };
    Ok(Atlas::load(&source, &options)?)
}

/// [`load`] for a command that answers and exits, with the `editions` it answers for: the
/// atlas is never freed, because freeing its hundreds of thousands of allocations one by one
/// at exit was about a tenth of a `lookup`'s run, and the process ends right after.
pub fn load_for_one_run(
    args: &DataArgs,
    postcodes: Option<&PostcodeArgs>,
    editions: Editions,
) -> Result<&'static Atlas, Failure> {
    Ok(Box::leak(Box::new(load_editions(args, postcodes, editions)?)))
}

/// The postcode index of an atlas loaded with postcodes, or a data failure saying how to get one.
pub fn postcode_index(atlas: &Atlas) -> Result<&crate::postcode::PostcodeIndex, Failure> {
    atlas
        .postcodes
        .as_ref()
        .ok_or_else(|| Failure::Data("no postcode file in the data directory; give --postcodes FILE".into()))
}

pub fn print_json(value: &impl serde::Serialize) -> Result<(), Failure> {
    println!("{}", serde_json::to_string_pretty(value).map_err(anyhow::Error::from)?);
    Ok(())
}

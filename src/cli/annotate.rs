//! `alliance-map annotate`: a CSV with area columns appended (2017's alliance and STP, a
//! date's areas with `--date`, every period's with `--timeline`), by its postcode column or
//! by its longitude and latitude columns; unmatched rows reported on stderr.

use std::path::{Path, PathBuf};

use clap::Args;

use super::{load, postcode_index, DataArgs, Failure, PostcodeArgs};
use crate::annotate::{self, AnnotateError, By, Columns, Unmatched};
use crate::atlas::Atlas;

#[derive(Args, Debug)]
pub struct AnnotateArgs {
    pub input: PathBuf,
    #[arg(long, value_name = "NAME", required_unless_present = "lon_column", conflicts_with_all = ["lon_column", "lat_column"])]
    pub postcode_column: Option<String>,
    #[arg(long, value_name = "NAME", requires = "lat_column")]
    pub lon_column: Option<String>,
    #[arg(long, value_name = "NAME", requires = "lon_column")]
    pub lat_column: Option<String>,
    /// Answer for this date, YYYY-MM-DD or "latest": adds that date's alliance, footprint
    /// and sub-area (default: the 2017 alliance and STP).
    #[arg(long, value_name = "DATE", value_parser = super::lookup::parse_date, conflicts_with = "timeline")]
    pub date: Option<crate::model::dates::AsOf>,
    /// Add the alliance, footprint and sub-area of every period of editions held, each
    /// column suffixed with the period's start date.
    #[arg(long)]
    pub timeline: bool,
    /// Output CSV (default: standard output).
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    pub data: DataArgs,
    #[command(flatten)]
    pub postcodes: PostcodeArgs,
}

/// Unmatched rows shown one by one before the rest are only counted.
const SHOWN: u64 = 20;

/// Inputs larger than this (about 60,000 rows of points) get the lookup grids: built on
/// another thread in 0.1–0.2 s a period and used as soon as they are ready, they answer most
/// points in one read instead of a few microseconds of exact geometry. Smaller inputs are done
/// sooner without.
const GRID_WORTH_BYTES: u64 = 2 << 20;

pub fn run(args: AnnotateArgs) -> Result<(), Failure> {
    let atlas = std::sync::Arc::new(load(
        &args.data,
        args.postcode_column.is_some().then_some(&args.postcodes),
    )?);
    let by = match (&args.postcode_column, &args.lon_column, &args.lat_column) {
        (Some(column), _, _) => By::Postcode {
            column,
            index: postcode_index(&atlas)?,
        },
        (None, Some(lon), Some(lat)) => By::Point {
            lon,
            lat,
            locators: &atlas.locators,
        },
        _ => {
            return Err(Failure::Usage(
                "give --postcode-column, or --lon-column and --lat-column".into(),
            ))
        }
    };
    let columns = match (args.timeline, args.date) {
        (true, _) => Columns::Timeline,
        (false, None) => Columns::Default,
        (false, Some(date)) => {
            let when = atlas
                .data
                .when(Some(date))
                .map_err(|e| Failure::Usage(format!("--date: {e}")))?;
            Columns::Period(when.period)
        }
    };
    if matches!(by, By::Point { .. })
        && std::fs::metadata(&args.input).is_ok_and(|m| !m.is_file() || m.len() > GRID_WORTH_BYTES)
    {
        let periods: Vec<usize> = match columns {
            Columns::Timeline => (0..atlas.locators.len()).collect(),
            Columns::Default => vec![atlas.data.default_period],
            Columns::Period(p) => vec![p],
        };
        let warm = atlas.clone();
        // Detached: the process may finish before the grids do.
        std::thread::spawn(move || {
            for p in periods {
                if let Some(l) = warm.locators.get(p) {
                    l.grid();
                }
            }
        });
    }
    annotate_csv(&atlas, &args.input, by, &columns, args.output.as_deref())
}

fn annotate_csv(atlas: &Atlas, input: &Path, by: By, columns: &Columns, output: Option<&Path>) -> Result<(), Failure> {
    let reader =
        std::fs::File::open(input).map_err(|e| Failure::Usage(format!("{}: cannot read: {e}", input.display())))?;
    // The header and the columns are checked before any output exists.
    let annotator = annotate::Annotator::open(std::io::BufReader::with_capacity(1 << 16, reader), by, &atlas.data)
        .map_err(|e| input_failure(input, e))?;
    let mut reported = 0u64;
    let report = |line: u64, value: &str, why: Unmatched| {
        reported += 1;
        if reported <= SHOWN {
            let why = match why {
                Unmatched::Malformed => "not a valid postcode or point",
                Unmatched::NotFound => "postcode not found",
                Unmatched::NoArea => "not in an English alliance",
                Unmatched::Ragged => "ragged row (status column says so; areas left empty)",
            };
            eprintln!("line {line}: {value:?}: {why}");
        }
    };
    let stats = match output {
        None => annotator
            .write_to(
                std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock()),
                columns,
                report,
            )
            .map_err(|e| annotate_failure(input, Path::new("standard output"), e))?,
        Some(out) => write_output(input, out, annotator, columns, report)?,
    };
    if reported > SHOWN {
        eprintln!("… and {} more unmatched rows", reported - SHOWN);
    }
    eprintln!(
        "{} rows: {} matched, {} unmatched ({} malformed, {} not found, {} outside English alliances, {} ragged)",
        stats.rows,
        stats.matched,
        stats.rows - stats.matched,
        stats.malformed,
        stats.not_found,
        stats.no_area,
        stats.ragged
    );
    Ok(())
}

/// Writes to `out` through a temporary file in its directory, renamed over it only once
/// complete: a failure (bad input halfway, a full disk) leaves an existing `out` as it was
/// and no partial file behind. `out` may not be the input. A special file (`/dev/stdout`, a
/// FIFO) is written in place: it cannot be replaced by a rename.
fn write_output<R: std::io::Read>(
    input: &Path,
    out: &Path,
    annotator: annotate::Annotator<'_, R>,
    columns: &Columns,
    report: impl FnMut(u64, &str, Unmatched),
) -> Result<annotate::AnnotateStats, Failure> {
    if same_file(input, out) {
        return Err(Failure::Usage(format!(
            "{}: the output is the input; refusing to overwrite it (give another -o)",
            out.display()
        )));
    }
    let special = std::fs::metadata(out).is_ok_and(|m| !m.is_file() && !m.is_dir());
    let create_failed = |e: std::io::Error| Failure::Output(format!("{}: cannot create: {e}", out.display()));
    if special {
        let file = std::fs::OpenOptions::new()
            .write(true)
            .open(out)
            .map_err(create_failed)?;
        return annotator
            .write_to(std::io::BufWriter::with_capacity(1 << 16, file), columns, report)
            .map_err(|e| annotate_failure(input, out, e));
    }
    let dir = match out.parent().filter(|d| !d.as_os_str().is_empty()) {
        Some(d) => d,
        None => Path::new("."),
    };
    let tmp = tempfile::Builder::new()
        .prefix(".annotate-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(create_failed)?;
    let file = tmp.reopen().map_err(create_failed)?;
    let stats = annotator
        .write_to(std::io::BufWriter::with_capacity(1 << 16, file), columns, report)
        .map_err(|e| annotate_failure(input, out, e))?;
    let written = |e: std::io::Error| Failure::Output(format!("{}: {e}", out.display()));
    tmp.as_file().sync_all().map_err(written)?;
    tmp.persist(out).map_err(|e| written(e.error))?;
    Ok(stats)
}

/// Whether `a` and `b` name the same file (through links, `..` or another spelling).
fn same_file(a: &Path, b: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if let (Ok(ma), Ok(mb)) = (std::fs::metadata(a), std::fs::metadata(b)) {
            return ma.dev() == mb.dev() && ma.ino() == mb.ino();
        }
    }
    let canonical = |p: &Path| {
        p.canonicalize().ok().or_else(|| {
            let parent = p
                .parent()
                .filter(|d| !d.as_os_str().is_empty())
                .unwrap_or(Path::new("."));
            Some(parent.canonicalize().ok()?.join(p.file_name()?))
        })
    };
    matches!((canonical(a), canonical(b)), (Some(x), Some(y)) if x == y)
}

fn input_failure(input: &Path, e: AnnotateError) -> Failure {
    match e {
        AnnotateError::MissingColumn { .. } => Failure::Usage(format!("{}: {e}", input.display())),
        AnnotateError::Input(_) => Failure::Data(format!("{}: {e}", input.display())),
        AnnotateError::Output(_) => Failure::Output(e.to_string()),
    }
}

fn annotate_failure(input: &Path, out: &Path, e: AnnotateError) -> Failure {
    match e {
        AnnotateError::Output(io) => Failure::Output(format!("{}: cannot write: {io}", out.display())),
        other => input_failure(input, other),
    }
}

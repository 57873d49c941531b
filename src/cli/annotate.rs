//! `alliance-map annotate`: a table with area columns appended (2017's alliance and STP, a
//! date's areas with `--date`, every period's with `--timeline`), by its postcode column or
//! by its longitude and latitude columns; unmatched rows reported on stderr. CSV, NDJSON or
//! Parquet, by the files' extensions or `--input-format`/`--output-format`: CSV or Parquet in,
//! CSV or Parquet out; NDJSON in, NDJSON out.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use clap::Args;

use super::{load_for_one_run, postcode_index, DataArgs, Failure, PostcodeArgs};
use crate::annotate::ndjson::NdjsonAnnotator;
use crate::annotate::{self, AnnotateError, AnnotateStats, By, Columns, Unmatched};
use crate::atlas::{Atlas, Editions};

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
    /// Output file (default: standard output).
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// The input's format (default: by its extension — `.parquet`, `.ndjson`/`.jsonl` — else CSV).
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub input_format: Option<Format>,
    /// The output's format (default: by the output's extension, else the input's).
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub output_format: Option<Format>,
    #[command(flatten)]
    pub data: DataArgs,
    #[command(flatten)]
    pub postcodes: PostcodeArgs,
}

/// A table format.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Ndjson,
    Parquet,
}

impl Format {
    /// The format a file's extension names, if any.
    fn of(path: &Path) -> Option<Format> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "parquet" | "pq" => Some(Format::Parquet),
            "ndjson" | "jsonl" => Some(Format::Ndjson),
            "csv" | "tsv" | "txt" => Some(Format::Csv),
            _ => None,
        }
    }
}

/// CSV records looked up at a time, side by side (the whole input is at hand).
const BATCH_RECORDS: usize = 8192;

/// Unmatched rows shown one by one before the rest are only counted.
const SHOWN: u64 = 20;

/// Inputs larger than this (about 60,000 rows of points) get the lookup grids: built on
/// another thread in 0.1–0.2 s a period and used as soon as they are ready, they answer most
/// points in one read instead of a few microseconds of exact geometry. Smaller inputs are done
/// sooner without.
const GRID_WORTH_BYTES: u64 = 2 << 20;

pub fn run(args: AnnotateArgs) -> Result<(), Failure> {
    // By points for one date: only that date's editions. A timeline needs all of them.
    let editions = match args.timeline {
        true => Editions::All,
        false => Editions::InForceOn(args.date),
    };
    let atlas = load_for_one_run(
        &args.data,
        args.postcode_column.is_some().then_some(&args.postcodes),
        editions,
    )?;
    let by = match (&args.postcode_column, &args.lon_column, &args.lat_column) {
        (Some(column), _, _) => By::Postcode {
            column,
            index: postcode_index(atlas)?,
        },
        (None, Some(lon), Some(lat)) => By::Point { lon, lat, atlas },
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
            Columns::Timeline => (0..atlas.periods()).collect(),
            Columns::Default => vec![atlas.data.default_period],
            Columns::Period(p) => vec![p],
        };
        // Detached: the process may finish before the grids do.
        std::thread::spawn(move || {
            for p in periods {
                atlas.locator_at(p).grid();
            }
        });
    }
    let input_format = args
        .input_format
        .or_else(|| Format::of(&args.input))
        .unwrap_or(Format::Csv);
    let output_format = args
        .output_format
        .or_else(|| args.output.as_deref().and_then(Format::of))
        .unwrap_or(input_format);
    annotate_file(
        atlas,
        (&args.input, input_format),
        by,
        &columns,
        (args.output.as_deref(), output_format),
    )
}

/// Writes the table to `out` (a temporary file renamed over it, or standard output).
type Produce<'a> = Box<dyn FnOnce(&mut (dyn std::io::Write + Send)) -> Result<AnnotateStats, AnnotateError> + 'a>;

fn annotate_file(
    atlas: &Atlas,
    (input, input_format): (&Path, Format),
    by: By,
    columns: &Columns,
    (output, output_format): (Option<&Path>, Format),
) -> Result<(), Failure> {
    let file =
        std::fs::File::open(input).map_err(|e| Failure::Usage(format!("{}: cannot read: {e}", input.display())))?;
    let buffered = std::io::BufReader::with_capacity(1 << 16, file);
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
    // The input's header (or first object, or schema) and columns are checked before any
    // output exists.
    let produce: Produce = match (input_format, output_format) {
        (Format::Csv, Format::Csv) => {
            let annotator = annotate::Annotator::open(buffered, by, &atlas.data)
                .map_err(|e| input_failure(input, e))?
                .in_batches(BATCH_RECORDS);
            Box::new(move |out| annotator.write_to(out, columns, report))
        }
        (Format::Ndjson, Format::Ndjson) => {
            let annotator = NdjsonAnnotator::open(buffered, by, &atlas.data, columns.clone())
                .map_err(|e| input_failure(input, e))?;
            Box::new(move |out| annotator.write_to(out, report))
        }
        #[cfg(feature = "parquet")]
        (Format::Csv | Format::Parquet, Format::Csv | Format::Parquet) => {
            use annotate::columnar::{Sink, Source};
            let source = match input_format {
                Format::Parquet => Source::Parquet(buffered.into_inner()),
                _ => Source::Csv(buffered),
            };
            let parquet_out = output_format == Format::Parquet;
            Box::new(move |out| {
                let sink = if parquet_out {
                    Sink::Parquet(out)
                } else {
                    Sink::Csv(out)
                };
                annotate::columnar::annotate(source, sink, by, &atlas.data, columns, report)
            })
        }
        (i, o) => {
            return Err(Failure::Usage(format!(
                "cannot annotate {i:?} into {o:?}: CSV and Parquet convert into each other, NDJSON stays NDJSON{}",
                if cfg!(feature = "parquet") {
                    ""
                } else {
                    " (this build has no Parquet support)"
                }
            )))
        }
    };
    let stats = match output {
        None => {
            let mut stdout = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout());
            let failed = |e| annotate_failure(input, Path::new("standard output"), e);
            let stats = produce(&mut stdout).map_err(failed)?;
            stdout.flush().map_err(|e| failed(AnnotateError::Output(e)))?;
            stats
        }
        Some(out) => write_output(input, out, produce)?,
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
fn write_output(input: &Path, out: &Path, produce: Produce) -> Result<AnnotateStats, Failure> {
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
        return produce(&mut std::io::BufWriter::with_capacity(1 << 16, file))
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
    let mut buffered = std::io::BufWriter::with_capacity(1 << 16, file);
    let stats = produce(&mut buffered).map_err(|e| annotate_failure(input, out, e))?;
    buffered
        .flush()
        .map_err(|e| annotate_failure(input, out, AnnotateError::Output(e)))?;
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

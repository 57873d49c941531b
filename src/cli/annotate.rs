//! `alliance-map annotate`: a CSV with area columns appended (2017's alliance and STP, a
//! date's areas with `--date`, every period's with `--timeline`), by its postcode column or
//! by its longitude and latitude columns; unmatched rows reported on stderr.

use std::io::Write;
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

pub fn run(args: AnnotateArgs) -> Result<(), Failure> {
    let atlas = load(&args.data, args.postcode_column.is_some().then_some(&args.postcodes))?;
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
    annotate_csv(&atlas, &args.input, by, &columns, args.output.as_deref())
}

fn annotate_csv(atlas: &Atlas, input: &Path, by: By, columns: &Columns, output: Option<&Path>) -> Result<(), Failure> {
    let reader =
        std::fs::File::open(input).map_err(|e| Failure::Usage(format!("{}: cannot read: {e}", input.display())))?;
    let writer: Box<dyn Write> = match output {
        Some(p) => Box::new(
            std::fs::File::create(p).map_err(|e| Failure::Usage(format!("{}: cannot create: {e}", p.display())))?,
        ),
        None => Box::new(std::io::stdout().lock()),
    };
    let mut reported = 0u64;
    let stats = annotate::annotate(
        std::io::BufReader::with_capacity(1 << 16, reader),
        std::io::BufWriter::with_capacity(1 << 16, writer),
        by,
        &atlas.data,
        columns,
        |line, value, why| {
            reported += 1;
            if reported <= SHOWN {
                let why = match why {
                    Unmatched::Malformed => "not a valid postcode or point",
                    Unmatched::NotFound => "postcode not found",
                    Unmatched::NoArea => "not in an English alliance",
                };
                eprintln!("line {line}: {value:?}: {why}");
            }
        },
    )
    .map_err(|e| match e {
        AnnotateError::MissingColumn { .. } => Failure::Usage(format!("{}: {e}", input.display())),
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

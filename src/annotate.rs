//! CSV annotation: stream a CSV, append each row's areas, by postcode (through the postcode
//! index) or by longitude/latitude columns (through the point lookup).
//!
//! Columns added ([`Columns`]): without a date, the 2017 alliance and STP (the first
//! release's four columns); for a date, that date's alliance, footprint and sub-area; for a
//! timeline, those three for every period, suffixed with the period's start date.
//!
//! Every input row is written out, in order, with a status column last saying what happened
//! to it; rows whose postcode or point is malformed, unknown or outside England get empty
//! area columns and are reported. A row with more or fewer fields than the header (ragged)
//! is never looked up and never shifts a column: it is padded (or cut) to the header's
//! width, its area columns left empty and its status `ragged`.
//!
//! The input's header is read and checked ([`Annotator::open`]) before the caller creates
//! any output, and errors say which side failed: [`AnnotateError::Input`] (the CSV) or
//! [`AnnotateError::Output`] (a full disk, a closed pipe).

use std::io::{Read, Write};

use crate::locate::Locator;
use crate::model::{coordinates, Dataset};
use crate::postcode::index::PeriodAreas;
use crate::postcode::{Postcode, PostcodeIndex};

pub const ADDED_COLUMNS: [&str; 4] = ["alliance_code", "alliance_name", "stp_code", "stp_name"];
/// The columns added per period with a date or a timeline.
pub const DATED_COLUMNS: [&str; 6] = [
    "alliance_code",
    "alliance_name",
    "footprint_code",
    "footprint_name",
    "sub_area_code",
    "sub_area_name",
];

/// Which columns to add.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Columns {
    /// The default date's alliance and STP: [`ADDED_COLUMNS`].
    Default,
    /// One period's alliance, footprint and sub-area: [`DATED_COLUMNS`].
    Period(usize),
    /// Every period's, suffixed `_<from>`.
    Timeline,
}

/// The last column: `matched`, or why the row has no areas ([`Unmatched::status`]).
pub const STATUS_COLUMN: &str = "annotate_status";

#[derive(Debug, thiserror::Error)]
pub enum AnnotateError {
    #[error("input has no column {column:?}; its columns are: {available}")]
    MissingColumn { column: String, available: String },
    #[error("input CSV: {0}")]
    Input(csv::Error),
    #[error("output: {0}")]
    Output(std::io::Error),
}

impl AnnotateError {
    /// A writer's error, as an output error.
    fn output(e: csv::Error) -> Self {
        match e.into_kind() {
            csv::ErrorKind::Io(io) => AnnotateError::Output(io),
            other => AnnotateError::Output(std::io::Error::other(format!("{other:?}"))),
        }
    }
}

/// Why a row got no areas.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unmatched {
    Malformed,
    NotFound,
    NoArea,
    /// More or fewer fields than the header.
    Ragged,
}

impl Unmatched {
    /// The row's value in the status column.
    pub fn status(self) -> &'static str {
        match self {
            Unmatched::Malformed => "malformed",
            Unmatched::NotFound => "not_found",
            Unmatched::NoArea => "no_area",
            Unmatched::Ragged => "ragged",
        }
    }
}

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct AnnotateStats {
    pub rows: u64,
    pub matched: u64,
    pub malformed: u64,
    pub not_found: u64,
    pub no_area: u64,
    pub ragged: u64,
}

/// What each row is looked up by.
pub enum By<'a> {
    /// A postcode column, looked up in the postcode index.
    Postcode { column: &'a str, index: &'a PostcodeIndex },
    /// Longitude and latitude columns, looked up by every period's locator.
    Point {
        lon: &'a str,
        lat: &'a str,
        locators: &'a [Locator],
    },
}

/// Annotates `input` into `output`; `report(line, value, why)` hears of each unmatched row
/// (`line` is the 1-based line of the record in the input).
pub fn annotate(
    input: impl Read,
    output: impl Write,
    by: By,
    data: &Dataset,
    columns: &Columns,
    report: impl FnMut(u64, &str, Unmatched),
) -> Result<AnnotateStats, AnnotateError> {
    Annotator::open(input, by, data)?.write_to(output, columns, report)
}

/// An input whose header has been read and whose columns have been found: nothing about the
/// input can fail the header check any more once this exists.
pub struct Annotator<'a, R> {
    reader: csv::Reader<R>,
    headers: csv::ByteRecord,
    by: By<'a>,
    at: (usize, Option<usize>),
    data: &'a Dataset,
}

impl<'a, R: Read> Annotator<'a, R> {
    /// Reads the header and finds the columns `by` names.
    pub fn open(input: R, by: By<'a>, data: &'a Dataset) -> Result<Self, AnnotateError> {
        let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(input);
        let headers = reader.byte_headers().map_err(AnnotateError::Input)?.clone();
        let name = |h: &[u8]| {
            String::from_utf8_lossy(h)
                .trim_start_matches('\u{feff}')
                .trim()
                .to_string()
        };
        let find = |column: &str| {
            headers
                .iter()
                .position(|h| name(h) == column)
                .or_else(|| headers.iter().position(|h| name(h).eq_ignore_ascii_case(column)))
                .ok_or_else(|| AnnotateError::MissingColumn {
                    column: column.to_string(),
                    available: headers.iter().map(name).collect::<Vec<_>>().join(", "),
                })
        };
        let at = match &by {
            By::Postcode { column, .. } => (find(column)?, None),
            By::Point { lon, lat, .. } => (find(lon)?, Some(find(lat)?)),
        };
        Ok(Annotator {
            reader,
            headers,
            by,
            at,
            data,
        })
    }

    /// Writes the annotated CSV, with `columns`, to `output`.
    pub fn write_to(
        self,
        output: impl Write,
        columns: &Columns,
        mut report: impl FnMut(u64, &str, Unmatched),
    ) -> Result<AnnotateStats, AnnotateError> {
        let Annotator {
            mut reader,
            headers,
            by,
            at,
            data,
        } = self;
        let mut writer = csv::WriterBuilder::new().flexible(true).from_writer(output);
        // The periods whose areas are written, in column order.
        let periods: Vec<usize> = match columns {
            Columns::Default => vec![data.default_period],
            Columns::Period(p) => vec![*p],
            Columns::Timeline => (0..data.periods.len()).collect(),
        };
        let mut out_headers = headers.clone();
        match columns {
            Columns::Default => ADDED_COLUMNS.iter().for_each(|c| out_headers.push_field(c.as_bytes())),
            Columns::Period(_) => DATED_COLUMNS.iter().for_each(|c| out_headers.push_field(c.as_bytes())),
            Columns::Timeline => {
                for &p in &periods {
                    for c in DATED_COLUMNS {
                        out_headers.push_field(format!("{c}_{}", data.periods[p].from).as_bytes());
                    }
                }
            }
        }
        let input_width = headers.len();
        let width = out_headers.len() - input_width;
        out_headers.push_field(STATUS_COLUMN.as_bytes());
        writer.write_byte_record(&out_headers).map_err(AnnotateError::output)?;

        let mut stats = AnnotateStats::default();
        let mut record = csv::ByteRecord::new();
        let mut out = csv::ByteRecord::new();
        while reader.read_byte_record(&mut record).map_err(AnnotateError::Input)? {
            stats.rows += 1;
            let line = record.position().map_or(0, |p| p.line());
            let field = |c: usize| String::from_utf8_lossy(record.get(c).unwrap_or(b"")).into_owned();
            // Each requested period's areas, or why there are none.
            let (text, found): (String, Result<Vec<PeriodAreas>, Unmatched>) = if record.len() != input_width {
                (
                    format!("{} fields where the header has {input_width}", record.len()),
                    Err(Unmatched::Ragged),
                )
            } else {
                match (&by, at) {
                    (By::Postcode { index, .. }, (col, _)) => {
                        let text = field(col);
                        let found = match Postcode::parse(&text) {
                            Err(_) => Err(Unmatched::Malformed),
                            Ok(pc) => index
                                .get(&pc)
                                .map(|f| periods.iter().map(|&p| f.areas.at(p)).collect())
                                .ok_or(Unmatched::NotFound),
                        };
                        (text, found)
                    }
                    (By::Point { locators, .. }, (lon_col, Some(lat_col))) => {
                        let text = format!("{},{}", field(lon_col).trim(), field(lat_col).trim());
                        let lon = field(lon_col).trim().parse::<f64>();
                        let lat = field(lat_col).trim().parse::<f64>();
                        let found = match (lon, lat) {
                            (Ok(lon), Ok(lat)) if coordinates::is_valid(lon, lat) => Ok(periods
                                .iter()
                                .map(|&p| PeriodAreas::from(locators[p].locate(lon, lat)))
                                .collect()),
                            _ => Err(Unmatched::Malformed),
                        };
                        (text, found)
                    }
                    (By::Point { .. }, (_, None)) => (String::new(), Err(Unmatched::Malformed)),
                }
            };
            let found = found.and_then(|areas| {
                if areas.iter().any(|a| a.alliance.is_some() || a.footprint.is_some()) {
                    Ok(areas)
                } else {
                    Err(Unmatched::NoArea)
                }
            });
            // Exactly the header's width, then the added columns: a ragged row is padded or
            // cut, never shifted.
            out.clear();
            (0..input_width).for_each(|c| out.push_field(record.get(c).unwrap_or(b"")));
            match found {
                Ok(areas) => {
                    stats.matched += 1;
                    for (&p, a) in periods.iter().zip(&areas) {
                        let period = &data.periods[p];
                        let name = |e: Option<usize>, i: Option<u16>| -> (&str, &str) {
                            match e.zip(i) {
                                Some((e, i)) => {
                                    let area = &data.editions[e].areas[i as usize];
                                    (&area.code, &area.name)
                                }
                                None => ("", ""),
                            }
                        };
                        let (al, fp) = (name(period.alliance, a.alliance), name(period.footprint, a.footprint));
                        let mut fields = vec![al.0, al.1, fp.0, fp.1];
                        if *columns != Columns::Default {
                            let sub = name(period.sub_area, a.sub_area);
                            fields.extend([sub.0, sub.1]);
                        }
                        for f in fields {
                            out.push_field(f.as_bytes());
                        }
                    }
                    out.push_field(b"matched");
                }
                Err(why) => {
                    match why {
                        Unmatched::Malformed => stats.malformed += 1,
                        Unmatched::NotFound => stats.not_found += 1,
                        Unmatched::NoArea => stats.no_area += 1,
                        Unmatched::Ragged => stats.ragged += 1,
                    }
                    report(line, &text, why);
                    for _ in 0..width {
                        out.push_field(b"");
                    }
                    out.push_field(why.status().as_bytes());
                }
            }
            writer.write_byte_record(&out).map_err(AnnotateError::output)?;
        }
        writer.flush().map_err(AnnotateError::Output)?;
        Ok(stats)
    }
}

//! CSV annotation: stream a CSV, append each row's alliance and STP, by postcode (through the
//! postcode index) or by longitude/latitude columns (through the point lookup).
//!
//! Every input row is written out, in order; rows whose postcode or point is malformed,
//! unknown or outside England get empty area columns and are reported.

use std::io::{Read, Write};

use crate::locate::Locator;
use crate::model::{coordinates, Dataset};
use crate::postcode::{Postcode, PostcodeIndex};

pub const ADDED_COLUMNS: [&str; 4] = ["alliance_code", "alliance_name", "stp_code", "stp_name"];

#[derive(Debug, thiserror::Error)]
pub enum AnnotateError {
    #[error("input has no column {column:?}; its columns are: {available}")]
    MissingColumn { column: String, available: String },
    #[error("input CSV: {0}")]
    Csv(#[from] csv::Error),
    #[error("output: {0}")]
    Io(#[from] std::io::Error),
}

/// Why a row got no areas.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unmatched {
    Malformed,
    NotFound,
    NoArea,
}

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct AnnotateStats {
    pub rows: u64,
    pub matched: u64,
    pub malformed: u64,
    pub not_found: u64,
    pub no_area: u64,
}

/// What each row is looked up by.
pub enum By<'a> {
    /// A postcode column, looked up in the postcode index.
    Postcode { column: &'a str, index: &'a PostcodeIndex },
    /// Longitude and latitude columns, looked up by the point locator.
    Point {
        lon: &'a str,
        lat: &'a str,
        locator: &'a Locator,
    },
}

/// Annotates `input` into `output`; `report(line, value, why)` hears of each unmatched row
/// (`line` is the 1-based line of the record in the input).
pub fn annotate(
    input: impl Read,
    output: impl Write,
    by: By,
    data: &Dataset,
    mut report: impl FnMut(u64, &str, Unmatched),
) -> Result<AnnotateStats, AnnotateError> {
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(input);
    let mut writer = csv::WriterBuilder::new().flexible(true).from_writer(output);
    let headers = reader.byte_headers()?.clone();
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
    let columns = match &by {
        By::Postcode { column, .. } => (find(column)?, None),
        By::Point { lon, lat, .. } => (find(lon)?, Some(find(lat)?)),
    };
    let mut out_headers = headers.clone();
    ADDED_COLUMNS.iter().for_each(|c| out_headers.push_field(c.as_bytes()));
    writer.write_byte_record(&out_headers)?;

    let mut stats = AnnotateStats::default();
    let mut record = csv::ByteRecord::new();
    while reader.read_byte_record(&mut record)? {
        stats.rows += 1;
        let field = |c: usize| String::from_utf8_lossy(record.get(c).unwrap_or(b"")).into_owned();
        let (text, areas) = match (&by, columns) {
            (By::Postcode { index, .. }, (col, _)) => {
                let text = field(col);
                let found = match Postcode::parse(&text) {
                    Err(_) => Err(Unmatched::Malformed),
                    Ok(pc) => index.get(&pc).ok_or(Unmatched::NotFound),
                };
                (
                    text,
                    found.map(|f| {
                        let at = f.areas.at(data.default_period);
                        (at.alliance, at.footprint)
                    }),
                )
            }
            (By::Point { locator, .. }, (lon_col, Some(lat_col))) => {
                let text = format!("{},{}", field(lon_col).trim(), field(lat_col).trim());
                let lon = field(lon_col).trim().parse::<f64>();
                let lat = field(lat_col).trim().parse::<f64>();
                let located = match (lon, lat) {
                    (Ok(lon), Ok(lat)) if coordinates::is_valid(lon, lat) => Ok(locator.locate(lon, lat)),
                    _ => Err(Unmatched::Malformed),
                };
                (text, located.map(|l| (l.alliance, l.footprint)))
            }
            (By::Point { .. }, (_, None)) => (String::new(), Err(Unmatched::Malformed)),
        };
        let areas = areas.and_then(|pair| match pair {
            (Some(a), Some(s)) => Ok((a, s)),
            _ => Err(Unmatched::NoArea),
        });
        match areas {
            Ok((a, s)) => {
                stats.matched += 1;
                let (a, s) = (&data.alliances[a as usize], &data.stps[s as usize]);
                for f in [&a.code, &a.name, &s.code, &s.name] {
                    record.push_field(f.as_bytes());
                }
            }
            Err(why) => {
                match why {
                    Unmatched::Malformed => stats.malformed += 1,
                    Unmatched::NotFound => stats.not_found += 1,
                    Unmatched::NoArea => stats.no_area += 1,
                }
                let line = record.position().map_or(0, |p| p.line());
                report(line, &text, why);
                for _ in ADDED_COLUMNS {
                    record.push_field(b"");
                }
            }
        }
        writer.write_byte_record(&record)?;
    }
    writer.flush()?;
    Ok(stats)
}

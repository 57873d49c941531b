//! CSV annotation: stream a CSV, append each row's areas, by postcode (through the postcode
//! index) or by longitude/latitude columns (through the point lookup).
//!
//! Columns added ([`Columns`]): without a date, the 2017 alliance and STP (the first
//! release's four columns); for a date, that date's alliance, footprint and sub-area; for a
//! timeline, those three for every period, suffixed with the period's start date.
//!
//! Every input row is written out, in order; rows whose postcode or point is malformed,
//! unknown or outside England get empty area columns and are reported.

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
    let at = match &by {
        By::Postcode { column, .. } => (find(column)?, None),
        By::Point { lon, lat, .. } => (find(lon)?, Some(find(lat)?)),
    };
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
    let width = out_headers.len() - headers.len();
    writer.write_byte_record(&out_headers)?;

    let mut stats = AnnotateStats::default();
    let mut record = csv::ByteRecord::new();
    while reader.read_byte_record(&mut record)? {
        stats.rows += 1;
        let field = |c: usize| String::from_utf8_lossy(record.get(c).unwrap_or(b"")).into_owned();
        // Each requested period's areas, or why there are none.
        let (text, found): (String, Result<Vec<PeriodAreas>, Unmatched>) = match (&by, at) {
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
                        .map(|&p| {
                            let l = locators[p].locate(lon, lat);
                            PeriodAreas {
                                alliance: l.alliance,
                                footprint: l.footprint,
                                sub_area: l.sub_area,
                            }
                        })
                        .collect()),
                    _ => Err(Unmatched::Malformed),
                };
                (text, found)
            }
            (By::Point { .. }, (_, None)) => (String::new(), Err(Unmatched::Malformed)),
        };
        let found = found.and_then(|areas| {
            if areas.iter().any(|a| a.alliance.is_some() || a.footprint.is_some()) {
                Ok(areas)
            } else {
                Err(Unmatched::NoArea)
            }
        });
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
                        record.push_field(f.as_bytes());
                    }
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
                for _ in 0..width {
                    record.push_field(b"");
                }
            }
        }
        writer.write_byte_record(&record)?;
    }
    writer.flush()?;
    Ok(stats)
}

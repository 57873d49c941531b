//! `alliance-map annotate`: stream a CSV, append each row's alliance and STP by postcode.
//!
//! Every input row is written out, in order; rows whose postcode is malformed, unknown or
//! outside England get empty area columns and are reported.

use std::io::{Read, Write};

use super::index::PostcodeIndex;
use super::parse::Postcode;
use crate::data::Dataset;

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

/// Annotates `input` into `output`; `report(line, value, why)` hears of each unmatched row
/// (`line` is the 1-based line of the record in the input).
pub fn annotate(
    input: impl Read,
    output: impl Write,
    column: &str,
    index: &PostcodeIndex,
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
    let col = headers
        .iter()
        .position(|h| name(h) == column)
        .or_else(|| headers.iter().position(|h| name(h).eq_ignore_ascii_case(column)))
        .ok_or_else(|| AnnotateError::MissingColumn {
            column: column.to_string(),
            available: headers.iter().map(name).collect::<Vec<_>>().join(", "),
        })?;
    let mut out_headers = headers.clone();
    ADDED_COLUMNS.iter().for_each(|c| out_headers.push_field(c.as_bytes()));
    writer.write_byte_record(&out_headers)?;

    let mut stats = AnnotateStats::default();
    let mut record = csv::ByteRecord::new();
    while reader.read_byte_record(&mut record)? {
        stats.rows += 1;
        let raw = record.get(col).unwrap_or(b"");
        let text = String::from_utf8_lossy(raw);
        let found = match Postcode::parse(&text) {
            Err(_) => Err(Unmatched::Malformed),
            Ok(pc) => index.get(&pc).ok_or(Unmatched::NotFound),
        };
        let areas = found.and_then(|f| match (f.areas.alliance(), f.areas.stp()) {
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

//! CSV annotation, streamed record by record: the header is read and checked first
//! ([`Annotator::open`]), before the caller creates any output, then each record is written
//! with the added columns and the status column.
//!
//! A record with more or fewer fields than the header (ragged) is never looked up and never
//! shifts a column: it is padded (or cut) to the header's width, its area columns left empty
//! and its status `ragged`. Errors say which side failed: [`AnnotateError::Input`] (the CSV)
//! or [`AnnotateError::Output`] (a full disk, a closed pipe, a client gone).

use std::io::{Read, Write};

use super::{find_column, AnnotateError, AnnotateStats, By, Columns, Found, Resolver, Unmatched, STATUS_COLUMN};
use crate::model::Dataset;

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
        let headers = reader.byte_headers().map_err(AnnotateError::input)?.clone();
        let names: Vec<String> = headers
            .iter()
            .map(|h| String::from_utf8_lossy(h).into_owned())
            .collect();
        let find = |column: &str| {
            find_column(names.iter().map(String::as_str), column).ok_or_else(|| AnnotateError::MissingColumn {
                column: column.to_string(),
                available: names
                    .iter()
                    .map(|n| n.trim_start_matches('\u{feff}').trim())
                    .collect::<Vec<_>>()
                    .join(", "),
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
        let resolver = Resolver::new(by, data, columns.clone());
        let mut writer = csv::WriterBuilder::new().flexible(true).from_writer(output);
        let mut out_headers = headers.clone();
        for h in resolver.added_headers() {
            out_headers.push_field(h.as_bytes());
        }
        let input_width = headers.len();
        let width = resolver.width();
        out_headers.push_field(STATUS_COLUMN.as_bytes());
        writer.write_byte_record(&out_headers).map_err(AnnotateError::output)?;

        let mut stats = AnnotateStats::default();
        let mut record = csv::ByteRecord::new();
        let mut out = csv::ByteRecord::new();
        while reader.read_byte_record(&mut record).map_err(AnnotateError::input)? {
            let line = record.position().map_or(0, |p| p.line());
            let field = |c: usize| String::from_utf8_lossy(record.get(c).unwrap_or(b""));
            // Each requested period's areas, or why there are none.
            let (text, found): (String, Found) = if record.len() != input_width {
                (
                    format!("{} fields where the header has {input_width}", record.len()),
                    Err(Unmatched::Ragged),
                )
            } else {
                match at {
                    (col, None) => {
                        let text = field(col);
                        let found = resolver.postcode(&text);
                        (text.into_owned(), found)
                    }
                    (lon_col, Some(lat_col)) => {
                        let (lon, lat) = (field(lon_col), field(lat_col));
                        let found = resolver.point_text(&lon, &lat);
                        (format!("{},{}", lon.trim(), lat.trim()), found)
                    }
                }
            };
            stats.count(found.as_ref().map(|_| ()).map_err(|why| *why));
            // Exactly the header's width, then the added columns: a ragged row is padded or
            // cut, never shifted.
            out.clear();
            (0..input_width).for_each(|c| out.push_field(record.get(c).unwrap_or(b"")));
            match found {
                Ok(areas) => {
                    resolver.values(&areas, |v| out.push_field(v.as_bytes()));
                    out.push_field(b"matched");
                }
                Err(why) => {
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

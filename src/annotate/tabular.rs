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

/// Field `c` of `record` as text (invalid UTF-8 replaced).
fn field(record: &csv::ByteRecord, c: usize) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(record.get(c).unwrap_or(b""))
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
    /// Records read before they are looked up (side by side) and written: 1 streams record
    /// by record, as a request body arriving slowly needs.
    batch: usize,
}

/// Batches of at least this many records are looked up on every core.
const PARALLEL_FROM: usize = 512;

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
            batch: 1,
        })
    }

    /// Reads `records` records at a time and looks them up side by side: for a whole file at
    /// hand (the CLI), where waiting for a batch costs nothing and the lookups of 1 M points
    /// were most of the time.
    pub fn in_batches(mut self, records: usize) -> Self {
        self.batch = records.max(1);
        self
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
            batch,
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

        // Each requested period's areas, or why there are none.
        let resolve = |record: &csv::ByteRecord| -> Found {
            if record.len() != input_width {
                return Err(Unmatched::Ragged);
            }
            match at {
                (col, None) => resolver.postcode(&field(record, col)),
                (lon_col, Some(lat_col)) => resolver.point_text(&field(record, lon_col), &field(record, lat_col)),
            }
        };
        // What an unmatched row is reported as.
        let text = |record: &csv::ByteRecord| -> String {
            if record.len() != input_width {
                return format!("{} fields where the header has {input_width}", record.len());
            }
            match at {
                (col, None) => field(record, col).into_owned(),
                (lon_col, Some(lat_col)) => {
                    format!("{},{}", field(record, lon_col).trim(), field(record, lat_col).trim())
                }
            }
        };

        let mut stats = AnnotateStats::default();
        let mut records = vec![csv::ByteRecord::new(); batch];
        let mut out = csv::ByteRecord::new();
        loop {
            // A read error ends the input after the records read before it are written, as
            // record by record.
            let mut n = 0;
            let mut failed = None;
            while n < batch {
                match reader.read_byte_record(&mut records[n]) {
                    Ok(true) => n += 1,
                    Ok(false) => break,
                    Err(e) => {
                        failed = Some(AnnotateError::input(e));
                        break;
                    }
                }
            }
            let read = &records[..n];
            let found: Vec<Found> = if n >= PARALLEL_FROM {
                use rayon::prelude::*;
                read.par_iter().map(resolve).collect()
            } else {
                read.iter().map(resolve).collect()
            };
            for (record, found) in read.iter().zip(found) {
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
                        report(record.position().map_or(0, |p| p.line()), &text(record), why);
                        for _ in 0..width {
                            out.push_field(b"");
                        }
                        out.push_field(why.status().as_bytes());
                    }
                }
                writer.write_byte_record(&out).map_err(AnnotateError::output)?;
            }
            if let Some(e) = failed {
                return Err(e);
            }
            if n < batch {
                break;
            }
        }
        writer.flush().map_err(AnnotateError::Output)?;
        Ok(stats)
    }
}

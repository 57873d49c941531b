//! Parquet annotation, a batch of rows at a time (Arrow record batches read by row group):
//! Parquet in and Parquet or CSV out, or CSV in and Parquet out. (CSV to CSV is
//! [`super::tabular`]'s, byte for byte.)
//!
//! In Parquet the added columns are nullable UTF-8 strings, `null` where a row has no area,
//! and `annotate_status` is never null; the input's columns, types and metadata pass through.
//! The key columns may be of any type Arrow can cast (postcodes to text, coordinates to
//! 64-bit floats): a value that will not cast, or a null, is `malformed`. A CSV input is read
//! as text columns, its ragged rows padded or cut to the header's width and marked `ragged`.

use std::io::{Read, Write};
use std::sync::Arc;

use arrow_array::builder::StringBuilder;
use arrow_array::{Array, ArrayRef, Float64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;

use super::STATUS_COLUMN;
use super::{find_column, AnnotateError, AnnotateStats, By, Columns, Found, InputError, Resolver, Unmatched};
use crate::model::Dataset;

/// Rows a batch: large enough to amortise per-batch work, small enough (tens of MB at most)
/// to bound memory.
pub const BATCH_ROWS: usize = 65_536;

/// A table format of the CLI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableFormat {
    Csv,
    Parquet,
}

/// Where batches come from.
pub enum Source<R> {
    /// A Parquet file, read a row group at a time.
    Parquet(std::fs::File),
    /// A CSV stream, every column read as text.
    Csv(R),
}

/// Where batches go.
pub enum Sink<W: Write + Send> {
    Parquet(W),
    Csv(W),
}

fn input_error(message: impl Into<String>) -> AnnotateError {
    AnnotateError::Input(InputError {
        message: message.into(),
        io: None,
    })
}

/// The batches of a source, with each batch's ragged rows (CSV only).
struct Batches<R> {
    schema: SchemaRef,
    inner: BatchesInner<R>,
}

enum BatchesInner<R> {
    Parquet(parquet::arrow::arrow_reader::ParquetRecordBatchReader),
    Csv { reader: csv::Reader<R>, width: usize },
}

impl<R: Read> Batches<R> {
    fn open(source: Source<R>) -> Result<Self, AnnotateError> {
        match source {
            Source::Parquet(file) => {
                let builder = ParquetRecordBatchReaderBuilder::try_new(file)
                    .map_err(|e| input_error(format!("not a Parquet file: {e}")))?;
                let schema = builder.schema().clone();
                let reader = builder
                    .with_batch_size(BATCH_ROWS)
                    .build()
                    .map_err(|e| input_error(format!("Parquet: {e}")))?;
                Ok(Batches {
                    schema,
                    inner: BatchesInner::Parquet(reader),
                })
            }
            Source::Csv(input) => {
                let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(input);
                let headers = reader.headers().map_err(AnnotateError::input)?.clone();
                let fields: Vec<Field> = headers
                    .iter()
                    .map(|h| Field::new(h.trim_start_matches('\u{feff}'), DataType::Utf8, true))
                    .collect();
                Ok(Batches {
                    schema: Arc::new(Schema::new(fields)),
                    inner: BatchesInner::Csv {
                        reader,
                        width: headers.len(),
                    },
                })
            }
        }
    }

    /// The next batch and, per row, whether it was ragged; `None` at the end.
    fn next(&mut self) -> Result<Option<(RecordBatch, Vec<bool>)>, AnnotateError> {
        match &mut self.inner {
            BatchesInner::Parquet(reader) => match reader.next() {
                None => Ok(None),
                Some(Err(e)) => Err(input_error(format!("Parquet: {e}"))),
                Some(Ok(batch)) => {
                    let rows = batch.num_rows();
                    Ok(Some((batch, vec![false; rows])))
                }
            },
            BatchesInner::Csv { reader, width } => {
                let mut columns: Vec<StringBuilder> = (0..*width).map(|_| StringBuilder::new()).collect();
                let mut ragged = Vec::new();
                let mut record = csv::StringRecord::new();
                while ragged.len() < BATCH_ROWS && reader.read_record(&mut record).map_err(AnnotateError::input)? {
                    ragged.push(record.len() != *width);
                    for (c, column) in columns.iter_mut().enumerate() {
                        column.append_value(record.get(c).unwrap_or(""));
                    }
                }
                if ragged.is_empty() {
                    return Ok(None);
                }
                let arrays: Vec<ArrayRef> = columns.iter_mut().map(|b| Arc::new(b.finish()) as ArrayRef).collect();
                let batch =
                    RecordBatch::try_new(self.schema.clone(), arrays).map_err(|e| input_error(e.to_string()))?;
                Ok(Some((batch, ragged)))
            }
        }
    }
}

/// Annotates `source` into `sink`; `report(row, value, why)` hears of each unmatched row
/// (`row` counts data rows from 1).
pub fn annotate<R: Read, W: Write + Send>(
    source: Source<R>,
    sink: Sink<W>,
    by: By,
    data: &Dataset,
    columns: &Columns,
    mut report: impl FnMut(u64, &str, Unmatched),
) -> Result<AnnotateStats, AnnotateError> {
    let mut batches = Batches::open(source)?;
    let names: Vec<&str> = batches.schema.fields().iter().map(|f| f.name().as_str()).collect();
    let find = |column: &str| {
        find_column(names.iter().copied(), column).ok_or_else(|| AnnotateError::MissingColumn {
            column: column.to_string(),
            available: names.join(", "),
        })
    };
    let at: Vec<usize> = by.column_names().into_iter().map(find).collect::<Result<_, _>>()?;
    let resolver = Resolver::new(by, data, columns.clone());
    let added = resolver.added_headers();
    let mut fields: Vec<Arc<Field>> = batches.schema.fields().iter().cloned().collect();
    fields.extend(added.iter().map(|n| Arc::new(Field::new(n, DataType::Utf8, true))));
    fields.push(Arc::new(Field::new(STATUS_COLUMN, DataType::Utf8, false)));
    let out_schema = Arc::new(Schema::new_with_metadata(fields, batches.schema.metadata().clone()));
    let mut out = Output::open(sink, out_schema.clone())?;

    let mut stats = AnnotateStats::default();
    let width = resolver.width();
    while let Some((batch, ragged)) = batches.next()? {
        let rows = batch.num_rows();
        let keys = Keys::of(&batch, &at, &resolver)?;
        let mut builders: Vec<StringBuilder> = (0..width)
            .map(|_| StringBuilder::with_capacity(rows, rows * 8))
            .collect();
        let mut status = StringBuilder::with_capacity(rows, rows * 7);
        for (row, &is_ragged) in ragged.iter().enumerate() {
            let found: Found = if is_ragged {
                Err(Unmatched::Ragged)
            } else {
                keys.found(row, &resolver)
            };
            stats.count(found.as_ref().map(|_| ()).map_err(|why| *why));
            match found {
                Ok(areas) => {
                    let mut b = builders.iter_mut();
                    resolver.values(&areas, |v| {
                        if let Some(b) = b.next() {
                            if v.is_empty() {
                                b.append_null()
                            } else {
                                b.append_value(v)
                            }
                        }
                    });
                    status.append_value("matched");
                }
                Err(why) => {
                    report(stats.rows, &keys.shown(row), why);
                    builders.iter_mut().for_each(StringBuilder::append_null);
                    status.append_value(why.status());
                }
            }
        }
        let mut arrays: Vec<ArrayRef> = batch.columns().to_vec();
        arrays.extend(builders.iter_mut().map(|b| Arc::new(b.finish()) as ArrayRef));
        arrays.push(Arc::new(status.finish()));
        let batch = RecordBatch::try_new(out_schema.clone(), arrays).map_err(|e| input_error(e.to_string()))?;
        out.write(&batch)?;
    }
    out.close()?;
    Ok(stats)
}

/// A batch's key column(s), cast for lookup.
enum Keys {
    Postcode(StringArray),
    Point(Float64Array, Float64Array),
}

impl Keys {
    fn of(batch: &RecordBatch, at: &[usize], resolver: &Resolver) -> Result<Self, AnnotateError> {
        // Values that will not cast become nulls (and so `malformed`), never a failed batch.
        let options = arrow_cast::CastOptions {
            safe: true,
            ..Default::default()
        };
        let cast = |c: usize, to: &DataType| {
            arrow_cast::cast_with_options(batch.column(c), to, &options).map_err(|e| {
                input_error(format!(
                    "column {:?} cannot be read as {to}: {e}",
                    batch.schema().field(c).name()
                ))
            })
        };
        match (&resolver.by, at) {
            (By::Postcode { .. }, [c]) => {
                let text = cast(*c, &DataType::Utf8)?;
                let text = text.as_any().downcast_ref::<StringArray>().cloned();
                text.map(Keys::Postcode)
                    .ok_or_else(|| input_error("postcode column cast"))
            }
            (By::Point { .. }, [lon, lat]) => {
                let float = |c| cast(c, &DataType::Float64).map(|a| a.as_any().downcast_ref::<Float64Array>().cloned());
                match (float(*lon)?, float(*lat)?) {
                    (Some(lon), Some(lat)) => Ok(Keys::Point(lon, lat)),
                    _ => Err(input_error("coordinate columns cast")),
                }
            }
            _ => Err(input_error("key columns")),
        }
    }

    fn found(&self, row: usize, resolver: &Resolver) -> Found {
        match self {
            Keys::Postcode(pc) if pc.is_valid(row) => resolver.postcode(pc.value(row)),
            Keys::Point(lon, lat) if lon.is_valid(row) && lat.is_valid(row) => {
                resolver.point(lon.value(row), lat.value(row))
            }
            _ => Err(Unmatched::Malformed),
        }
    }

    /// The row's key as text, for reports.
    fn shown(&self, row: usize) -> String {
        match self {
            Keys::Postcode(pc) if pc.is_valid(row) => pc.value(row).to_string(),
            Keys::Point(lon, lat) if lon.is_valid(row) && lat.is_valid(row) => {
                format!("{},{}", lon.value(row), lat.value(row))
            }
            _ => "(null)".to_string(),
        }
    }
}

/// The output side: a Parquet writer, or CSV with every value formatted by Arrow.
enum Output<W: Write + Send> {
    Parquet(ArrowWriter<W>),
    Csv(csv::Writer<W>),
}

impl<W: Write + Send> Output<W> {
    fn open(sink: Sink<W>, schema: SchemaRef) -> Result<Self, AnnotateError> {
        match sink {
            Sink::Parquet(w) => {
                let props = WriterProperties::builder()
                    .set_compression(Compression::ZSTD(ZstdLevel::default()))
                    .build();
                ArrowWriter::try_new(w, schema, Some(props))
                    .map(Output::Parquet)
                    .map_err(|e| AnnotateError::Output(std::io::Error::other(e.to_string())))
            }
            Sink::Csv(w) => {
                let mut writer = csv::Writer::from_writer(w);
                writer
                    .write_record(schema.fields().iter().map(|f| f.name().as_str()))
                    .map_err(AnnotateError::output)?;
                Ok(Output::Csv(writer))
            }
        }
    }

    fn write(&mut self, batch: &RecordBatch) -> Result<(), AnnotateError> {
        match self {
            Output::Parquet(w) => w.write(batch).map_err(parquet_output),
            Output::Csv(w) => {
                let options = arrow_cast::display::FormatOptions::default();
                let formatters = batch
                    .columns()
                    .iter()
                    .map(|c| arrow_cast::display::ArrayFormatter::try_new(c.as_ref(), &options))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| input_error(format!("a column cannot be written as text: {e}")))?;
                let mut record = csv::StringRecord::new();
                let mut text = String::new();
                for row in 0..batch.num_rows() {
                    record.clear();
                    for f in &formatters {
                        text.clear();
                        use std::fmt::Write as _;
                        let _ = write!(text, "{}", f.value(row));
                        record.push_field(&text);
                    }
                    w.write_record(&record).map_err(AnnotateError::output)?;
                }
                Ok(())
            }
        }
    }

    fn close(self) -> Result<(), AnnotateError> {
        match self {
            Output::Parquet(w) => w.close().map(|_| ()).map_err(parquet_output),
            Output::Csv(mut w) => w.flush().map_err(AnnotateError::Output),
        }
    }
}

fn parquet_output(e: parquet::errors::ParquetError) -> AnnotateError {
    match e {
        parquet::errors::ParquetError::External(inner) => match inner.downcast::<std::io::Error>() {
            Ok(io) => AnnotateError::Output(*io),
            Err(other) => AnnotateError::Output(std::io::Error::other(other.to_string())),
        },
        other => AnnotateError::Output(std::io::Error::other(other.to_string())),
    }
}

//! The answer table: each row's alliance, footprint and sub-area (code and name), `match` and
//! `distance_m`, gathered as area indexes and written once as Arrow arrays.
//!
//! The code and name columns are dictionary-encoded: their dictionary is the period's edition
//! (every area's code, or name, in edition order) and a row's key is its area's index, so a
//! row costs two bytes per layer and no string is copied per row. A code column and its name
//! column share one key buffer.

use std::sync::Arc;

use alliance_map::locate::{Located, MatchKind};
use alliance_map::model::Dataset;
use arrow_array::types::{Int16Type, Int8Type};
use arrow_array::{ArrayRef, DictionaryArray, Float64Array, Int16Array, Int8Array, RecordBatch, StringArray};
use arrow_buffer::{NullBufferBuilder, ScalarBuffer};
use arrow_schema::{ArrowError, DataType, Field, Schema};
use pyo3::exceptions::PyRuntimeError;
use pyo3::PyResult;

/// The columns, in order: the area columns of a dated `annotate` (the same names in every
/// interface), then the lookup's `match` and `distance_m`.
pub const COLUMNS: [&str; 8] = {
    let a = alliance_map::annotate::DATED_COLUMNS;
    [a[0], a[1], a[2], a[3], a[4], a[5], "match", "distance_m"]
};

/// A row's `match`: the lookup's kinds (the HTTP API's `match`), then why a row has no answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(i8)]
pub enum Match {
    Contains = 0,
    Nearest = 1,
    Outside = 2,
    /// A coordinate not finite or out of WGS84 range; text that is not a UK postcode.
    Malformed = 3,
    /// A well-formed postcode the index does not hold.
    NotFound = 4,
    /// A null value.
    Missing = 5,
}

/// The `match` column's dictionary, indexed by [`Match`].
pub const MATCH_VALUES: [&str; 6] = ["contains", "nearest", "outside", "malformed", "not_found", "missing"];

impl From<MatchKind> for Match {
    fn from(kind: MatchKind) -> Self {
        match kind {
            MatchKind::Contains => Match::Contains,
            MatchKind::Nearest => Match::Nearest,
            MatchKind::Outside => Match::Outside,
        }
    }
}

/// One layer's keys: the area index per row, null where the row has no area.
struct Keys {
    keys: Vec<i16>,
    nulls: NullBufferBuilder,
}

impl Keys {
    fn with_capacity(n: usize) -> Self {
        Keys {
            keys: Vec::with_capacity(n),
            nulls: NullBufferBuilder::new(n),
        }
    }

    #[inline]
    fn push(&mut self, area: Option<u16>) {
        match area {
            // Edition sizes are checked to fit an i16 in `Answers::new`.
            Some(i) => {
                self.keys.push(i as i16);
                self.nulls.append_non_null();
            }
            None => {
                self.keys.push(0);
                self.nulls.append_null();
            }
        }
    }

    fn finish(mut self) -> Int16Array {
        Int16Array::new(ScalarBuffer::from(self.keys), self.nulls.finish())
    }
}

/// The answers of one lookup call, row by row, for one period.
pub struct Answers<'a> {
    data: &'a Dataset,
    period: usize,
    alliance: Keys,
    footprint: Keys,
    sub_area: Keys,
    matches: Vec<i8>,
    distance: Vec<f64>,
    distance_nulls: NullBufferBuilder,
}

impl<'a> Answers<'a> {
    /// Room for `n` rows of period `period`'s answers.
    pub fn new(data: &'a Dataset, period: usize, n: usize) -> PyResult<Self> {
        if let Some(e) = data.editions.iter().find(|e| e.areas.len() > i16::MAX as usize) {
            return Err(PyRuntimeError::new_err(format!(
                "edition {} has {} areas, more than a dictionary key holds",
                e.spec.edition,
                e.areas.len()
            )));
        }
        Ok(Answers {
            data,
            period,
            alliance: Keys::with_capacity(n),
            footprint: Keys::with_capacity(n),
            sub_area: Keys::with_capacity(n),
            matches: Vec::with_capacity(n),
            distance: Vec::with_capacity(n),
            distance_nulls: NullBufferBuilder::new(n),
        })
    }

    /// A row located in the period.
    #[inline]
    pub fn push(&mut self, located: &Located) {
        self.alliance.push(located.alliance);
        self.footprint.push(located.footprint);
        self.sub_area.push(located.sub_area);
        self.matches.push(Match::from(located.kind) as i8);
        // Decimetres, as the HTTP API rounds them.
        self.distance.push((located.distance_m * 10.0).round() / 10.0);
        self.distance_nulls.append_non_null();
    }

    /// A row with no answer (`why` is not one of the lookup's kinds): no areas, no distance.
    #[inline]
    pub fn push_unanswered(&mut self, why: Match) {
        self.alliance.push(None);
        self.footprint.push(None);
        self.sub_area.push(None);
        self.matches.push(why as i8);
        self.distance.push(0.0);
        self.distance_nulls.append_null();
    }

    /// The table, columns as [`COLUMNS`].
    pub fn finish(mut self) -> Result<RecordBatch, ArrowError> {
        let period = &self.data.periods[self.period];
        let mut columns: Vec<ArrayRef> = Vec::with_capacity(COLUMNS.len());
        for (edition, keys) in [
            (period.alliance, self.alliance),
            (period.footprint, self.footprint),
            (period.sub_area, self.sub_area),
        ] {
            let areas = edition.map_or(&[][..], |e| &self.data.editions[e].areas[..]);
            let keys = keys.finish();
            let codes = StringArray::from_iter_values(areas.iter().map(|a| a.code.as_str()));
            let names = StringArray::from_iter_values(areas.iter().map(|a| a.name.as_str()));
            columns.push(Arc::new(DictionaryArray::<Int16Type>::try_new(
                keys.clone(),
                Arc::new(codes),
            )?));
            columns.push(Arc::new(DictionaryArray::<Int16Type>::try_new(keys, Arc::new(names))?));
        }
        let matches = Int8Array::new(ScalarBuffer::from(self.matches), None);
        columns.push(Arc::new(DictionaryArray::<Int8Type>::try_new(
            matches,
            Arc::new(StringArray::from_iter_values(MATCH_VALUES)),
        )?));
        columns.push(Arc::new(Float64Array::new(
            ScalarBuffer::from(self.distance),
            self.distance_nulls.finish(),
        )));
        RecordBatch::try_new(Arc::new(schema()), columns)
    }
}

/// The answer table's schema.
pub fn schema() -> Schema {
    let dictionary = |key: DataType| DataType::Dictionary(Box::new(key), Box::new(DataType::Utf8));
    let mut fields: Vec<Field> = COLUMNS[..6]
        .iter()
        .map(|c| Field::new(*c, dictionary(DataType::Int16), true))
        .collect();
    fields.push(Field::new("match", dictionary(DataType::Int8), false));
    fields.push(Field::new("distance_m", DataType::Float64, true));
    Schema::new(fields)
}

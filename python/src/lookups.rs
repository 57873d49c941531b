//! The bulk lookups behind `lookup_points` and `lookup_postcodes`: Arrow arrays in, an
//! [`Answers`] table out, with the same rules as the HTTP API and the CLI's `annotate`
//! (a value that is not a finite, in-range coordinate or not a UK postcode is answered
//! `malformed`, never an error, so one bad row never fails a batch of millions).

use alliance_map::atlas::Atlas;
use alliance_map::model::coordinates;
use alliance_map::postcode::Postcode;
use alliance_map::views::{postcode_located, When};
use arrow_array::{Array, Float64Array, LargeStringArray, RecordBatch, StringArray, StringViewArray};
use arrow_data::ArrayData;
use arrow_schema::DataType;
use pyo3::exceptions::{PyRuntimeError, PyTypeError, PyValueError};
use pyo3::PyResult;

use crate::state::{self, GRID_THRESHOLD};
use crate::table::{Answers, Match};

/// Every point's areas as of `when`.
pub fn points(atlas: &'static Atlas, lon: ArrayData, lat: ArrayData, when: &When) -> PyResult<RecordBatch> {
    let lon = float64(lon, "lon")?;
    let lat = float64(lat, "lat")?;
    if lon.len() != lat.len() {
        return Err(PyValueError::new_err(format!(
            "lon and lat must have the same length, got {} and {}",
            lon.len(),
            lat.len()
        )));
    }
    let locator = atlas.locator_at(when.period);
    let grid = (lon.len() >= GRID_THRESHOLD).then(|| state::grid(atlas, when.period));
    let locate = |x: f64, y: f64| match grid.and_then(|g| g.get(x, y)) {
        Some(hit) => *hit,
        None => locator.locate(x, y),
    };
    let mut answers = Answers::new(&atlas.data, when.period, lon.len())?;
    let any_null = lon.null_count() > 0 || lat.null_count() > 0;
    for (i, (&x, &y)) in lon.values().iter().zip(lat.values().iter()).enumerate() {
        if any_null && (lon.is_null(i) || lat.is_null(i)) {
            answers.push_unanswered(Match::Missing);
        } else if coordinates::is_valid(x, y) {
            answers.push(&locate(x, y));
        } else {
            answers.push_unanswered(Match::Malformed);
        }
    }
    finish(answers)
}

/// Every postcode's areas as of `when`, from the postcode index (resolved at import: the
/// match is `contains`, or `outside` for a postcode with no English footprint).
pub fn postcodes(atlas: &Atlas, postcodes: ArrayData, when: &When) -> PyResult<RecordBatch> {
    let index = state::postcodes(atlas)?;
    let mut answers = Answers::new(&atlas.data, when.period, postcodes.len())?;
    let mut answer = |text: Option<&str>| match text {
        None => answers.push_unanswered(Match::Missing),
        Some(text) => match Postcode::parse(text) {
            Err(_) => answers.push_unanswered(Match::Malformed),
            Ok(pc) => match index.get(&pc) {
                None => answers.push_unanswered(Match::NotFound),
                Some(found) => answers.push(&postcode_located(&found, when.period)),
            },
        },
    };
    match postcodes.data_type() {
        DataType::Utf8 => StringArray::from(postcodes).iter().for_each(&mut answer),
        DataType::LargeUtf8 => LargeStringArray::from(postcodes).iter().for_each(&mut answer),
        DataType::Utf8View => StringViewArray::from(postcodes).iter().for_each(&mut answer),
        other => {
            return Err(PyTypeError::new_err(format!(
                "postcodes must be strings, got an Arrow array of {other}"
            )))
        }
    }
    finish(answers)
}

/// `data` as a float64 array, or a `TypeError` naming the argument.
fn float64(data: ArrayData, name: &str) -> PyResult<Float64Array> {
    match data.data_type() {
        DataType::Float64 => Ok(Float64Array::from(data)),
        other => Err(PyTypeError::new_err(format!(
            "{name} must be float64 numbers, got an Arrow array of {other}"
        ))),
    }
}

fn finish(answers: Answers) -> PyResult<RecordBatch> {
    answers
        .finish()
        .map_err(|e| PyRuntimeError::new_err(format!("alliance_map: building the answer table: {e}")))
}

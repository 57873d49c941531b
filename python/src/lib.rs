//! `alliance_map._native`: the Python extension module. Each function here only converts
//! arguments and answers between Python and Rust and releases the GIL around the work; the
//! lookups are in [`lookups`], the answer table in [`table`], the shared atlas in [`state`].
//! The Python package (`alliance_map/__init__.py`) wraps these with argument conversion
//! (numpy arrays and lists to Arrow, `datetime.date` to text) and documentation.

mod lookups;
mod state;
mod table;
mod when;

use alliance_map::model::coordinates::{check_range, LAT_RANGE, LON_RANGE};
use alliance_map::postcode::Postcode;
use arrow_data::ArrayData;
use arrow_pyarrow::{PyArrowType, ToPyArrow};
use pyo3::exceptions::{PyKeyError, PyRuntimeError, PyValueError};
use pyo3::prelude::*;

/// Each point's areas as of `date`: a `pyarrow.RecordBatch`. `lon` and `lat` are float64
/// Arrow arrays of the same length.
#[pyfunction]
#[pyo3(signature = (lon, lat, date=None))]
fn lookup_points<'py>(
    py: Python<'py>,
    lon: PyArrowType<ArrayData>,
    lat: PyArrowType<ArrayData>,
    date: Option<String>,
) -> PyResult<Bound<'py, PyAny>> {
    let batch = py.detach(|| {
        let atlas = state::atlas()?;
        let when = when::when(&atlas.data, date.as_deref())?;
        lookups::points(atlas, lon.0, lat.0, &when)
    })?;
    batch.to_pyarrow(py)
}

/// Each postcode's areas as of `date`: a `pyarrow.RecordBatch`. `postcodes` is an Arrow
/// array of strings.
#[pyfunction]
#[pyo3(signature = (postcodes, date=None))]
fn lookup_postcodes<'py>(
    py: Python<'py>,
    postcodes: PyArrowType<ArrayData>,
    date: Option<String>,
) -> PyResult<Bound<'py, PyAny>> {
    let batch = py.detach(|| {
        let atlas = state::atlas()?;
        let when = when::when(&atlas.data, date.as_deref())?;
        lookups::postcodes(atlas, postcodes.0, &when)
    })?;
    batch.to_pyarrow(py)
}

/// A point's areas in every period, as the JSON text of `GET /api/v1/timeline`.
#[pyfunction]
fn point_timeline(py: Python<'_>, lon: f64, lat: f64) -> PyResult<String> {
    for (name, v, range) in [("lon", lon, LON_RANGE), ("lat", lat, LAT_RANGE)] {
        if !v.is_finite() {
            return Err(PyValueError::new_err(format!("{name} must be finite, got {v}")));
        }
        check_range(v, range).map_err(|m| PyValueError::new_err(format!("{name} {m}")))?;
    }
    py.detach(|| {
        let atlas = state::atlas()?;
        json(&atlas.timeline(lon, lat))
    })
}

/// A postcode's areas in every period, as the JSON text of
/// `GET /api/v1/postcodes/{postcode}/timeline`. A malformed postcode is a `ValueError`, one
/// the index does not hold a `KeyError`, with the API's messages.
#[pyfunction]
fn postcode_timeline(py: Python<'_>, postcode: String) -> PyResult<String> {
    let shown: String = postcode.chars().take(20).collect();
    let pc = Postcode::parse(&postcode)
        .map_err(|e| PyValueError::new_err(format!("{shown:?} is not a valid UK postcode: {e}")))?;
    py.detach(|| {
        let atlas = state::atlas()?;
        let index = state::postcodes(atlas)?;
        let found = index.get(&pc).ok_or_else(|| {
            PyKeyError::new_err(match pc.outside_great_britain() {
                Some(place) => format!(
                    "{pc} is in {place}; the postcodes held ({}) do not include it",
                    index.describe_sources()
                ),
                None => format!("postcode {pc} is not in {}", index.describe_sources()),
            })
        })?;
        json(&atlas.data.postcode_timeline(&found, Some(&atlas.fragments)))
    })
}

/// Every layer edition and the periods they form, as the JSON text of `GET /api/v1/editions`.
#[pyfunction]
fn editions(py: Python<'_>) -> PyResult<String> {
    py.detach(|| {
        let atlas = state::atlas()?;
        json(&alliance_map::api::editions::editions_response(&atlas.data))
    })
}

/// The column names of the answer tables, in order.
#[pyfunction]
fn columns() -> Vec<&'static str> {
    table::COLUMNS.to_vec()
}

fn json(value: &impl serde::Serialize) -> PyResult<String> {
    serde_json::to_string(value).map_err(|e| PyRuntimeError::new_err(format!("alliance_map: serialising: {e}")))
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(lookup_points, m)?)?;
    m.add_function(wrap_pyfunction!(lookup_postcodes, m)?)?;
    m.add_function(wrap_pyfunction!(point_timeline, m)?)?;
    m.add_function(wrap_pyfunction!(postcode_timeline, m)?)?;
    m.add_function(wrap_pyfunction!(editions, m)?)?;
    m.add_function(wrap_pyfunction!(columns, m)?)?;
    Ok(())
}

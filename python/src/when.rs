//! The `date` argument: `None` (the default date), `"YYYY-MM-DD"` or `"latest"`, with the
//! HTTP API's semantics and messages (the Python layer turns a `datetime.date` into text).

use alliance_map::model::dates::AsOf;
use alliance_map::model::Dataset;
use alliance_map::views::When;
use pyo3::exceptions::PyValueError;
use pyo3::PyResult;

/// The answers' date and period for `date`, or a `ValueError` saying what is wrong with it.
pub fn when(data: &Dataset, date: Option<&str>) -> PyResult<When> {
    let as_of = date
        .map(|text| text.parse::<AsOf>())
        .transpose()
        .map_err(|e| PyValueError::new_err(format!("date {e}")))?;
    data.when(as_of)
        .map_err(|e| PyValueError::new_err(format!("date: {e}")))
}

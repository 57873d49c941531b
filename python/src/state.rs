//! The process-wide atlas: the data embedded in the extension, loaded and indexed once, on
//! first use, and shared by every call (and every thread) for the life of the process.

use std::sync::{Arc, OnceLock};

use alliance_map::atlas::{Atlas, Options, PostcodeOptions, PostcodeSource};
use alliance_map::model::DataSource;
use alliance_map::postcode::PostcodeIndex;
use pyo3::exceptions::PyRuntimeError;
use pyo3::PyResult;

/// The loaded atlas, or why it could not be loaded (kept, so every call reports the same
/// failure instead of retrying a load that cannot succeed).
static ATLAS: OnceLock<Result<Atlas, String>> = OnceLock::new();

/// Lookups of fewer points than this take the exact path rather than build a period's grid
/// (about a second, once per period per process): a handful of points is answered sooner
/// without it, and the answers are the same.
pub const GRID_THRESHOLD: usize = 4096;

/// The atlas, loaded now if it is not yet (about two seconds; callers release the GIL first).
pub fn atlas() -> PyResult<&'static Atlas> {
    ATLAS
        .get_or_init(load)
        .as_ref()
        .map_err(|e| PyRuntimeError::new_err(format!("alliance_map: the embedded data could not be loaded: {e}")))
}

/// Loads the embedded pack with its postcode index, exactly as `alliance-map serve` does
/// without `--data`, so answers are the service's.
fn load() -> Result<Atlas, String> {
    let pack = alliance_map::pack::embedded::open()?;
    let options = Options {
        postcodes: Some(PostcodeOptions {
            source: PostcodeSource::Default,
            // Never written: the packed index is decoded, not imported.
            cache_dir: std::env::temp_dir(),
        }),
        ..Options::default()
    };
    let atlas = Atlas::load(&DataSource::Packed(Arc::new(pack)), &options).map_err(|e| e.to_string())?;
    alliance_map::atlas::release_free_memory();
    Ok(atlas)
}

/// The atlas's postcode index (the embedded data always has one).
pub fn postcodes(atlas: &Atlas) -> PyResult<&PostcodeIndex> {
    atlas
        .postcodes
        .as_ref()
        .ok_or_else(|| PyRuntimeError::new_err("alliance_map: the embedded data has no postcode index"))
}

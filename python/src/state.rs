//! The process-wide atlas: the data embedded in the extension, loaded and indexed once, on
//! first use, and shared by every call (and every thread) for the life of the process.

use std::sync::{Arc, OnceLock};

use alliance_map::atlas::{Atlas, Options, PostcodeOptions, PostcodeSource};
use alliance_map::locate::Located;
use alliance_map::model::DataSource;
use alliance_map::postcode::PostcodeIndex;
use alliance_map::spatial::grid::Grid;
use pyo3::exceptions::PyRuntimeError;
use pyo3::PyResult;

/// The loaded atlas, or why it could not be loaded (kept, so every call reports the same
/// failure instead of retrying a load that cannot succeed).
static ATLAS: OnceLock<Result<Atlas, String>> = OnceLock::new();

/// Each period's lookup grid, built on the first bulk lookup for a date in the period.
static GRIDS: OnceLock<Vec<OnceLock<Grid<Located>>>> = OnceLock::new();

/// The grids' resolution: finer than the service's (2048 × 2048), so that fewer points fall
/// in the cells a border crosses, which take the exact path (about a microsecond each
/// instead of tens of nanoseconds). Same answers.
pub fn grid_cells() -> usize {
    std::env::var("ALLIANCE_MAP_GRID_CELLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&n: &usize| (256..=16384).contains(&n))
        .unwrap_or(4096)
}

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

/// Period `period`'s grid, built now if it is not yet.
pub fn grid(atlas: &'static Atlas, period: usize) -> &'static Grid<Located> {
    let grids = GRIDS.get_or_init(|| (0..atlas.periods()).map(|_| OnceLock::new()).collect());
    grids[period].get_or_init(|| {
        let grid = atlas.locator_at(period).build_grid(grid_cells());
        // The build's tables are freed: hand their pages back rather than keep them resident.
        alliance_map::atlas::release_free_memory();
        grid
    })
}

/// The atlas's postcode index (the embedded data always has one).
pub fn postcodes(atlas: &Atlas) -> PyResult<&PostcodeIndex> {
    atlas
        .postcodes
        .as_ref()
        .ok_or_else(|| PyRuntimeError::new_err("alliance_map: the embedded data has no postcode index"))
}

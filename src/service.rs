//! One loaded generation of data with its indexes: what every request reads.
//!
//! Load → validate ([`Dataset::load`]) → index ([`Locator::new`]) happens here once; the
//! HTTP layer only ever sees a finished `Service`.

use std::path::Path;
use std::time::Instant;

use crate::data::{DataError, Dataset};
use crate::locate::Locator;
use crate::views::LookupResult;

pub struct Service {
    pub data: Dataset,
    pub locator: Locator,
}

#[derive(Debug, Clone)]
pub struct Options {
    pub tolerance_m: f64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            tolerance_m: crate::locate::DEFAULT_TOLERANCE_M,
        }
    }
}

impl Service {
    pub fn load(dir: &Path, options: &Options) -> Result<Self, DataError> {
        let started = Instant::now();
        let data = Dataset::load(dir)?;
        let loaded = started.elapsed();
        let locator = Locator::new(&data, options.tolerance_m);
        tracing::info!(
            dir = %dir.display(),
            alliances = data.alliances.len(),
            stps = data.stps.len(),
            ccgs = data.ccgs.len(),
            load_ms = loaded.as_millis() as u64,
            index_ms = (started.elapsed() - loaded).as_millis() as u64,
            "boundaries loaded and indexed"
        );
        Ok(Service { data, locator })
    }

    /// Looks up a point already validated as finite and in WGS84 range.
    pub fn lookup(&self, lon: f64, lat: f64) -> LookupResult<'_> {
        let located = self.locator.locate(lon, lat);
        self.data.lookup_result(lon, lat, &located)
    }
}

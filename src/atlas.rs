//! The atlas: one loaded, validated and indexed generation of data — what every request reads.
//!
//! Manifest → load → validate ([`Dataset::load`]) → index ([`Locator::new`], the postcode
//! index) happens here once, off the request path; the HTTP layer only ever sees a finished
//! `Atlas`, swapped in whole on reload.

use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::locate::Locator;
use crate::maplayers::MapLayers;
use crate::model::{DataError, Dataset, Manifest};
use crate::postcode::cache::{self, PostcodeLoadError};
use crate::postcode::PostcodeIndex;
use crate::views::{LookupResult, When};

pub struct Atlas {
    /// Generation: 1 for the data loaded at start, +1 per reload.
    pub version: u64,
    pub data: Dataset,
    /// One per period of `data`, in order.
    pub locators: Vec<Locator>,
    /// `None` when the service runs without postcodes.
    pub postcodes: Option<PostcodeIndex>,
    /// Area references pre-rendered as JSON, for the answers.
    pub fragments: crate::views::Fragments,
    /// The default period's covered answers pre-rendered, for single lookups.
    pub rendered: crate::views::RenderedAnswers,
    /// The map's boundary documents per period, each built on first request (not on the
    /// start-up path).
    map_layers: Vec<std::sync::OnceLock<MapLayers>>,
    /// Every crosswalk between editions, computed on first use.
    crosswalks: std::sync::OnceLock<crate::crosswalk::Crosswalks>,
    /// Each alliance's and STP's GeoJSON Feature, rendered on its first request and then
    /// shared by every response (a reference count, never a per-request copy).
    features: [Vec<std::sync::OnceLock<axum::body::Bytes>>; 2],
}

/// Which areas' features [`Atlas::feature`] serves.
#[derive(Debug, Clone, Copy)]
pub enum AreaKind {
    Alliance = 0,
    Stp = 1,
}

/// Where the postcode index comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PostcodeSource {
    /// `<data>/postcodes/codepo_gb.zip`, if present.
    Default,
    /// A Code-Point zip, an ONSPD/NSPL CSV or a prebuilt index file.
    File(PathBuf),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostcodeOptions {
    pub source: PostcodeSource,
    /// Where imported indexes are cached.
    pub cache_dir: PathBuf,
}

#[derive(Debug, Clone)]
pub struct Options {
    /// The manifest describing the data directory (default: its own `manifest.toml`, else the
    /// built-in one for the official files).
    pub manifest: Option<PathBuf>,
    pub tolerance_m: f64,
    /// `None`: boundaries only.
    pub postcodes: Option<PostcodeOptions>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            manifest: None,
            tolerance_m: crate::locate::DEFAULT_TOLERANCE_M,
            postcodes: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error(transparent)]
    Data(#[from] DataError),
    #[error(transparent)]
    Postcodes(#[from] PostcodeLoadError),
}

impl Atlas {
    /// Loads boundaries only, as the directory's manifest (or the default one) describes them.
    pub fn load_boundaries(dir: &Path, tolerance_m: f64) -> Result<Self, DataError> {
        Self::load_boundaries_with(dir, Manifest::for_dir(dir)?, tolerance_m)
    }

    /// Loads boundaries only, as `manifest` describes them.
    pub fn load_boundaries_with(dir: &Path, manifest: Manifest, tolerance_m: f64) -> Result<Self, DataError> {
        let (data, locators) = Self::index(dir, manifest, tolerance_m)?;
        Ok(Self::assemble(data, locators, None))
    }

    /// Load → validate → index the boundaries.
    fn index(dir: &Path, manifest: Manifest, tolerance_m: f64) -> Result<(Dataset, Vec<Locator>), DataError> {
        let started = Instant::now();
        let data = Dataset::load(&crate::model::DataSource::Dir(dir.to_path_buf()), manifest)?;
        let loaded = started.elapsed();
        let locators = Locator::for_every_period(&data, tolerance_m);
        tracing::info!(
            dir = %dir.display(),
            alliances = data.alliances.len(),
            stps = data.stps.len(),
            ccgs = data.ccgs.len(),
            editions = data.editions.len(),
            periods = data.periods.len(),
            load_ms = loaded.as_millis() as u64,
            index_ms = (started.elapsed() - loaded).as_millis() as u64,
            "boundaries loaded and indexed"
        );
        Ok((data, locators))
    }

    /// The atlas of finished parts: nothing is added to it afterwards.
    fn assemble(data: Dataset, locators: Vec<Locator>, postcodes: Option<PostcodeIndex>) -> Self {
        let fragments = crate::views::Fragments::render(&data);
        Atlas {
            version: 1,
            rendered: crate::views::RenderedAnswers::render(&data, &fragments),
            fragments,
            map_layers: (0..data.periods.len()).map(|_| std::sync::OnceLock::new()).collect(),
            crosswalks: std::sync::OnceLock::new(),
            features: [
                (0..data.alliances.len()).map(|_| Default::default()).collect(),
                (0..data.stps.len()).map(|_| Default::default()).collect(),
            ],
            data,
            locators,
            postcodes,
        }
    }

    pub fn load(dir: &Path, options: &Options) -> Result<Self, LoadError> {
        let manifest = match &options.manifest {
            Some(path) => Manifest::from_file(path)?,
            None => Manifest::for_dir(dir)?,
        };
        let (data, locators) = Self::index(dir, manifest, options.tolerance_m)?;
        let mut postcodes = None;
        if let Some(p) = &options.postcodes {
            let default = data.manifest.postcodes.as_ref().map(|f| dir.join(f));
            let source = match &p.source {
                PostcodeSource::File(f) => Some(f.clone()),
                PostcodeSource::Default => default.clone().filter(|f| f.is_file()),
            };
            match source {
                Some(source) => postcodes = Some(cache::load_or_build(&source, &data, &locators, &p.cache_dir)?),
                None => tracing::warn!(
                    expected = %default.map(|f| f.display().to_string()).unwrap_or_else(|| "none in the manifest".into()),
                    "no postcode file in the data directory: serving without postcodes"
                ),
            }
        }
        Ok(Self::assemble(data, locators, postcodes))
    }

    /// The same data as generation `version`.
    pub fn with_version(mut self, version: u64) -> Self {
        self.version = version;
        self
    }

    /// The default period's boundary documents.
    pub fn map_layers(&self) -> &MapLayers {
        self.map_layers_at(self.data.default_period)
    }

    /// Every crosswalk between editions (computed now if not yet: about a second).
    pub fn crosswalks(&self) -> &crate::crosswalk::Crosswalks {
        self.crosswalks.get_or_init(|| {
            let started = Instant::now();
            let c = crate::crosswalk::Crosswalks::compute(&self.data, &self.locators, self.postcodes.as_ref());
            tracing::info!(
                ms = started.elapsed().as_millis() as u64,
                samples = c.samples,
                "crosswalks computed"
            );
            c
        })
    }

    /// The locator of the default period (the answers without a date).
    pub fn locator(&self) -> &Locator {
        &self.locators[self.data.default_period]
    }

    /// Period `period`'s boundary documents.
    pub fn map_layers_at(&self, period: usize) -> &MapLayers {
        self.map_layers[period].get_or_init(|| {
            let started = Instant::now();
            let layers = MapLayers::build(&self.data, period);
            release_free_memory();
            tracing::info!(
                period,
                ms = started.elapsed().as_millis() as u64,
                "map boundary documents built"
            );
            layers
        })
    }

    /// Area `index`'s feature document, rendered by `render` the first time; `None` for an
    /// index out of range.
    pub fn feature(&self, kind: AreaKind, index: usize, render: impl FnOnce() -> Vec<u8>) -> Option<axum::body::Bytes> {
        let cell = self.features[kind as usize].get(index)?;
        Some(cell.get_or_init(|| axum::body::Bytes::from(render())).clone())
    }

    /// Looks up a point already validated as finite and in WGS84 range, as of the default
    /// date.
    pub fn lookup(&self, lon: f64, lat: f64) -> LookupResult<'_> {
        self.lookup_at(lon, lat, &self.default_when())
    }

    /// What covered a point in every period.
    pub fn timeline(&self, lon: f64, lat: f64) -> crate::views::Timeline<'_> {
        let located = self.locators.iter().map(|l| l.locate(lon, lat));
        self.data.timeline(lon, lat, located, Some(&self.fragments))
    }

    /// The default date's period and date.
    pub fn default_when(&self) -> When {
        self.data.default_when()
    }

    /// A postcode's answer as of `when`.
    pub fn postcode_result<'a>(
        &'a self,
        found: &crate::postcode::index::Found,
        source: &'a str,
        when: &When,
    ) -> crate::views::PostcodeResult<'a> {
        self.data.postcode_result(found, source, when, Some(&self.fragments))
    }

    /// The JSON answer for a point as of the default date, written from a pre-rendered
    /// answer when there is one (`None`: serialise [`Atlas::lookup`]'s answer instead).
    pub fn lookup_json(&self, lon: f64, lat: f64) -> Option<(Vec<u8>, crate::locate::MatchKind)> {
        let located = self.locator().locate(lon, lat);
        self.rendered.write(lon, lat, &located).map(|b| (b, located.kind))
    }

    /// Looks up a point as of `when`.
    pub fn lookup_at(&self, lon: f64, lat: f64, when: &When) -> LookupResult<'_> {
        let located = self.locators[when.period].locate(lon, lat);
        self.data.lookup_result(lon, lat, when, &located, Some(&self.fragments))
    }
}

/// Hands memory freed by loading and warming up (the GeoJSON parse, the grids' build tables,
/// the crosswalks' lattice, a map document's simplification) back to the system: glibc keeps
/// freed heap pages otherwise, and they would count in the resident set for the life of the
/// process.
pub fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases free pages of the allocator's own heap; it takes no
    // pointers and may be called at any time from any thread.
    unsafe {
        libc::malloc_trim(0);
    }
}

//! The atlas: one loaded, validated and indexed generation of data — what every request reads.
//!
//! Manifest → load → validate ([`Dataset::load`]) → index (the postcode index, and each
//! period's [`Locator`], built the first time it is asked for) happens here, off the request
//! path; the HTTP layer only ever sees a finished `Atlas`, swapped in whole on reload.

use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::locate::{Locator, Locators};
use crate::maplayers::MapLayers;
use crate::model::{DataError, DataSource, Dataset, Manifest};
use crate::postcode::cache::{self, PostcodeLoadError};
use crate::postcode::import::SourceFile;
use crate::postcode::PostcodeIndex;
use crate::views::{LookupResult, When};

pub struct Atlas {
    /// Generation: 1 for the data loaded at start, +1 per reload.
    pub version: u64,
    pub data: Dataset,
    /// One per period of `data`, each built when first needed ([`Atlas::locator_at`]).
    locators: Locators,
    /// `None` when the service runs without postcodes.
    pub postcodes: Option<PostcodeIndex>,
    /// Area references pre-rendered as JSON, for the answers.
    pub fragments: crate::views::Fragments,
    /// The default period's covered answers pre-rendered, for single lookups.
    pub rendered: crate::views::RenderedAnswers,
    /// The map's boundary documents per period, each built on first request (not on the
    /// start-up path).
    map_layers: Vec<std::sync::OnceLock<MapLayers>>,
    /// Every period's answers in one grid, for timelines; built in the background.
    timeline_grid: std::sync::OnceLock<crate::locate::TimelineGrid>,
    /// Every crosswalk between editions, computed on first use.
    crosswalks: std::sync::OnceLock<crate::crosswalk::Crosswalks>,
    /// Each alliance's and STP's GeoJSON Feature, rendered on its first request and then
    /// shared by every response (a reference count, never a per-request copy).
    features: [Vec<std::sync::OnceLock<axum::body::Bytes>>; 2],
    /// The map's vector tiles of every period, cut on first request and kept.
    pub tiles: crate::tiles::Tiles,
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
    /// The packed index, or the manifest's postcode sources in the data directory.
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
    /// Which editions to load.
    pub editions: Editions,
}

/// Which editions [`Atlas::load`] loads.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Editions {
    #[default]
    All,
    /// Only those in force on a date (`None`: the default date) and on the default date: for
    /// a command answering points for one date. Ignored with postcodes, whose index refers
    /// to every period.
    InForceOn(Option<crate::model::dates::AsOf>),
}

impl Default for Options {
    fn default() -> Self {
        Options {
            manifest: None,
            tolerance_m: crate::locate::DEFAULT_TOLERANCE_M,
            postcodes: None,
            editions: Editions::All,
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
        let (data, locators) = Self::index(&DataSource::Dir(dir.to_path_buf()), manifest, tolerance_m)?;
        Ok(Self::assemble(data, locators, None))
    }

    /// Load → validate the boundaries; their indexes are built as periods are asked for.
    fn index(source: &DataSource, manifest: Manifest, tolerance_m: f64) -> Result<(Dataset, Locators), DataError> {
        let started = Instant::now();
        let data = Dataset::load(source, manifest)?;
        let locators = Locators::lazy(&data, tolerance_m);
        tracing::info!(
            source = %source.describe(),
            alliances = data.alliances.len(),
            stps = data.stps.len(),
            ccgs = data.ccgs.len(),
            editions = data.editions.len(),
            periods = data.periods.len(),
            load_ms = started.elapsed().as_millis() as u64,
            "boundaries loaded (each period indexed when first asked for)"
        );
        Ok((data, locators))
    }

    /// The atlas of finished parts: nothing is added to it afterwards.
    fn assemble(data: Dataset, locators: Locators, postcodes: Option<PostcodeIndex>) -> Self {
        let fragments = crate::views::Fragments::render(&data);
        Atlas {
            version: 1,
            rendered: crate::views::RenderedAnswers::render(&data, &fragments),
            fragments,
            map_layers: (0..data.periods.len()).map(|_| std::sync::OnceLock::new()).collect(),
            timeline_grid: std::sync::OnceLock::new(),
            crosswalks: std::sync::OnceLock::new(),
            tiles: crate::tiles::Tiles::new(data.periods.len()),
            features: [
                (0..data.alliances.len()).map(|_| Default::default()).collect(),
                (0..data.stps.len()).map(|_| Default::default()).collect(),
            ],
            data,
            locators,
            postcodes,
        }
    }

    /// Loads `source` as `options` say: its manifest (or `options.manifest`), its boundaries,
    /// and with `options.postcodes` its postcode index.
    pub fn load(source: &DataSource, options: &Options) -> Result<Self, LoadError> {
        let manifest = match (&options.manifest, source) {
            (Some(path), DataSource::Packed(_)) => {
                return Err(DataError::file(
                    path,
                    format!(
                        "a manifest describes official files; {} was packed under its own (give --data DIR with the official files to use another manifest)",
                        source.describe()
                    ),
                )
                .into())
            }
            (Some(path), DataSource::Dir(_)) => Manifest::from_file(path)?,
            (None, DataSource::Dir(dir)) => Manifest::for_dir(dir)?,
            (None, DataSource::Packed(pack)) => {
                let origin = source.path(crate::pack::container::MANIFEST);
                let text = pack
                    .manifest_text()
                    .ok_or_else(|| DataError::file(&origin, "is missing from the packed data"))?;
                Manifest::parse(&origin, text)?
            }
        };
        let manifest = match options.editions {
            Editions::InForceOn(at) if options.postcodes.is_none() => restricted(manifest, at),
            _ => manifest,
        };
        // The packed postcode index does not depend on the boundaries until it is checked
        // against them: decode it meanwhile, on the other core.
        let wants_packed_postcodes = options
            .postcodes
            .as_ref()
            .is_some_and(|p| p.source == PostcodeSource::Default);
        let (indexed, decoded) = rayon::join(
            || Self::index(source, manifest, options.tolerance_m),
            || match source {
                DataSource::Packed(pack) if wants_packed_postcodes => Some(Self::decode_packed_postcodes(source, pack)),
                _ => None,
            },
        );
        let (data, locators) = indexed?;
        let postcodes = match (&options.postcodes, decoded) {
            (None, _) => None,
            (Some(_), Some(decoded)) => Self::check_packed_postcodes(source, &data, decoded?, options.tolerance_m)?,
            (Some(p), None) => Self::postcodes(source, &data, &locators.every(&data), p)?,
        };
        Ok(Self::assemble(data, locators, postcodes))
    }

    /// The packed postcode index, decoded (`None`: the data was packed without postcodes).
    fn decode_packed_postcodes(
        source: &DataSource,
        pack: &crate::pack::Pack,
    ) -> Result<Option<PostcodeIndex>, PostcodeLoadError> {
        let Some(payload) = pack.postcode_payload() else {
            return Ok(None);
        };
        let started = Instant::now();
        let index =
            payload
                .and_then(|p| crate::pack::postcodes::decode(&p))
                .map_err(|e| PostcodeLoadError::Mismatch {
                    path: source.path(crate::pack::container::POSTCODES).display().to_string(),
                    detail: format!("unreadable: {e}"),
                })?;
        tracing::info!(
            postcodes = index.len(),
            ms = started.elapsed().as_millis() as u64,
            "packed postcode index decoded"
        );
        Ok(Some(index))
    }

    /// The packed postcode index, once it is known to be for these boundaries and this
    /// tolerance.
    fn check_packed_postcodes(
        source: &DataSource,
        data: &Dataset,
        index: Option<PostcodeIndex>,
        tolerance_m: f64,
    ) -> Result<Option<PostcodeIndex>, LoadError> {
        let Some(index) = index else {
            tracing::warn!(source = %source.describe(), "the packed data has no postcodes: serving without postcodes");
            return Ok(None);
        };
        let label = source.path(crate::pack::container::POSTCODES);
        if index.meta.fingerprint != crate::pack::write::packed_fingerprint(tolerance_m) {
            return Err(PostcodeLoadError::Packed {
                path: label.display().to_string(),
                detail: format!(
                    "the packed postcodes were resolved with the default tolerance ({}), not {tolerance_m} m: use the default --tolerance-m, --no-postcodes, or --data DIR with the official files",
                    index.meta.fingerprint
                ),
            }
            .into());
        }
        cache::check_matches(&index, data, &label)?;
        Ok(Some(index))
    }

    /// The postcode index `options` ask for, imported (and cached) from files: a given file,
    /// else the manifest's sources in the data directory.
    fn postcodes(
        source: &DataSource,
        data: &Dataset,
        locators: &[&Locator],
        options: &PostcodeOptions,
    ) -> Result<Option<PostcodeIndex>, LoadError> {
        let files: Vec<SourceFile> = match (&options.source, source) {
            (PostcodeSource::File(f), _) => vec![SourceFile {
                path: f.clone(),
                name: None,
            }],
            // Decoded beside the boundaries by `load`.
            (PostcodeSource::Default, DataSource::Packed(_)) => return Ok(None),
            (PostcodeSource::Default, DataSource::Dir(dir)) => {
                let (present, missing): (Vec<_>, Vec<_>) = data
                    .manifest
                    .postcodes
                    .iter()
                    .map(|p| SourceFile {
                        path: dir.join(&p.file),
                        name: p.name.clone(),
                    })
                    .partition(|s| s.path.is_file());
                for m in &missing {
                    tracing::warn!(expected = %m.path.display(), "a postcode source of the manifest is missing: its postcodes are not served");
                }
                if present.is_empty() {
                    tracing::warn!("no postcode file in the data directory: serving without postcodes");
                    return Ok(None);
                }
                present
            }
        };
        Ok(Some(cache::load_or_build(&files, data, locators, &options.cache_dir)?))
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
            let c = crate::crosswalk::Crosswalks::compute(&self.data, &self.locators(), self.postcodes.as_ref());
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
        self.locator_at(self.data.default_period)
    }

    /// Period `period`'s locator (built now if it is not yet: tens of milliseconds).
    pub fn locator_at(&self, period: usize) -> &Locator {
        self.locators.get(&self.data, period)
    }

    /// Every period's locator, in order (the missing ones built now).
    pub fn locators(&self) -> Vec<&Locator> {
        self.locators.every(&self.data)
    }

    /// The number of periods (and of locators).
    pub fn periods(&self) -> usize {
        self.locators.len()
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
        let mut located = Vec::with_capacity(self.periods());
        self.locate_every_period(lon, lat, &mut located);
        self.data.timeline(lon, lat, located, Some(&self.fragments))
    }

    /// Every period's [`Locator::locate`] answer at a point (`out[p]` for period `p`): from
    /// the timeline grid once it is built, else from each period's locator.
    pub fn locate_every_period(&self, lon: f64, lat: f64, out: &mut Vec<crate::locate::Located>) {
        match self.timeline_grid.get().and_then(|g| g.get(lon, lat)) {
            Some(row) => {
                out.clear();
                out.extend_from_slice(row);
            }
            None => {
                out.clear();
                out.extend((0..self.periods()).map(|p| self.locator_at(p).locate(lon, lat)));
            }
        }
    }

    /// The timeline grid, built now if it is not yet.
    pub fn timeline_grid(&self) -> &crate::locate::TimelineGrid {
        self.timeline_grid.get_or_init(|| {
            let started = Instant::now();
            let grid = crate::locate::TimelineGrid::build(&self.locators(), crate::locate::GRID_CELLS);
            tracing::info!(
                ms = started.elapsed().as_millis() as u64,
                coverage = grid.coverage(),
                bytes = grid.memory_bytes(),
                "timeline grid built"
            );
            grid
        })
    }

    /// The default date's period and date.
    pub fn default_when(&self) -> When {
        self.data.default_when()
    }

    /// A postcode's answer as of `when`.
    pub fn postcode_result<'a>(
        &'a self,
        found: &crate::postcode::index::Found<'a>,
        when: &When,
    ) -> crate::views::PostcodeResult<'a> {
        self.data.postcode_result(found, when, Some(&self.fragments))
    }

    /// The JSON answer for a point as of the default date, written from a pre-rendered
    /// answer when there is one (`None`: serialise [`Atlas::lookup`]'s answer instead).
    pub fn lookup_json(&self, lon: f64, lat: f64) -> Option<(Vec<u8>, crate::locate::MatchKind)> {
        let located = self.locator().locate(lon, lat);
        self.rendered.write(lon, lat, &located).map(|b| (b, located.kind))
    }

    /// Looks up a point as of `when`.
    pub fn lookup_at(&self, lon: f64, lat: f64, when: &When) -> LookupResult<'_> {
        let located = self.locator_at(when.period).locate(lon, lat);
        self.data.lookup_result(lon, lat, when, &located, Some(&self.fragments))
    }
}

/// `manifest` cut to the editions in force on `at` ([`Manifest::in_force_on`]); whole when no
/// edition is in force then, so the answer is the same "no edition" error as with every edition.
fn restricted(manifest: Manifest, at: Option<crate::model::dates::AsOf>) -> Manifest {
    use crate::model::dates::AsOf;
    let periods = manifest.periods();
    let date = match at {
        None => Some(manifest.default_date),
        Some(AsOf::Date(d)) => periods.iter().any(|p| p.covers(d)).then_some(d),
        Some(AsOf::Latest) => Some(manifest.latest_date()),
    };
    match date {
        Some(d) => manifest.in_force_on(&[d]),
        None => manifest,
    }
}

/// Tunes glibc's allocator for a long-running server, before anything is loaded: no more
/// arenas than cores (glibc allows eight per core, and each thread that ever allocated —
/// rayon's loaders, the warm-up, tokio's workers, the bulk pool — kept freed pages in its own)
/// and a fixed threshold above which an allocation gets its own mapping, returned whole when
/// freed (glibc raises the threshold as large blocks are freed, so the warm-up's big
/// temporary tables ended up inside the heaps). Measured on the real data after warm-up:
/// 326–336 MB resident before, 280–284 MB after, the live heap being under 185 MB
/// (docs/PERFORMANCE.md, "Memory").
pub fn tune_allocator_for_serving() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get()).clamp(2, 64);
        // SAFETY: mallopt only sets allocator parameters; called before the server's threads
        // start allocating, as its documentation recommends.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, cores as libc::c_int);
            libc::mallopt(libc::M_MMAP_THRESHOLD, 256 * 1024);
        }
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

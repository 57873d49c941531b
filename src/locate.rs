//! The point lookup: which alliance, footprint (STP or ICB) and sub-area (CCG or Sub-ICB
//! Location) cover a longitude/latitude, for the editions of one period.
//!
//! Rules, in order (they are the API's documented semantics, the same for every edition):
//! 1. **Covers.** An area covers a point inside it or on its boundary.
//! 2. **Borders.** A point on a shared border is covered by every neighbour there; the
//!    footprint with the lowest code wins.
//! 3. **Nearest.** A point covered by no footprint, and not on land in Scotland, Wales or
//!    Northern Ireland, gets the nearest footprint within the tolerance (default 2 km):
//!    `match = nearest` with the distance in metres.
//! 4. **Outside.** Anything else: no areas, and the country the point is in, if any.
//! 5. **Consistent parents and children.** Once the footprint is known, the alliance is
//!    chosen among the alliances a relation table puts that footprint in, and the sub-area
//!    among the footprint's sub-areas: the only one if there is one (so a footprint lying
//!    wholly in one alliance never comes back with another); else the lowest-coded of them
//!    covering the point; else the nearest of them. Where a footprint is split between
//!    alliances (e.g. 2023: Nottingham and Nottinghamshire ICB, whose Bassetlaw part is in
//!    South Yorkshire and Bassetlaw), the alliance layer itself decides. Where no relation
//!    links two editions in force together (e.g. ICB22 and the 2021 alliances), the layer
//!    answers on its own: covering, lowest code, else nearest.
//!
//! A period without a footprint edition anchors on the alliance layer instead.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use serde::Serialize;

use crate::model::Dataset;
use crate::spatial::grid::{Grid, GridInputs};
use crate::spatial::LayerIndex;

pub const DEFAULT_TOLERANCE_M: f64 = 2000.0;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MatchKind {
    /// The point is inside (or on the border of) both areas.
    Contains,
    /// No area covers the point; the nearest within the tolerance was used.
    Nearest,
    /// No area covers the point or lies within the tolerance.
    Outside,
}

/// The answer for one point, as indexes into the period's editions.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Located {
    pub kind: MatchKind,
    /// 0 when covered; the distance to the chosen footprint when nearest.
    pub distance_m: f64,
    pub alliance: Option<u16>,
    pub footprint: Option<u16>,
    pub sub_area: Option<u16>,
    /// Index into `Dataset::countries`; `None` at sea.
    pub country: Option<u16>,
}

impl Located {
    /// No area: outside, in `country` (or at sea).
    pub fn outside(country: Option<u16>) -> Self {
        Located {
            kind: MatchKind::Outside,
            distance_m: 0.0,
            alliance: None,
            footprint: None,
            sub_area: None,
            country,
        }
    }
}

/// The spatial index of every layer edition, each built the first time a period needs it and
/// then shared by every period using that edition.
pub struct LayerIndexes {
    /// Per `Dataset::editions` entry.
    editions: Vec<OnceLock<Arc<LayerIndex>>>,
    countries: OnceLock<Arc<LayerIndex>>,
}

impl LayerIndexes {
    /// Nothing built yet: each index is built by the first [`LayerIndexes::edition`] or
    /// [`LayerIndexes::countries`] asking for it. `data` must be the dataset later calls pass.
    pub fn lazy(data: &Dataset) -> Self {
        LayerIndexes {
            editions: data.editions.iter().map(|_| OnceLock::new()).collect(),
            countries: OnceLock::new(),
        }
    }

    /// Builds whatever is not built yet, the editions side by side.
    pub fn build_all(&self, data: &Dataset) {
        use rayon::prelude::*;
        rayon::join(
            || {
                (0..self.editions.len()).into_par_iter().for_each(|e| {
                    self.edition(data, e);
                })
            },
            || self.countries(data),
        );
    }

    /// Edition `e`'s index (`e` indexes `data.editions`).
    pub fn edition(&self, data: &Dataset, e: usize) -> Arc<LayerIndex> {
        self.editions[e]
            .get_or_init(|| {
                Arc::new(LayerIndex::new(
                    data.editions[e].areas.iter().map(|a| a.geometry.clone()),
                ))
            })
            .clone()
    }

    /// The countries' index.
    pub fn countries(&self, data: &Dataset) -> Arc<LayerIndex> {
        self.countries
            .get_or_init(|| Arc::new(LayerIndex::new(data.countries.iter().map(|c| c.geometry.clone()))))
            .clone()
    }
}

/// Every period's locator, each built the first time it is asked for, with only the layer
/// indexes its editions need: a command answering for one date (`lookup`, a one-row
/// `annotate`) builds one period's indexes, not all thirteen editions' (start-up time, issue
/// 15). The server builds the rest in its warm-up. Every call must pass the dataset the set
/// was made for (the [`crate::atlas::Atlas`] holding both does).
pub struct Locators {
    indexes: LayerIndexes,
    periods: Vec<OnceLock<Locator>>,
    tolerance_m: f64,
}

impl Locators {
    /// Nothing built yet.
    pub fn lazy(data: &Dataset, tolerance_m: f64) -> Self {
        Locators {
            indexes: LayerIndexes::lazy(data),
            periods: data.periods.iter().map(|_| OnceLock::new()).collect(),
            tolerance_m,
        }
    }

    /// The number of periods.
    pub fn len(&self) -> usize {
        self.periods.len()
    }

    pub fn is_empty(&self) -> bool {
        self.periods.is_empty()
    }

    /// Period `period`'s locator, built now if it is not yet.
    pub fn get(&self, data: &Dataset, period: usize) -> &Locator {
        self.periods[period].get_or_init(|| Locator::for_period(data, period, &self.indexes, self.tolerance_m))
    }

    /// Every period's locator, in order (the missing indexes built now, side by side).
    pub fn every(&self, data: &Dataset) -> Vec<&Locator> {
        if self.periods.iter().any(|p| p.get().is_none()) {
            self.indexes.build_all(data);
        }
        (0..self.periods.len()).map(|p| self.get(data, p)).collect()
    }
}

/// The exact lookup ([`Locator::locate_exact`]) with a grid in front answering most points
/// at once ([`Locator::locate`]). The grid is built on first call of [`Locator::grid`]
/// (the server does that in the background after it starts listening); until then every
/// lookup takes the exact path, with the same answers.
pub struct Locator {
    grid: OnceLock<Grid<Located>>,
    exact: ExactLocator,
    /// The packed data holding this period's grid, its key there, and the period's layers'
    /// area counts (a grid naming others is refused): read instead of built.
    packed: Option<(Arc<crate::pack::Pack>, String, [usize; 4])>,
}

/// Grid resolution: 2048 × 2048 cells of about 250 × 330 m over England.
pub const GRID_CELLS: usize = 2048;

impl Locator {
    /// The locator of the dataset's default period (its layers' indexes built here).
    pub fn new(data: &Dataset, tolerance_m: f64) -> Self {
        let indexes = LayerIndexes::lazy(data);
        Self::for_period(data, data.default_period, &indexes, tolerance_m)
    }

    pub fn for_period(data: &Dataset, period: usize, indexes: &LayerIndexes, tolerance_m: f64) -> Self {
        let packed = match &data.source {
            crate::model::DataSource::Packed(pack) => Some((
                pack.clone(),
                crate::pack::grids::key_of(data, period, tolerance_m),
                crate::pack::grids::area_counts(data, period),
            )),
            crate::model::DataSource::Dir(_) => None,
        };
        Locator {
            grid: OnceLock::new(),
            exact: ExactLocator::new(data, period, indexes, tolerance_m),
            packed,
        }
    }

    /// Same answer as [`Locator::locate_exact`], from the grid when it is built and the
    /// point's cell has one.
    #[inline]
    pub fn locate(&self, lon: f64, lat: f64) -> Located {
        match self.grid.get().and_then(|g| g.get(lon, lat)) {
            Some(hit) => *hit,
            None => self.exact.locate(lon, lat).0,
        }
    }

    /// The lookup without the grid: R-tree candidates and exact point-in-polygon tests.
    pub fn locate_exact(&self, lon: f64, lat: f64) -> Located {
        self.exact.locate(lon, lat).0
    }

    /// The grid, built now if it is not yet.
    pub fn grid(&self) -> &Grid<Located> {
        self.grid.get_or_init(|| {
            let started = std::time::Instant::now();
            let (grid, how) = match self.packed_grid() {
                Some(grid) => (grid, "read from the packed data"),
                None => (self.exact.build_grid(GRID_CELLS), "built"),
            };
            tracing::info!(
                ms = started.elapsed().as_millis() as u64,
                coverage = grid.coverage(),
                bytes = grid.memory_bytes(),
                how,
                "lookup grid ready"
            );
            grid
        })
    }

    /// The grid `pack-data` built for this period and tolerance, if packed (a damaged one is
    /// logged and built again: its answers must be the exact path's).
    fn packed_grid(&self) -> Option<Grid<Located>> {
        let (pack, key, counts) = self.packed.as_ref()?;
        match pack.grid(key)? {
            Ok(grid) if crate::pack::grids::names_only_areas_held(&grid, *counts) => Some(grid),
            Ok(_) => {
                tracing::warn!(%key, "the packed lookup grid names areas the data does not hold: building it");
                None
            }
            Err(error) => {
                tracing::warn!(%key, %error, "the packed lookup grid is unreadable: building it");
                None
            }
        }
    }

    /// A grid of `cells` × `cells` cells for this period, built now and not kept: for callers
    /// that keep their own at another resolution (the Python package's finer grid). Its
    /// answers are [`Locator::locate_exact`]'s, like the built-in grid's.
    pub fn build_grid(&self, cells: usize) -> Grid<Located> {
        self.exact.build_grid(cells)
    }

    /// Whether the grid is built.
    pub fn has_grid(&self) -> bool {
        self.grid.get().is_some()
    }

    pub fn tolerance_m(&self) -> f64 {
        self.exact.tolerance_m
    }

    /// The index of the period's alliance edition.
    pub fn alliance_layer(&self) -> Option<&LayerIndex> {
        self.exact.alliances.as_deref()
    }

    /// The index of the period's footprint edition.
    pub fn footprint_layer(&self) -> Option<&LayerIndex> {
        self.exact.footprints.as_deref()
    }

    /// The index of the period's sub-area edition.
    pub fn sub_area_layer(&self) -> Option<&LayerIndex> {
        self.exact.sub_areas.as_deref()
    }
}

/// Every period's answer for most points in one read: a grid over the overlay of every
/// period's layers whose cells name a row of answers, one per period. A timeline read eight
/// grids (one per period, three cache misses each); this reads one. Cells touched by any
/// period's edges, or within the tolerance of any period's anchor layer where that matters,
/// are left to the periods' own lookups, so the answers are theirs exactly (tested on random
/// points in `tests/fast_index.rs`).
pub struct TimelineGrid {
    grid: Grid<u32>,
    /// Row `r` is `rows[r * periods..(r + 1) * periods]`.
    rows: Vec<Located>,
    periods: usize,
}

impl TimelineGrid {
    /// Built from every period's exact locator (not their grids), `cells` × `cells` cells.
    pub fn build(locators: &[&Locator], cells: usize) -> Self {
        let mut layers: Vec<&LayerIndex> = Vec::new();
        let mut anchors: Vec<&LayerIndex> = Vec::new();
        let mut bbox = [f64::INFINITY, f64::INFINITY, f64::NEG_INFINITY, f64::NEG_INFINITY];
        for l in locators {
            let e = &l.exact;
            let own = [e.alliances.as_deref(), e.footprints.as_deref(), e.sub_areas.as_deref()];
            for layer in own.into_iter().flatten().chain([&*e.countries]) {
                // Periods share editions: each layer's edges are marked once.
                if !layers.iter().any(|x| std::ptr::eq(*x, layer)) {
                    layers.push(layer);
                }
            }
            if let Some(anchor) = e.anchor() {
                if !anchors.iter().any(|x| std::ptr::eq(*x, anchor)) {
                    anchors.push(anchor);
                }
                for p in anchor.parts() {
                    bbox = [
                        bbox[0].min(p.bbox[0]),
                        bbox[1].min(p.bbox[1]),
                        bbox[2].max(p.bbox[2]),
                        bbox[3].max(p.bbox[3]),
                    ];
                }
            }
        }
        let periods = locators.len();
        if anchors.is_empty() || periods == 0 {
            return TimelineGrid {
                grid: Grid::empty(),
                rows: Vec::new(),
                periods,
            };
        }
        let margin = 0.1;
        let tolerance_m = locators.iter().map(|l| l.tolerance_m()).fold(0.0, f64::max);
        let inputs = GridInputs {
            bbox: [bbox[0] - margin, bbox[1] - margin, bbox[2] + margin, bbox[3] + margin],
            nx: cells,
            ny: cells,
            layers,
            distance_layers: anchors,
            tolerance_m,
        };
        // Rows are interned by their answers' bits (a region's answers repeat across regions).
        let rows = std::cell::RefCell::new((Vec::<Located>::new(), HashMap::<Vec<LocatedKey>, u32>::new()));
        let grid = Grid::build(&inputs, |x, y| {
            let mut row = Vec::with_capacity(periods);
            let mut holds_near = true;
            for l in locators {
                let (a, near) = l.exact.region_answer(x, y)?;
                holds_near &= near;
                row.push(a);
            }
            let key: Vec<LocatedKey> = row.iter().map(LocatedKey::of).collect();
            let mut rows = rows.borrow_mut();
            let next = (rows.1.len()) as u32;
            let r = *rows.1.entry(key).or_insert(next);
            if r == next {
                rows.0.extend(row);
            }
            Some((r, holds_near))
        });
        let (mut rows, _) = rows.into_inner();
        rows.shrink_to_fit();
        TimelineGrid { grid, rows, periods }
    }

    /// Every period's answer at a point, in period order, or `None` where the periods' own
    /// lookups must answer.
    #[inline]
    pub fn get(&self, lon: f64, lat: f64) -> Option<&[Located]> {
        let r = *self.grid.get(lon, lat)? as usize;
        self.rows.get(r * self.periods..(r + 1) * self.periods)
    }

    pub fn memory_bytes(&self) -> usize {
        self.grid.memory_bytes() + self.rows.len() * std::mem::size_of::<Located>()
    }

    /// Share of cells answered directly.
    pub fn coverage(&self) -> f64 {
        self.grid.coverage()
    }
}

/// A [`Located`]'s bits, for interning rows.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct LocatedKey(u8, u64, Option<u16>, Option<u16>, Option<u16>, Option<u16>);

impl LocatedKey {
    fn of(l: &Located) -> Self {
        LocatedKey(
            l.kind as u8,
            l.distance_m.to_bits(),
            l.alliance,
            l.footprint,
            l.sub_area,
            l.country,
        )
    }
}

pub struct ExactLocator {
    alliances: Option<Arc<LayerIndex>>,
    footprints: Option<Arc<LayerIndex>>,
    sub_areas: Option<Arc<LayerIndex>>,
    countries: Arc<LayerIndex>,
    /// Per footprint, the alliances and sub-areas a relation links it to, ascending.
    footprint_alliances: Option<Vec<Vec<u16>>>,
    footprint_sub_areas: Option<Vec<Vec<u16>>>,
    england: Option<u16>,
    tolerance_m: f64,
}

/// Whether an answer holds for a whole face of the overlaid layers (the grid may keep it), or
/// depends on the distance to an area (the exact path must answer each point).
type Constant = bool;

impl ExactLocator {
    pub fn new(data: &Dataset, period: usize, indexes: &LayerIndexes, tolerance_m: f64) -> Self {
        let p = &data.periods[period];
        let layer = |e: Option<usize>| e.map(|e| indexes.edition(data, e));
        ExactLocator {
            alliances: layer(p.alliance),
            footprints: layer(p.footprint),
            sub_areas: layer(p.sub_area),
            countries: indexes.countries(data),
            footprint_alliances: p.footprint_alliances.clone(),
            footprint_sub_areas: p.footprint_sub_areas.clone(),
            england: Some(data.home_country),
            tolerance_m,
        }
    }

    /// The layer the match and the distance are about: the footprints, else the alliances.
    fn anchor(&self) -> Option<&LayerIndex> {
        self.footprints.as_deref().or(self.alliances.as_deref())
    }

    fn build_grid(&self, cells: usize) -> Grid<Located> {
        let Some(anchor) = self.anchor() else {
            return Grid::empty();
        };
        // The anchor layer's extent, plus the tolerance, plus a margin.
        let mut bbox = [f64::INFINITY, f64::INFINITY, f64::NEG_INFINITY, f64::NEG_INFINITY];
        for p in anchor.parts() {
            bbox = [
                bbox[0].min(p.bbox[0]),
                bbox[1].min(p.bbox[1]),
                bbox[2].max(p.bbox[2]),
                bbox[3].max(p.bbox[3]),
            ];
        }
        let margin = 0.1;
        let mut layers: Vec<&LayerIndex> = [&self.alliances, &self.footprints, &self.sub_areas]
            .into_iter()
            .filter_map(|l| l.as_deref())
            .collect();
        layers.push(&self.countries);
        let inputs = GridInputs {
            bbox: [bbox[0] - margin, bbox[1] - margin, bbox[2] + margin, bbox[3] + margin],
            nx: cells,
            ny: cells,
            layers,
            distance_layers: vec![anchor],
            tolerance_m: self.tolerance_m,
        };
        Grid::build(&inputs, |x, y| self.region_answer(x, y))
    }

    /// The answer a grid keeps for a whole region of unmarked cells, from its representative
    /// point (see [`Grid::build`]).
    fn region_answer(&self, x: f64, y: f64) -> Option<(Located, bool)> {
        let (exact, constant) = self.locate(x, y);
        if exact.kind == MatchKind::Contains {
            // Covered, but a child or parent came from the nearest area: varies in the face.
            return constant.then_some((exact, true));
        }
        // Uncovered region: outside, in whatever country the region lies in. In another
        // nation that holds everywhere; elsewhere only beyond the tolerance of a footprint.
        let country = self.countries.covering(x, y).first();
        Some((Located::outside(country), self.in_other_nation(country)))
    }

    /// The lookup for a point already known to be finite and in range, and whether the
    /// answer is constant over the point's face of the overlaid layers.
    pub fn locate(&self, lon: f64, lat: f64) -> (Located, Constant) {
        let Some(anchor) = self.anchor() else {
            return (Located::outside(self.countries.covering(lon, lat).first()), true);
        };
        let (kind, distance_m, at, country) = match anchor.covering(lon, lat).first() {
            Some(a) => (MatchKind::Contains, 0.0, a, self.england),
            None => {
                let country = self.countries.covering(lon, lat).first();
                if self.in_other_nation(country) {
                    return (Located::outside(country), true); // never an English area there
                }
                match anchor.nearest(lon, lat, self.tolerance_m, |_| true) {
                    Some((a, d)) => (MatchKind::Nearest, d, a, country),
                    None => return (Located::outside(country), true),
                }
            }
        };
        let mut constant = true;
        let (alliance, footprint) = if self.footprints.is_some() {
            let allowed = self.footprint_alliances.as_ref().map(|l| l[at as usize].as_slice());
            let alliance = self.choose(self.alliances.as_deref(), allowed, lon, lat, &mut constant);
            (alliance, Some(at))
        } else {
            (Some(at), None)
        };
        let allowed = match (footprint, &self.footprint_sub_areas) {
            (Some(f), Some(l)) => Some(l[f as usize].as_slice()),
            _ => None,
        };
        let sub_area = self.choose(self.sub_areas.as_deref(), allowed, lon, lat, &mut constant);
        let located = Located {
            kind,
            distance_m,
            alliance,
            footprint,
            sub_area,
            country,
        };
        (located, constant)
    }

    /// On land in Scotland, Wales or Northern Ireland.
    fn in_other_nation(&self, country: Option<u16>) -> bool {
        country.is_some() && country != self.england
    }

    /// An area of `layer` for a point whose footprint is known: the only one `allowed` (the
    /// relation's links of that footprint; `None`: no relation, any area), else the
    /// lowest-coded allowed one covering the point, else the nearest allowed one (the point
    /// is in or near the footprint, so one of its linked areas is near too), else the first
    /// allowed. Clears `constant` when the answer came from a distance.
    fn choose(
        &self,
        layer: Option<&LayerIndex>,
        allowed: Option<&[u16]>,
        lon: f64,
        lat: f64,
        constant: &mut bool,
    ) -> Option<u16> {
        let layer = layer?;
        if let Some([only]) = allowed {
            return Some(*only);
        }
        let ok = |a: u16| allowed.is_none_or(|l| l.contains(&a));
        let covering = layer.covering(lon, lat);
        if let Some(&a) = covering.as_slice().iter().find(|&&a| ok(a)) {
            return Some(a);
        }
        *constant = false;
        layer
            .nearest(lon, lat, self.tolerance_m.max(DEFAULT_TOLERANCE_M), ok)
            .map(|(a, _)| a)
            .or_else(|| allowed.and_then(|l| l.first().copied()))
    }
}

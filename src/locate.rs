//! The point lookup: which alliance and which STP cover a longitude/latitude.
//!
//! Rules, in order (they are the API's documented semantics):
//! 1. **Covers.** An area covers a point inside it or on its boundary.
//! 2. **Borders.** A point on a shared border is covered by every neighbour there; the
//!    STP with the lowest code wins. The alliance is then chosen among those the STP
//!    belongs to (per the ONS CCG lookup), lowest code first, so an STP that lies wholly in
//!    one alliance never comes back with another.
//! 3. **Nearest.** A point covered by no STP, and not on land in Scotland, Wales or
//!    Northern Ireland, gets the nearest STP within the tolerance (default 2 km), and the
//!    nearest of that STP's alliances: `match = nearest` with the distance in metres.
//! 4. **Outside.** Anything else: no areas, and the country the point is in, if any.

use std::sync::OnceLock;

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

/// The answer for one point, as indexes into the dataset.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Located {
    pub kind: MatchKind,
    /// 0 when covered; the distance to the chosen STP when nearest.
    pub distance_m: f64,
    pub alliance: Option<u16>,
    pub stp: Option<u16>,
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
            stp: None,
            country,
        }
    }
}

/// The exact lookup ([`Locator::locate_exact`]) with a grid in front answering most points
/// at once ([`Locator::locate`]). The grid is built on first call of [`Locator::grid`]
/// (the server does that in the background after it starts listening); until then every
/// lookup takes the exact path, with the same answers.
pub struct Locator {
    grid: OnceLock<Grid<Located>>,
    exact: ExactLocator,
}

/// Grid resolution: 2048 × 2048 cells of about 250 × 330 m over England.
pub const GRID_CELLS: usize = 2048;

impl Locator {
    pub fn new(data: &Dataset, tolerance_m: f64) -> Self {
        Locator {
            grid: OnceLock::new(),
            exact: ExactLocator::new(data, tolerance_m),
        }
    }

    /// Same answer as [`Locator::locate_exact`], from the grid when it is built and the
    /// point's cell has one.
    #[inline]
    pub fn locate(&self, lon: f64, lat: f64) -> Located {
        match self.grid.get().and_then(|g| g.get(lon, lat)) {
            Some(hit) => *hit,
            None => self.exact.locate(lon, lat),
        }
    }

    /// The lookup without the grid: R-tree candidates and exact point-in-polygon tests.
    pub fn locate_exact(&self, lon: f64, lat: f64) -> Located {
        self.exact.locate(lon, lat)
    }

    /// The grid, built now if it is not yet.
    pub fn grid(&self) -> &Grid<Located> {
        self.grid.get_or_init(|| {
            let started = std::time::Instant::now();
            let grid = self.exact.build_grid(GRID_CELLS);
            tracing::info!(
                ms = started.elapsed().as_millis() as u64,
                coverage = grid.coverage(),
                bytes = grid.memory_bytes(),
                "lookup grid built"
            );
            grid
        })
    }

    pub fn tolerance_m(&self) -> f64 {
        self.exact.tolerance_m
    }

    pub fn alliance_layer(&self) -> &LayerIndex {
        &self.exact.alliances
    }

    pub fn stp_layer(&self) -> &LayerIndex {
        &self.exact.stps
    }
}

pub struct ExactLocator {
    alliances: LayerIndex,
    stps: LayerIndex,
    countries: LayerIndex,
    /// For each STP, the alliances it belongs to, ascending.
    stp_alliances: Vec<Vec<u16>>,
    england: Option<u16>,
    tolerance_m: f64,
}

impl ExactLocator {
    pub fn new(data: &Dataset, tolerance_m: f64) -> Self {
        let ((alliances, stps), countries) = rayon::join(
            || {
                rayon::join(
                    || LayerIndex::new(data.alliances.iter().map(|a| &a.geometry)),
                    || LayerIndex::new(data.stps.iter().map(|s| &s.geometry)),
                )
            },
            || LayerIndex::new(data.countries.iter().map(|c| &c.geometry)),
        );
        ExactLocator {
            alliances,
            stps,
            countries,
            stp_alliances: data
                .stps
                .iter()
                .map(|s| s.alliances.iter().map(|&a| a as u16).collect())
                .collect(),
            england: Some(data.home_country),
            tolerance_m,
        }
    }

    fn build_grid(&self, cells: usize) -> Grid<Located> {
        // England's STPs, plus the tolerance, plus a margin.
        let mut bbox = [f64::INFINITY, f64::INFINITY, f64::NEG_INFINITY, f64::NEG_INFINITY];
        for p in self.stps.parts() {
            bbox = [
                bbox[0].min(p.bbox[0]),
                bbox[1].min(p.bbox[1]),
                bbox[2].max(p.bbox[2]),
                bbox[3].max(p.bbox[3]),
            ];
        }
        let margin = 0.1;
        let inputs = GridInputs {
            bbox: [bbox[0] - margin, bbox[1] - margin, bbox[2] + margin, bbox[3] + margin],
            nx: cells,
            ny: cells,
            layers: vec![&self.alliances, &self.stps, &self.countries],
            distance_layer: &self.stps,
            tolerance_m: self.tolerance_m,
        };
        Grid::build(&inputs, |x, y| {
            let exact = self.locate(x, y);
            if exact.kind == MatchKind::Contains {
                return (exact, true);
            }
            // Uncovered region: outside, in whatever country the region lies in. In another
            // nation that holds everywhere; elsewhere only beyond the tolerance of an STP.
            let country = self.countries.covering(x, y).first();
            (Located::outside(country), self.in_other_nation(country))
        })
    }

    /// The lookup for a point already known to be finite and in range.
    pub fn locate(&self, lon: f64, lat: f64) -> Located {
        let stps = self.stps.covering(lon, lat);
        if let Some(stp) = stps.first() {
            let alliance = self.alliance_for(stp, lon, lat);
            return Located {
                kind: MatchKind::Contains,
                distance_m: 0.0,
                alliance: Some(alliance),
                stp: Some(stp),
                country: self.england,
            };
        }
        let country = self.countries.covering(lon, lat).first();
        let outside = Located::outside(country);
        if self.in_other_nation(country) {
            return outside; // on land in another UK nation: never an English area
        }
        match self.stps.nearest(lon, lat, self.tolerance_m, |_| true) {
            Some((stp, d)) => Located {
                kind: MatchKind::Nearest,
                distance_m: d,
                alliance: Some(self.alliance_for(stp, lon, lat)),
                stp: Some(stp),
                country,
            },
            None => outside,
        }
    }

    /// On land in Scotland, Wales or Northern Ireland.
    fn in_other_nation(&self, country: Option<u16>) -> bool {
        country.is_some() && country != self.england
    }

    /// The alliance for a point given its STP: the lowest-coded of the STP's alliances
    /// covering the point, else the nearest of them (the point is near or on the STP, so
    /// one of its alliances is near too), else the STP's first alliance.
    fn alliance_for(&self, stp: u16, lon: f64, lat: f64) -> u16 {
        let allowed = &self.stp_alliances[stp as usize];
        if let [only] = allowed.as_slice() {
            return *only;
        }
        let covering = self.alliances.covering(lon, lat);
        if let Some(&a) = covering.as_slice().iter().find(|a| allowed.contains(a)) {
            return a;
        }
        self.alliances
            .nearest(lon, lat, self.tolerance_m.max(DEFAULT_TOLERANCE_M), |a| {
                allowed.contains(&a)
            })
            .map(|(a, _)| a)
            .unwrap_or(allowed[0])
    }
}

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

use serde::Serialize;

use crate::data::Dataset;
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

pub struct Locator {
    alliances: LayerIndex,
    stps: LayerIndex,
    countries: LayerIndex,
    /// For each STP, the alliances it belongs to, ascending.
    stp_alliances: Vec<Vec<u16>>,
    england: Option<u16>,
    tolerance_m: f64,
}

impl Locator {
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
        Locator {
            alliances,
            stps,
            countries,
            stp_alliances: data
                .stps
                .iter()
                .map(|s| s.alliances.iter().map(|&a| a as u16).collect())
                .collect(),
            england: data
                .countries
                .iter()
                .position(|c| c.code == "E92000001")
                .map(|i| i as u16),
            tolerance_m,
        }
    }

    pub fn tolerance_m(&self) -> f64 {
        self.tolerance_m
    }

    pub fn alliance_layer(&self) -> &LayerIndex {
        &self.alliances
    }

    pub fn stp_layer(&self) -> &LayerIndex {
        &self.stps
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
        let outside = Located {
            kind: MatchKind::Outside,
            distance_m: 0.0,
            alliance: None,
            stp: None,
            country,
        };
        if country.is_some() && country != self.england {
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

//! Crosswalks between two editions of one kind: how the areas of one edition map onto the
//! areas of another, as shares of area and of postcodes (a population proxy), so a time
//! series can be carried across a reorganisation.
//!
//! Computed once per data generation (on first use, after the lookup grids), never per
//! request:
//! - **area**: a lattice of points every [`LATTICE_DEG`] degrees over the home country's
//!   footprints, each weighted by its cell's area (cos latitude), answered by the service's
//!   own lookup in every period. So a share is the share of the area *as the service answers
//!   it* (covers, then the nearest area within the tolerance on the coast), not of an
//!   independent polygon overlay; about 0.2 km² a sample, so shares below ~0.1 % of a small
//!   area are noise and pairs below [`MIN_SHARE`] on both sides are left out.
//! - **postcodes**: every postcode of the home country in the postcode index, resolved in
//!   every period at import.
//!
//! Both are aggregated by *signature* (a point's areas in every period: one per face of the
//! overlaid layers, a few thousand), and every pair of editions is read off the signatures.

use std::collections::HashMap;

use rayon::prelude::*;

use crate::locate::Locator;
use crate::model::{Dataset, Kind};
use crate::postcode::PostcodeIndex;

/// Lattice spacing, degrees (about 280 × 440 m in England).
pub const LATTICE_DEG: f64 = 0.004;
/// Pairs whose share of both areas, by area and by postcodes, is below this are left out.
pub const MIN_SHARE: f64 = 0.001;

/// One pair of areas of a crosswalk.
#[derive(Debug, Clone, PartialEq)]
pub struct Pair {
    /// Indexes into the `from` and `to` editions' areas.
    pub from: u16,
    pub to: u16,
    pub area_share_of_from: f64,
    pub area_share_of_to: f64,
    /// `None` without a postcode index.
    pub postcode_share_of_from: Option<f64>,
    pub postcode_share_of_to: Option<f64>,
}

/// Every crosswalk between two editions of the same kind (in either order, and an edition
/// with itself).
pub struct Crosswalks {
    /// By `(from edition, to edition)` (indexes into `Dataset::editions`).
    pairs: HashMap<(usize, usize), Vec<Pair>>,
    /// Lattice samples that fell in the home country's areas in some period.
    pub samples: usize,
}

/// Most periods a crosswalk reads (more are left out of the signatures).
const MAX_PERIODS: usize = 16;

/// A point's areas in every period: `(alliance, footprint, sub-area)` + 1, 0 for none.
/// Fixed-size, so a million lattice points cost no allocation.
type Signature = [[u16; 3]; MAX_PERIODS];

#[derive(Default, Clone, Copy)]
struct Weight {
    area: f64,
    postcodes: u64,
    samples: u64,
}

impl Crosswalks {
    /// Builds every crosswalk; `locators[p]` is period `p`'s (their grids are built here if
    /// not yet).
    pub fn compute(data: &Dataset, locators: &[&Locator], postcodes: Option<&PostcodeIndex>) -> Self {
        let mut signatures: HashMap<Signature, Weight> = HashMap::new();
        let lattice = lattice(data, locators);
        let samples = lattice.values().map(|w| w.samples).sum::<u64>() as usize;
        for (sig, w) in lattice {
            add(signatures.entry(sig).or_default(), &w);
        }
        let home = crate::postcode::index::country_index(&data.manifest.home_country);
        if let Some(index) = postcodes {
            let mut per_entry = vec![0u64; index.areas().len()];
            for r in index.records() {
                per_entry[r.areas as usize] += 1;
            }
            for (entry, count) in index.areas().iter().zip(per_entry) {
                if entry.country != home || count == 0 {
                    continue;
                }
                let mut sig: Signature = [[0; 3]; MAX_PERIODS];
                for (p, slot) in sig.iter_mut().enumerate().take(data.periods.len()) {
                    let a = entry.at(p);
                    *slot = [plus_one(a.alliance), plus_one(a.footprint), plus_one(a.sub_area)];
                }
                signatures.entry(sig).or_default().postcodes += count;
            }
        }
        // Where each edition can be read: the first period it is in force, and its slot.
        let slot = |e: usize| -> Option<(usize, usize)> {
            let kind = data.editions[e].spec.kind;
            let k = match kind {
                Kind::Alliance => 0,
                Kind::Footprint => 1,
                Kind::SubArea => 2,
                Kind::Country => return None,
            };
            let p = data.periods.iter().position(|p| p.edition(kind) == Some(e))?;
            (p < MAX_PERIODS).then_some((p, k))
        };
        let has_postcodes = postcodes.is_some();
        let editions: Vec<(usize, Kind)> = data
            .editions
            .iter()
            .enumerate()
            .map(|(i, e)| (i, e.spec.kind))
            .collect();
        let combos: Vec<(usize, usize)> = editions
            .iter()
            .flat_map(|&(a, ka)| {
                editions
                    .iter()
                    .filter(move |&&(_, kb)| kb == ka)
                    .map(move |&(b, _)| (a, b))
            })
            .collect();
        let pairs = combos
            .par_iter()
            .filter_map(|&(a, b)| {
                let ((pa, ka), (pb, kb)) = (slot(a)?, slot(b)?);
                let mut joint: HashMap<(u16, u16), Weight> = HashMap::new();
                let mut from_total: HashMap<u16, Weight> = HashMap::new();
                let mut to_total: HashMap<u16, Weight> = HashMap::new();
                for (sig, w) in &signatures {
                    let (x, y) = (sig[pa][ka], sig[pb][kb]);
                    if x > 0 {
                        add(from_total.entry(x - 1).or_default(), w);
                    }
                    if y > 0 {
                        add(to_total.entry(y - 1).or_default(), w);
                    }
                    if x > 0 && y > 0 {
                        add(joint.entry((x - 1, y - 1)).or_default(), w);
                    }
                }
                let share = |part: f64, whole: f64| if whole > 0.0 { part / whole } else { 0.0 };
                let mut list: Vec<Pair> = joint
                    .iter()
                    .map(|(&(x, y), w)| {
                        let (fx, ty) = (from_total[&x], to_total[&y]);
                        Pair {
                            from: x,
                            to: y,
                            area_share_of_from: share(w.area, fx.area),
                            area_share_of_to: share(w.area, ty.area),
                            postcode_share_of_from: has_postcodes
                                .then(|| share(w.postcodes as f64, fx.postcodes as f64)),
                            postcode_share_of_to: has_postcodes.then(|| share(w.postcodes as f64, ty.postcodes as f64)),
                        }
                    })
                    .filter(|p| {
                        let big = |s: Option<f64>| s.is_some_and(|s| s >= MIN_SHARE);
                        p.area_share_of_from >= MIN_SHARE
                            || p.area_share_of_to >= MIN_SHARE
                            || big(p.postcode_share_of_from)
                            || big(p.postcode_share_of_to)
                    })
                    .collect();
                list.sort_by_key(|p| (p.from, p.to));
                Some(((a, b), list))
            })
            .collect();
        Crosswalks { pairs, samples }
    }

    /// The pairs from edition `from` to edition `to` (of the same kind), in code order.
    pub fn between(&self, from: usize, to: usize) -> Option<&[Pair]> {
        self.pairs.get(&(from, to)).map(Vec::as_slice)
    }
}

fn plus_one(v: Option<u16>) -> u16 {
    v.map_or(0, |v| v + 1)
}

fn add(total: &mut Weight, w: &Weight) {
    total.area += w.area;
    total.postcodes += w.postcodes;
    total.samples += w.samples;
}

/// Lattice points over the home country's footprints (any period's), each with the area of
/// its cell (km²), grouped by signature.
fn lattice(data: &Dataset, locators: &[&Locator]) -> HashMap<Signature, Weight> {
    let mut bbox = [f64::INFINITY, f64::INFINITY, f64::NEG_INFINITY, f64::NEG_INFINITY];
    for e in &data.editions {
        for a in &e.areas {
            bbox = [
                bbox[0].min(a.bbox.min().x),
                bbox[1].min(a.bbox.min().y),
                bbox[2].max(a.bbox.max().x),
                bbox[3].max(a.bbox.max().y),
            ];
        }
    }
    if !bbox.iter().all(|v| v.is_finite()) {
        return HashMap::new();
    }
    for l in locators {
        l.grid();
    }
    let rows = ((bbox[3] - bbox[1]) / LATTICE_DEG).ceil() as usize;
    let cols = ((bbox[2] - bbox[0]) / LATTICE_DEG).ceil() as usize;
    // km² of a LATTICE_DEG square at the equator.
    let cell_km2 = (LATTICE_DEG * 111.32) * (LATTICE_DEG * 110.57);
    (0..rows)
        .into_par_iter()
        .fold(HashMap::new, |mut acc: HashMap<Signature, Weight>, row| {
            let lat = bbox[1] + (row as f64 + 0.5) * LATTICE_DEG;
            let weight = cell_km2 * lat.to_radians().cos();
            for col in 0..cols {
                let lon = bbox[0] + (col as f64 + 0.5) * LATTICE_DEG;
                let mut any = false;
                let mut sig: Signature = [[0; 3]; MAX_PERIODS];
                for (slot, l) in sig.iter_mut().zip(locators) {
                    let hit = l.locate(lon, lat);
                    any |= hit.alliance.is_some() || hit.footprint.is_some() || hit.sub_area.is_some();
                    *slot = [plus_one(hit.alliance), plus_one(hit.footprint), plus_one(hit.sub_area)];
                }
                if any {
                    let w = acc.entry(sig).or_default();
                    w.area += weight;
                    w.samples += 1;
                }
            }
            acc
        })
        .reduce(HashMap::new, |mut a, b| {
            for (k, v) in b {
                add(a.entry(k).or_default(), &v);
            }
            a
        })
}

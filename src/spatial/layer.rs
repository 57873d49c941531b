//! The spatial index of one boundary layer: an R-tree over the bounding boxes of its
//! polygon parts, each part prepared for exact tests ([`Part`]).

use std::sync::Arc;

use geo::MultiPolygon;
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{RTree, AABB};

use super::metric::LocalMetric;
use super::part::Part;

type PartBox = GeomWithData<Rectangle<[f64; 2]>, u32>;

/// Areas covering one point: at most this many are reported (more never happens on
/// real data: three layers meet at a vertex at most a handful of times).
pub const MAX_COVERING: usize = 8;

/// A small set of area indexes, sorted ascending, without allocation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AreaSet {
    len: u8,
    items: [u16; MAX_COVERING],
}

impl AreaSet {
    pub fn insert(&mut self, area: u16) {
        let items = &mut self.items[..self.len as usize];
        if let Err(at) = items.binary_search(&area) {
            if (self.len as usize) < MAX_COVERING {
                self.items.copy_within(at..self.len as usize, at + 1);
                self.items[at] = area;
                self.len += 1;
            }
        }
    }
    pub fn as_slice(&self) -> &[u16] {
        &self.items[..self.len as usize]
    }
    pub fn first(&self) -> Option<u16> {
        self.as_slice().first().copied()
    }
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

pub struct LayerIndex {
    parts: Vec<Part>,
    tree: RTree<PartBox>,
}

impl LayerIndex {
    /// `areas[i]` is the geometry of area `i`.
    pub fn new(areas: impl IntoIterator<Item = Arc<MultiPolygon<f64>>>) -> Self {
        let parts: Vec<Part> = areas
            .into_iter()
            .enumerate()
            .flat_map(|(i, mp)| (0..mp.0.len()).filter_map(move |p| Part::new(i as u16, mp.clone(), p)))
            .collect();
        let boxes = parts
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let r = Rectangle::from_corners([p.bbox[0], p.bbox[1]], [p.bbox[2], p.bbox[3]]);
                GeomWithData::new(r, i as u32)
            })
            .collect();
        LayerIndex {
            parts,
            tree: RTree::bulk_load(boxes),
        }
    }

    pub fn parts(&self) -> &[Part] {
        &self.parts
    }

    /// Every area whose polygon covers the point (interior or boundary).
    pub fn covering(&self, x: f64, y: f64) -> AreaSet {
        let mut set = AreaSet::default();
        for b in self.tree.locate_all_at_point(&[x, y]) {
            let part = &self.parts[b.data as usize];
            if !set.as_slice().contains(&part.area) && part.covers(x, y) {
                set.insert(part.area);
            }
        }
        set
    }

    /// The nearest area within `max_m` metres among those `allowed`, with its distance.
    /// Ties go to the lower area index, so the answer is deterministic.
    pub fn nearest(&self, x: f64, y: f64, max_m: f64, allowed: impl Fn(u16) -> bool) -> Option<(u16, f64)> {
        let metric = LocalMetric::at(x, y);
        let (dx, dy) = (metric.dx_deg(max_m), metric.dy_deg(max_m));
        let query = AABB::from_corners([x - dx, y - dy], [x + dx, y + dy]);
        let mut best: Option<(u16, f64)> = None;
        for b in self.tree.locate_in_envelope_intersecting(&query) {
            let part = &self.parts[b.data as usize];
            if !allowed(part.area) {
                continue;
            }
            if let Some(d) = part.distance_within(&metric, max_m) {
                let better = match best {
                    None => true,
                    Some((a, bd)) => d < bd || (d == bd && part.area < a),
                };
                if better {
                    best = Some((part.area, d));
                }
            }
        }
        best
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn area_set_keeps_sorted_unique_items() {
        let mut s = AreaSet::default();
        for a in [5, 2, 5, 9, 0] {
            s.insert(a);
        }
        assert_eq!(s.as_slice(), &[0, 2, 5, 9]);
        assert_eq!(s.first(), Some(0));
    }
}

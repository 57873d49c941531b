//! One polygon (exterior + holes) prepared for exact point tests and short-range distances.
//!
//! Edges are bucketed into horizontal stripes so a point test reads only the edges whose
//! y-range overlaps the point's stripe. Vertices are stored once, ring after ring, and an
//! edge is named by its first vertex (the next one ends it): half the memory of storing each
//! edge's two ends (the 13 editions' parts were 91 MB as edges). Orientation uses Shewchuk's
//! robust predicate (the `robust` crate, as geo does), so the answer is exact, with *covers*
//! semantics: a point on an edge or vertex is covered.
//!
//! A part keeps its area's geometry (shared, not copied) and builds the stripes the first time
//! a test reaches it: an index is its parts' bounding boxes until then.

use std::sync::{Arc, OnceLock};

use geo::{MultiPolygon, Polygon};

use super::metric::LocalMetric;

/// An edge `[ax, ay, bx, by]`.
pub type Edge = [f64; 4];

pub struct Part {
    /// Index of the area this part belongs to within its layer.
    pub area: u16,
    /// `[min_x, min_y, max_x, max_y]`: the extent of the non-degenerate edges.
    pub bbox: [f64; 4],
    /// The area's geometry and which of its polygons this part is.
    geometry: Arc<MultiPolygon<f64>>,
    polygon: usize,
    /// The stripes, built by the first test that reaches this part: a `lookup` that exits
    /// after one answer builds a handful of the thousands of parts (building the 2017 layers'
    /// every part was a third of its start-up); the server's grid builds every one.
    prepared: OnceLock<Prepared>,
}

fn rings(polygon: &Polygon<f64>) -> impl Iterator<Item = &geo::LineString<f64>> {
    std::iter::once(polygon.exterior()).chain(polygon.interiors())
}

impl Part {
    /// Polygon `polygon` of `geometry`, the geometry of area `area` (`None`: no such polygon).
    pub fn new(area: u16, geometry: Arc<MultiPolygon<f64>>, polygon: usize) -> Option<Self> {
        let poly = geometry.0.get(polygon)?;
        // A ring with any edge that is not degenerate has every vertex at the end of one.
        let mut bbox = [f64::INFINITY, f64::INFINITY, f64::NEG_INFINITY, f64::NEG_INFINITY];
        for ring in rings(poly) {
            let closing = ring.0.first().zip(ring.0.last()).is_some_and(|(a, b)| a != b);
            if closing || ring.0.windows(2).any(|w| w[0] != w[1]) {
                for c in &ring.0 {
                    bbox = [bbox[0].min(c.x), bbox[1].min(c.y), bbox[2].max(c.x), bbox[3].max(c.y)];
                }
            }
        }
        Some(Part {
            area,
            bbox,
            geometry,
            polygon,
            prepared: OnceLock::new(),
        })
    }

    fn prepared(&self) -> &Prepared {
        self.prepared.get_or_init(|| {
            // `new` checked the polygon is there.
            let empty = Polygon::new(geo::LineString::new(vec![]), vec![]);
            Prepared::new(self.geometry.0.get(self.polygon).unwrap_or(&empty))
        })
    }

    /// Every edge that is not degenerate, `[ax, ay, bx, by]`.
    pub fn edges(&self) -> impl ExactSizeIterator<Item = Edge> + '_ {
        self.prepared().edges()
    }

    pub fn bbox_contains(&self, x: f64, y: f64) -> bool {
        x >= self.bbox[0] && x <= self.bbox[2] && y >= self.bbox[1] && y <= self.bbox[3]
    }

    /// True when the point is inside the polygon or on its boundary.
    pub fn covers(&self, x: f64, y: f64) -> bool {
        self.bbox_contains(x, y) && self.prepared().covers(x, y)
    }

    /// Distance in metres from the point to the nearest edge, if that is within `max_m`.
    pub fn distance_within(&self, metric: &LocalMetric, max_m: f64) -> Option<f64> {
        let (lo, hi) = (metric.y - metric.dy_deg(max_m), metric.y + metric.dy_deg(max_m));
        if hi < self.bbox[1] || lo > self.bbox[3] {
            return None;
        }
        self.prepared().distance_within(metric, max_m)
    }
}

/// One polygon's edges bucketed into stripes.
struct Prepared {
    /// Every ring's vertices, closed (its first vertex repeated at its end), one ring after
    /// another.
    points: Vec<[f64; 2]>,
    /// The edges that are not degenerate, by first vertex: edge `i` runs from `points[i]` to
    /// `points[i + 1]`.
    edge_starts: Vec<u32>,
    y0: f64,
    stripes_per_degree: f64,
    stripe_count: usize,
    /// `stripe_edges[stripe_start[k]..stripe_start[k + 1]]` are the edges of stripe `k`.
    stripe_start: Vec<u32>,
    stripe_edges: Vec<u32>,
}

/// About four edges per stripe keeps a test to a handful of edges on real boundaries.
const EDGES_PER_STRIPE: usize = 4;

impl Prepared {
    fn new(polygon: &Polygon<f64>) -> Self {
        // Sized once: growing the largest parts' edge lists step by step was a fifth of
        // start-up (copies and fresh pages).
        let vertices: usize = rings(polygon).map(|r| r.0.len() + 1).sum();
        let mut points: Vec<[f64; 2]> = Vec::with_capacity(vertices);
        let mut edge_starts = Vec::with_capacity(vertices);
        for ring in rings(polygon) {
            let Some(first) = ring.0.first() else { continue };
            let start = points.len();
            points.extend(ring.0.iter().map(|c| [c.x, c.y]));
            // Closed even if the ring was not: the closing edge counts for point tests.
            if ring.0.last() != Some(first) {
                points.push([first.x, first.y]);
            }
            for i in start..points.len() - 1 {
                if points[i] != points[i + 1] {
                    edge_starts.push(i as u32);
                }
            }
        }
        points.shrink_to_fit();
        edge_starts.shrink_to_fit();
        let mut bbox = [f64::INFINITY, f64::INFINITY, f64::NEG_INFINITY, f64::NEG_INFINITY];
        for &i in &edge_starts {
            for [x, y] in [points[i as usize], points[i as usize + 1]] {
                bbox = [bbox[0].min(x), bbox[1].min(y), bbox[2].max(x), bbox[3].max(y)];
            }
        }
        let stripe_count = (edge_starts.len() / EDGES_PER_STRIPE).clamp(1, 1 << 16);
        let height = (bbox[3] - bbox[1]).max(f64::MIN_POSITIVE);
        let mut part = Prepared {
            points,
            edge_starts,
            y0: bbox[1],
            stripes_per_degree: stripe_count as f64 / height,
            stripe_count,
            stripe_start: Vec::new(),
            stripe_edges: Vec::new(),
        };
        part.bucket_edges();
        part
    }

    fn stripe_of(&self, y: f64) -> usize {
        // Saturating float→int cast: below y0 gives 0, NaN gives 0.
        (((y - self.y0) * self.stripes_per_degree) as usize).min(self.stripe_count - 1)
    }

    fn bucket_edges(&mut self) {
        let mut counts = vec![0u32; self.stripe_count + 1];
        let ranges: Vec<(usize, usize)> = self
            .edges()
            .map(|e| (self.stripe_of(e[1].min(e[3])), self.stripe_of(e[1].max(e[3]))))
            .collect();
        for &(lo, hi) in &ranges {
            for c in &mut counts[lo..=hi] {
                *c += 1;
            }
        }
        let mut start = Vec::with_capacity(self.stripe_count + 1);
        let mut total = 0u32;
        for c in &counts[..self.stripe_count] {
            start.push(total);
            total += c;
        }
        start.push(total);
        let mut fill = start.clone();
        let mut slots = vec![0u32; total as usize];
        for (&i, &(lo, hi)) in self.edge_starts.iter().zip(&ranges) {
            for k in lo..=hi {
                slots[fill[k] as usize] = i;
                fill[k] += 1;
            }
        }
        self.stripe_start = start;
        self.stripe_edges = slots;
    }

    /// Edge `i` (by its first vertex).
    #[inline]
    fn edge(&self, i: u32) -> Edge {
        let i = i as usize;
        match (self.points.get(i), self.points.get(i + 1)) {
            (Some(a), Some(b)) => [a[0], a[1], b[0], b[1]],
            // Never: every edge start has a vertex after it (built so in `new`).
            _ => [f64::NAN; 4],
        }
    }

    fn stripe(&self, k: usize) -> impl Iterator<Item = Edge> + '_ {
        let (a, b) = (self.stripe_start[k] as usize, self.stripe_start[k + 1] as usize);
        self.stripe_edges[a..b].iter().map(|&i| self.edge(i))
    }

    fn edges(&self) -> impl ExactSizeIterator<Item = Edge> + '_ {
        self.edge_starts.iter().map(|&i| self.edge(i))
    }

    fn covers(&self, x: f64, y: f64) -> bool {
        let p = robust::Coord { x, y };
        let mut inside = false;
        for e in self.stripe(self.stripe_of(y)) {
            let (ay, by) = (e[1], e[3]);
            let straddles = (ay > y) != (by > y);
            let in_y_range = y >= ay.min(by) && y <= ay.max(by);
            if !in_y_range {
                continue;
            }
            let o = robust::orient2d(robust::Coord { x: e[0], y: ay }, robust::Coord { x: e[2], y: by }, p);
            if o == 0.0 && x >= e[0].min(e[2]) && x <= e[0].max(e[2]) {
                return true; // on this edge
            }
            if straddles && ((ay < by) == (o > 0.0)) {
                inside = !inside;
            }
        }
        inside
    }

    /// Only the stripes that can hold an edge within `max_m` are read.
    fn distance_within(&self, metric: &LocalMetric, max_m: f64) -> Option<f64> {
        let (lo, hi) = (metric.y - metric.dy_deg(max_m), metric.y + metric.dy_deg(max_m));
        let (k0, k1) = (self.stripe_of(lo), self.stripe_of(hi));
        let (x, y) = (metric.x, metric.y);
        // The window around the point an edge must reach to matter; it shrinks to the best
        // distance found so far, so most edges are rejected by four comparisons (a stripe
        // spans the part's whole width) before any distance is computed.
        let mut best = max_m;
        let mut found = false;
        let (mut wx, mut wy) = (metric.dx_deg(max_m), metric.dy_deg(max_m));
        for k in k0..=k1 {
            for e in self.stripe(k) {
                if e[0].min(e[2]) > x + wx
                    || e[0].max(e[2]) < x - wx
                    || e[1].min(e[3]) > y + wy
                    || e[1].max(e[3]) < y - wy
                {
                    continue;
                }
                let d = metric.segment_distance_m(e[0], e[1], e[2], e[3]);
                if d <= best {
                    best = d;
                    found = true;
                    (wx, wy) = (metric.dx_deg(best), metric.dy_deg(best));
                }
            }
        }
        found.then_some(best)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{coord, Intersects, LineString, Point};
    use rand::{Rng, SeedableRng};

    fn part(polygon: Polygon<f64>) -> Part {
        Part::new(0, Arc::new(MultiPolygon::new(vec![polygon])), 0).unwrap()
    }

    fn square_with_hole() -> Polygon<f64> {
        Polygon::new(
            LineString::from(vec![(0.0, 0.0), (4.0, 0.0), (4.0, 4.0), (0.0, 4.0), (0.0, 0.0)]),
            vec![LineString::from(vec![
                (1.0, 1.0),
                (2.0, 1.0),
                (2.0, 2.0),
                (1.0, 2.0),
                (1.0, 1.0),
            ])],
        )
    }

    #[test]
    fn is_prepared_by_its_first_test_and_its_box_is_its_edges_extent() {
        // A degenerate ring (one repeated vertex far away) has no edge: outside the box.
        let mut shape = square_with_hole();
        shape.interiors_push(LineString::from(vec![(9.0, 9.0), (9.0, 9.0), (9.0, 9.0), (9.0, 9.0)]));
        let part = part(shape);
        assert!(part.prepared.get().is_none(), "nothing built by new");
        assert!(!part.covers(5.0, 5.0), "outside the box: still nothing built");
        assert!(part.prepared.get().is_none());
        let mut extent = [f64::INFINITY, f64::INFINITY, f64::NEG_INFINITY, f64::NEG_INFINITY];
        for e in part.edges() {
            extent = [
                extent[0].min(e[0].min(e[2])),
                extent[1].min(e[1].min(e[3])),
                extent[2].max(e[0].max(e[2])),
                extent[3].max(e[1].max(e[3])),
            ];
        }
        assert!(part.prepared.get().is_some());
        assert_eq!(part.bbox, extent);
        assert_eq!(part.bbox, [0.0, 0.0, 4.0, 4.0]);
        assert!(Part::new(0, Arc::new(MultiPolygon::new(vec![square_with_hole()])), 1).is_none());
    }

    #[test]
    fn covers_interior_boundary_and_vertices_but_not_holes() {
        let part = part(square_with_hole());
        assert!(part.covers(3.0, 3.0));
        assert!(part.covers(0.0, 0.0), "vertex");
        assert!(part.covers(4.0, 2.5), "edge");
        assert!(part.covers(1.5, 1.0), "hole edge");
        assert!(!part.covers(1.5, 1.5), "inside the hole");
        assert!(!part.covers(5.0, 1.0));
        assert!(!part.covers(f64::NAN, 1.0));
    }

    #[test]
    fn agrees_with_geo_intersects_on_a_jagged_polygon() {
        // A star with many spikes: plenty of edges per stripe and vertices at shared y.
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let n = 400;
        let ring: Vec<(f64, f64)> = (0..=n)
            .map(|i| {
                let t = (i % n) as f64 / n as f64 * std::f64::consts::TAU;
                let r = if i % 2 == 0 {
                    1.0
                } else {
                    0.4 + 0.5 * ((i * 37 % 11) as f64 / 11.0)
                };
                ((r * t.cos() * 1e3).round() / 1e3, (r * t.sin() * 1e3).round() / 1e3)
            })
            .collect();
        let poly = Polygon::new(LineString::from(ring.clone()), vec![]);
        let part = part(poly.clone());
        for _ in 0..20_000 {
            let (x, y) = (rng.gen_range(-1.1..1.1), rng.gen_range(-1.1..1.1));
            assert_eq!(part.covers(x, y), poly.intersects(&Point::new(x, y)), "({x}, {y})");
        }
        // Every vertex and every edge midpoint is on the boundary.
        for w in ring.windows(2) {
            let mid = coord! { x: (w[0].0 + w[1].0) / 2.0, y: (w[0].1 + w[1].1) / 2.0 };
            assert!(part.covers(w[0].0, w[0].1));
            assert_eq!(part.covers(mid.x, mid.y), poly.intersects(&Point::from(mid)));
        }
    }

    #[test]
    fn distance_is_metric_and_bounded() {
        let poly = Polygon::new(
            LineString::from(vec![
                (0.0, 50.0),
                (0.01, 50.0),
                (0.01, 50.01),
                (0.0, 50.01),
                (0.0, 50.0),
            ]),
            vec![],
        );
        let part = part(poly.clone());
        // 0.001 degrees of latitude south of the square is about 111 m.
        let m = LocalMetric::at(0.005, 49.999);
        let d = part.distance_within(&m, 2000.0).unwrap();
        assert!((d - 111.2).abs() < 0.5, "{d}");
        assert_eq!(part.distance_within(&m, 100.0), None);
    }
}

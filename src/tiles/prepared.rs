//! Geometry prepared for one zoom level: simplified for that zoom, projected to world
//! coordinates and split into polygons with their bounding boxes, so that cutting a tile only
//! touches the polygons that reach it.
//!
//! Simplification is [`crate::maplayers::simplify::simplify_together`] with a tolerance of
//! half a screen pixel at the zoom (an eighth of a tile unit at the deepest zoom generated,
//! where it only drops collinear points): neighbours, and the alliance, footprint and
//! sub-area layers, keep identical borders at every zoom, and no drawn border is more than
//! half a pixel from the true one, well inside the two pixels the map promises.

use geo::MultiPolygon;

use super::project::to_world;

/// `simplify_together`'s x scale, so its tolerance (in degrees of latitude) is isotropic.
const X_SCALE: f64 = 0.6088;

/// Douglas–Peucker tolerance at `zoom`, in degrees of latitude, for a pyramid generated down
/// to `max_zoom`.
pub fn tolerance(zoom: u8, max_zoom: u8) -> f64 {
    let pixel_deg = 360.0 / (256.0 * (1u64 << zoom) as f64) * X_SCALE;
    if zoom >= max_zoom {
        // 1/16 px is a tile unit; an eighth of one drops only points on a straight line.
        pixel_deg / 16.0 / 8.0
    } else {
        pixel_deg * 0.5
    }
}

/// One polygon of a feature, in world coordinates.
pub struct Part {
    /// Index of the feature (the area) in its layer.
    pub feature: u32,
    /// `[min_x, min_y, max_x, max_y]` in world coordinates.
    pub bbox: [f64; 4],
    /// The exterior first, then the holes; open (the first point is not repeated); in
    /// [`to_fixed`] world coordinates.
    pub rings: Vec<Vec<[u32; 2]>>,
}

/// World coordinates (0 to 1) in 32-bit fixed point: 2⁻³² of the world is 1/256 of a tile
/// unit at zoom 12 and 1/16 at zoom 16, far finer than any tile's grid, at half the memory of
/// two `f64` (the prepared zooms of a period were about 66 MB as `f64`).
pub fn to_fixed((x, y): (f64, f64)) -> [u32; 2] {
    let q = |v: f64| (v.clamp(0.0, 1.0) * FIXED_SCALE).round().min(u32::MAX as f64) as u32;
    [q(x), q(y)]
}

/// The world coordinates of a [`to_fixed`] point.
#[inline]
pub fn from_fixed([x, y]: [u32; 2]) -> (f64, f64) {
    (f64::from(x) / FIXED_SCALE, f64::from(y) / FIXED_SCALE)
}

const FIXED_SCALE: f64 = 4_294_967_296.0;

/// A layer's polygons at one zoom.
#[derive(Default)]
pub struct Prepared {
    pub parts: Vec<Part>,
}

impl Prepared {
    /// Projects `features` (already simplified) to world coordinates.
    pub fn new(features: &[MultiPolygon<f64>]) -> Self {
        let mut parts = Vec::new();
        for (f, mp) in features.iter().enumerate() {
            for polygon in &mp.0 {
                let rings: Vec<Vec<[u32; 2]>> = std::iter::once(polygon.exterior())
                    .chain(polygon.interiors())
                    .map(|r| {
                        let mut v: Vec<[u32; 2]> = r.0.iter().map(|c| to_fixed(to_world(c.x, c.y))).collect();
                        if v.len() > 1 && v.first() == v.last() {
                            v.pop();
                        }
                        v.shrink_to_fit();
                        v
                    })
                    .collect();
                let mut bbox = [f64::INFINITY, f64::INFINITY, f64::NEG_INFINITY, f64::NEG_INFINITY];
                for (x, y) in rings.first().into_iter().flatten().map(|&p| from_fixed(p)) {
                    bbox = [bbox[0].min(x), bbox[1].min(y), bbox[2].max(x), bbox[3].max(y)];
                }
                if rings.first().is_some_and(|r| r.len() >= 3) {
                    parts.push(Part {
                        feature: f as u32,
                        bbox,
                        rings,
                    });
                }
            }
        }
        Prepared { parts }
    }

    /// The parts whose bounding box meets `[min_x, min_y, max_x, max_y]`.
    pub fn meeting(&self, b: [f64; 4]) -> impl Iterator<Item = &Part> {
        self.parts
            .iter()
            .filter(move |p| p.bbox[0] <= b[2] && p.bbox[2] >= b[0] && p.bbox[1] <= b[3] && p.bbox[3] >= b[1])
    }

    /// Number of vertices, for the logs.
    pub fn vertices(&self) -> usize {
        self.parts.iter().flat_map(|p| &p.rings).map(Vec::len).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_point_round_trips_within_a_256th_of_a_zoom_12_tile_unit() {
        let unit = 1.0 / (4096.0 * 4096.0);
        for &(x, y) in &[
            (0.0, 0.0),
            (0.499_123_456_789, 0.333_333_333_3),
            (1.0, 1.0),
            (0.75, 0.123),
        ] {
            let (bx, by) = from_fixed(to_fixed((x, y)));
            assert!(
                (bx - x).abs() <= unit / 256.0 && (by - y).abs() <= unit / 256.0,
                "{x} {y}"
            );
        }
        assert_eq!(to_fixed((-0.1, 1.5)), [0, u32::MAX], "clamped to the world");
    }

    #[test]
    fn tolerance_is_half_a_pixel_above_the_deepest_zoom() {
        // At zoom 10 a pixel is 360 / 2^18 degrees of longitude.
        let px = 360.0 / 262_144.0 * X_SCALE;
        assert!((tolerance(10, 12) - px / 2.0).abs() < 1e-12);
        assert!(tolerance(12, 12) < tolerance(11, 12) / 16.0);
    }
}

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
    /// The exterior first, then the holes; open (the first point is not repeated).
    pub rings: Vec<Vec<(f64, f64)>>,
}

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
                let rings: Vec<Vec<(f64, f64)>> = std::iter::once(polygon.exterior())
                    .chain(polygon.interiors())
                    .map(|r| {
                        let mut v: Vec<(f64, f64)> = r.0.iter().map(|c| to_world(c.x, c.y)).collect();
                        if v.len() > 1 && v.first() == v.last() {
                            v.pop();
                        }
                        v
                    })
                    .collect();
                let mut bbox = [f64::INFINITY, f64::INFINITY, f64::NEG_INFINITY, f64::NEG_INFINITY];
                for &(x, y) in rings.first().into_iter().flatten() {
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
    fn tolerance_is_half_a_pixel_above_the_deepest_zoom() {
        // At zoom 10 a pixel is 360 / 2^18 degrees of longitude.
        let px = 360.0 / 262_144.0 * X_SCALE;
        assert!((tolerance(10, 12) - px / 2.0).abs() < 1e-12);
        assert!(tolerance(12, 12) < tolerance(11, 12) / 16.0);
    }
}

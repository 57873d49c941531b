//! Short-range distances in metres around one point.
//!
//! Within the few kilometres the nearest-area fallback looks at, an equirectangular
//! projection centred on the query point is accurate to well under 0.1 %; it avoids a
//! geodesic per edge. The Earth radius is the IUGG mean radius, as in geo's Haversine.

const METRES_PER_DEGREE: f64 = 6_371_008.8 * std::f64::consts::PI / 180.0;

pub struct LocalMetric {
    pub x: f64,
    pub y: f64,
    /// Metres per degree of longitude at the point's latitude.
    mx: f64,
}

impl LocalMetric {
    pub fn at(x: f64, y: f64) -> Self {
        LocalMetric {
            x,
            y,
            mx: METRES_PER_DEGREE * y.to_radians().cos(),
        }
    }

    /// Degrees of latitude spanning `m` metres.
    pub fn dy_deg(&self, m: f64) -> f64 {
        m / METRES_PER_DEGREE
    }

    /// Degrees of longitude spanning `m` metres at this latitude.
    pub fn dx_deg(&self, m: f64) -> f64 {
        m / self.mx.max(1.0)
    }

    /// Distance in metres from the point to the segment (ax, ay)–(bx, by).
    pub fn segment_distance_m(&self, ax: f64, ay: f64, bx: f64, by: f64) -> f64 {
        let (ax, ay) = ((ax - self.x) * self.mx, (ay - self.y) * METRES_PER_DEGREE);
        let (bx, by) = ((bx - self.x) * self.mx, (by - self.y) * METRES_PER_DEGREE);
        let (dx, dy) = (bx - ax, by - ay);
        let len2 = dx * dx + dy * dy;
        let t = if len2 > 0.0 {
            (-(ax * dx + ay * dy) / len2).clamp(0.0, 1.0)
        } else {
            0.0
        };
        let (cx, cy) = (ax + t * dx, ay + t * dy);
        (cx * cx + cy * cy).sqrt()
    }

    /// Distance in metres to another point.
    pub fn point_distance_m(&self, x: f64, y: f64) -> f64 {
        self.segment_distance_m(x, y, x, y)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{Distance, Haversine, Point};

    #[test]
    fn matches_haversine_at_short_range() {
        let m = LocalMetric::at(-1.5, 53.8);
        for (x, y) in [(-1.48, 53.8), (-1.5, 53.81), (-1.51, 53.79)] {
            let ours = m.point_distance_m(x, y);
            let hav = Haversine.distance(Point::new(-1.5, 53.8), Point::new(x, y));
            assert!((ours - hav).abs() / hav < 1e-3, "{ours} vs {hav}");
        }
    }

    #[test]
    fn segment_distance_uses_the_closest_point() {
        let m = LocalMetric::at(0.0, 0.0);
        // A segment passing 0.001° north of the point, either side of it.
        let d = m.segment_distance_m(-1.0, 0.001, 1.0, 0.001);
        assert!((d - 111.195).abs() < 0.01, "{d}");
        // Beyond the end, the end point is closest.
        let d = m.segment_distance_m(0.001, 0.0, 0.002, 0.0);
        assert!((d - 111.195).abs() < 0.01, "{d}");
    }
}

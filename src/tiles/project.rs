//! Web Mercator: longitude/latitude to the unit square the tile pyramid divides, and tile
//! bounds in it.
//!
//! World coordinates run from (0, 0) at the north-west corner (180° W, 85.05° N) to (1, 1):
//! tile `(z, x, y)` covers `[x, x + 1] / 2^z` by `[y, y + 1] / 2^z`, as MapLibre draws it.

/// Latitude limit of Web Mercator: the square's top and bottom edges.
pub const MAX_LAT: f64 = 85.051_128_779_806_59;

/// World coordinates of a longitude/latitude.
pub fn to_world(lon: f64, lat: f64) -> (f64, f64) {
    let lat = lat.clamp(-MAX_LAT, MAX_LAT).to_radians();
    let x = (lon + 180.0) / 360.0;
    let y = (1.0 - (lat.tan() + 1.0 / lat.cos()).ln() / std::f64::consts::PI) / 2.0;
    (x, y)
}

/// Longitude/latitude of world coordinates.
pub fn to_lonlat(x: f64, y: f64) -> (f64, f64) {
    let lon = x * 360.0 - 180.0;
    let n = std::f64::consts::PI * (1.0 - 2.0 * y);
    let lat = n.sinh().atan().to_degrees();
    (lon, lat)
}

/// A tile of the pyramid, already checked: `x` and `y` are below `2^z`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TileId {
    pub z: u8,
    pub x: u32,
    pub y: u32,
}

impl TileId {
    /// `None` unless `x` and `y` lie in zoom `z`'s grid and `z` is at most `max_zoom`.
    pub fn new(z: u8, x: u32, y: u32, max_zoom: u8) -> Option<Self> {
        let n = 1u64 << z.min(max_zoom);
        (z <= max_zoom && u64::from(x) < n && u64::from(y) < n).then_some(TileId { z, x, y })
    }

    /// The tile of zoom `z` holding world point `(wx, wy)`.
    pub fn containing(z: u8, wx: f64, wy: f64) -> Self {
        let n = (1u64 << z) as f64;
        let clamp = |v: f64| (v * n).floor().clamp(0.0, n - 1.0) as u32;
        TileId {
            z,
            x: clamp(wx),
            y: clamp(wy),
        }
    }

    /// Its ancestor at zoom `z` (itself when `z` is not below its own).
    pub fn ancestor(self, z: u8) -> Self {
        if z >= self.z {
            return self;
        }
        let shift = self.z - z;
        TileId {
            z,
            x: self.x >> shift,
            y: self.y >> shift,
        }
    }

    /// Tile size in world units.
    pub fn size(self) -> f64 {
        1.0 / (1u64 << self.z) as f64
    }

    /// World coordinates of the north-west corner.
    pub fn origin(self) -> (f64, f64) {
        let s = self.size();
        (self.x as f64 * s, self.y as f64 * s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_places_tiles() {
        let (x, y) = to_world(-1.5492, 53.7997);
        let (lon, lat) = to_lonlat(x, y);
        assert!((lon + 1.5492).abs() < 1e-9 && (lat - 53.7997).abs() < 1e-9);
        // Leeds is in tile 12/2030/1319 (as any slippy-map tool computes it).
        assert_eq!(
            TileId::containing(12, x, y),
            TileId {
                z: 12,
                x: 2030,
                y: 1319
            }
        );
        assert_eq!(
            TileId::containing(12, x, y).ancestor(10),
            TileId { z: 10, x: 507, y: 329 }
        );
        assert!(TileId::new(2, 3, 3, 12).is_some());
        assert!(TileId::new(2, 4, 0, 12).is_none());
        assert!(TileId::new(13, 0, 0, 12).is_none());
    }
}

//! Writing a vector tile's layers with geozero's MVT writer (geometry commands, the key and
//! value tables) and its protobuf types: nothing here hand-writes protobuf.

use geo::{Coord, Geometry, LineString, MultiPolygon, Point, Polygon};
use geozero::mvt::tile::{self, Layer};
use geozero::mvt::{Message, TagsBuilder, Tile, TileValue};
use geozero::ToMvt;

/// Tile units per tile side (the MVT default; 16 per screen pixel of a 256 px tile).
pub const EXTENT: u32 = 4096;

/// One polygon in tile units: its exterior, then its holes, each open and wound.
pub type PolygonRings = Vec<Vec<(i32, i32)>>;

/// A layer being filled.
pub struct LayerBuilder {
    name: &'static str,
    features: Vec<tile::Feature>,
    tags: TagsBuilder,
}

impl LayerBuilder {
    pub fn new(name: &'static str) -> Self {
        LayerBuilder {
            name,
            features: Vec::new(),
            tags: TagsBuilder::new(),
        }
    }

    /// Adds a (multi)polygon feature; polygons with fewer than 3 points in a ring are skipped
    /// by the caller ([`super::clip::to_grid`] never returns one).
    pub fn polygons(&mut self, id: u64, polygons: Vec<PolygonRings>, props: &[(&str, TileValue)]) {
        let ring = |r: Vec<(i32, i32)>| {
            let mut coords: Vec<Coord<f64>> = r
                .into_iter()
                .map(|(x, y)| Coord {
                    x: f64::from(x),
                    y: f64::from(y),
                })
                .collect();
            if let Some(&first) = coords.first() {
                coords.push(first);
            }
            LineString::new(coords)
        };
        let polygons: Vec<Polygon<f64>> = polygons
            .into_iter()
            .filter(|p| !p.is_empty())
            .map(|mut rings| {
                let exterior = ring(rings.remove(0));
                Polygon::new(exterior, rings.into_iter().map(ring).collect())
            })
            .collect();
        if polygons.is_empty() {
            return;
        }
        self.push(id, Geometry::MultiPolygon(MultiPolygon::new(polygons)), props);
    }

    /// Adds a point feature.
    pub fn point(&mut self, id: u64, (x, y): (i32, i32), props: &[(&str, TileValue)]) {
        self.push(id, Geometry::Point(Point::new(f64::from(x), f64::from(y))), props);
    }

    fn push(&mut self, id: u64, geometry: Geometry<f64>, props: &[(&str, TileValue)]) {
        // Rings come here with at least 3 distinct points, so the writer has nothing to refuse;
        // were it to, the feature is left out rather than the tile failing.
        let Ok(mut feature) = geometry.to_mvt_unscaled() else {
            tracing::warn!(layer = self.name, id, "a feature could not be encoded: left out");
            return;
        };
        feature.id = Some(id);
        for (key, value) in props {
            let (k, v) = self.tags.insert_ref(key, value.clone());
            feature.tags.push(k);
            feature.tags.push(v);
        }
        self.features.push(feature);
    }

    pub fn is_empty(&self) -> bool {
        self.features.is_empty()
    }

    fn finish(self) -> Layer {
        let (keys, values) = self.tags.into_tags();
        Layer {
            version: 2,
            name: self.name.to_string(),
            features: self.features,
            keys,
            values: values.into_iter().map(Into::into).collect(),
            extent: Some(EXTENT),
        }
    }
}

/// The tile's bytes; empty layers are left out (an empty tile is zero bytes).
pub fn tile(layers: Vec<LayerBuilder>) -> Vec<u8> {
    let layers: Vec<Layer> = layers
        .into_iter()
        .filter(|l| !l.is_empty())
        .map(LayerBuilder::finish)
        .collect();
    Tile { layers }.encode_to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_a_layer_that_decodes() {
        let mut l = LayerBuilder::new("alliances");
        l.polygons(
            7,
            vec![vec![vec![(0, 0), (10, 0), (10, 10), (0, 10)]]],
            &[("code", TileValue::Str("E56000003".into()))],
        );
        l.point(8, (5, 5), &[("name", TileValue::Str("Leeds".into()))]);
        let bytes = tile(vec![l, LayerBuilder::new("empty")]);
        let decoded = Tile::decode(bytes.as_slice()).unwrap();
        assert_eq!(decoded.layers.len(), 1);
        let layer = &decoded.layers[0];
        assert_eq!(layer.name, "alliances");
        assert_eq!(layer.features.len(), 2);
        assert_eq!(layer.features[0].id, Some(7));
        assert_eq!(layer.keys, vec!["code", "name"]);
        // MoveTo(1) 0,0  LineTo(3) …  ClosePath
        assert_eq!(layer.features[0].geometry[0], 9);
        assert_eq!(*layer.features[0].geometry.last().unwrap(), 15);
        assert!(tile(vec![]).is_empty());
    }
}

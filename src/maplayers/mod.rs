//! The boundary documents the map draws: GeoJSON of the alliances, STPs and UK countries at
//! two levels of detail, with alliance colours, served with ETags and compression.
//!
//! - `overview`: alliances and STPs simplified together ([`simplify`]) so borders stay shared,
//!   coordinates rounded to 5 decimals (about 1 m);
//! - `full`: the loaded geometry, 6 decimals.

pub mod asset;
pub mod palette;
pub mod simplify;

use std::fmt::Write;

use geo::MultiPolygon;
use serde_json::json;

use crate::model::{AllianceKind, Dataset};
use asset::Asset;

/// Douglas–Peucker tolerance for the overview, in degrees of latitude (about 170 m).
pub const OVERVIEW_TOLERANCE: f64 = 0.0015;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layer {
    Alliances,
    Stps,
    Countries,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detail {
    Overview,
    Full,
}

pub struct MapLayers {
    /// Indexed by `[layer][detail]`.
    documents: [[Asset; 2]; 3],
    /// Palette colour of each alliance, by alliance index.
    pub colours: Vec<&'static str>,
}

const CACHE: &str = "public, max-age=3600, must-revalidate";
const GEOJSON: &str = "application/geo+json";

impl MapLayers {
    /// The documents of period `period`'s alliance and footprint editions (none where the
    /// period holds no edition of a kind).
    pub fn build(data: &Dataset, period: usize) -> Self {
        let p = &data.periods[period];
        let areas = |e: Option<usize>| e.map_or(&[][..], |e| &data.editions[e].areas[..]);
        let (alliance_areas, footprint_areas) = (areas(p.alliance), areas(p.footprint));
        let edition = |e: Option<usize>| e.map_or("", |e| data.editions[e].spec.edition.as_str());
        let (alliance_edition, footprint_edition) = (edition(p.alliance), edition(p.footprint));
        let footprint_kind = p
            .footprint
            .and_then(|e| data.editions[e].spec.area_kind.as_deref())
            .unwrap_or("");
        let alliances: Vec<&MultiPolygon<f64>> = alliance_areas.iter().map(|a| &*a.geometry).collect();
        let stps: Vec<&MultiPolygon<f64>> = footprint_areas.iter().map(|s| &*s.geometry).collect();
        let countries: Vec<&MultiPolygon<f64>> = data.countries.iter().map(|c| &*c.geometry).collect();
        let (together, countries_overview) = rayon::join(
            || simplify::simplify_together(&[alliances.clone(), stps.clone()], OVERVIEW_TOLERANCE),
            // The backdrop is decoration: coarser still.
            || simplify::simplify_together(std::slice::from_ref(&countries), OVERVIEW_TOLERANCE * 2.0),
        );
        let colours: Vec<&'static str> = palette::assign(alliance_areas.len(), &together.neighbours)
            .into_iter()
            .map(|c| palette::PALETTE[c])
            .collect();

        let alliance_props = |i: usize| {
            let a = &alliance_areas[i];
            json!({"code": a.code, "name": a.name, "kind": AllianceKind::of(&a.code), "colour": colours[i],
                   "edition": alliance_edition})
        };
        let stp_props = |i: usize| {
            let s = &footprint_areas[i];
            let linked = p.footprint_alliances.as_ref().map_or(&[][..], |l| &l[i][..]);
            let alliances: Vec<&str> = linked
                .iter()
                .map(|&a| alliance_areas[a as usize].code.as_str())
                .collect();
            json!({"code": s.code, "name": s.name, "alliances": alliances, "kind": footprint_kind,
                   "edition": footprint_edition})
        };
        let country_props = |i: usize| json!({"code": data.countries[i].code, "name": data.countries[i].name});

        let doc = |geoms: &[&MultiPolygon<f64>], props: &dyn Fn(usize) -> serde_json::Value, decimals: usize| {
            Asset::new(feature_collection(geoms, props, decimals).into_bytes(), GEOJSON, CACHE)
        };
        let documents = [
            [
                doc(&refs(&together.layers[0]), &alliance_props, 5),
                doc(&alliances, &alliance_props, 6),
            ],
            [
                doc(&refs(&together.layers[1]), &stp_props, 5),
                doc(&stps, &stp_props, 6),
            ],
            [
                doc(&refs(&countries_overview.layers[0]), &country_props, 5),
                doc(&countries, &country_props, 6),
            ],
        ];
        MapLayers { documents, colours }
    }

    pub fn document(&self, layer: Layer, detail: Detail) -> &Asset {
        &self.documents[layer as usize][detail as usize]
    }
}

fn refs(v: &[MultiPolygon<f64>]) -> Vec<&MultiPolygon<f64>> {
    v.iter().collect()
}

/// A GeoJSON FeatureCollection with coordinates written to `decimals` places.
fn feature_collection(
    geoms: &[&MultiPolygon<f64>],
    props: &dyn Fn(usize) -> serde_json::Value,
    decimals: usize,
) -> String {
    let mut s = String::from("{\"type\":\"FeatureCollection\",\"features\":[");
    for (i, g) in geoms.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        let _ = write!(
            s,
            "{{\"type\":\"Feature\",\"properties\":{},\"geometry\":{{\"type\":\"MultiPolygon\",\"coordinates\":[",
            props(i)
        );
        for (pi, p) in g.0.iter().enumerate() {
            s.push_str(if pi > 0 { ",[" } else { "[" });
            for (ri, r) in std::iter::once(p.exterior()).chain(p.interiors()).enumerate() {
                s.push_str(if ri > 0 { ",[" } else { "[" });
                for (ci, c) in r.0.iter().enumerate() {
                    if ci > 0 {
                        s.push(',');
                    }
                    let _ = write!(s, "[{},{}]", trim(c.x, decimals), trim(c.y, decimals));
                }
                s.push(']');
            }
            s.push(']');
        }
        s.push_str("]}}");
    }
    s.push_str("]}");
    s
}

/// A number with at most `decimals` places and no trailing zeros.
fn trim(v: f64, decimals: usize) -> String {
    let s = format!("{v:.decimals$}");
    let s = if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        &s
    };
    if s == "-0" {
        "0".to_string()
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_numbers() {
        assert_eq!(trim(-1.500000, 5), "-1.5");
        assert_eq!(trim(53.0, 5), "53");
        assert_eq!(trim(-0.0000001, 5), "0");
        assert_eq!(trim(0.123456789, 6), "0.123457");
    }
}

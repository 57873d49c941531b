//! Where the data is read from: the official files in a directory (`--data DIR`), or the
//! packed copy compiled into the binary (see [`crate::pack`]).
//!
//! Loading asks a [`DataSource`] for a file's text or a GeoJSON file's features by the path the
//! manifest gives; it never opens files itself, so the two sources give the same `Dataset`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use geo::{Coord, LineString, MultiPolygon, Polygon};
use serde_json::{Map, Value};

use super::DataError;

/// The data's origin.
#[derive(Clone)]
pub enum DataSource {
    /// The official source files, laid out as the manifest says.
    Dir(PathBuf),
    /// The packed data: the copy embedded in the binary, or one read from a packed directory.
    Packed(Arc<crate::pack::Pack>),
}

impl std::fmt::Debug for DataSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.describe())
    }
}

/// One feature of a GeoJSON FeatureCollection: its properties and its polygons (or why it has
/// none that can be used).
#[derive(Debug, Clone, PartialEq)]
pub struct RawFeature {
    pub properties: Map<String, Value>,
    pub geometry: Result<MultiPolygon<f64>, String>,
}

impl DataSource {
    /// Where `rel` is read from, for messages: the file's path, or `packed:<rel>`.
    pub fn path(&self, rel: &str) -> PathBuf {
        match self {
            DataSource::Dir(dir) => dir.join(rel),
            DataSource::Packed(pack) => PathBuf::from(format!("{}:{rel}", pack.label())),
        }
    }

    /// One line for logs and `check-data`: the directory, or the packed data and its origin.
    pub fn describe(&self) -> String {
        match self {
            DataSource::Dir(dir) => dir.display().to_string(),
            DataSource::Packed(pack) => pack.label().to_string(),
        }
    }

    /// The directory of official files, if that is the source.
    pub fn dir(&self) -> Option<&Path> {
        match self {
            DataSource::Dir(dir) => Some(dir),
            DataSource::Packed(_) => None,
        }
    }

    /// Whether the source holds `rel`.
    pub fn has(&self, rel: &str) -> bool {
        match self {
            DataSource::Dir(dir) => dir.join(rel).is_file(),
            DataSource::Packed(pack) => pack.has(rel),
        }
    }

    /// A text file (a CSV table), whole.
    pub fn text(&self, rel: &str) -> Result<String, DataError> {
        match self {
            DataSource::Dir(dir) => read_regular_file(&dir.join(rel)),
            DataSource::Packed(pack) => pack.text(rel).map_err(|p| DataError::file(&self.path(rel), p)),
        }
    }

    /// The features of a GeoJSON FeatureCollection of polygons, in file order.
    pub fn features(&self, rel: &str) -> Result<Vec<RawFeature>, DataError> {
        match self {
            DataSource::Dir(dir) => {
                let path = dir.join(rel);
                parse_feature_collection(&path, &read_regular_file(&path)?)
            }
            DataSource::Packed(pack) => pack.features(rel).map_err(|p| DataError::file(&self.path(rel), p)),
        }
    }
}

/// Reads a whole file, refusing anything but a regular file (a FIFO or device would hang
/// start-up or never end).
pub fn read_regular_file(path: &Path) -> Result<String, DataError> {
    let meta = std::fs::metadata(path).map_err(|e| DataError::io(path, e))?;
    if !meta.is_file() {
        return Err(DataError::file(path, "is not a regular file"));
    }
    std::fs::read_to_string(path).map_err(|e| DataError::io(path, e))
}

/// Parses a FeatureCollection's text; `path` is only used in messages. Per feature, a geometry
/// that is missing or not polygons is kept as the reason, for the caller to report with the
/// feature's code.
pub fn parse_feature_collection(path: &Path, text: &str) -> Result<Vec<RawFeature>, DataError> {
    let root: Value = serde_json::from_str(text).map_err(|e| DataError::GeoJson {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    if root.get("type").and_then(Value::as_str) != Some("FeatureCollection") {
        return Err(DataError::file(
            path,
            "top-level object is not a GeoJSON FeatureCollection",
        ));
    }
    let Some(Value::Array(features)) = root.get("features") else {
        return Err(DataError::file(path, "FeatureCollection has no \"features\" array"));
    };
    features
        .iter()
        .enumerate()
        .map(|(i, feature)| {
            let properties = feature
                .get("properties")
                .and_then(Value::as_object)
                .cloned()
                .ok_or_else(|| DataError::feature(path, format!("#{i}"), "has no properties object"))?;
            let geometry = match feature.get("geometry").filter(|g| !g.is_null()) {
                None => Err("has no geometry".to_string()),
                Some(g) => parse_geometry(g),
            };
            Ok(RawFeature { properties, geometry })
        })
        .collect()
}

fn parse_geometry(g: &Value) -> Result<MultiPolygon<f64>, String> {
    let kind = g.get("type").and_then(Value::as_str).unwrap_or("(none)");
    let coords = g.get("coordinates").ok_or("geometry has no coordinates")?;
    match kind {
        "Polygon" => Ok(MultiPolygon::new(vec![parse_polygon(coords)?])),
        "MultiPolygon" => {
            let parts = coords.as_array().ok_or("MultiPolygon coordinates are not an array")?;
            let polys = parts.iter().map(parse_polygon).collect::<Result<Vec<_>, _>>()?;
            Ok(MultiPolygon::new(polys))
        }
        other => Err(format!("geometry type {other} is not Polygon or MultiPolygon")),
    }
}

fn parse_polygon(v: &Value) -> Result<Polygon<f64>, String> {
    let rings = v.as_array().ok_or("polygon is not an array of rings")?;
    let mut rings = rings.iter().map(parse_ring);
    let exterior = rings.next().ok_or("polygon has no rings")??;
    let holes = rings.collect::<Result<Vec<_>, _>>()?;
    Ok(Polygon::new(exterior, holes))
}

fn parse_ring(v: &Value) -> Result<LineString<f64>, String> {
    let positions = v.as_array().ok_or("ring is not an array of positions")?;
    let mut coords = Vec::with_capacity(positions.len());
    for p in positions {
        let xy = p
            .as_array()
            .filter(|a| a.len() >= 2)
            .ok_or("position is not [lon, lat]")?;
        let x = xy[0].as_f64().ok_or("longitude is not a number")?;
        let y = xy[1].as_f64().ok_or("latitude is not a number")?;
        coords.push(Coord { x, y });
    }
    // Checked here: geo's Polygon::new would silently close an open ring.
    if coords.len() >= 2 && coords.first() != coords.last() {
        return Err("a ring is not closed (first and last positions differ)".into());
    }
    Ok(LineString::new(coords))
}

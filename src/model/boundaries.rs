//! Reading one boundary layer (a GeoJSON FeatureCollection) and validating it.
//!
//! Validation is deliberately strict: a wrong file in the data directory must stop
//! start-up with a message naming the file and the feature, not produce wrong answers.

use std::collections::HashSet;
use std::path::Path;

use geo::{Area, BoundingRect, Coord, LineString, MultiPolygon, Polygon, Rect};
use serde_json::Value;

use super::DataError;

/// What a layer file must look like (built from its manifest entry by [`load_layer`]).
pub struct FileShape<'a> {
    pub file: &'a str,
    pub code_property: &'a str,
    pub name_property: &'a str,
    /// `None` when any non-zero number of features is acceptable.
    pub expected_count: Option<usize>,
    /// Accepted GSS code prefixes (entity codes), e.g. `E54`.
    pub code_prefixes: &'a [&'a str],
}

/// One named area of a layer, with its validated geometry.
#[derive(Debug, Clone)]
pub struct AreaFeature {
    pub code: String,
    pub name: String,
    pub geometry: MultiPolygon<f64>,
    pub bbox: Rect<f64>,
}

/// Reads and validates the layer file of a manifest entry.
pub fn load_layer(dir: &Path, spec: &super::manifest::LayerSpec) -> Result<Vec<AreaFeature>, DataError> {
    let prefixes: Vec<&str> = spec.code_prefixes.iter().map(String::as_str).collect();
    // The manifest check guarantees a file and both property names for layers loaded here.
    let shape = FileShape {
        file: spec.file.as_deref().unwrap_or_default(),
        code_property: spec.code_property.as_deref().unwrap_or_default(),
        name_property: spec.name_property.as_deref().unwrap_or_default(),
        expected_count: Some(spec.count),
        code_prefixes: &prefixes,
    };
    let path = dir.join(shape.file);
    let text = read_regular_file(&path)?;
    parse_layer(&path, &text, &shape)
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

/// Parses and validates layer text; `path` is only used in messages.
pub fn parse_layer(path: &Path, text: &str, spec: &FileShape<'_>) -> Result<Vec<AreaFeature>, DataError> {
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
    let features = root
        .get("features")
        .and_then(Value::as_array)
        .ok_or_else(|| DataError::file(path, "FeatureCollection has no \"features\" array"))?;

    let mut seen = HashSet::new();
    let mut out = Vec::with_capacity(features.len());
    for (i, feature) in features.iter().enumerate() {
        let label = format!("#{i}");
        let props = feature
            .get("properties")
            .and_then(Value::as_object)
            .ok_or_else(|| DataError::feature(path, &label, "has no properties object"))?;
        let code = props
            .get(spec.code_property)
            .and_then(Value::as_str)
            .ok_or_else(|| {
                DataError::feature(
                    path,
                    &label,
                    format!("has no string property \"{}\"", spec.code_property),
                )
            })?
            .trim()
            .to_string();
        if !is_gss_code(&code, spec.code_prefixes) {
            return Err(DataError::feature(
                path,
                &label,
                format!(
                    "code {code:?} is not a GSS code starting with {}",
                    spec.code_prefixes.join(" or ")
                ),
            ));
        }
        let name = props
            .get(spec.name_property)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .ok_or_else(|| {
                DataError::feature(
                    path,
                    &code,
                    format!("has no non-empty property \"{}\"", spec.name_property),
                )
            })?
            .to_string();
        if !seen.insert(code.clone()) {
            return Err(DataError::feature(path, &code, "code appears more than once"));
        }
        let geometry_json = feature
            .get("geometry")
            .filter(|g| !g.is_null())
            .ok_or_else(|| DataError::feature(path, &code, "has no geometry"))?;
        let geometry = parse_geometry(geometry_json).map_err(|p| DataError::feature(path, &code, p))?;
        validate_geometry(&geometry).map_err(|p| DataError::feature(path, &code, p))?;
        let bbox = geometry
            .bounding_rect()
            .ok_or_else(|| DataError::feature(path, &code, "geometry is empty"))?;
        out.push(AreaFeature {
            code,
            name,
            geometry,
            bbox,
        });
    }
    if let Some(expected) = spec.expected_count {
        if out.len() != expected {
            return Err(DataError::file(
                path,
                format!("expected {expected} features, found {}", out.len()),
            ));
        }
    } else if out.is_empty() {
        return Err(DataError::file(path, "has no features"));
    }
    Ok(out)
}

/// A GSS code: one of the prefixes (letter + two digits) followed by six digits.
pub fn is_gss_code(code: &str, prefixes: &[&str]) -> bool {
    code.len() == 9 && prefixes.iter().any(|p| code.starts_with(p)) && code[3..].bytes().all(|b| b.is_ascii_digit())
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

/// Structural validity: WGS84 range, closed rings of at least four positions, non-zero
/// area. Full OGC validity (no self-intersection) is checked by `check-data`, which
/// can afford the time; see [`ogc_problems`].
fn validate_geometry(mp: &MultiPolygon<f64>) -> Result<(), String> {
    if mp.0.is_empty() {
        return Err("geometry has no polygons".into());
    }
    for (pi, poly) in mp.0.iter().enumerate() {
        for (ri, ring) in std::iter::once(poly.exterior()).chain(poly.interiors()).enumerate() {
            let where_ = format!("polygon {pi} ring {ri}");
            if ring.0.len() < 4 {
                return Err(format!("{where_} has {} positions (at least 4 needed)", ring.0.len()));
            }
            if let Some(c) = ring.0.iter().find(|c| !super::coordinates::is_valid(c.x, c.y)) {
                return Err(format!("{where_} has position ({}, {}) outside WGS84 range", c.x, c.y));
            }
        }
        if poly.unsigned_area() == 0.0 {
            return Err(format!("polygon {pi} has zero area"));
        }
    }
    Ok(())
}

/// Full OGC validity problems (self-intersections, holes outside shells, …), one line each.
pub fn ogc_problems(mp: &MultiPolygon<f64>) -> Vec<String> {
    use geo::algorithm::Validation;
    mp.validation_errors().iter().map(ToString::to_string).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPEC: FileShape<'static> = FileShape {
        file: "x.geojson",
        code_property: "cd",
        name_property: "nm",
        expected_count: Some(1),
        code_prefixes: &["E54"],
    };

    fn parse(text: &str) -> Result<Vec<AreaFeature>, DataError> {
        parse_layer(Path::new("x.geojson"), text, &SPEC)
    }

    const SQUARE: &str = r#"{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1],[0,0]]]}"#;

    fn fc(props: &str, geom: &str) -> String {
        format!(
            r#"{{"type":"FeatureCollection","features":[{{"type":"Feature","properties":{props},"geometry":{geom}}}]}}"#
        )
    }

    #[test]
    fn accepts_a_valid_layer() {
        let layer = parse(&fc(r#"{"cd":"E54000005","nm":"West Yorkshire"}"#, SQUARE)).unwrap();
        assert_eq!(layer[0].code, "E54000005");
        assert_eq!(layer[0].bbox.max().x, 1.0);
    }

    #[test]
    fn rejects_bad_codes_names_and_geometry() {
        let cases = [
            (fc(r#"{"cd":"E38000005","nm":"x"}"#, SQUARE), "not a GSS code"),
            (fc(r#"{"cd":"E5400005","nm":"x"}"#, SQUARE), "not a GSS code"),
            (fc(r#"{"cd":"E54000005","nm":" "}"#, SQUARE), "non-empty property"),
            (fc(r#"{"cd":"E54000005","nm":"x"}"#, "null"), "no geometry"),
            (
                fc(
                    r#"{"cd":"E54000005","nm":"x"}"#,
                    r#"{"type":"Point","coordinates":[0,0]}"#,
                ),
                "not Polygon or MultiPolygon",
            ),
            (
                fc(
                    r#"{"cd":"E54000005","nm":"x"}"#,
                    r#"{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0.5]]]}"#,
                ),
                "not closed",
            ),
            (
                fc(
                    r#"{"cd":"E54000005","nm":"x"}"#,
                    r#"{"type":"Polygon","coordinates":[[[0,0],[1,0],[0,0]]]}"#,
                ),
                "at least 4",
            ),
            (
                fc(
                    r#"{"cd":"E54000005","nm":"x"}"#,
                    r#"{"type":"Polygon","coordinates":[[[0,0],[500,0],[1,1],[0,0]]]}"#,
                ),
                "outside WGS84",
            ),
            (
                fc(
                    r#"{"cd":"E54000005","nm":"x"}"#,
                    r#"{"type":"Polygon","coordinates":[[[0,0],[1,1],[2,2],[0,0]]]}"#,
                ),
                "zero area",
            ),
            ("[1,2]".to_string(), "not a GeoJSON FeatureCollection"),
            ("{not json".to_string(), "not valid GeoJSON"),
        ];
        for (text, expected) in cases {
            let err = parse(&text).unwrap_err().to_string();
            assert!(err.contains(expected), "{err:?} should mention {expected:?}");
            assert!(err.starts_with("x.geojson"), "{err:?} should name the file");
        }
    }

    #[test]
    fn rejects_wrong_counts_and_duplicates() {
        let two = r#"{"type":"FeatureCollection","features":[
            {"type":"Feature","properties":{"cd":"E54000005","nm":"a"},"geometry":GEOM},
            {"type":"Feature","properties":{"cd":"E54000005","nm":"b"},"geometry":GEOM}]}"#
            .replace("GEOM", SQUARE);
        assert!(parse(&two).unwrap_err().to_string().contains("more than once"));
        let empty = r#"{"type":"FeatureCollection","features":[]}"#;
        assert!(parse(empty)
            .unwrap_err()
            .to_string()
            .contains("expected 1 features, found 0"));
    }
}

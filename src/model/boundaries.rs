//! Reading one boundary layer (a GeoJSON FeatureCollection) and validating it.
//!
//! Validation is deliberately strict: a wrong file in the data directory must stop
//! start-up with a message naming the file and the feature, not produce wrong answers.

use std::collections::HashSet;
use std::path::Path;

use geo::{Area, MultiPolygon, Rect};
use serde_json::Value;

use super::source::{DataSource, RawFeature};
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
    /// Shared with the default view's alliances and STPs (not copied).
    pub geometry: std::sync::Arc<MultiPolygon<f64>>,
    pub bbox: Rect<f64>,
}

/// Reads and validates the layer file of a manifest entry.
pub fn load_layer(source: &DataSource, spec: &super::manifest::LayerSpec) -> Result<Vec<AreaFeature>, DataError> {
    let prefixes: Vec<&str> = spec.code_prefixes.iter().map(String::as_str).collect();
    // The manifest check guarantees a file and both property names for layers loaded here.
    let shape = FileShape {
        file: spec.file.as_deref().unwrap_or_default(),
        code_property: spec.code_property.as_deref().unwrap_or_default(),
        name_property: spec.name_property.as_deref().unwrap_or_default(),
        expected_count: Some(spec.count),
        code_prefixes: &prefixes,
    };
    let features = source.features(shape.file)?;
    validate_layer(&source.path(shape.file), features, &shape)
}

/// Parses and validates layer text; `path` is only used in messages.
pub fn parse_layer(path: &Path, text: &str, spec: &FileShape<'_>) -> Result<Vec<AreaFeature>, DataError> {
    validate_layer(path, super::source::parse_feature_collection(path, text)?, spec)
}

/// Checks a layer's features against its shape: codes, names, uniqueness, geometry, count.
pub fn validate_layer(
    path: &Path,
    features: Vec<RawFeature>,
    spec: &FileShape<'_>,
) -> Result<Vec<AreaFeature>, DataError> {
    let mut seen = HashSet::new();
    let mut out = Vec::with_capacity(features.len());
    for (i, feature) in features.into_iter().enumerate() {
        let label = format!("#{i}");
        let props = &feature.properties;
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
        let geometry = feature.geometry.map_err(|p| DataError::feature(path, &code, p))?;
        let bbox = validate_geometry(&geometry).map_err(|p| DataError::feature(path, &code, p))?;
        out.push(AreaFeature {
            code,
            name,
            geometry: std::sync::Arc::new(geometry),
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

/// Structural validity: WGS84 range, closed rings of at least four positions, non-zero
/// area; gives the bounding box, found in the same pass. Full OGC validity (no
/// self-intersection) is checked by `check-data`, which can afford the time; see
/// [`ogc_problems`].
fn validate_geometry(mp: &MultiPolygon<f64>) -> Result<Rect<f64>, String> {
    if mp.0.is_empty() {
        return Err("geometry has no polygons".into());
    }
    let (mut min, mut max) = ([f64::INFINITY; 2], [f64::NEG_INFINITY; 2]);
    for (pi, poly) in mp.0.iter().enumerate() {
        for (ri, ring) in std::iter::once(poly.exterior()).chain(poly.interiors()).enumerate() {
            if ring.0.len() < 4 {
                return Err(format!(
                    "polygon {pi} ring {ri} has {} positions (at least 4 needed)",
                    ring.0.len()
                ));
            }
            for c in &ring.0 {
                if !super::coordinates::is_valid(c.x, c.y) {
                    return Err(format!(
                        "polygon {pi} ring {ri} has position ({}, {}) outside WGS84 range",
                        c.x, c.y
                    ));
                }
                min = [min[0].min(c.x), min[1].min(c.y)];
                max = [max[0].max(c.x), max[1].max(c.y)];
            }
        }
        if poly.unsigned_area() == 0.0 {
            return Err(format!("polygon {pi} has zero area"));
        }
    }
    Ok(Rect::new(
        geo::Coord { x: min[0], y: min[1] },
        geo::Coord { x: max[0], y: max[1] },
    ))
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

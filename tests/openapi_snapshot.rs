//! Contract tier: the OpenAPI document (`api::openapi::document`) built from the synthetic
//! manifest, pinned by an insta snapshot (`tests/snapshots/`), so any change to a path, a
//! parameter, a schema or a documented response shows up in review. After an intended change,
//! run `INSTA_UPDATE=always cargo test --test openapi_snapshot` (or `cargo insta review`) and
//! commit the new `.snap`.

#[path = "support/mod.rs"]
mod support;

use alliance_map::api::openapi::document;
use serde_json::Value;

fn openapi() -> Value {
    serde_json::to_value(document(&support::manifest())).expect("the document serializes")
}

#[test]
fn the_openapi_document_matches_the_snapshot() {
    insta::assert_json_snapshot!("openapi", openapi());
}

/// `(path, method, operation)` for every operation in the document.
fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let paths = doc["paths"].as_object().expect("paths");
    let mut ops = Vec::new();
    for (path, item) in paths {
        for (method, op) in item.as_object().expect("a path item") {
            if ["get", "post", "put", "patch", "delete", "head", "options"].contains(&method.as_str()) {
                ops.push((path.clone(), method.clone(), op.clone()));
            }
        }
    }
    ops
}

#[test]
fn every_operation_documents_a_success_and_problems_for_its_errors() {
    let doc = openapi();
    let ops = operations(&doc);
    assert!(ops.len() >= 16, "{} operations", ops.len());
    let mut problems = 0;
    for (path, method, op) in &ops {
        let responses = op["responses"]
            .as_object()
            .unwrap_or_else(|| panic!("{method} {path}: responses"));
        assert!(
            responses.keys().any(|status| status.starts_with('2')),
            "{method} {path} documents no 2xx response: {:?}",
            responses.keys().collect::<Vec<_>>()
        );
        for (status, response) in responses {
            if !status.starts_with('4') {
                continue;
            }
            let content = response["content"]
                .as_object()
                .unwrap_or_else(|| panic!("{method} {path} {status}: no content"));
            let problem = &content
                .get("application/problem+json")
                .unwrap_or_else(|| panic!("{method} {path} {status}: not application/problem+json: {response}"))
                ["schema"];
            assert_eq!(
                problem["$ref"], "#/components/schemas/Problem",
                "{method} {path} {status}: {response}"
            );
            problems += 1;
        }
    }
    assert!(problems >= 15, "{problems} problem responses");
    // The Problem schema itself names what the API promises.
    let problem = &doc["components"]["schemas"]["Problem"];
    let properties = problem["properties"].as_object().expect("Problem properties");
    for field in ["type", "title", "status", "detail", "parameter", "pointer"] {
        assert!(properties.contains_key(field), "Problem.{field}: {problem}");
    }
}

#[test]
fn the_document_covers_the_api_routes_and_carries_the_manifests_licence() {
    let doc = openapi();
    let documented: Vec<(String, String)> = operations(&doc).into_iter().map(|(p, m, _)| (m, p)).collect();
    for (method, path) in [
        ("get", "/healthz"),
        ("get", "/readyz"),
        ("get", "/api/v1/config"),
        ("get", "/api/v1/boundaries/{layer}"),
        ("get", "/api/v1/lookup"),
        ("post", "/api/v1/lookup"),
        ("get", "/api/v1/alliances"),
        ("get", "/api/v1/alliances/{code}"),
        ("get", "/api/v1/alliances/{code}/geometry"),
        ("get", "/api/v1/stps"),
        ("get", "/api/v1/stps/{code}"),
        ("get", "/api/v1/stps/{code}/geometry"),
        ("get", "/api/v1/postcodes"),
        ("post", "/api/v1/postcodes"),
        ("get", "/api/v1/postcodes/{postcode}"),
        ("get", "/api/v1/outcodes/{outcode}"),
    ] {
        assert!(
            documented.contains(&(method.to_string(), path.to_string())),
            "{method} {path} is not documented"
        );
    }
    let manifest = support::manifest();
    let description = doc["info"]["description"].as_str().unwrap();
    assert!(description.contains(&manifest.title), "{description}");
    assert!(description.contains(&manifest.attribution), "{description}");
    assert_eq!(
        doc["info"]["license"]["name"],
        format!("Data: {}", manifest.licence.name)
    );
    assert_eq!(doc["info"]["license"]["url"], manifest.licence.url);
}

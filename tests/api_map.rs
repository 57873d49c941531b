//! End-to-end: what the map page needs — boundary documents, static files, docs, config.

mod common;

use std::collections::HashMap;

use common::{assert_problem, get_json, server};

fn raw_client() -> reqwest::Client {
    reqwest::Client::builder().no_gzip().no_brotli().build().unwrap()
}

async fn fetch(path: &str, headers: &[(&str, &str)]) -> reqwest::Response {
    let mut req = raw_client().get(format!("{}{path}", server()));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    req.send().await.unwrap()
}

async fn geojson(path: &str) -> serde_json::Value {
    let r = fetch(path, &[]).await;
    assert_eq!(r.status(), 200, "{path}");
    assert_eq!(r.headers()["content-type"], "application/geo+json");
    r.json().await.unwrap()
}

#[tokio::test]
async fn boundary_documents_have_all_areas_and_colours() {
    let alliances = geojson("/api/v1/boundaries/alliances.geojson").await;
    let features = alliances["features"].as_array().unwrap();
    assert_eq!(features.len(), 19);
    assert!(features
        .iter()
        .all(|f| f["properties"]["colour"].as_str().unwrap().starts_with('#')));
    let stps = geojson("/api/v1/boundaries/stps.geojson?detail=overview").await;
    assert_eq!(stps["features"].as_array().unwrap().len(), 44);
    let countries = geojson("/api/v1/boundaries/countries.geojson").await;
    assert_eq!(countries["features"].as_array().unwrap().len(), 4);
    let full = geojson("/api/v1/boundaries/alliances.geojson?detail=full").await;
    let count = |v: &serde_json::Value| v.to_string().matches("],[").count();
    assert!(count(&full) > 5 * count(&alliances), "overview is simplified");
}

type Edge = ((i64, i64), (i64, i64));

/// Undirected edges of every ring, with how many times each is used.
fn edge_uses(doc: &serde_json::Value) -> HashMap<Edge, usize> {
    let key = |p: &serde_json::Value| {
        (
            (p[0].as_f64().unwrap() * 1e5).round() as i64,
            (p[1].as_f64().unwrap() * 1e5).round() as i64,
        )
    };
    let mut uses = HashMap::new();
    for f in doc["features"].as_array().unwrap() {
        for polygon in f["geometry"]["coordinates"].as_array().unwrap() {
            for ring in polygon.as_array().unwrap() {
                let pts: Vec<_> = ring.as_array().unwrap().iter().map(key).collect();
                for w in pts.windows(2) {
                    let e = if w[0] <= w[1] { (w[0], w[1]) } else { (w[1], w[0]) };
                    *uses.entry(e).or_insert(0) += 1;
                }
            }
        }
    }
    uses
}

#[tokio::test]
async fn overview_neighbours_share_their_borders_exactly() {
    let alliances = edge_uses(&geojson("/api/v1/boundaries/alliances.geojson").await);
    let stps = edge_uses(&geojson("/api/v1/boundaries/stps.geojson").await);
    // Independent simplification would leave each side of a border with its own edges,
    // all used once; shared simplification gives interior edges used exactly twice.
    let outer = |uses: &HashMap<Edge, usize>| {
        let mut v: Vec<Edge> = uses.iter().filter(|(_, &n)| n == 1).map(|(e, _)| *e).collect();
        v.sort();
        v
    };
    let twice = alliances.values().filter(|&&n| n == 2).count();
    assert!(twice > 1000, "{twice} shared edges");
    assert!(alliances.values().all(|&n| n <= 2), "no edge used by three rings");
    // The outline of England (edges used once) is the same in both layers: no slivers or gaps
    // open between the alliances that the STPs do not also have.
    assert_eq!(outer(&alliances), outer(&stps));
    // And every alliance border edge is an STP edge too (alliances are unions of CCGs, and
    // where they split an STP, that CCG border is drawn in both layers).
    let missing = alliances.keys().filter(|e| !stps.contains_key(e)).count();
    assert!(
        missing * 100 < alliances.len(),
        "{missing} of {} alliance edges missing from the STPs",
        alliances.len()
    );
}

#[tokio::test]
async fn touching_alliances_never_share_a_colour() {
    let doc = geojson("/api/v1/boundaries/alliances.geojson?detail=full").await;
    let features = doc["features"].as_array().unwrap();
    // Neighbours from the full geometry, independently of the server: two alliances that
    // share at least one edge.
    let mut owner: HashMap<Edge, usize> = HashMap::new();
    let mut touching = std::collections::BTreeSet::new();
    for (i, f) in features.iter().enumerate() {
        let single = serde_json::json!({"features": [f]});
        for e in edge_uses(&single).keys() {
            if let Some(&j) = owner.get(e) {
                if j != i {
                    touching.insert((j.min(i), j.max(i)));
                }
            } else {
                owner.insert(*e, i);
            }
        }
    }
    assert!(touching.len() >= 30, "{} neighbouring pairs", touching.len());
    for (a, b) in touching {
        let (fa, fb) = (&features[a]["properties"], &features[b]["properties"]);
        assert_ne!(fa["colour"], fb["colour"], "{} and {} touch", fa["name"], fb["name"]);
    }
}

#[tokio::test]
async fn boundary_documents_are_cacheable_and_compressed() {
    let r = fetch("/api/v1/boundaries/alliances.geojson", &[("accept-encoding", "br")]).await;
    assert_eq!(r.headers()["content-encoding"], "br");
    let etag = r.headers()["etag"].to_str().unwrap().to_string();
    assert!(etag.starts_with('"') && !etag.starts_with("W/"), "strong ETag {etag}");
    assert!(r.headers()["cache-control"].to_str().unwrap().contains("max-age"));
    let br_alliances = r.bytes().await.unwrap().len();
    let again = fetch(
        "/api/v1/boundaries/alliances.geojson",
        &[("accept-encoding", "br"), ("if-none-match", &etag)],
    )
    .await;
    assert_eq!(again.status(), 304);
    // The brotli variant's tag does not validate the identity representation.
    let plain = fetch("/api/v1/boundaries/alliances.geojson", &[("if-none-match", &etag)]).await;
    assert_eq!(plain.status(), 200);
    assert_ne!(plain.headers()["etag"].to_str().unwrap(), etag);
    let stps = fetch("/api/v1/boundaries/stps.geojson", &[("accept-encoding", "gzip")]).await;
    assert_eq!(stps.headers()["content-encoding"], "gzip");
    let gz_stps = stps.bytes().await.unwrap().len();
    let gz_alliances = fetch("/api/v1/boundaries/alliances.geojson", &[("accept-encoding", "gzip")])
        .await
        .bytes()
        .await
        .unwrap()
        .len();
    assert!(
        gz_alliances + gz_stps <= 300 * 1024,
        "overview gzip {gz_alliances} + {gz_stps} bytes"
    );
    assert!(br_alliances < gz_alliances);
    let plain = fetch("/api/v1/boundaries/alliances.geojson", &[]).await;
    assert!(plain.headers().get("content-encoding").is_none());
}

#[tokio::test]
async fn boundary_request_errors() {
    let got = get_json("/api/v1/boundaries/alliances.geojson?detail=high").await;
    assert_problem(&got, 400, "overview or full");
    assert_eq!(got.2["parameter"], "detail");
    assert_problem(
        &get_json("/api/v1/boundaries/ccgs.geojson").await,
        404,
        "boundary layers are",
    );
    assert_problem(
        &get_json("/api/v1/boundaries/alliances.geojson?zoom=3").await,
        400,
        "unknown",
    );
}

#[tokio::test]
async fn the_page_and_its_assets_are_served() {
    for (path, ct) in [
        ("/", "text/html"),
        ("/?postcode=LS1%201AZ", "text/html"),
        ("/docs", "text/html"),
        ("/assets/app.js", "text/javascript"),
        ("/assets/boot.js", "text/javascript"),
        ("/assets/maplibre-gl.js", "text/javascript"),
        ("/assets/maplibre-gl-csp-worker.js", "text/javascript"),
        ("/assets/maplibre-gl.css", "text/css"),
        ("/assets/style.css", "text/css"),
        ("/assets/favicon.svg", "image/svg+xml"),
    ] {
        let r = fetch(path, &[]).await;
        assert_eq!(r.status(), 200, "{path}");
        assert!(r.headers()["content-type"].to_str().unwrap().starts_with(ct), "{path}");
        assert!(r.headers().contains_key("etag"), "{path}");
    }
    let page = fetch("/", &[]).await.text().await.unwrap();
    assert!(page.contains("Contains OS data © Crown copyright and database right"));
    // Links to licences are fine; nothing the page loads (scripts, styles, images, fonts) may
    // come from elsewhere.
    for loads in [
        "src=\"http",
        "src='http",
        "rel=\"stylesheet\" href=\"http",
        "url(http",
        "@import",
    ] {
        assert!(!page.contains(loads), "the page loads nothing from elsewhere ({loads})");
    }
    let credited = page.contains("<a href=\"https://www.geonames.org/\">GeoNames</a>");
    assert!(credited, "the GeoNames credit links its source");
}

#[tokio::test]
async fn static_serving_cannot_escape_its_table() {
    for path in [
        "/assets/..%2FCargo.toml",
        "/assets/%2e%2e%2fCargo.toml",
        "/assets/..%5CCargo.toml",
        "/assets/app.js%00.png",
        "/assets/%C0%AE%C0%AE%2FCargo.toml",
        "/assets/",
        "/assets/node_modules",
        "/../Cargo.toml",
        "/web/app.js",
    ] {
        let r = fetch(path, &[]).await;
        // 404 for names not in the table; 400 where the path does not even decode.
        assert!(matches!(r.status().as_u16(), 400 | 404), "{path}: {}", r.status());
        assert_eq!(r.headers()["content-type"], "application/problem+json", "{path}");
    }
}

#[tokio::test]
async fn openapi_document_lists_every_endpoint_and_the_licence() {
    let (s, _, v) = get_json("/api/v1/openapi.json").await;
    assert_eq!(s, 200);
    let paths: Vec<&String> = v["paths"].as_object().unwrap().keys().collect();
    for p in [
        "/api/v1/lookup",
        "/api/v1/alliances/{code}",
        "/api/v1/stps/{code}/geometry",
        "/api/v1/postcodes",
        "/api/v1/postcodes/{postcode}",
        "/api/v1/outcodes/{outcode}",
        "/api/v1/boundaries/{layer}",
        "/api/v1/config",
        "/healthz",
    ] {
        assert!(paths.iter().any(|x| x.as_str() == p), "{p} in {paths:?}");
    }
    assert!(v["info"]["description"]
        .as_str()
        .unwrap()
        .contains("Contains OS data © Crown copyright"));
    assert!(v["components"]["schemas"]["LookupResult"].is_object());
}

#[tokio::test]
async fn config_has_no_basemap_by_default() {
    let (s, _, v) = get_json("/api/v1/config").await;
    assert_eq!(s, 200);
    assert!(v["basemap"].is_null());
    assert!(v["attribution"].as_str().unwrap().contains("Open Government Licence"));
}

#[tokio::test]
async fn surroundings_name_the_local_authority_district() {
    for (lon, lat, code, name) in [
        (-1.5492, 53.7997, "E08000035", "Leeds"),
        (-1.4214, 53.2350, "E07000034", "Chesterfield"),
        (-0.1115, 51.4964, "E09000022", "Lambeth"),
        // The file holds Great Britain's districts: Scotland's are named too.
        (-3.1883, 55.9533, "S12000036", "City of Edinburgh"),
    ] {
        let (s, _, v) = get_json(&format!("/api/v1/surroundings?lon={lon}&lat={lat}")).await;
        assert_eq!(s, 200, "{v}");
        assert_eq!(
            (v["district"]["code"].as_str(), v["district"]["name"].as_str()),
            (Some(code), Some(name)),
            "{v}"
        );
    }
    // Edinburgh: no alliance border within 100 m; at sea, no district.
    let (_, _, v) = get_json("/api/v1/surroundings?lon=-3.1883&lat=55.9533").await;
    assert!(v["border"].is_null(), "{v}");
    let (_, _, v) = get_json("/api/v1/surroundings?lon=-4.0&lat=54.3").await;
    assert!(v["district"].is_null() && v["border"].is_null(), "{v}");
}

#[tokio::test]
async fn the_alliance_list_and_config_come_compressed() {
    for path in ["/api/v1/alliances", "/api/v1/config", "/api/v1/editions"] {
        let r = fetch(path, &[("accept-encoding", "gzip, deflate, br")]).await;
        assert_eq!(r.status(), 200, "{path}");
        assert_eq!(r.headers()["content-encoding"], "br", "{path}");
        assert!(
            r.headers()["vary"].to_str().unwrap().contains("accept-encoding"),
            "{path}"
        );
    }
    let r = fetch(
        "/api/v1/lookup?lon=-1.5492&lat=53.7997",
        &[("accept-encoding", "gzip, deflate, br")],
    )
    .await;
    assert!(
        r.headers().get("content-encoding").is_none(),
        "a single lookup is sent as it is"
    );
}

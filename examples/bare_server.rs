//! The yardstick for the HTTP overhead benchmark (`scripts/bench-http-overhead.sh`): a bare
//! axum server (`axum::serve`, no middleware) answering every `GET /api/v1/lookup` with a
//! fixed JSON body the size of a real lookup answer. alliance-map's single lookups are
//! measured against it side by side.
//!
//!     cargo run --release --example bare_server -- 127.0.0.1:18100

use axum::http::header;
use axum::routing::get;
use axum::Router;

/// A real answer (Leeds), as `GET /api/v1/lookup?lon=-1.5492&lat=53.7997` returns it.
const BODY: &str = r#"{"lon":-1.5492,"lat":53.7997,"match":"contains","distance_m":0.0,"alliance":{"code":"E56000003","name":"West Yorkshire","kind":"cancer_alliance","edition":"CALNCV17"},"stp":{"code":"E54000005","name":"West Yorkshire"},"footprint":{"code":"E54000005","name":"West Yorkshire","kind":"stp","edition":"STP17"},"sub_area":{"code":"E38000095","name":"NHS Leeds South and East CCG","kind":"ccg","edition":"CCG17"},"country":"England","as_of":"2017-04-01"}"#;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:18100".into());
    let app = Router::new().route(
        "/api/v1/lookup",
        get(|| async { ([(header::CONTENT_TYPE, "application/json")], BODY) }),
    );
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    eprintln!("bare server on http://{addr}/api/v1/lookup");
    axum::serve(listener, app).await
}

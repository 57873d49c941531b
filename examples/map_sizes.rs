//! Prints the size of each boundary document, raw and compressed, and the vertex counts.
//! Run: `cargo run --release --example map_sizes`.

use alliance_map::atlas::Atlas;
use alliance_map::maplayers::asset::Encoding;
use alliance_map::maplayers::{Detail, Layer};

fn main() {
    let dir = std::env::var_os("ALLIANCE_MAP_DATA").map_or_else(|| "../shared/data".into(), std::path::PathBuf::from);
    let service = Atlas::load_boundaries(&dir, 2000.0).expect("data loads");
    let started = std::time::Instant::now();
    let layers = service.map_layers();
    println!("built in {} ms", started.elapsed().as_millis());
    let mut overview_total = (0, 0, 0);
    for layer in [Layer::Alliances, Layer::Stps, Layer::Countries] {
        for detail in [Detail::Overview, Detail::Full] {
            let doc = layers.document(layer, detail);
            let (raw, gz, br) = (
                doc.len(),
                doc.encoded(Encoding::Gzip).len(),
                doc.encoded(Encoding::Brotli).len(),
            );
            println!("{layer:?} {detail:?}: {raw} bytes, gzip {gz}, brotli {br}");
            if detail == Detail::Overview && layer != Layer::Countries {
                overview_total = (overview_total.0 + raw, overview_total.1 + gz, overview_total.2 + br);
            }
        }
    }
    println!(
        "overview alliances + STPs: {} bytes, gzip {}, brotli {}",
        overview_total.0, overview_total.1, overview_total.2
    );
}

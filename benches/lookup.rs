//! Point lookup (alliance + STP): the grid-accelerated `locate` against the exact R-tree
//! path, over random points in England's bounding box, random points inside England and the
//! 1.7 M postcode locations. Run: `cargo bench --bench lookup`. Results: docs/PERFORMANCE.md.

use std::hint::black_box;
use std::path::PathBuf;

use alliance_map::service::{Options, Service};
use criterion::{criterion_group, criterion_main, Criterion};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

/// England's bounding box (from the alliance boundaries, rounded outwards).
pub const ENGLAND_BBOX: [f64; 4] = [-6.42, 49.86, 1.77, 55.82];

fn data_dir() -> PathBuf {
    std::env::var_os("ALLIANCE_MAP_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data"))
}

fn random_points(n: usize, seed: u64) -> Vec<(f64, f64)> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    (0..n)
        .map(|_| {
            (
                rng.gen_range(ENGLAND_BBOX[0]..ENGLAND_BBOX[2]),
                rng.gen_range(ENGLAND_BBOX[1]..ENGLAND_BBOX[3]),
            )
        })
        .collect()
}

fn bench_lookup(c: &mut Criterion) {
    let service = Service::load(&data_dir(), &Options::default()).expect("data loads");
    let locator = &service.locator;
    let random = random_points(100_000, 1);
    let inland: Vec<_> = random
        .iter()
        .copied()
        .filter(|&(x, y)| locator.locate(x, y).stp.is_some())
        .collect();
    let source = data_dir().join("postcodes/codepo_gb.zip");
    let cache_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".cache");
    let mut postcodes: Vec<(f64, f64)> = alliance_map::postcode::cache::load_or_build(&source, &service, &cache_dir)
        .map(|idx| {
            idx.records()
                .iter()
                .map(|r| (r.lon as f64 / 1e6, r.lat as f64 / 1e6))
                .collect()
        })
        .unwrap_or_default();
    postcodes.shuffle(&mut rand::rngs::StdRng::seed_from_u64(9));
    println!(
        "grid: {:.1} % of cells answered directly, {} bytes",
        locator.grid().coverage() * 100.0,
        locator.grid().memory_bytes()
    );

    let mut group = c.benchmark_group("point_lookup");
    let series = [
        ("random_england_bbox", &random),
        ("random_inside_england", &inland),
        ("postcode_locations", &postcodes),
    ];
    for (name, points) in series {
        if points.is_empty() {
            continue;
        }
        let mut i = 0;
        group.bench_function(format!("fast/{name}"), |b| {
            b.iter(|| {
                i = (i + 1) % points.len();
                let (x, y) = points[i];
                black_box(locator.locate(black_box(x), black_box(y)))
            })
        });
        let mut j = 0;
        group.bench_function(format!("exact/{name}"), |b| {
            b.iter(|| {
                j = (j + 1) % points.len();
                let (x, y) = points[j];
                black_box(locator.locate_exact(black_box(x), black_box(y)))
            })
        });
    }
    group.finish();
}

fn bench_startup(c: &mut Criterion) {
    let mut group = c.benchmark_group("startup");
    group.sample_size(10);
    group.bench_function("load_validate_index", |b| {
        b.iter(|| black_box(Service::load(&data_dir(), &Options::default()).expect("data loads")))
    });
    group.finish();
}

criterion_group!(benches, bench_lookup, bench_startup);
criterion_main!(benches);

//! Point lookup (alliance + STP) over random points in England's bounding box.
//!
//! Run: `cargo bench --bench lookup`. Figures and method: docs/PERFORMANCE.md.

use std::hint::black_box;
use std::path::PathBuf;

use alliance_map::service::{Options, Service};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
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
    let points = random_points(100_000, 1);
    let mut i = 0;
    let mut group = c.benchmark_group("point_lookup");
    group.bench_function("locate/random_england_bbox", |b| {
        b.iter_batched(
            || {
                i = (i + 1) % points.len();
                points[i]
            },
            |(x, y)| black_box(service.locator.locate(x, y)),
            BatchSize::SmallInput,
        )
    });
    // Points known to be inside England: the common case for real traffic.
    let inland: Vec<_> = points
        .iter()
        .copied()
        .filter(|&(x, y)| service.locator.locate(x, y).stp.is_some())
        .collect();
    let mut j = 0;
    group.bench_function("locate/random_inside_england", |b| {
        b.iter_batched(
            || {
                j = (j + 1) % inland.len();
                inland[j]
            },
            |(x, y)| black_box(service.locator.locate(x, y)),
            BatchSize::SmallInput,
        )
    });
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

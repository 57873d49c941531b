//! Postcode parsing, single-postcode lookup and index start-up, on the real Code-Point Open
//! index (built into .cache on first run). Figures and method: docs/PERFORMANCE.md.

use std::hint::black_box;
use std::path::PathBuf;

use alliance_map::atlas::Atlas;
use alliance_map::postcode::{cache, file, Postcode};
use criterion::{criterion_group, criterion_main, Criterion};
use rand::seq::SliceRandom;
use rand::SeedableRng;

fn data_dir() -> PathBuf {
    std::env::var_os("ALLIANCE_MAP_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data"))
}

fn bench_postcodes(c: &mut Criterion) {
    let service = Atlas::load_boundaries(&data_dir(), 2000.0).expect("data loads");
    let source = data_dir().join("postcodes/codepo_gb.zip");
    let cache_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".cache");
    let index = cache::load_or_build(&source, &service.data, &service.locators, &cache_dir).expect("postcodes load");
    let cached = cache::cache_path(
        &cache_dir,
        &cache::fingerprint(&source, &service.data, &service.locators),
    );

    // Real postcodes in random order, written as users type them (lower case, no space).
    let mut rng = rand::rngs::StdRng::seed_from_u64(5);
    let mut sample: Vec<String> = (0..index.len())
        .step_by(17)
        .filter_map(|i| index.postcode_at(i))
        .map(|p| p.to_string().to_lowercase().replace(' ', ""))
        .collect();
    sample.shuffle(&mut rng);

    let mut i = 0;
    c.bench_function("postcode/parse", |b| {
        b.iter(|| {
            i = (i + 1) % sample.len();
            black_box(Postcode::parse(black_box(&sample[i])))
        })
    });
    let mut j = 0;
    c.bench_function("postcode/parse_and_lookup", |b| {
        b.iter(|| {
            j = (j + 1) % sample.len();
            let pc = Postcode::parse(&sample[j]).ok()?;
            black_box(index.get(&pc))
        })
    });
    let mut group = c.benchmark_group("postcode_index");
    group.sample_size(10);
    group.bench_function("read_and_verify_file", |b| {
        b.iter(|| black_box(file::read(&cached).expect("index reads")))
    });
    group.finish();
    println!(
        "index: {} postcodes, {} bytes in memory ({:.2} bytes/postcode), file {} bytes",
        index.len(),
        index.memory_bytes(),
        index.memory_bytes() as f64 / index.len() as f64,
        std::fs::metadata(&cached).map(|m| m.len()).unwrap_or(0)
    );
}

criterion_group!(benches, bench_postcodes);
criterion_main!(benches);

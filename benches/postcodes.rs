//! Postcode parsing, single-postcode lookup and index start-up, on the shipped index (the
//! packed data embedded in the binary: OS Code-Point Open 2018 + ONS NSPL May 2025, every
//! edition resolved). Figures and method: docs/PERFORMANCE.md.

use std::hint::black_box;

use alliance_map::pack::{embedded, postcodes};
use alliance_map::postcode::Postcode;
use criterion::{criterion_group, criterion_main, Criterion};
use rand::seq::SliceRandom;
use rand::SeedableRng;

fn bench_postcodes(c: &mut Criterion) {
    let pack = embedded::open().expect("the embedded data opens");
    let payload = || {
        pack.postcode_payload()
            .expect("the embedded data has postcodes")
            .expect("the postcode payload decompresses")
    };
    let index = postcodes::decode(&payload()).expect("the postcode index decodes");

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
    group.bench_function("decompress_and_decode_packed", |b| {
        b.iter(|| black_box(postcodes::decode(&payload()).expect("decodes")))
    });
    group.finish();
    println!(
        "index: {} postcodes from {:?}, {} bytes in memory ({:.2} bytes/postcode including every edition)",
        index.len(),
        index.meta.sources,
        index.memory_bytes(),
        index.memory_bytes() as f64 / index.len() as f64,
    );
}

criterion_group!(benches, bench_postcodes);
criterion_main!(benches);

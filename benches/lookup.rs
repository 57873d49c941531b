//! Point lookup (alliance + STP): the grid-accelerated `locate` against the exact R-tree
//! path, over random points in England's bounding box, random points inside England and the
//! 1.7 M postcode locations. Run: `cargo bench --bench lookup`. Results: docs/PERFORMANCE.md.

use std::hint::black_box;
use std::path::PathBuf;

use alliance_map::atlas::{Atlas, Options};
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
    let service = Atlas::load(
        &alliance_map::model::DataSource::Dir(data_dir().to_path_buf()),
        &Options::default(),
    )
    .expect("data loads");
    let locator = service.locator();
    let random = random_points(100_000, 1);
    let inland: Vec<_> = random
        .iter()
        .copied()
        .filter(|&(x, y)| locator.locate(x, y).footprint.is_some())
        .collect();
    // Postcode locations from the shipped (packed) index.
    let mut postcodes: Vec<(f64, f64)> = alliance_map::pack::embedded::open()
        .ok()
        .and_then(|pack| pack.postcode_payload()?.ok())
        .and_then(|payload| alliance_map::pack::postcodes::decode(&payload).ok())
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

    // Criterion reports means, which the few slow-path points dominate. The per-lookup
    // median needs each lookup timed alone: time 1 M single calls with a clock read on
    // either side, and subtract the median cost of the clock reads themselves.
    for (name, points) in [("random_england_bbox", &random), ("postcode_locations", &postcodes)] {
        let n = points.len().min(1_000_000);
        let fast = median_ns(&points[..n], |x, y| locator.locate(x, y));
        let exact = median_ns(&points[..n], |x, y| locator.locate_exact(x, y));
        let hits = points[..n]
            .iter()
            .filter(|&&(x, y)| locator.grid().get(x, y).is_some())
            .count();
        println!(
            "median per lookup, {name} ({n} points): fast {fast:.0} ns, exact {exact:.0} ns; grid answers {:.1} % of points",
            hits as f64 * 100.0 / n.max(1) as f64
        );
    }

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

    // Every period's lookup, and a full timeline (one lookup per period), per point.
    let every = service.locators();
    for l in &every {
        l.grid();
    }
    let started = std::time::Instant::now();
    let tg = service.timeline_grid();
    println!(
        "timeline grid: built in {} ms, {:.1} % of cells answered directly, {} bytes",
        started.elapsed().as_millis(),
        tg.coverage() * 100.0,
        tg.memory_bytes()
    );
    for (name, points) in [("random_england_bbox", &random), ("postcode_locations", &postcodes)] {
        let n = points.len().min(1_000_000);
        let per_period: Vec<String> = every
            .iter()
            .map(|l| format!("{:.0}", median_ns(&points[..n], |x, y| l.locate(x, y))))
            .collect();
        // One period after another (as before `locate_each`), and `locate_each`, side by side.
        let one_by_one = median_ns(&points[..n], |x, y| {
            let mut out = [None; 16];
            for (o, l) in out.iter_mut().zip(&every) {
                *o = Some(l.locate(x, y));
            }
            out
        });
        let mut each = Vec::with_capacity(service.periods());
        let timeline = median_ns(&points[..n], |x, y| {
            service.locate_every_period(x, y, &mut each);
            each.len()
        });
        println!(
            "median per lookup by period, {name}: [{}] ns; full timeline ({} periods) {timeline:.0} ns from the timeline grid (one period after another: {one_by_one:.0} ns)",
            per_period.join(", "),
            service.periods()
        );
    }
    let mut i = 0;
    let mut each = Vec::with_capacity(service.periods());
    c.bench_function("timeline/random_england_bbox", |b| {
        b.iter(|| {
            i = (i + 1) % random.len();
            let (x, y) = random[i];
            service.locate_every_period(black_box(x), black_box(y), &mut each);
            black_box(each.len())
        })
    });

    // The bulk endpoint's response body: 1000 results serialised to JSON.
    let when = service.default_when();
    let located: Vec<_> = random[..1000]
        .iter()
        .map(|&(x, y)| (x, y, locator.locate(x, y)))
        .collect();
    c.bench_function("bulk_json/encode_1000_results", |b| {
        b.iter(|| {
            let results: Vec<_> = located
                .iter()
                .map(|(x, y, l)| service.data.lookup_result(*x, *y, &when, l, Some(&service.fragments)))
                .collect();
            black_box(serde_json::to_vec(&results).map(|v| v.len()).unwrap_or(0))
        })
    });
}

/// Median nanoseconds of one call of `f`, clock overhead subtracted.
fn median_ns<T>(points: &[(f64, f64)], mut f: impl FnMut(f64, f64) -> T) -> f64 {
    use std::time::Instant;
    let mut times = Vec::with_capacity(points.len());
    let mut overhead = Vec::with_capacity(points.len());
    for &(x, y) in points {
        let t0 = Instant::now();
        black_box(f(black_box(x), black_box(y)));
        times.push(t0.elapsed().as_nanos() as f64);
        let t1 = Instant::now();
        black_box((x, y));
        overhead.push(t1.elapsed().as_nanos() as f64);
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v.get(v.len() / 2).copied().unwrap_or(0.0)
    };
    (median(&mut times) - median(&mut overhead)).max(0.0)
}

fn bench_startup(c: &mut Criterion) {
    let mut group = c.benchmark_group("startup");
    group.sample_size(10);
    // From the official GeoJSON files, and from the packed data embedded in the binary (what
    // a start without --data does), side by side.
    group.bench_function("load_validate_index_files", |b| {
        b.iter(|| {
            black_box(
                Atlas::load(
                    &alliance_map::model::DataSource::Dir(data_dir().to_path_buf()),
                    &Options::default(),
                )
                .expect("data loads"),
            )
        })
    });
    group.bench_function("load_validate_index_embedded", |b| {
        b.iter(|| {
            let pack = alliance_map::pack::embedded::open().expect("the embedded data opens");
            black_box(
                Atlas::load(
                    &alliance_map::model::DataSource::Packed(std::sync::Arc::new(pack)),
                    &Options::default(),
                )
                .expect("data loads"),
            )
        })
    });
    group.finish();
}

criterion_group!(benches, bench_lookup, bench_startup);
criterion_main!(benches);

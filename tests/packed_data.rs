//! The packed data (`data/packed`, compiled into the binary) against the official files it is
//! packed from: packing is deterministic and the committed files are current, and loading
//! them gives the same editions, the same answers at random and border points in every
//! period, and the same index for every postcode as loading the source files.

mod common;

use alliance_map::atlas::{Atlas, Options, PostcodeOptions, PostcodeSource};
use alliance_map::model::DataSource;
use alliance_map::pack::container::{BOUNDARIES, GRIDS, POSTCODES, TABLES};
use rand::{Rng, SeedableRng};

#[test]
fn packing_the_official_files_reproduces_the_committed_packed_data() {
    let out = tempfile::tempdir().unwrap();
    alliance_map::pack::write::pack(
        &common::data_dir(),
        alliance_map::model::manifest::DEFAULT_MANIFEST,
        out.path(),
        alliance_map::locate::DEFAULT_TOLERANCE_M,
    )
    .expect("the official files pack");
    let committed = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data/packed");
    for name in [BOUNDARIES, TABLES, GRIDS, POSTCODES, "provenance.json"] {
        let fresh = std::fs::read(out.path().join(name)).unwrap();
        let kept = std::fs::read(committed.join(name)).unwrap();
        assert!(
            fresh == kept,
            "data/packed/{name} differs from a fresh packing ({} vs {} bytes): run `cargo run --release -- pack-data` and commit",
            fresh.len(),
            kept.len()
        );
    }
}

/// Every period's packed lookup grid is the grid its locator builds (so its answers are the
/// exact path's, as the built grid's are: `tests/fast_index.rs`), and is the one used.
#[test]
fn the_packed_grids_are_the_grids_built_from_the_data() {
    let pack = alliance_map::pack::embedded::open().expect("the embedded data opens");
    let atlas = Atlas::load(&DataSource::Packed(std::sync::Arc::new(pack)), &Options::default()).unwrap();
    for p in 0..atlas.periods() {
        let locator = atlas.locator_at(p);
        let key = alliance_map::pack::grids::key_of(&atlas.data, p, locator.tolerance_m());
        let DataSource::Packed(pack) = &atlas.data.source else {
            unreachable!()
        };
        let packed = pack.grid(&key).expect("a grid is packed for every period").unwrap();
        let built = locator.build_grid(alliance_map::locate::GRID_CELLS);
        assert!(
            packed == built,
            "period {p} ({key}): the packed grid differs from the built one"
        );
        assert!(locator.grid() == &built, "period {p}: the locator uses the packed grid");
    }
    // Another tolerance has no packed grid: built instead.
    let key = alliance_map::pack::grids::key_of(&atlas.data, 0, 500.0);
    let DataSource::Packed(pack) = &atlas.data.source else {
        unreachable!()
    };
    assert!(pack.grid(&key).is_none());
}

fn packed_atlas() -> Atlas {
    let pack = alliance_map::pack::embedded::open().expect("the embedded data opens");
    let options = Options {
        postcodes: Some(PostcodeOptions {
            source: PostcodeSource::Default,
            cache_dir: common::cache_dir(),
        }),
        ..Options::default()
    };
    Atlas::load(&DataSource::Packed(std::sync::Arc::new(pack)), &options).expect("the embedded data loads")
}

#[test]
fn the_packed_data_answers_as_the_source_files_do() {
    let source = Atlas::load(&DataSource::Dir(common::data_dir()), &common::options_with_postcodes())
        .expect("the official files load");
    let packed = packed_atlas();

    // Every edition: the same areas with exactly the same geometry.
    assert_eq!(source.data.editions.len(), packed.data.editions.len());
    for (a, b) in source.data.editions.iter().zip(&packed.data.editions) {
        assert_eq!(a.spec, b.spec);
        assert_eq!(a.areas.len(), b.areas.len(), "{}", a.spec.edition);
        for (x, y) in a.areas.iter().zip(&b.areas) {
            assert_eq!((&x.code, &x.name), (&y.code, &y.name));
            assert!(
                x.geometry == y.geometry,
                "{} {}: geometry differs",
                a.spec.edition,
                x.code
            );
        }
    }
    assert_eq!(source.data.countries.len(), packed.data.countries.len());
    for (x, y) in source.data.countries.iter().zip(&packed.data.countries) {
        assert_eq!(x.code, y.code);
        assert!(x.geometry == y.geometry, "country {}", x.code);
    }
    assert_eq!(source.data.periods.len(), packed.data.periods.len());
    // The map's context files, and every table, read the same through either source.
    let context = &source.data.manifest.context;
    let districts = context.districts.as_ref().map(|d| d.file.as_str()).unwrap();
    assert!(source.data.source.features(districts).unwrap() == packed.data.source.features(districts).unwrap());
    let tables = source.data.manifest.relations.iter().map(|r| r.file.as_str());
    for t in tables
        .chain(context.district_labels.as_deref())
        .chain(context.places.as_deref())
    {
        assert_eq!(
            source.data.source.text(t).unwrap(),
            packed.data.source.text(t).unwrap(),
            "{t}"
        );
    }

    // Random points over England and Wales, and points on every alliance border of every
    // edition (vertices and edge midpoints), in every period.
    let mut rng = rand::rngs::StdRng::seed_from_u64(20_251_125);
    let mut points: Vec<(f64, f64)> = (0..20_000)
        .map(|_| (rng.gen_range(-6.5..2.0), rng.gen_range(49.8..55.9)))
        .collect();
    for e in source.data.editions.iter() {
        for area in &e.areas {
            for poly in &area.geometry.0 {
                let ring = &poly.exterior().0;
                for w in ring.windows(2).step_by(97) {
                    points.push((w[0].x, w[0].y));
                    points.push(((w[0].x + w[1].x) / 2.0, (w[0].y + w[1].y) / 2.0));
                }
            }
        }
    }
    for (p, (a, b)) in source.locators().iter().zip(packed.locators()).enumerate() {
        for &(lon, lat) in &points {
            assert_eq!(a.locate(lon, lat), b.locate(lon, lat), "period {p} at ({lon}, {lat})");
        }
    }

    // Every postcode.
    let (a, b) = (source.postcodes.as_ref().unwrap(), packed.postcodes.as_ref().unwrap());
    assert_eq!(a.meta.sources, b.meta.sources);
    assert_eq!(a.meta.period_sizes, b.meta.period_sizes);
    assert_eq!(a.outcode_table(), b.outcode_table());
    assert!(a.records() == b.records(), "the postcodes' records differ");
    assert_eq!(a.areas(), b.areas());
    assert!(a.len() > 2_600_000, "{} postcodes", a.len());
}

#[test]
fn a_packed_directory_is_read_like_the_embedded_data_and_damage_is_named() {
    let committed = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data/packed");
    let from_dir = alliance_map::pack::Pack::read_dir(&committed).unwrap();
    let embedded = alliance_map::pack::embedded::open().unwrap();
    assert_eq!(from_dir.digest(), embedded.digest());

    let damaged = tempfile::tempdir().unwrap();
    for name in [BOUNDARIES, TABLES, POSTCODES] {
        std::fs::copy(committed.join(name), damaged.path().join(name)).unwrap();
    }
    let mut bytes = std::fs::read(damaged.path().join(BOUNDARIES)).unwrap();
    let cut = bytes.len() / 2;
    bytes.truncate(cut);
    std::fs::write(damaged.path().join(BOUNDARIES), &bytes).unwrap();
    let err = alliance_map::pack::Pack::read_dir(damaged.path())
        .err()
        .expect("refused");
    assert!(err.contains(BOUNDARIES) && err.contains("damaged"), "{err}");
}

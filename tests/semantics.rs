//! Lookup semantics on the real boundaries: borders, consistency, agreement with geo.

mod common;

use std::collections::HashMap;

use alliance_map::atlas::{Atlas, Options};
use alliance_map::locate::{Locator, MatchKind};
use geo::{Intersects, Point};
use rand::{Rng, SeedableRng};

fn service() -> &'static Atlas {
    static S: std::sync::OnceLock<Atlas> = std::sync::OnceLock::new();
    S.get_or_init(|| {
        Atlas::load(
            &alliance_map::model::DataSource::Dir(common::data_dir().to_path_buf()),
            &Options::default(),
        )
        .unwrap()
    })
}

/// Vertices shared by the rings of two or more STPs: points on a shared border.
fn shared_stp_vertices(limit: usize) -> Vec<(f64, f64, Vec<u16>)> {
    let mut owners: HashMap<(u64, u64), Vec<u16>> = HashMap::new();
    for (i, s) in service().data.stps.iter().enumerate() {
        for p in &s.geometry.0 {
            for c in p
                .exterior()
                .0
                .iter()
                .chain(p.interiors().iter().flat_map(|r| r.0.iter()))
            {
                let v = owners.entry((c.x.to_bits(), c.y.to_bits())).or_default();
                if v.last() != Some(&(i as u16)) {
                    v.push(i as u16);
                }
            }
        }
    }
    let mut out: Vec<_> = owners
        .into_iter()
        .filter(|(_, o)| o.len() >= 2)
        .map(|((x, y), o)| (f64::from_bits(x), f64::from_bits(y), o))
        .collect();
    out.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
    out.truncate(limit);
    out
}

#[test]
fn a_point_on_a_shared_border_gets_the_lowest_stp_code_every_time() {
    let svc = service();
    let vertices = shared_stp_vertices(usize::MAX);
    assert!(vertices.len() > 1000, "the STPs share many border vertices");
    for (x, y, owners) in vertices.iter().step_by(7) {
        let a = svc.locator().locate(*x, *y);
        let b = svc.locator().locate(*x, *y);
        assert_eq!(a, b, "deterministic");
        assert_eq!(a.kind, MatchKind::Contains);
        let lowest = *owners.iter().min().unwrap();
        assert_eq!(a.footprint, Some(lowest), "at ({x}, {y}) owned by {owners:?}");
    }
}

#[test]
fn alliance_and_stp_are_always_consistent() {
    let svc = service();
    let data = &svc.data;
    let mut rng = rand::rngs::StdRng::seed_from_u64(42);
    let border = shared_stp_vertices(usize::MAX);
    let random = (0..100_000).map(|_| (rng.gen_range(-6.5..1.8), rng.gen_range(49.8..55.9)));
    for (x, y) in random.chain(border.iter().map(|(x, y, _)| (*x, *y))) {
        let r = svc.locator().locate(x, y);
        match (r.alliance, r.footprint) {
            (Some(a), Some(s)) => {
                assert!(
                    data.stps[s as usize].alliances.contains(&(a as usize)),
                    "({x}, {y}): {r:?}"
                );
                assert_ne!(r.kind, MatchKind::Outside);
            }
            (None, None) => assert_eq!(r.kind, MatchKind::Outside),
            _ => panic!("half an answer at ({x}, {y}): {r:?}"),
        }
    }
}

/// The reference: every area of `edition` whose geometry geo says intersects the point.
fn geo_covering(edition: &alliance_map::model::Edition, x: f64, y: f64) -> Vec<u16> {
    let p = Point::new(x, y);
    (0..edition.areas.len() as u16)
        .filter(|&i| {
            let a = &edition.areas[i as usize];
            a.bbox.intersects(&p) && a.geometry.intersects(&p)
        })
        .collect()
}

/// An independent check of every edition's index: the areas covering random points are the
/// ones geo's `Intersects` finds (covers semantics: borders included).
#[test]
fn covered_points_agree_with_geo_intersects_in_every_edition() {
    let data = &service().data;
    let indexes = alliance_map::locate::LayerIndexes::lazy(data);
    for (e, edition) in data.editions.iter().enumerate() {
        let index = indexes.edition(data, e);
        let mut rng = rand::rngs::StdRng::seed_from_u64(3 + e as u64);
        let mut covered = 0;
        let n = if e == 0 { 100_000 } else { 20_000 };
        for _ in 0..n {
            let (x, y) = (rng.gen_range(-6.5..1.8), rng.gen_range(49.8..55.9));
            let expected = geo_covering(edition, x, y);
            let got = index.covering(x, y);
            assert_eq!(
                got.as_slice(),
                expected.as_slice(),
                "{} at ({x}, {y})",
                edition.spec.edition
            );
            covered += !expected.is_empty() as usize;
        }
        assert!(
            covered * 4 > n,
            "{}: {covered} of {n} points are in England",
            edition.spec.edition
        );
    }
}

#[test]
fn tolerance_is_configurable() {
    let data = &service().data;
    // Off Southend, ~1.8 km out: nearest at 2 km, outside at 1 km.
    let strict = Locator::new(data, 1000.0);
    assert_eq!(strict.locate(0.7167, 51.5155).kind, MatchKind::Outside);
    let loose = Locator::new(data, 2000.0);
    assert_eq!(loose.locate(0.7167, 51.5155).kind, MatchKind::Nearest);
}

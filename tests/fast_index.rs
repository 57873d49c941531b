//! The grid-accelerated lookup gives exactly the exact lookup's answers, for every period's
//! editions: on a million random points (200,000 for the later periods), on border vertices
//! and edge midpoints, and on grid cell corners.

mod common;

use alliance_map::atlas::Atlas;
use alliance_map::locate::Locator;
use rand::{Rng, SeedableRng};

fn service() -> &'static Atlas {
    static ATLAS: std::sync::OnceLock<Atlas> = std::sync::OnceLock::new();
    ATLAS.get_or_init(|| {
        let svc = Atlas::load_boundaries(&common::data_dir(), 2000.0).expect("real data loads");
        // Build them: `locate` uses a grid only once it exists.
        rayon::scope(|s| {
            for l in svc.locators() {
                s.spawn(move |_| {
                    l.grid();
                });
            }
        });
        svc
    })
}

fn assert_same(locator: &Locator, x: f64, y: f64) {
    let (fast, exact) = (locator.locate(x, y), locator.locate_exact(x, y));
    assert_eq!(fast, exact, "at ({x}, {y})");
}

#[test]
fn random_points_agree_in_every_period() {
    let svc = service();
    assert!(svc.periods() >= 8, "every period of 2017–2023");
    for (p, locator) in svc.locators().into_iter().enumerate() {
        let n = if p == svc.data.default_period {
            1_000_000
        } else {
            200_000
        };
        let mut rng = rand::rngs::StdRng::seed_from_u64(2026 + p as u64);
        let (mut in_england_bbox, mut grid_hits) = (0usize, 0usize);
        for _ in 0..n {
            // England's bbox and a margin beyond the grid.
            let (x, y) = (rng.gen_range(-7.0..2.5), rng.gen_range(49.5..56.5));
            assert_same(locator, x, y);
            if (-6.42..1.77).contains(&x) && (49.86..55.82).contains(&y) {
                in_england_bbox += 1;
                grid_hits += locator.grid().get(x, y).is_some() as usize;
            }
        }
        assert!(
            grid_hits * 10 > in_england_bbox * 9,
            "period {p}: the grid answers most points ({grid_hits} of {in_england_bbox})"
        );
    }
}

#[test]
fn border_vertices_and_edge_midpoints_agree() {
    let svc = service();
    for (p, locator) in svc.locators().into_iter().enumerate() {
        // Every edge for the default period, every 7th for the others (time).
        let step = if p == svc.data.default_period { 1 } else { 7 };
        let mut n = 0;
        let layers = [
            locator.footprint_layer(),
            locator.alliance_layer(),
            locator.sub_area_layer(),
        ];
        for layer in layers.into_iter().flatten() {
            for part in layer.parts() {
                for e in part.edges().step_by(step) {
                    assert_same(locator, e[0], e[1]);
                    assert_same(locator, (e[0] + e[2]) / 2.0, (e[1] + e[3]) / 2.0);
                    n += 2;
                }
            }
        }
        assert!(n > 40_000, "period {p}: {n} border points");
    }
}

#[test]
fn cell_corners_agree() {
    let svc = service();
    for (p, locator) in svc.locators().into_iter().enumerate() {
        let grid = locator.grid();
        let (nx, ny) = grid.size();
        let mut rng = rand::rngs::StdRng::seed_from_u64(7 + p as u64);
        for _ in 0..100_000 {
            let (x, y) = grid.cell_corner(rng.gen_range(0..=nx), rng.gen_range(0..=ny));
            assert_same(locator, x, y);
        }
    }
}

#[test]
fn the_timeline_grid_gives_every_periods_exact_answer() {
    let svc = service();
    let grid = svc.timeline_grid();
    let mut rng = rand::rngs::StdRng::seed_from_u64(11);
    let (mut hits, mut tried) = (0usize, 0usize);
    let mut row = Vec::new();
    let mut check = |x: f64, y: f64| {
        svc.locate_every_period(x, y, &mut row);
        assert_eq!(row.len(), svc.periods());
        for (p, (got, locator)) in row.iter().zip(svc.locators()).enumerate() {
            assert_eq!(*got, locator.locate_exact(x, y), "period {p} at ({x}, {y})");
        }
        grid.get(x, y).is_some()
    };
    for _ in 0..300_000 {
        let (x, y) = (rng.gen_range(-7.0..2.5), rng.gen_range(49.5..56.5));
        let hit = check(x, y);
        if (-6.42..1.77).contains(&x) && (49.86..55.82).contains(&y) {
            tried += 1;
            hits += hit as usize;
        }
    }
    // Points on the edges of every period's footprints, where the periods' answers change.
    for locator in svc.locators() {
        for part in locator.footprint_layer().into_iter().flat_map(|l| l.parts()) {
            for e in part.edges().step_by(97) {
                check(e[0], e[1]);
                check((e[0] + e[2]) / 2.0, (e[1] + e[3]) / 2.0);
            }
        }
    }
    assert!(
        hits * 10 > tried * 8,
        "the timeline grid answers most points in England's bbox ({hits} of {tried})"
    );
}

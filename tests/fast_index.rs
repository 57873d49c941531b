//! The grid-accelerated lookup gives exactly the exact lookup's answers: on a million random
//! points, on every border vertex and edge midpoint, and on grid cell corners.

mod common;

use alliance_map::atlas::Atlas;
use alliance_map::locate::Locator;
use rand::{Rng, SeedableRng};

fn service() -> Atlas {
    let svc = Atlas::load_boundaries(&common::data_dir(), 2000.0).expect("real data loads");
    svc.locator.grid(); // build it: `locate` uses it only once it exists
    svc
}

fn assert_same(locator: &Locator, x: f64, y: f64) {
    let (fast, exact) = (locator.locate(x, y), locator.locate_exact(x, y));
    assert_eq!(fast, exact, "at ({x}, {y})");
}

#[test]
fn a_million_random_points_agree() {
    let svc = service();
    let mut rng = rand::rngs::StdRng::seed_from_u64(2026);
    let (mut in_england_bbox, mut grid_hits) = (0usize, 0usize);
    for _ in 0..1_000_000 {
        // England's bbox and a margin beyond the grid.
        let (x, y) = (rng.gen_range(-7.0..2.5), rng.gen_range(49.5..56.5));
        assert_same(&svc.locator, x, y);
        if (-6.42..1.77).contains(&x) && (49.86..55.82).contains(&y) {
            in_england_bbox += 1;
            grid_hits += svc.locator.grid().get(x, y).is_some() as usize;
        }
    }
    assert!(
        grid_hits * 10 > in_england_bbox * 9,
        "the grid answers most points ({grid_hits} of {in_england_bbox})"
    );
}

#[test]
fn border_vertices_and_edge_midpoints_agree() {
    let svc = service();
    let mut n = 0;
    for layer in [svc.locator.stp_layer(), svc.locator.alliance_layer()] {
        for part in layer.parts() {
            for e in part.edges() {
                assert_same(&svc.locator, e[0], e[1]);
                assert_same(&svc.locator, (e[0] + e[2]) / 2.0, (e[1] + e[3]) / 2.0);
                n += 2;
            }
        }
    }
    assert!(n > 400_000, "{n} border points");
}

#[test]
fn cell_corners_agree() {
    let svc = service();
    let grid = svc.locator.grid();
    let (nx, ny) = grid.size();
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    for _ in 0..200_000 {
        let (x, y) = grid.cell_corner(rng.gen_range(0..=nx), rng.gen_range(0..=ny));
        assert_same(&svc.locator, x, y);
    }
}

//! Cutting polygon rings to a tile: clipped to the tile plus a buffer, rounded to the tile's
//! integer grid, cleaned and wound as the vector tile specification requires.
//!
//! Clipping is Sutherland–Hodgman against the four sides of the buffered square. A concave
//! ring leaving and re-entering the square comes back joined by runs along the square's edge;
//! those lie in the buffer, outside the drawn tile, so they are never seen (the approach
//! geojson-vt and tippecanoe take too).

/// A point in tile units (`0..EXTENT` inside the tile, y down).
pub type P = (f64, f64);

/// Clips a closed ring (first point not repeated) to `[lo, hi]²`.
pub fn clip_ring(ring: &[P], lo: f64, hi: f64) -> Vec<P> {
    let mut out: Vec<P> = ring.to_vec();
    // Each side: is a point inside, and where an edge crosses it.
    type Side = (fn(P, f64) -> bool, fn(P, P, f64) -> P);
    let sides: [(Side, f64); 4] = [
        ((|p, v| p.0 >= v, cross_x), lo),
        ((|p, v| p.0 <= v, cross_x), hi),
        ((|p, v| p.1 >= v, cross_y), lo),
        ((|p, v| p.1 <= v, cross_y), hi),
    ];
    for ((inside, cross), v) in sides {
        if out.is_empty() {
            break;
        }
        let input = std::mem::take(&mut out);
        let mut prev = input[input.len() - 1];
        for &cur in &input {
            match (inside(prev, v), inside(cur, v)) {
                (true, true) => out.push(cur),
                (true, false) => out.push(cross(prev, cur, v)),
                (false, true) => {
                    out.push(cross(prev, cur, v));
                    out.push(cur);
                }
                (false, false) => {}
            }
            prev = cur;
        }
    }
    out
}

fn cross_x(a: P, b: P, x: f64) -> P {
    let t = (x - a.0) / (b.0 - a.0);
    (x, a.1 + t * (b.1 - a.1))
}

fn cross_y(a: P, b: P, y: f64) -> P {
    let t = (y - a.1) / (b.1 - a.1);
    (a.0 + t * (b.0 - a.0), y)
}

/// Rounds a clipped ring to integers and cleans it: repeated points and zero-width spikes
/// (`a, b, a`: an inlet that simplification or rounding collapsed to a line) removed. `None`
/// when nothing with area is left.
pub fn to_grid(ring: &[P]) -> Option<Vec<(i32, i32)>> {
    let mut out: Vec<(i32, i32)> = Vec::with_capacity(ring.len());
    for &(x, y) in ring {
        let p = (x.round() as i32, y.round() as i32);
        push_cleaned(&mut out, p);
    }
    // The ring closes on itself: clean across the seam too.
    loop {
        let n = out.len();
        if n < 3 {
            return None;
        }
        if out[0] == out[n - 1] {
            out.pop();
        } else if out[n - 2] == out[0] {
            // … a, b | a …: a spike at the seam.
            out.truncate(n - 1);
        } else if out[n - 1] == out[1] {
            out.remove(0);
        } else {
            break;
        }
    }
    (area2(&out) != 0).then_some(out)
}

/// Appends `p`, dropping a repeat of the last point and folding back a spike.
fn push_cleaned(out: &mut Vec<(i32, i32)>, p: (i32, i32)) {
    if out.last() == Some(&p) {
        return;
    }
    if out.len() >= 2 && out[out.len() - 2] == p {
        // … p, b, p: the excursion to b had no width.
        out.pop();
        return;
    }
    out.push(p);
}

/// Twice the signed area with the spec's formula on tile coordinates (y down): positive for a
/// ring that looks clockwise on screen.
pub fn area2(ring: &[(i32, i32)]) -> i64 {
    let n = ring.len();
    (0..n)
        .map(|i| {
            let (a, b) = (ring[i], ring[(i + 1) % n]);
            i64::from(a.0) * i64::from(b.1) - i64::from(b.0) * i64::from(a.1)
        })
        .sum()
}

/// Winds a ring as the spec asks: exterior rings clockwise on screen (positive area),
/// interior rings anticlockwise.
pub fn wind(ring: &mut [(i32, i32)], exterior: bool) {
    if (area2(ring) > 0) != exterior {
        ring.reverse();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clips_to_the_square_and_keeps_inside_rings_whole() {
        let square = [(-10.0, -10.0), (20.0, -10.0), (20.0, 20.0), (-10.0, 20.0)];
        let c = clip_ring(&square, 0.0, 10.0);
        let g = to_grid(&c).unwrap();
        assert_eq!(area2(&g).abs(), 200);
        let inside = [(1.0, 1.0), (2.0, 1.0), (2.0, 2.0)];
        assert_eq!(clip_ring(&inside, 0.0, 10.0), inside.to_vec());
        let outside = [(11.0, 11.0), (12.0, 11.0), (12.0, 12.0)];
        assert!(to_grid(&clip_ring(&outside, 0.0, 10.0)).is_none());
    }

    #[test]
    fn removes_spikes_and_repeats_and_winds() {
        // A square with a zero-width spike out of its top edge, and a repeated point.
        let ring = [
            (0.0, 0.0),
            (5.0, 0.0),
            (5.0, -7.0),
            (5.0, 0.0),
            (10.0, 0.0),
            (10.0, 10.0),
            (10.0, 10.2),
            (0.0, 10.0),
        ];
        let mut g = to_grid(&ring).unwrap();
        assert!(!g.contains(&(5, -7)), "{g:?}");
        assert_eq!(g.len(), 5, "{g:?}"); // (5, 0) stays, collinear; harmless
        wind(&mut g, true);
        assert!(area2(&g) > 0);
        wind(&mut g, false);
        assert!(area2(&g) < 0);
        // A ring collapsed to a line has no area.
        assert!(to_grid(&[(0.0, 0.0), (5.0, 5.0), (10.0, 10.0), (5.0, 5.0)]).is_none());
    }
}

//! Simplifying adjacent polygons together, so neighbours keep sharing their borders exactly.
//!
//! Simplifying each polygon on its own moves a shared border differently on each side and
//! opens slivers and gaps. Here, as in TopoJSON, every ring is cut into *arcs* at junctions
//! (vertices whose neighbours differ between the rings that use them); each distinct arc is
//! simplified once (Douglas–Peucker, end points fixed) and every ring that uses it, in any
//! layer and either direction, gets the same simplified arc. Rings without a junction (an
//! island, or a coastline shared by an alliance and its STP) start from a canonical vertex
//! so they too simplify identically wherever they appear.

use std::collections::HashMap;

use geo::{Coord, LineString, MultiPolygon, Polygon};

/// Coordinates quantised to micro-degrees: exact identity for shared vertices (the source
/// data is rounded to 6 decimals).
type Key = (i64, i64);

fn key(c: &Coord<f64>) -> Key {
    ((c.x * 1e6).round() as i64, (c.y * 1e6).round() as i64)
}

fn coord(k: Key) -> Coord<f64> {
    Coord {
        x: k.0 as f64 / 1e6,
        y: k.1 as f64 / 1e6,
    }
}

/// Longitude is scaled by cos(latitude) at England's middle so the tolerance is isotropic.
const X_SCALE: f64 = 0.6088; // cos(52.5°)

enum Seen {
    Pair(Key, Key),
    Junction,
}

/// Result of simplifying several layers together.
pub struct Simplified {
    /// `layers[l][f]`: the simplified geometry of feature `f` of layer `l`.
    pub layers: Vec<Vec<MultiPolygon<f64>>>,
    /// Pairs of features of layer 0 that share at least one arc (their borders touch).
    pub neighbours: Vec<(usize, usize)>,
}

/// Simplifies all features of all `layers` together with tolerance `epsilon` (degrees of latitude).
pub fn simplify_together(layers: &[Vec<&MultiPolygon<f64>>], epsilon: f64) -> Simplified {
    // Rings as open vertex lists, with consecutive duplicates removed.
    let rings: Vec<Vec<Vec<Vec<Vec<Key>>>>> = layers
        .iter()
        .map(|features| {
            features
                .iter()
                .map(|mp| {
                    mp.0.iter()
                        .map(|p| {
                            std::iter::once(p.exterior())
                                .chain(p.interiors())
                                .map(open_ring)
                                .collect()
                        })
                        .collect()
                })
                .collect()
        })
        .collect();

    let mut seen: HashMap<Key, Seen> = HashMap::new();
    for ring in rings.iter().flatten().flatten().flatten() {
        let n = ring.len();
        for i in 0..n {
            let (prev, next) = (ring[(i + n - 1) % n], ring[(i + 1) % n]);
            let pair = if prev <= next { (prev, next) } else { (next, prev) };
            seen.entry(ring[i])
                .and_modify(|s| {
                    if let Seen::Pair(a, b) = s {
                        if (*a, *b) != pair {
                            *s = Seen::Junction;
                        }
                    }
                })
                .or_insert(Seen::Pair(pair.0, pair.1));
        }
    }
    let is_junction = |k: &Key| matches!(seen.get(k), Some(Seen::Junction));

    // Canonical arc → (simplified canonical arc, layer-0 features using it).
    let mut arcs: HashMap<Vec<Key>, (Vec<Key>, Vec<usize>)> = HashMap::new();
    let mut out_layers = Vec::with_capacity(layers.len());
    for (l, features) in rings.iter().enumerate() {
        let mut out_features = Vec::with_capacity(features.len());
        for (f, polygons) in features.iter().enumerate() {
            let mut out_polygons = Vec::new();
            for polygon in polygons {
                let mut out_rings: Vec<LineString<f64>> = Vec::new();
                for (r, ring) in polygon.iter().enumerate() {
                    let simplified = simplify_ring(ring, &is_junction, epsilon, &mut arcs, (l == 0).then_some(f));
                    if simplified.len() >= 3 {
                        let mut coords: Vec<Coord<f64>> = simplified.into_iter().map(coord).collect();
                        coords.push(coords[0]);
                        out_rings.push(LineString::new(coords));
                    } else if r == 0 {
                        break; // the exterior collapsed: drop the polygon
                    }
                }
                if !out_rings.is_empty() {
                    let exterior = out_rings.remove(0);
                    out_polygons.push(Polygon::new(exterior, out_rings));
                }
            }
            out_features.push(MultiPolygon::new(out_polygons));
        }
        out_layers.push(out_features);
    }

    let mut neighbours: Vec<(usize, usize)> = arcs
        .values()
        .flat_map(|(_, users)| {
            users
                .iter()
                .flat_map(|&a| users.iter().filter(move |&&b| a < b).map(move |&b| (a, b)))
                .collect::<Vec<_>>()
        })
        .collect();
    neighbours.sort_unstable();
    neighbours.dedup();
    Simplified {
        layers: out_layers,
        neighbours,
    }
}

fn open_ring(r: &LineString<f64>) -> Vec<Key> {
    let mut v: Vec<Key> = r.0.iter().map(key).collect();
    v.dedup();
    if v.len() > 1 && v.first() == v.last() {
        v.pop();
    }
    v
}

/// Simplifies one open ring; returns it open (no repeated closing vertex).
fn simplify_ring(
    ring: &[Key],
    is_junction: &impl Fn(&Key) -> bool,
    epsilon: f64,
    arcs: &mut HashMap<Vec<Key>, (Vec<Key>, Vec<usize>)>,
    user: Option<usize>,
) -> Vec<Key> {
    let n = ring.len();
    if n < 3 {
        return ring.to_vec();
    }
    let junctions: Vec<usize> = (0..n).filter(|&i| is_junction(&ring[i])).collect();
    if junctions.is_empty() {
        // Canonical start (smallest vertex) and direction (towards the smaller neighbour).
        let start = (0..n).min_by_key(|&i| ring[i]).unwrap_or(0);
        let forward = ring[(start + 1) % n] <= ring[(start + n - 1) % n];
        let canonical: Vec<Key> = (0..n)
            .map(|k| {
                if forward {
                    ring[(start + k) % n]
                } else {
                    ring[(start + n - k) % n]
                }
            })
            .collect();
        let mut closed = canonical.clone();
        closed.push(canonical[0]);
        let mut simplified = shared_arc(closed, epsilon, arcs, user);
        simplified.pop();
        if !forward {
            simplified.reverse();
        }
        return simplified;
    }
    let mut out: Vec<Key> = Vec::with_capacity(n);
    for (j, &from) in junctions.iter().enumerate() {
        let to = junctions.get(j + 1).copied().unwrap_or(junctions[0] + n);
        let arc: Vec<Key> = (from..=to).map(|i| ring[i % n]).collect();
        let simplified = shared_arc(arc, epsilon, arcs, user);
        out.extend_from_slice(&simplified[..simplified.len() - 1]);
    }
    out
}

/// The simplified form of `arc`, computed once per distinct arc whichever way it is walked.
fn shared_arc(
    arc: Vec<Key>,
    epsilon: f64,
    arcs: &mut HashMap<Vec<Key>, (Vec<Key>, Vec<usize>)>,
    user: Option<usize>,
) -> Vec<Key> {
    let mut reversed = arc.clone();
    reversed.reverse();
    let (canonical, flipped) = if reversed < arc { (reversed, true) } else { (arc, false) };
    let entry = arcs
        .entry(canonical)
        .or_insert_with_key(|c| (douglas_peucker(c, epsilon), Vec::new()));
    if let Some(u) = user {
        if !entry.1.contains(&u) {
            entry.1.push(u);
        }
    }
    let mut result = entry.0.clone();
    if flipped {
        result.reverse();
    }
    result
}

/// Douglas–Peucker keeping both ends; a closed arc (same ends) is split at its farthest
/// vertex first so it keeps at least three distinct vertices.
fn douglas_peucker(points: &[Key], epsilon: f64) -> Vec<Key> {
    let n = points.len();
    if n <= 2 {
        return points.to_vec();
    }
    let xy: Vec<(f64, f64)> = points
        .iter()
        .map(|&k| (k.0 as f64 / 1e6 * X_SCALE, k.1 as f64 / 1e6))
        .collect();
    let mut keep = vec![false; n];
    keep[0] = true;
    keep[n - 1] = true;
    let mut stack = vec![(0usize, n - 1)];
    if points[0] == points[n - 1] {
        let far = (1..n - 1)
            .max_by(|&a, &b| dist2(xy[0], xy[a]).total_cmp(&dist2(xy[0], xy[b])))
            .unwrap_or(n / 2);
        keep[far] = true;
        stack = vec![(0, far), (far, n - 1)];
    }
    while let Some((a, b)) = stack.pop() {
        if b <= a + 1 {
            continue;
        }
        let (mut best, mut best_d) = (0, -1.0);
        for i in a + 1..b {
            let d = segment_distance(xy[i], xy[a], xy[b]);
            if d > best_d {
                best = i;
                best_d = d;
            }
        }
        if best_d > epsilon {
            keep[best] = true;
            stack.push((a, best));
            stack.push((best, b));
        }
    }
    points.iter().zip(keep).filter(|(_, k)| *k).map(|(p, _)| *p).collect()
}

fn dist2(a: (f64, f64), b: (f64, f64)) -> f64 {
    (a.0 - b.0).powi(2) + (a.1 - b.1).powi(2)
}

fn segment_distance(p: (f64, f64), a: (f64, f64), b: (f64, f64)) -> f64 {
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let len2 = dx * dx + dy * dy;
    if len2 == 0.0 {
        return dist2(p, a).sqrt();
    }
    let t = (((p.0 - a.0) * dx + (p.1 - a.1) * dy) / len2).clamp(0.0, 1.0);
    dist2(p, (a.0 + t * dx, a.1 + t * dy)).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::polygon;

    /// Two squares sharing a wiggly vertical edge at x = 1.
    fn neighbours() -> (MultiPolygon<f64>, MultiPolygon<f64>) {
        let left =
            polygon![(x: 0.0, y: 0.0), (x: 1.0, y: 0.0), (x: 1.0001, y: 0.5), (x: 1.0, y: 1.0), (x: 0.0, y: 1.0)];
        let right =
            polygon![(x: 1.0, y: 0.0), (x: 2.0, y: 0.0), (x: 2.0, y: 1.0), (x: 1.0, y: 1.0), (x: 1.0001, y: 0.5)];
        (MultiPolygon::new(vec![left]), MultiPolygon::new(vec![right]))
    }

    fn vertices(mp: &MultiPolygon<f64>) -> Vec<Key> {
        mp.0.iter().flat_map(|p| p.exterior().0.iter().map(key)).collect()
    }

    #[test]
    fn shared_borders_simplify_identically_on_both_sides() {
        let (l, r) = neighbours();
        let s = simplify_together(&[vec![&l, &r]], 0.01);
        let (vl, vr) = (vertices(&s.layers[0][0]), vertices(&s.layers[0][1]));
        // The wiggle is gone on both sides, or kept on both: never on one only.
        let wiggle = key(&Coord { x: 1.0001, y: 0.5 });
        assert_eq!(vl.contains(&wiggle), vr.contains(&wiggle));
        assert!(!vl.contains(&wiggle));
        assert_eq!(s.neighbours, vec![(0, 1)]);
    }

    #[test]
    fn a_ring_in_two_layers_with_different_starts_simplifies_the_same() {
        let ring: Vec<(f64, f64)> = (0..40)
            .map(|i| {
                let t = i as f64 / 40.0 * std::f64::consts::TAU;
                let r = 1.0 + 0.01 * ((i * 7) % 5) as f64;
                ((r * t.cos() * 1e6).round() / 1e6, (r * t.sin() * 1e6).round() / 1e6)
            })
            .collect();
        let mut a = ring.clone();
        a.push(a[0]);
        let mut b: Vec<(f64, f64)> = ring[13..].iter().chain(&ring[..13]).copied().collect();
        b.reverse();
        b.push(b[0]);
        let pa = MultiPolygon::new(vec![Polygon::new(LineString::from(a), vec![])]);
        let pb = MultiPolygon::new(vec![Polygon::new(LineString::from(b), vec![])]);
        let s = simplify_together(&[vec![&pa], vec![&pb]], 0.05);
        let mut va = vertices(&s.layers[0][0]);
        let mut vb = vertices(&s.layers[1][0]);
        va.sort();
        va.dedup();
        vb.sort();
        vb.dedup();
        assert_eq!(va, vb);
        assert!(va.len() >= 3 && va.len() < 40, "{}", va.len());
    }
}

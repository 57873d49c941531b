//! Polygons as a shared topology, losslessly: every ring is cut into *arcs* at junctions
//! (vertices whose neighbours differ between the rings that use them, as in TopoJSON), and each
//! distinct arc is stored once, whichever rings, layers and editions use it and in whichever
//! direction. England's editions are unions of the same small areas, so most borders recur
//! in many layers: stored once, they cost once.
//!
//! Unlike the map's simplification (`maplayers::simplify`), nothing is dropped: a ring keeps
//! every vertex, duplicates included, and its starting vertex (a rotation is stored), so a
//! decoded ring equals the source ring exactly.

use std::collections::{HashMap, HashSet};

/// A vertex in integer units (micro-degrees for the official files).
pub type Pt = (i32, i32);

/// One ring as arcs: `refs[k]` is an arc index, bitwise-negated (`!id`) when the ring uses
/// the arc backwards; the ring is the arcs' concatenation (shared end points once) rotated
/// left by `start`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RingRef {
    pub refs: Vec<i64>,
    pub start: u32,
    /// The ring is a single closed arc (no junction on it); otherwise its arcs run from
    /// junction to junction and the last ends where the first begins.
    pub closed: bool,
}

/// The junctions of a set of open rings (no closing vertex repeated).
pub fn junctions<'a>(rings: impl Iterator<Item = &'a [Pt]>) -> HashSet<Pt> {
    let mut seen: HashMap<Pt, (Pt, Pt)> = HashMap::new();
    let mut junctions = HashSet::new();
    for ring in rings {
        let n = ring.len();
        for i in 0..n {
            let (prev, next) = (ring[(i + n - 1) % n], ring[(i + 1) % n]);
            let pair = if prev <= next { (prev, next) } else { (next, prev) };
            match seen.entry(ring[i]) {
                std::collections::hash_map::Entry::Vacant(v) => {
                    v.insert(pair);
                }
                std::collections::hash_map::Entry::Occupied(o) => {
                    if *o.get() != pair {
                        junctions.insert(ring[i]);
                    }
                }
            }
        }
    }
    junctions
}

/// Builds the arc table: rings are added in order, arcs numbered as first met, so the same
/// input always gives the same table.
pub struct Builder<'j> {
    junctions: &'j HashSet<Pt>,
    ids: HashMap<Vec<Pt>, u32>,
    pub arcs: Vec<Vec<Pt>>,
}

impl<'j> Builder<'j> {
    pub fn new(junctions: &'j HashSet<Pt>) -> Self {
        Builder {
            junctions,
            ids: HashMap::new(),
            arcs: Vec::new(),
        }
    }

    fn id(&mut self, canonical: Vec<Pt>) -> u32 {
        if let Some(&id) = self.ids.get(&canonical) {
            return id;
        }
        let id = self.arcs.len() as u32;
        self.arcs.push(canonical.clone());
        self.ids.insert(canonical, id);
        id
    }

    /// Adds an open ring (at least one vertex); returns how to rebuild it.
    pub fn ring(&mut self, ring: &[Pt]) -> RingRef {
        let n = ring.len();
        let Some(j0) = (0..n).find(|&i| self.junctions.contains(&ring[i])) else {
            return self.closed_ring(ring);
        };
        let mut refs = Vec::new();
        let mut from = j0;
        loop {
            let mut to = (from + 1) % n;
            while to != j0 && !self.junctions.contains(&ring[to]) {
                to = (to + 1) % n;
            }
            // The arc from `from` to `to`, both ends included (to == j0 closes the ring).
            let len = (to + n - from) % n;
            let len = if len == 0 { n } else { len };
            let arc: Vec<Pt> = (0..=len).map(|k| ring[(from + k) % n]).collect();
            let reversed: Vec<Pt> = arc.iter().rev().copied().collect();
            refs.push(if reversed < arc {
                !(self.id(reversed) as i64)
            } else {
                self.id(arc) as i64
            });
            if to == j0 {
                break;
            }
            from = to;
        }
        RingRef {
            refs,
            start: ((n - j0) % n) as u32,
            closed: false,
        }
    }

    /// A ring without junctions: one closed arc, stored from its least vertex in the direction
    /// whose sequence is least, so every ring made of it finds it.
    fn closed_ring(&mut self, ring: &[Pt]) -> RingRef {
        let n = ring.len();
        let least = ring.iter().min().copied().unwrap_or_default();
        let reversed: Vec<Pt> = ring.iter().rev().copied().collect();
        let mut best: Option<(Vec<Pt>, bool)> = None;
        for (seq, backwards) in [(ring, false), (&reversed[..], true)] {
            for s in (0..n).filter(|&s| seq[s] == least) {
                let candidate: Vec<Pt> = (0..n).map(|k| seq[(s + k) % n]).collect();
                if best.as_ref().is_none_or(|(b, _)| candidate < *b) {
                    best = Some((candidate, backwards));
                }
            }
        }
        let (canonical, backwards) = best.unwrap_or_default();
        // The ring is the arc (read backwards if so) rotated left by `start`.
        let read: Vec<Pt> = if backwards {
            canonical.iter().rev().copied().collect()
        } else {
            canonical.clone()
        };
        let start = (0..n)
            .find(|&c| (0..n).all(|k| read[(c + k) % n] == ring[k]))
            .unwrap_or(0);
        let id = self.id(canonical) as i64;
        RingRef {
            refs: vec![if backwards { !id } else { id }],
            start: start as u32,
            closed: true,
        }
    }
}

/// Rebuilds an open ring from its arcs; `None` if a reference is out of range or the arcs do
/// not join up (damaged data).
pub fn rebuild(arcs: &[Vec<Pt>], ring: &RingRef) -> Option<Vec<Pt>> {
    let size: usize = ring
        .refs
        .iter()
        .map(|&r| {
            arcs.get(usize::try_from(if r < 0 { !r } else { r }).unwrap_or(usize::MAX))
                .map_or(0, Vec::len)
        })
        .sum();
    let mut points: Vec<Pt> = Vec::with_capacity(size);
    for (k, &r) in ring.refs.iter().enumerate() {
        let (id, backwards) = if r < 0 { (!r, true) } else { (r, false) };
        let arc = arcs.get(usize::try_from(id).ok()?)?;
        // Consecutive arcs share their joining vertex: after the first, each starts one in.
        let skip = usize::from(k > 0);
        if k > 0 {
            let joint = if backwards { arc.last() } else { arc.first() };
            if points.last() != joint {
                return None;
            }
        }
        // Slices, not a boxed iterator: these copies were a tenth of `lookup`'s start-up.
        if backwards {
            points.extend(arc[..arc.len().saturating_sub(skip)].iter().rev());
        } else {
            points.extend_from_slice(arc.get(skip..).unwrap_or_default());
        }
    }
    if !ring.closed {
        // The last arc ends where the first began.
        if points.len() < 2 || points.first() != points.last() {
            return None;
        }
        points.pop();
    }
    let n = points.len();
    if n == 0 || ring.start as usize >= n.max(1) {
        return None;
    }
    points.rotate_left(ring.start as usize);
    Some(points)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roundtrip(rings: &[Vec<Pt>]) -> usize {
        let j = junctions(rings.iter().map(Vec::as_slice));
        let mut b = Builder::new(&j);
        let refs: Vec<RingRef> = rings.iter().map(|r| b.ring(r)).collect();
        for (ring, r) in rings.iter().zip(&refs) {
            assert_eq!(rebuild(&b.arcs, r).as_ref(), Some(ring), "{r:?}");
        }
        b.arcs.len()
    }

    #[test]
    fn two_squares_share_their_border_once() {
        // Two unit squares side by side, wound the same way: the shared edge runs opposite ways.
        let a = vec![(0, 0), (1, 0), (1, 1), (0, 1)];
        let b = vec![(1, 0), (2, 0), (2, 1), (1, 1)];
        // Junctions (1,0) and (1,1): arcs a-outer, shared, b-outer.
        assert_eq!(roundtrip(&[a, b]), 3);
    }

    #[test]
    fn islands_rotations_duplicates_and_reversal_round_trip() {
        let island = vec![(5, 5), (7, 5), (7, 7), (5, 7)];
        let rotated_reversed = vec![(7, 7), (7, 5), (5, 5), (5, 7)];
        let with_duplicate = vec![(0, 0), (0, 0), (3, 0), (3, 3)];
        let one_junction = vec![(0, 0), (4, 0), (4, 4), (0, 0), (-4, 4), (-4, 0)];
        // The island and its reversed rotation are one arc.
        assert_eq!(roundtrip(&[island.clone(), rotated_reversed]), 1);
        roundtrip(&[with_duplicate, one_junction, island]);
    }

    #[test]
    fn damaged_references_are_refused_not_panicked_on() {
        let arcs = vec![vec![(0, 0), (1, 0), (1, 1)]];
        let bad = [
            RingRef {
                refs: vec![3],
                start: 0,
                closed: true,
            },
            RingRef {
                refs: vec![0],
                start: 0,
                closed: false,
            },
            RingRef {
                refs: vec![0, 0],
                start: 0,
                closed: false,
            },
            RingRef {
                refs: vec![0],
                start: 9,
                closed: true,
            },
            RingRef {
                refs: vec![],
                start: 0,
                closed: true,
            },
        ];
        for r in &bad {
            assert_eq!(rebuild(&arcs, r), None, "{r:?}");
        }
    }
}

//! Colours for the alliances: a colour-blind-safe palette, assigned so that alliances whose
//! borders touch never share a colour.

/// Paul Tol's "light" qualitative scheme: distinguishable under the common colour-vision
/// deficiencies, and light enough that dark text and outlines on top keep AA contrast.
pub const PALETTE: [&str; 9] = [
    "#77AADD", "#EE8866", "#EEDD88", "#FFAABB", "#99DDFF", "#44BB99", "#BBCC33", "#AAAA00", "#DDDDDD",
];

/// Greedy colouring, most-connected first (ties by index, so it is deterministic).
/// `neighbours` are pairs of feature indexes; returns a palette index per feature.
pub fn assign(count: usize, neighbours: &[(usize, usize)]) -> Vec<usize> {
    let mut adjacent = vec![Vec::new(); count];
    for &(a, b) in neighbours {
        if a < count && b < count && a != b {
            adjacent[a].push(b);
            adjacent[b].push(a);
        }
    }
    let mut order: Vec<usize> = (0..count).collect();
    order.sort_by_key(|&i| (std::cmp::Reverse(adjacent[i].len()), i));
    let mut colour = vec![usize::MAX; count];
    for i in order {
        let used: Vec<usize> = adjacent[i].iter().map(|&j| colour[j]).collect();
        // Planar maps need at most 4 colours; greedy needs at most degree + 1, and with 9
        // colours a clash could only come from a node with 9+ coloured neighbours.
        colour[i] = (0..PALETTE.len())
            .find(|c| !used.contains(c))
            .unwrap_or(i % PALETTE.len());
    }
    colour
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn neighbours_differ() {
        // A wheel: a hub touching five in a ring.
        let edges = [
            (0, 1),
            (0, 2),
            (0, 3),
            (0, 4),
            (0, 5),
            (1, 2),
            (2, 3),
            (3, 4),
            (4, 5),
            (5, 1),
        ];
        let c = assign(6, &edges);
        for (a, b) in edges {
            assert_ne!(c[a], c[b], "{a} and {b}");
        }
    }
}

//! The lookup grids packed beside the boundaries (`grids.bin`): every period's
//! [`Grid`](crate::spatial::grid::Grid) as the server would build it, so that no start
//! builds them (a `lookup` never needs one; `annotate` and the server's warm-up take the
//! packed one in milliseconds instead of building it in a few hundred).
//!
//! The file's first part is the index: per grid, the key it answers for ([`key`]: its
//! period's editions and the tolerance, with the digest of the boundaries and tables it was
//! built from); part `k + 1` is grid `k`, decompressed only when asked for.

use crate::locate::{Located, MatchKind};
use crate::spatial::grid::{Grid, GridParts};

use super::codec::{self, Reader, Writer};

/// What a packed grid answers for: a period's editions (alliance, footprint, sub-area) and
/// the tolerance of its nearest answers. A grid is used only where both match.
pub fn key(editions: [Option<&str>; 3], tolerance_m: f64) -> String {
    let [a, f, s] = editions.map(|e| e.unwrap_or("-"));
    format!("{a} {f} {s} {}", super::write::packed_fingerprint(tolerance_m))
}

/// What the grids are built from: a digest of the packed boundaries and tables, part of every
/// key, so that a `grids.bin` left beside other packed boundaries is never used with them.
pub fn source_digest(sealed_boundaries: &[u8], sealed_tables: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for part in [sealed_boundaries, sealed_tables] {
        h.update((part.len() as u64).to_le_bytes());
        h.update(part);
    }
    h.finalize().iter().take(12).map(|b| format!("{b:02x}")).collect()
}

/// The stored key of a grid for `key` built from the data of [`source_digest`] `source`.
pub fn built_from(key: &str, source: &str) -> String {
    format!("{key} {source}")
}

/// How many areas each of a period's layers has (alliance, footprint, sub-area, country; 0
/// for a layer the period lacks): a packed grid naming any area beyond is refused.
pub fn area_counts(data: &crate::model::Dataset, period: usize) -> [usize; 4] {
    let p = &data.periods[period];
    let n = |e: Option<usize>| e.map_or(0, |e| data.editions[e].areas.len());
    [n(p.alliance), n(p.footprint), n(p.sub_area), data.countries.len()]
}

/// Whether every answer of `grid` names areas within `counts` ([`area_counts`]).
pub fn names_only_areas_held(grid: &Grid<Located>, counts: [usize; 4]) -> bool {
    grid.parts().answers.iter().all(|a| {
        [a.alliance, a.footprint, a.sub_area, a.country]
            .iter()
            .zip(counts)
            .all(|(i, n)| i.is_none_or(|i| usize::from(i) < n))
    })
}

/// The key of `data`'s period `period` at `tolerance_m`.
pub fn key_of(data: &crate::model::Dataset, period: usize, tolerance_m: f64) -> String {
    let p = &data.periods[period];
    let name = |e: Option<usize>| e.map(|e| data.editions[e].spec.edition.as_str());
    key([name(p.alliance), name(p.footprint), name(p.sub_area)], tolerance_m)
}

/// The file's parts: the index, then each grid.
pub fn encode(grids: &[(String, &Grid<Located>)]) -> Vec<Vec<u8>> {
    let mut index = Writer::default();
    index.u(grids.len() as u64);
    for (key, _) in grids {
        index.str(key);
    }
    std::iter::once(index.buf)
        .chain(grids.iter().map(|(_, g)| encode_grid(g)))
        .collect()
}

fn encode_grid(grid: &Grid<Located>) -> Vec<u8> {
    let p = grid.parts();
    let mut w = Writer::default();
    for v in p.origin.iter().chain(&p.cells_per_degree) {
        w.buf.extend_from_slice(&v.to_le_bytes());
    }
    for n in p.size {
        w.u(n as u64);
    }
    w.u(p.coarse.len() as u64);
    for &c in p.coarse {
        w.u(c.into());
    }
    w.u(p.blocks.len() as u64);
    for &v in p.blocks.iter().flatten() {
        w.u(v.into());
    }
    w.u(p.answers.len() as u64);
    for a in p.answers {
        w.u(match a.kind {
            MatchKind::Contains => 0,
            MatchKind::Nearest => 1,
            MatchKind::Outside => 2,
        });
        w.buf.extend_from_slice(&a.distance_m.to_le_bytes());
        for o in [a.alliance, a.footprint, a.sub_area, a.country] {
            w.u(o.map_or(0, |v| u64::from(v) + 1));
        }
    }
    w.buf
}

/// The packed grids, opened: the index read, the grids still compressed.
pub struct PackedGrids {
    keys: Vec<String>,
    /// The sealed file, whose part `k + 1` is grid `k`.
    sealed: std::borrow::Cow<'static, [u8]>,
}

impl PackedGrids {
    pub fn open(sealed: std::borrow::Cow<'static, [u8]>) -> Result<Self, String> {
        let frames = codec::frames("grids", &sealed)?;
        let index = codec::decompress(frames.first().ok_or("damaged (no index)")?)?;
        let mut r = Reader::new(&index);
        let n = r.len()?;
        let keys = (0..n)
            .map(|_| r.str().map(str::to_string))
            .collect::<Result<Vec<_>, _>>()?;
        if frames.len() != n + 1 {
            return Err(format!("damaged ({} grids indexed, {} stored)", n, frames.len() - 1));
        }
        Ok(PackedGrids { keys, sealed })
    }

    /// The grid for `key`, decoded now; `None` if none was packed for it.
    pub fn get(&self, key: &str) -> Option<Result<Grid<Located>, String>> {
        let k = self.keys.iter().position(|x| x == key)?;
        Some(
            codec::frames("grids", &self.sealed)
                .and_then(|frames| codec::decompress(frames.get(k + 1).ok_or("damaged (a grid is missing)")?))
                .and_then(|bytes| decode_grid(&bytes)),
        )
    }
}

fn decode_grid(bytes: &[u8]) -> Result<Grid<Located>, String> {
    let mut r = Reader::new(bytes);
    let mut f = [0.0; 4];
    for v in &mut f {
        *v = r.f64()?;
    }
    let size = [r.len()?, r.len()?];
    let n = r.len()?;
    let coarse = (0..n)
        .map(|_| {
            r.u()
                .and_then(|v| u32::try_from(v).map_err(|_| "damaged (a coarse cell)".to_string()))
        })
        .collect::<Result<Vec<u32>, _>>()?;
    let n = r.len()?;
    // Each block takes 64 bytes at least: a damaged count cannot reserve more than the data holds.
    let mut blocks = Vec::with_capacity(n.min(r.remaining() / 64));
    for _ in 0..n {
        let mut block = [0u16; 64];
        for v in &mut block {
            *v = u16::try_from(r.u()?).map_err(|_| "damaged (a block cell)")?;
        }
        blocks.push(block);
    }
    let n = r.len()?;
    let mut answers = Vec::with_capacity(n.min(r.remaining() / 13));
    let area = |r: &mut Reader| -> Result<Option<u16>, String> {
        match r.u()? {
            0 => Ok(None),
            v => u16::try_from(v - 1)
                .map(Some)
                .map_err(|_| "damaged (an area index)".into()),
        }
    };
    for _ in 0..n {
        let kind = match r.u()? {
            0 => MatchKind::Contains,
            1 => MatchKind::Nearest,
            2 => MatchKind::Outside,
            other => return Err(format!("damaged (match kind {other})")),
        };
        answers.push(Located {
            kind,
            distance_m: r.f64()?,
            alliance: area(&mut r)?,
            footprint: area(&mut r)?,
            sub_area: area(&mut r)?,
            country: area(&mut r)?,
        });
    }
    if !r.is_empty() {
        return Err("damaged (bytes after the grid)".into());
    }
    Grid::from_parts(GridParts {
        origin: [f[0], f[1]],
        cells_per_degree: [f[2], f[3]],
        size,
        coarse: &coarse,
        blocks: &blocks,
        answers: &answers,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_packed_grid_decodes_to_the_same_grid_and_damage_is_refused() {
        // The synthetic data's default period, built as the server builds it.
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/synthetic");
        let manifest = crate::model::Manifest::from_file(&dir.join("manifest-synthetic.toml")).unwrap();
        let atlas = crate::atlas::Atlas::load_boundaries_with(&dir, manifest, 2000.0).unwrap();
        let grid = atlas.locator().grid();
        let sealed = codec::seal_parts("grids", &encode(&[("k".to_string(), grid)])).unwrap();
        let packed = PackedGrids::open(sealed.clone().into()).unwrap();
        assert!(packed.get("other").is_none());
        assert_eq!(&packed.get("k").unwrap().unwrap(), grid);
        // A byte changed anywhere: an error or a checked grid, never a panic.
        for at in (0..sealed.len()).step_by(97) {
            let mut bad = sealed.clone();
            bad[at] ^= 0x5a;
            if let Ok(p) = PackedGrids::open(bad.into()) {
                if let Some(Ok(g)) = p.get("k") {
                    for i in 0..200 {
                        let _ = g.get(9.9 + i as f64 * 0.017, 49.9 + i as f64 * 0.015);
                    }
                }
            }
        }
    }
}

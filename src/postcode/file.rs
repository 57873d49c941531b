//! The postcode index file: a versioned, checksummed binary image of [`PostcodeIndex`].
//!
//! ```text
//! magic    8 bytes  "AMPCIDX\n"
//! version  u32      FORMAT_VERSION
//! meta     u32 length + JSON (IndexMeta)
//! counts   u32 outcodes, u32 postcodes
//! arrays   outcodes [u8;4]×O, outcode_start u32×(O+1), records (inward u16, areas u16, lon i32, lat i32)×N
//! crc32    u32 over everything before it
//! ```
//! All integers little-endian. Reading checks the magic, version, lengths and checksum
//! before looking at the contents, then the invariants lookups rely on (sorted codes,
//! monotonic offsets, area indexes in range): a corrupt or foreign file is an error.

use std::path::Path;

use super::index::{Areas, IndexMeta, PeriodAreas, PostcodeIndex, Record, COUNTRIES};
use super::parse::valid_outward;

pub const MAGIC: &[u8; 8] = b"AMPCIDX\n";
pub const FORMAT_VERSION: u32 = 4;

#[derive(Debug, thiserror::Error)]
pub enum IndexFileError {
    #[error("{path}: cannot read: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: not an alliance-map postcode index (wrong magic bytes)")]
    Foreign { path: String },
    #[error("{path}: postcode index format version {found}, this program reads version {FORMAT_VERSION}; rebuild it with `alliance-map import-postcodes`")]
    Version { path: String, found: u32 },
    #[error("{path}: postcode index is corrupt: {problem}")]
    Corrupt { path: String, problem: String },
}

pub fn encode(index: &PostcodeIndex) -> Vec<u8> {
    let meta = serde_json::to_vec(&index.meta).unwrap_or_default();
    let n = index.len();
    let mut out = Vec::with_capacity(64 + meta.len() + index.outcodes.len() * 8 + n * 12);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    out.extend_from_slice(&(meta.len() as u32).to_le_bytes());
    out.extend_from_slice(&meta);
    out.extend_from_slice(&(index.outcodes.len() as u32).to_le_bytes());
    out.extend_from_slice(&(n as u32).to_le_bytes());
    for o in &index.outcodes {
        out.extend_from_slice(o);
    }
    index
        .outcode_start
        .iter()
        .for_each(|v| out.extend_from_slice(&v.to_le_bytes()));
    for r in &index.records {
        out.extend_from_slice(&r.inward.to_le_bytes());
        out.extend_from_slice(&r.areas.to_le_bytes());
        out.extend_from_slice(&r.lon.to_le_bytes());
        out.extend_from_slice(&r.lat.to_le_bytes());
    }
    // The areas table: per entry the source and the country, then per period three
    // indexes + 1 (0: none).
    out.extend_from_slice(&(index.areas.len() as u32).to_le_bytes());
    let periods = index.meta.period_sizes.len();
    for a in &index.areas {
        out.push(a.source);
        out.push(a.country);
        for p in 0..periods {
            let at = a.at(p);
            for v in [at.alliance, at.footprint, at.sub_area] {
                out.extend_from_slice(&v.map_or(0, |v| v + 1).to_le_bytes());
            }
        }
    }
    let crc = crc32fast::hash(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

/// Writes atomically: a temporary file beside the target, then a rename.
/// Temporary files being written start with this (so pruning can find abandoned ones).
pub const TEMP_PREFIX: &str = ".partial-";

/// Writes `index` to `path` atomically: to a temporary file in the same directory, synced,
/// then renamed over `path`. On any failure the temporary file is removed and `path` is
/// untouched.
pub fn write(index: &PostcodeIndex, path: &Path) -> std::io::Result<()> {
    write_atomically(path, |f| std::io::Write::write_all(f, &encode(index)))
}

/// Writes a file through `fill` to a temporary name beside `path`, then renames it into place.
pub fn write_atomically(
    path: &Path,
    fill: impl FnOnce(&mut std::fs::File) -> std::io::Result<()>,
) -> std::io::Result<()> {
    use std::io::Write as _;
    let dir = match path.parent().filter(|d| !d.as_os_str().is_empty()) {
        Some(dir) => {
            std::fs::create_dir_all(dir)?;
            dir
        }
        None => Path::new("."),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(TEMP_PREFIX)
        .suffix(".tmp")
        .tempfile_in(dir)?;
    fill(tmp.as_file_mut())?;
    tmp.as_file_mut().flush()?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

pub fn read(path: &Path) -> Result<PostcodeIndex, IndexFileError> {
    let name = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|source| IndexFileError::Io {
        path: name.clone(),
        source,
    })?;
    decode(&name, &bytes)
}

/// A bounds-checked little-endian reader.
struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.at.checked_add(n)?;
        let slice = self.bytes.get(self.at..end)?;
        self.at = end;
        Some(slice)
    }
    fn u32(&mut self) -> Option<u32> {
        self.take(4).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn array<T, const W: usize>(&mut self, n: usize, f: fn([u8; W]) -> T) -> Option<Vec<T>> {
        let raw = self.take(n.checked_mul(W)?)?;
        Some(
            raw.chunks_exact(W)
                .map(|c| {
                    let mut a = [0u8; W];
                    a.copy_from_slice(c);
                    f(a)
                })
                .collect(),
        )
    }
}

pub fn decode(name: &str, bytes: &[u8]) -> Result<PostcodeIndex, IndexFileError> {
    let corrupt = |problem: &str| IndexFileError::Corrupt {
        path: name.to_string(),
        problem: problem.to_string(),
    };
    if bytes.len() < MAGIC.len() || &bytes[..MAGIC.len()] != MAGIC {
        return Err(IndexFileError::Foreign { path: name.to_string() });
    }
    let mut c = Cursor { bytes, at: MAGIC.len() };
    let version = c.u32().ok_or_else(|| corrupt("truncated header"))?;
    if version != FORMAT_VERSION {
        return Err(IndexFileError::Version {
            path: name.to_string(),
            found: version,
        });
    }
    if bytes.len() < 4 + c.at {
        return Err(corrupt("truncated header"));
    }
    let (body, tail) = bytes.split_at(bytes.len() - 4);
    let stored = u32::from_le_bytes([tail[0], tail[1], tail[2], tail[3]]);
    if crc32fast::hash(body) != stored {
        return Err(corrupt("checksum mismatch (the file is truncated or damaged)"));
    }
    let mut c = Cursor { bytes: body, at: c.at };
    let meta_len = c.u32().ok_or_else(|| corrupt("truncated header"))? as usize;
    let meta: IndexMeta = c
        .take(meta_len)
        .and_then(|m| serde_json::from_slice(m).ok())
        .ok_or_else(|| corrupt("unreadable metadata"))?;
    let outcode_count = c.u32().ok_or_else(|| corrupt("truncated counts"))? as usize;
    let n = c.u32().ok_or_else(|| corrupt("truncated counts"))? as usize;
    let short = || corrupt("shorter than its counts say");
    let outcodes = c.array(outcode_count, |b: [u8; 4]| b).ok_or_else(short)?;
    let outcode_start = c.array(outcode_count + 1, u32::from_le_bytes).ok_or_else(short)?;
    let records = c
        .array(n, |b: [u8; 12]| Record {
            inward: u16::from_le_bytes([b[0], b[1]]),
            areas: u16::from_le_bytes([b[2], b[3]]),
            lon: i32::from_le_bytes([b[4], b[5], b[6], b[7]]),
            lat: i32::from_le_bytes([b[8], b[9], b[10], b[11]]),
        })
        .ok_or_else(short)?;
    let area_count = c.u32().ok_or_else(short)? as usize;
    let periods = meta.period_sizes.len();
    let width = 2 + periods * 6;
    let raw = c
        .take(area_count.checked_mul(width).ok_or_else(short)?)
        .ok_or_else(short)?;
    let mut areas = Vec::with_capacity(area_count);
    for chunk in raw.chunks_exact(width.max(1)) {
        let value = |k: usize| match u16::from_le_bytes([chunk[2 + 2 * k], chunk[3 + 2 * k]]) {
            0 => None,
            v => Some(v - 1),
        };
        areas.push(Areas {
            source: chunk[0],
            country: chunk[1],
            periods: (0..periods)
                .map(|p| PeriodAreas {
                    alliance: value(3 * p),
                    footprint: value(3 * p + 1),
                    sub_area: value(3 * p + 2),
                })
                .collect(),
        });
    }
    if c.at != body.len() {
        return Err(corrupt("trailing bytes after the arrays"));
    }
    validated(meta, outcodes, outcode_start, records, areas).map_err(|p| corrupt(&p))
}

/// An index from its stored parts, once the invariants lookups rely on hold (sorted codes,
/// offsets spanning the records, indexes in range); otherwise what is wrong.
pub fn validated(
    meta: IndexMeta,
    outcodes: Vec<[u8; 4]>,
    outcode_start: Vec<u32>,
    records: Vec<Record>,
    areas: Vec<Areas>,
) -> Result<PostcodeIndex, String> {
    let n = records.len();
    for entry in &areas {
        if entry.periods.len() != meta.period_sizes.len() {
            return Err("an areas entry has the wrong number of periods".into());
        }
        for (at, sizes) in entry.periods.iter().zip(&meta.period_sizes) {
            let fits = [at.alliance, at.footprint, at.sub_area]
                .iter()
                .zip(sizes)
                .all(|(v, &size)| v.is_none_or(|v| v < size));
            if !fits {
                return Err("area indexes out of range".into());
            }
        }
        if entry.country as usize >= COUNTRIES.len() {
            return Err("country index out of range".into());
        }
        if entry.source as usize >= meta.sources.len() {
            return Err("source index out of range".into());
        }
    }
    if outcode_start.len() != outcodes.len() + 1 {
        return Err("outcode offsets do not match the outcodes".into());
    }
    if outcode_start.first() != Some(&0) || outcode_start.last().map(|&v| v as usize) != Some(n) {
        return Err("outcode offsets do not span the postcodes".into());
    }
    if outcode_start.windows(2).any(|w| w[0] >= w[1]) {
        return Err("outcode offsets are not increasing".into());
    }
    if outcodes.windows(2).any(|w| w[0] >= w[1]) {
        return Err("outcodes are not sorted".into());
    }
    if let Some(o) = outcodes.iter().find(|o| {
        let len = o.iter().position(|&b| b == b' ').unwrap_or(4);
        !valid_outward(&o[..len]) || o[len..].iter().any(|&b| b != b' ')
    }) {
        return Err(format!("invalid outcode {:?}", String::from_utf8_lossy(o)));
    }
    for w in outcode_start.windows(2) {
        let slice = &records[w[0] as usize..w[1] as usize];
        if slice.windows(2).any(|p| p[0].inward >= p[1].inward) || slice.iter().any(|r| r.inward >= 6760) {
            return Err("inward codes are out of order or out of range".into());
        }
    }
    if records.iter().any(|r| r.areas as usize >= areas.len()) {
        return Err("area numbers out of range".into());
    }
    if records
        .iter()
        .any(|r| !(-180_000_000..=180_000_000).contains(&r.lon) || !(-90_000_000..=90_000_000).contains(&r.lat))
    {
        return Err("coordinates out of range".into());
    }
    Ok(PostcodeIndex::from_parts(meta, outcodes, outcode_start, records, areas))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::postcode::index::tests::sample;
    use proptest::prelude::*;

    #[test]
    fn round_trips() {
        let idx = sample();
        assert_eq!(decode("x", &encode(&idx)).unwrap(), idx);
    }

    #[test]
    fn refuses_foreign_old_and_damaged_files() {
        let good = encode(&sample());
        assert!(matches!(
            decode("x", b"PK\x03\x04 zip"),
            Err(IndexFileError::Foreign { .. })
        ));
        assert!(matches!(decode("x", b""), Err(IndexFileError::Foreign { .. })));
        let mut old = good.clone();
        old[8] = 9;
        assert!(matches!(
            decode("x", &old),
            Err(IndexFileError::Version { found: 9, .. })
        ));
        let mut flipped = good.clone();
        let mid = good.len() / 2;
        flipped[mid] ^= 0x40;
        let e = decode("x", &flipped).unwrap_err().to_string();
        assert!(e.contains("checksum mismatch"), "{e}");
        let e = decode("x", &good[..good.len() - 7]).unwrap_err().to_string();
        assert!(e.contains("corrupt"), "{e}");
    }

    #[test]
    fn refuses_a_well_checksummed_file_with_broken_invariants() {
        let mut idx = sample();
        idx.records.swap(0, 1); // LS1 postcodes out of order
        let e = decode("x", &encode(&idx)).unwrap_err().to_string();
        assert!(e.contains("out of order"), "{e}");
        let mut idx = sample();
        idx.areas[0].periods[0].alliance = Some(5); // the period has 1 alliance
        assert!(decode("x", &encode(&idx))
            .unwrap_err()
            .to_string()
            .contains("area indexes"));
        let mut idx = sample();
        idx.records[0].areas = 7; // there is 1 entry
        assert!(decode("x", &encode(&idx))
            .unwrap_err()
            .to_string()
            .contains("area numbers"));
    }

    proptest! {
        #[test]
        fn arbitrary_damage_is_an_error_or_a_valid_index(pos in 0usize..400, byte in any::<u8>(), cut in 0usize..400) {
            let mut bytes = encode(&sample());
            let p = pos % bytes.len();
            bytes[p] = byte;
            bytes.truncate(bytes.len() - cut.min(bytes.len()));
            let _ = decode("x", &bytes);
        }
    }
}

//! Reading the packed data: [`Pack`] holds the decoded arc table, each GeoJSON file's encoded
//! features (decoded when asked for), the tables' text, the sealed postcode index and the
//! packed lookup grids (each decompressed when asked for).
//!
//! The packed files (`boundaries.bin`, `tables.bin`, `postcodes.bin` and `grids.bin`) each
//! start with the magic bytes and format version of [`codec`](super::codec); see
//! [`super::write`] for the payloads' layout.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::path::Path;

use geo::{Coord, LineString, MultiPolygon, Polygon};
use serde_json::{Map, Value};

use super::codec::{self, Reader};
use super::topology::{self, Pt, RingRef};
use crate::model::RawFeature;

/// The packed files' names in a packed directory.
pub const BOUNDARIES: &str = "boundaries.bin";
pub const TABLES: &str = "tables.bin";
pub const POSTCODES: &str = "postcodes.bin";
pub const GRIDS: &str = "grids.bin";
/// The manifest the data was packed under, stored among the tables.
pub const MANIFEST: &str = "manifest.toml";

/// Integer coordinates are micro-degrees: the official boundaries have 6 decimals. A file
/// with any coordinate not exact at this scale is stored as raw `f64`s instead.
pub const SCALE: f64 = 1e6;

/// How a GeoJSON file's rings are stored.
pub const RINGS_AS_ARCS: u64 = 0;
pub const RINGS_AS_F64: u64 = 1;

/// The packed data, opened.
pub struct Pack {
    label: String,
    /// Per GeoJSON file, its encoded features (a slice of the decoded boundaries).
    layers: LayerRanges,
    /// The boundaries file as packed (compressed: 2.9 MB, borrowed from the binary when
    /// embedded), to decode again after [`Pack::release_decoded`].
    sealed: Cow<'static, [u8]>,
    /// The boundaries decoded (15 MB of payload and arcs), while anything may read them.
    decoded: std::sync::Mutex<Option<std::sync::Arc<Decoded>>>,
    texts: BTreeMap<String, String>,
    postcodes: Option<Cow<'static, [u8]>>,
    /// The tables file as packed, for [`Pack::digest`].
    sealed_tables: Cow<'static, [u8]>,
    /// Computed when first asked for: hashing the 13 MB took 4 % of a `lookup`'s start-up.
    digest: std::sync::OnceLock<String>,
    /// The lookup grids, when packed with them ([`Pack::with_grids`]).
    grids: Option<super::grids::PackedGrids>,
    /// [`super::grids::source_digest`] of this pack, computed when a grid is first asked for.
    source_digest: std::sync::OnceLock<String>,
}

/// The boundaries file decompressed: its shared arcs, and the part holding every layer's
/// features.
struct Decoded {
    arcs: Vec<Vec<Pt>>,
    boundaries: Vec<u8>,
}

/// Per GeoJSON file, its encoded features' range in [`Decoded::boundaries`].
type LayerRanges = BTreeMap<String, std::ops::Range<usize>>;

impl Decoded {
    /// Decompresses and reads the sealed boundaries file; `label` names it in messages.
    fn open(label: &str, sealed: &[u8]) -> Result<(Decoded, LayerRanges), String> {
        let mut parts = codec::open_parts("boundaries", sealed).map_err(|e| format!("{label}/{BOUNDARIES}: {e}"))?;
        let boundaries = parts.pop().ok_or(format!("{label}/{BOUNDARIES}: damaged (no parts)"))?;
        let (arcs, layers) = read_boundaries(&parts, &boundaries).map_err(|e| format!("{label}/{BOUNDARIES}: {e}"))?;
        Ok((Decoded { arcs, boundaries }, layers))
    }
}

impl Pack {
    /// Opens the three packed files; `label` names them in messages ("embedded data", a
    /// directory). The postcode index stays compressed until [`Pack::postcode_payload`].
    pub fn open(
        label: impl Into<String>,
        boundaries: impl Into<Cow<'static, [u8]>>,
        tables: impl Into<Cow<'static, [u8]>>,
        postcodes: Option<Cow<'static, [u8]>>,
    ) -> Result<Pack, String> {
        let label = label.into();
        let sealed: Cow<'static, [u8]> = boundaries.into();
        let sealed_tables: Cow<'static, [u8]> = tables.into();
        let texts = read_tables(&codec::open("tables", &sealed_tables).map_err(|e| format!("{label}/{TABLES}: {e}"))?)
            .map_err(|e| format!("{label}/{TABLES}: {e}"))?;
        let (decoded, layers) = Decoded::open(&label, &sealed)?;
        Ok(Pack {
            label,
            layers,
            sealed,
            decoded: std::sync::Mutex::new(Some(std::sync::Arc::new(decoded))),
            texts,
            postcodes,
            sealed_tables,
            digest: std::sync::OnceLock::new(),
            grids: None,
            source_digest: std::sync::OnceLock::new(),
        })
    }

    /// The same pack with its lookup grids (`grids.bin`).
    pub fn with_grids(mut self, sealed: impl Into<Cow<'static, [u8]>>) -> Result<Pack, String> {
        let grids =
            super::grids::PackedGrids::open(sealed.into()).map_err(|e| format!("{}/{GRIDS}: {e}", self.label))?;
        self.grids = Some(grids);
        Ok(self)
    }

    /// The packed lookup grid for `key` ([`super::grids::key`]) built from this pack's
    /// boundaries and tables, decoded now; `None` when none was packed for them.
    pub fn grid(&self, key: &str) -> Option<Result<crate::spatial::grid::Grid<crate::locate::Located>, String>> {
        let grids = self.grids.as_ref()?;
        let source = self
            .source_digest
            .get_or_init(|| super::grids::source_digest(&self.sealed, &self.sealed_tables));
        grids
            .get(&super::grids::built_from(key, source))
            .map(|g| g.map_err(|e| format!("{}/{GRIDS}: {e}", self.label)))
    }

    /// Opens a packed directory (as `pack-data` writes it).
    pub fn read_dir(dir: &Path) -> Result<Pack, String> {
        let read = |name: &str| {
            std::fs::read(dir.join(name)).map_err(|e| format!("{}: cannot read: {e}", dir.join(name).display()))
        };
        let postcodes = match std::fs::read(dir.join(POSTCODES)) {
            Ok(b) => Some(Cow::Owned(b)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(format!("{}: cannot read: {e}", dir.join(POSTCODES).display())),
        };
        let pack = Pack::open(dir.display().to_string(), read(BOUNDARIES)?, read(TABLES)?, postcodes)?;
        match std::fs::read(dir.join(GRIDS)) {
            Ok(b) => pack.with_grids(b),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(pack),
            Err(e) => Err(format!("{}: cannot read: {e}", dir.join(GRIDS).display())),
        }
    }

    /// Whether `dir` is a packed directory rather than one of official files.
    pub fn is_packed_dir(dir: &Path) -> bool {
        dir.join(BOUNDARIES).is_file() && dir.join(TABLES).is_file()
    }

    pub fn label(&self) -> &str {
        &self.label
    }

    /// A digest of the packed files' bytes: what anything derived from this data depends on.
    pub fn digest(&self) -> &str {
        self.digest.get_or_init(|| {
            use sha2::{Digest, Sha256};
            let mut h = Sha256::new();
            for part in [
                &self.sealed[..],
                &self.sealed_tables,
                self.postcodes.as_deref().unwrap_or_default(),
            ] {
                h.update((part.len() as u64).to_le_bytes());
                h.update(part);
            }
            h.finalize().iter().map(|b| format!("{b:02x}")).collect()
        })
    }

    pub fn has(&self, rel: &str) -> bool {
        self.layers.contains_key(rel) || self.texts.contains_key(rel)
    }

    /// The manifest the data was packed under.
    pub fn manifest_text(&self) -> Option<&str> {
        self.texts.get(MANIFEST).map(String::as_str)
    }

    pub fn text(&self, rel: &str) -> Result<String, String> {
        self.texts
            .get(rel)
            .cloned()
            .ok_or_else(|| "is not in the packed data".to_string())
    }

    pub fn features(&self, rel: &str) -> Result<Vec<RawFeature>, String> {
        let range = self.layers.get(rel).ok_or("is not in the packed data")?;
        let decoded = self.decoded()?;
        let bytes = decoded
            .boundaries
            .get(range.clone())
            .ok_or("packed features: out of the boundaries file")?;
        read_features(&decoded.arcs, bytes).map_err(|e| format!("packed features: {e}"))
    }

    /// The decoded boundaries, decoded again if they were released.
    fn decoded(&self) -> Result<std::sync::Arc<Decoded>, String> {
        // A reader that panicked left nothing half-written (the slot is set whole or not at
        // all): go on with what is there.
        let lock = || self.decoded.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(d) = lock().as_ref() {
            return Ok(d.clone());
        }
        // Decoded without the lock held: decoding runs on rayon's threads, and a thread
        // waiting on this lock inside rayon could be handed a job that takes it again.
        let d = std::sync::Arc::new(Decoded::open(&self.label, &self.sealed)?.0);
        Ok(lock().get_or_insert(d).clone())
    }

    /// Drops the decoded boundaries (about 15 MB) once everything that reads them has: the server
    /// after its warm-up. A later [`Pack::features`] decodes them again.
    pub fn release_decoded(&self) {
        *self.decoded.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }

    /// The postcode index's payload, decompressed (`None`: packed without postcodes).
    pub fn postcode_payload(&self) -> Option<Result<Vec<u8>, String>> {
        let sealed = self.postcodes.as_ref()?;
        Some(codec::open("postcodes", sealed).map_err(|e| format!("{}/{POSTCODES}: {e}", self.label)))
    }
}

fn read_tables(payload: &[u8]) -> Result<BTreeMap<String, String>, String> {
    let mut r = Reader::new(payload);
    let n = r.len()?;
    let mut texts = BTreeMap::new();
    for _ in 0..n {
        let name = r.str()?.to_string();
        texts.insert(name, r.str()?.to_string());
    }
    Ok(texts)
}

type Layers = BTreeMap<String, std::ops::Range<usize>>;

/// The arcs, from the runs of arc parts decoded side by side, and the layers' sections in
/// the last part (`layers`).
fn read_boundaries(arc_parts: &[Vec<u8>], layers: &[u8]) -> Result<(Vec<Vec<Pt>>, Layers), String> {
    use rayon::prelude::*;
    let runs = arc_parts
        .par_iter()
        .map(|p| read_arcs(p))
        .collect::<Result<Vec<_>, String>>()?;
    let arcs = runs.into_iter().flatten().collect();
    let mut r = Reader::new(layers);
    let n_files = r.len()?;
    let mut sections = BTreeMap::new();
    for _ in 0..n_files {
        let name = r.str()?.to_string();
        let section = r.bytes()?;
        let start = section.as_ptr() as usize - layers.as_ptr() as usize;
        sections.insert(name, start..start + section.len());
    }
    Ok((arcs, sections))
}

/// One run of arcs, delta-coded from (0, 0).
fn read_arcs(part: &[u8]) -> Result<Vec<Vec<Pt>>, String> {
    let mut r = Reader::new(part);
    let n_arcs = r.len()?;
    let mut arcs = Vec::with_capacity(n_arcs);
    let mut last: (i64, i64) = (0, 0);
    for _ in 0..n_arcs {
        let n = r.len()?;
        let mut arc = Vec::with_capacity(n);
        for _ in 0..n {
            let (dx, dy) = (r.i()?, r.i()?);
            last = (
                last.0.checked_add(dx).ok_or("damaged (a coordinate overflows)")?,
                last.1.checked_add(dy).ok_or("damaged (a coordinate overflows)")?,
            );
            let p = (i32::try_from(last.0), i32::try_from(last.1));
            let (Ok(x), Ok(y)) = p else {
                return Err("damaged (a coordinate out of range)".into());
            };
            arc.push((x, y));
        }
        arcs.push(arc);
    }
    Ok(arcs)
}

fn read_features(arcs: &[Vec<Pt>], section: &[u8]) -> Result<Vec<RawFeature>, String> {
    let budget = vertex_budget(arcs);
    let mut r = Reader::new(section);
    let mode = r.u()?;
    let n = r.len()?;
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let properties: Map<String, Value> =
            serde_json::from_str(r.str()?).map_err(|e| format!("damaged properties: {e}"))?;
        let geometry = match r.u()? {
            0 => Err(r.str()?.to_string()),
            1 => {
                let n_polys = r.len()?;
                let mut polys = Vec::with_capacity(n_polys);
                for _ in 0..n_polys {
                    let n_rings = r.len()?;
                    let mut rings = Vec::with_capacity(n_rings);
                    for _ in 0..n_rings {
                        rings.push(match mode {
                            RINGS_AS_ARCS => ring_from_arcs(arcs, budget, &mut r)?,
                            RINGS_AS_F64 => ring_from_f64(&mut r)?,
                            other => return Err(format!("unknown ring storage {other}")),
                        });
                    }
                    let mut rings = rings.into_iter();
                    let exterior = rings.next().ok_or("a polygon without rings")?;
                    polys.push(Polygon::new(exterior, rings.collect()));
                }
                Ok(MultiPolygon::new(polys))
            }
            other => return Err(format!("unknown geometry tag {other}")),
        };
        out.push(RawFeature { properties, geometry });
    }
    Ok(out)
}

fn ring_from_arcs(arcs: &[Vec<Pt>], budget: usize, r: &mut Reader) -> Result<LineString<f64>, String> {
    let head = r.u()?;
    let n_refs = usize::try_from(head >> 1).map_err(|_| "damaged ring")?;
    if n_refs > arcs.len().saturating_mul(2) {
        return Err("damaged (a ring of more arcs than are stored twice over)".into());
    }
    let mut refs = Vec::with_capacity(n_refs.min(1 << 16));
    let mut prev = 0i64;
    for _ in 0..n_refs {
        prev = prev.wrapping_add(r.i()?);
        refs.push(prev);
    }
    let start = u32::try_from(r.u()?).map_err(|_| "damaged ring start")?;
    let ring = RingRef {
        refs,
        start,
        closed: head & 1 == 1,
    };
    let points = topology::rebuild(arcs, &ring).ok_or("a ring's arcs do not join up")?;
    if points.len() > budget {
        return Err("damaged (a ring longer than every arc together)".into());
    }
    // Sized for the closing vertex too: a push past a full vector copies the ring.
    let mut coords: Vec<Coord<f64>> = Vec::with_capacity(points.len() + 1);
    coords.extend(points.iter().map(|&(x, y)| Coord {
        x: f64::from(x) / SCALE,
        y: f64::from(y) / SCALE,
    }));
    coords.push(coords[0]);
    Ok(LineString::new(coords))
}

/// No true ring uses an arc more than twice (once each way), so none is longer than twice
/// every stored vertex.
fn vertex_budget(arcs: &[Vec<Pt>]) -> usize {
    2 * arcs.iter().map(Vec::len).sum::<usize>() + 1
}

fn ring_from_f64(r: &mut Reader) -> Result<LineString<f64>, String> {
    let n = r.len()?;
    let mut coords = Vec::with_capacity(n);
    for _ in 0..n {
        coords.push(Coord {
            x: r.f64()?,
            y: r.f64()?,
        });
    }
    Ok(LineString::new(coords))
}

//! `pack-data`: the official files of a data directory → the packed files, deterministically
//! (the same input gives the same bytes: arcs are numbered as first met in manifest order,
//! tables are sorted by name, and nothing records a time or a path).
//!
//! Payloads (inside each file's zstd frame, see [`super::codec`]):
//! ```text
//! boundaries: arcs  = count, per arc: point count, points as (dx, dy) steps from the point before
//!             files = count, per file: name, section (bytes):
//!                     ring storage (0: arcs, 1: raw f64), feature count, per feature:
//!                     properties (JSON), geometry tag (0: error text, 1: polygons),
//!                     polygons: count, per polygon ring count, per ring
//!                       arcs: (refs << 1 | closed), refs as steps, rotation;  raw: count, (x, y) f64
//! tables:     count, per table: name, text (the manifest is the table "manifest.toml")
//! postcodes:  see super::postcodes
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use geo::{LineString, MultiPolygon};
use serde::Serialize;

use super::codec::{self, Writer};
use super::container::{BOUNDARIES, GRIDS, MANIFEST, POSTCODES, RINGS_AS_ARCS, RINGS_AS_F64, SCALE, TABLES};
use super::topology::{self, Builder, Pt};
use crate::locate::Locators;
use crate::model::{DataSource, Dataset, Manifest, RawFeature};
use crate::postcode::import::{self, ImportSummary, SourceFile};

/// What a packing did: for the terminal and for `provenance.json`.
#[derive(Debug, Serialize)]
pub struct PackSummary {
    pub format: u32,
    /// Every source file read: its size and SHA-256.
    pub sources: Vec<SourceDigest>,
    /// Every file written: its size and SHA-256.
    pub packed: Vec<SourceDigest>,
    /// Vertices in the GeoJSON rings (closing ones included), and stored in the arcs.
    pub vertices_in: u64,
    pub vertices_stored: u64,
    pub arcs: u64,
    pub postcodes: Option<ImportSummary>,
}

#[derive(Debug, Serialize)]
pub struct SourceDigest {
    pub file: String,
    pub bytes: u64,
    pub sha256: String,
}

/// Packs the data directory `from`, described by `manifest_text`, into `out`.
pub fn pack(from: &Path, manifest_text: &str, out: &Path, tolerance_m: f64) -> anyhow::Result<PackSummary> {
    let manifest = Manifest::parse(&from.join("manifest.toml"), manifest_text)?;
    let source = DataSource::Dir(from.to_path_buf());
    // Everything packed is first loaded and validated as the service would.
    let data = Dataset::load(&source, manifest.clone())?;

    let mut geojson: Vec<&str> = manifest.layers.iter().filter_map(|l| l.file.as_deref()).collect();
    geojson.extend(manifest.context.districts.as_ref().map(|d| d.file.as_str()));
    let mut texts: Vec<&str> = manifest.relations.iter().map(|r| r.file.as_str()).collect();
    texts.extend(manifest.context.district_labels.as_deref());
    texts.extend(manifest.context.places.as_deref());

    let mut sources = Vec::new();
    for rel in geojson.iter().chain(&texts) {
        sources.push(digest_file(&from.join(rel), rel)?);
    }

    // Boundaries.
    let layers: Vec<(&str, Vec<RawFeature>)> = geojson
        .iter()
        .map(|rel| Ok((*rel, source.features(rel)?)))
        .collect::<anyhow::Result<_>>()?;
    let (boundaries, counts) = encode_boundaries(&layers);

    // Tables, sorted by name, and the manifest.
    let mut tables: BTreeMap<String, String> = BTreeMap::new();
    for rel in &texts {
        tables.insert(rel.to_string(), source.text(rel)?);
    }
    tables.insert(MANIFEST.to_string(), manifest_text.to_string());
    let mut w = Writer::default();
    w.u(tables.len() as u64);
    for (name, text) in &tables {
        w.str(name);
        w.str(text);
    }

    // Postcodes: every source the manifest names (a missing one is an error: packing without
    // it would silently serve fewer postcodes).
    let mut postcode_files = Vec::new();
    for p in &manifest.postcodes {
        let path = from.join(&p.file);
        sources.push(digest_file(&path, &p.file)?);
        postcode_files.push(SourceFile {
            path,
            name: p.name.clone(),
        });
    }
    let sealed_boundaries = codec::seal_parts("boundaries", &boundaries)?;
    let sealed_tables = codec::seal("tables", &w.buf)?;

    // Every period's lookup grid, as the server would build it, keyed to what it is built from.
    let built = Locators::lazy(&data, tolerance_m);
    let locators = built.every(&data);
    let grids = {
        use rayon::prelude::*;
        locators.par_iter().for_each(|l| {
            l.grid();
        });
        let source = super::grids::source_digest(&sealed_boundaries, &sealed_tables);
        let keyed: Vec<(String, &crate::spatial::grid::Grid<crate::locate::Located>)> = locators
            .iter()
            .enumerate()
            .map(|(p, l)| {
                (
                    super::grids::built_from(&super::grids::key_of(&data, p, tolerance_m), &source),
                    l.grid(),
                )
            })
            .collect();
        let parts = super::grids::encode(&keyed);
        codec::seal_parts("grids", &parts)?
    };

    let mut postcodes = None;
    let mut sealed_postcodes = None;
    if !postcode_files.is_empty() {
        let (index, summary) = import::import(&postcode_files, &data, &locators, packed_fingerprint(tolerance_m))?;
        sealed_postcodes = Some(codec::seal("postcodes", &super::postcodes::encode(&index))?);
        postcodes = Some(summary);
    }

    let mut written = vec![(BOUNDARIES, sealed_boundaries), (TABLES, sealed_tables), (GRIDS, grids)];
    if let Some(p) = sealed_postcodes {
        written.push((POSTCODES, p));
    } else {
        remove_stale(&out.join(POSTCODES))?;
    }
    let mut packed = Vec::new();
    for (name, bytes) in &written {
        let path = out.join(name);
        write_public(&path, bytes)?;
        packed.push(SourceDigest {
            file: name.to_string(),
            bytes: bytes.len() as u64,
            sha256: sha256_hex(bytes),
        });
    }
    let summary = PackSummary {
        format: codec::VERSION,
        sources,
        packed,
        vertices_in: counts.0,
        vertices_stored: counts.1,
        arcs: counts.2,
        postcodes,
    };
    let provenance = out.join("provenance.json");
    let text = serde_json::to_string_pretty(&summary)? + "\n";
    write_public(&provenance, text.as_bytes())?;
    Ok(summary)
}

/// The postcode index's fingerprint in packed data: what its answers depend on besides the
/// packed boundaries themselves (checked at load against the tolerance in use).
pub fn packed_fingerprint(tolerance_m: f64) -> String {
    format!("packed tolerance {tolerance_m}")
}

/// Writes a file atomically, readable by everyone (it is data to be served and committed;
/// a temporary file starts private).
fn write_public(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    crate::postcode::file::write_atomically(path, |f| {
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            f.set_permissions(std::fs::Permissions::from_mode(0o644))?;
        }
        std::io::Write::write_all(f, bytes)
    })
    .map_err(|e| anyhow::anyhow!("{}: cannot write: {e}", path.display()))
}

fn remove_stale(path: &Path) -> anyhow::Result<()> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(anyhow::anyhow!("{}: cannot remove: {e}", path.display())),
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

fn digest_file(path: &PathBuf, rel: &str) -> anyhow::Result<SourceDigest> {
    let bytes = std::fs::read(path).map_err(|e| anyhow::anyhow!("{}: cannot read: {e}", path.display()))?;
    Ok(SourceDigest {
        file: rel.to_string(),
        bytes: bytes.len() as u64,
        sha256: sha256_hex(&bytes),
    })
}

/// A ring as integer vertices without its closing one, if every coordinate is exact at
/// [`SCALE`] and the ring is closed.
fn integer_ring(ring: &LineString<f64>) -> Option<Vec<Pt>> {
    let (first, last) = (ring.0.first()?, ring.0.last()?);
    if ring.0.len() < 2 || first != last {
        return None;
    }
    let exact = |v: f64| -> Option<i32> {
        let i = (v * SCALE).round();
        (i.abs() < f64::from(i32::MAX) && i / SCALE == v).then_some(i as i32)
    };
    ring.0[..ring.0.len() - 1]
        .iter()
        .map(|c| Some((exact(c.x)?, exact(c.y)?)))
        .collect()
}

fn rings(mp: &MultiPolygon<f64>) -> impl Iterator<Item = &LineString<f64>> {
    mp.0.iter()
        .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors()))
}

/// How many parts the arcs are cut into: a part per core on most machines (two here).
pub const ARC_PARTS: usize = 4;

/// The boundaries file's parts ([`ARC_PARTS`] runs of arcs, then every layer's features), and
/// (vertices in, vertices stored, arcs).
fn encode_boundaries(layers: &[(&str, Vec<RawFeature>)]) -> (Vec<Vec<u8>>, (u64, u64, u64)) {
    // A file goes into the topology when every ring of it is exact at the scale.
    let integer: Vec<Option<Vec<Vec<Pt>>>> = layers
        .iter()
        .map(|(_, features)| {
            features
                .iter()
                .filter_map(|f| f.geometry.as_ref().ok())
                .flat_map(rings)
                .map(integer_ring)
                .collect()
        })
        .collect();
    let junctions = topology::junctions(integer.iter().flatten().flatten().map(Vec::as_slice));
    let mut builder = Builder::new(&junctions);
    let mut vertices_in = 0u64;
    let mut sections = Vec::new();
    for ((_, features), as_integers) in layers.iter().zip(&integer) {
        let mut w = Writer::default();
        let mut integer_rings = as_integers.iter().flatten();
        w.u(if as_integers.is_some() {
            RINGS_AS_ARCS
        } else {
            RINGS_AS_F64
        });
        w.u(features.len() as u64);
        for f in features {
            w.str(&serde_json::to_string(&f.properties).unwrap_or_default());
            match &f.geometry {
                Err(problem) => {
                    w.u(0);
                    w.str(problem);
                }
                Ok(mp) => {
                    w.u(1);
                    w.u(mp.0.len() as u64);
                    for p in &mp.0 {
                        w.u(1 + p.interiors().len() as u64);
                        for ring in std::iter::once(p.exterior()).chain(p.interiors()) {
                            vertices_in += ring.0.len() as u64;
                            match integer_rings.next() {
                                Some(points) => {
                                    let r = builder.ring(points);
                                    w.u(((r.refs.len() as u64) << 1) | u64::from(r.closed));
                                    let mut prev = 0i64;
                                    for &id in &r.refs {
                                        w.i(id - prev);
                                        prev = id;
                                    }
                                    w.u(r.start.into());
                                }
                                None => {
                                    w.u(ring.0.len() as u64);
                                    for c in &ring.0 {
                                        w.buf.extend_from_slice(&c.x.to_le_bytes());
                                        w.buf.extend_from_slice(&c.y.to_le_bytes());
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        sections.push(w.buf);
    }
    // The arcs in ARC_PARTS runs of about equal vertex counts, each its own part (deltas
    // restart at each), so they decompress and decode side by side; the layers last.
    let stored: u64 = builder.arcs.iter().map(|a| a.len() as u64).sum();
    let mut parts = Vec::with_capacity(ARC_PARTS + 1);
    let mut arcs = builder.arcs.iter().peekable();
    let mut upto = 0u64;
    for k in 1..=ARC_PARTS as u64 {
        let mut run = Vec::new();
        while let Some(arc) = arcs.next_if(|_| k == ARC_PARTS as u64 || upto < stored * k / ARC_PARTS as u64) {
            upto += arc.len() as u64;
            run.push(arc);
        }
        let mut out = Writer::default();
        out.u(run.len() as u64);
        let mut last = (0i64, 0i64);
        for arc in run {
            out.u(arc.len() as u64);
            for &(x, y) in arc {
                out.i(i64::from(x) - last.0);
                out.i(i64::from(y) - last.1);
                last = (i64::from(x), i64::from(y));
            }
        }
        parts.push(out.buf);
    }
    let mut out = Writer::default();
    out.u(layers.len() as u64);
    for ((name, _), section) in layers.iter().zip(&sections) {
        out.str(name);
        out.bytes(section);
    }
    parts.push(out.buf);
    (parts, (vertices_in, stored, builder.arcs.len() as u64))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pack::Pack;
    use proptest::prelude::*;

    fn two_squares() -> Vec<Vec<u8>> {
        let text = r#"{"type":"FeatureCollection","features":[
            {"type":"Feature","properties":{"cd":"E1"},"geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1],[0,0]]]}},
            {"type":"Feature","properties":{"cd":"E2"},"geometry":{"type":"Polygon","coordinates":[[[1,0],[2,0],[2,1],[1,1],[1,0]]]}}]}"#;
        let features = crate::model::source::parse_feature_collection(Path::new("a"), text).unwrap();
        encode_boundaries(&[("a.geojson", features)]).0
    }

    proptest! {
        /// A damaged boundaries payload opens to an error, or to features that are errors or
        /// polygons: never a panic or a runaway allocation.
        #[test]
        fn damage_never_panics(flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8)) {
            let mut parts = two_squares();
            for (at, byte) in flips {
                let n = parts.len();
                let part = &mut parts[at % n];
                if !part.is_empty() {
                    let len = part.len();
                    part[(at / n) % len] = byte;
                }
            }
            let mut tables = Writer::default();
            tables.u(0);
            let sealed = codec::seal_parts("boundaries", &parts).unwrap();
            let tables = codec::seal("tables", &tables.buf).unwrap();
            if let Ok(pack) = Pack::open("t", sealed, tables, None) {
                let _ = pack.features("a.geojson");
            }
        }
    }

    #[test]
    fn features_round_trip_exactly_through_the_packed_form() {
        let text = r#"{"type":"FeatureCollection","features":[
            {"type":"Feature","properties":{"cd":"E1","nm":"West"},"geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1],[0,0]]]}},
            {"type":"Feature","properties":{"cd":"E2","nm":"East"},"geometry":{"type":"MultiPolygon","coordinates":[[[[1,0],[2,0],[2,1],[1,1],[1,0]],[[1.5,0.25],[1.75,0.25],[1.75,0.5],[1.5,0.25]]],[[[5.000001,5],[6,5],[6,6],[5.000001,5]]]]}},
            {"type":"Feature","properties":{"cd":"E3","nm":"Nowhere"},"geometry":null}]}"#;
        let exact = crate::model::source::parse_feature_collection(Path::new("a"), text).unwrap();
        let fine = r#"{"type":"FeatureCollection","features":[
            {"type":"Feature","properties":{"cd":"S1"},"geometry":{"type":"Polygon","coordinates":[[[0.1234567890123,0],[1,0],[1,1],[0.1234567890123,0]]]}}]}"#;
        let raw = crate::model::source::parse_feature_collection(Path::new("b"), fine).unwrap();
        let (payload, (vin, stored, arcs)) =
            encode_boundaries(&[("a.geojson", exact.clone()), ("b.geojson", raw.clone())]);
        assert!(stored < vin, "the shared edge is stored once ({stored} of {vin})");
        assert!(arcs >= 3);
        let mut tables = Writer::default();
        tables.u(0);
        let pack = Pack::open(
            "test",
            codec::seal_parts("boundaries", &payload).unwrap(),
            codec::seal("tables", &tables.buf).unwrap(),
            None,
        )
        .unwrap();
        assert_eq!(pack.features("a.geojson").unwrap(), exact);
        assert_eq!(
            pack.features("b.geojson").unwrap(),
            raw,
            "not exact at 1e-6: kept as f64"
        );
        assert!(pack.features("c.geojson").is_err());
        // Released, then decoded again on the next read: the same features.
        pack.release_decoded();
        assert_eq!(pack.features("a.geojson").unwrap(), exact);
        assert!(pack.postcode_payload().is_none());
    }
}

//! The postcode index: every live postcode with its location and its resolved alliance,
//! STP and country, in 12 bytes a postcode.
//!
//! Layout (struct of arrays, sorted by outward code then inward code):
//! - per outward code: the code, and where its postcodes start;
//! - per sector (outward code + inward digit): the bounding box of its postcodes, for the
//!   nearest-postcode search;
//! - per postcode: inward code (u16), longitude and latitude in micro-degrees (i32 each) and
//!   the packed area indexes (u16).

use serde::{Deserialize, Serialize};

use super::parse::Postcode;
use crate::spatial::metric::LocalMetric;

/// The countries a postcode can be in, by their index in [`COUNTRIES`].
pub const COUNTRIES: [(&str, &str); 7] = [
    ("", "Unknown"),
    ("E92000001", "England"),
    ("S92000003", "Scotland"),
    ("W92000004", "Wales"),
    ("N92000002", "Northern Ireland"),
    ("L93000001", "Channel Islands"),
    ("M83000003", "Isle of Man"),
];

pub fn country_index(code: &str) -> u8 {
    COUNTRIES.iter().position(|(c, _)| *c == code).unwrap_or(0) as u8
}

/// Alliance, STP and country indexes packed in 16 bits:
/// bits 0–5 STP + 1 (0 = none), 6–10 alliance + 1, 11–13 country.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Areas(pub u16);

impl Areas {
    pub fn new(alliance: Option<u16>, stp: Option<u16>, country: u8) -> Self {
        let stp = stp.map_or(0, |s| s + 1) & 0x3f;
        let alliance = alliance.map_or(0, |a| a + 1) & 0x1f;
        Areas(stp | alliance << 6 | ((country as u16) & 0x7) << 11)
    }
    pub fn stp(self) -> Option<u16> {
        (self.0 & 0x3f).checked_sub(1)
    }
    pub fn alliance(self) -> Option<u16> {
        ((self.0 >> 6) & 0x1f).checked_sub(1)
    }
    pub fn country(self) -> u8 {
        ((self.0 >> 11) & 0x7) as u8
    }
}

/// Descriptive header stored with the index.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct IndexMeta {
    /// Human-readable source, e.g. `OS Code-Point Open 2018.3.0`.
    pub source: String,
    /// Fingerprint of the source file and boundaries this index was built from.
    pub fingerprint: String,
    /// Alliance and STP codes, in the order the packed indexes refer to.
    pub alliances: Vec<String>,
    pub stps: Vec<String>,
}

/// One postcode as read from a source file, before indexing.
#[derive(Debug, Clone, Copy)]
pub struct Entry {
    pub postcode: Postcode,
    pub lon: f64,
    pub lat: f64,
    pub areas: Areas,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PostcodeIndex {
    pub meta: IndexMeta,
    pub(super) outcodes: Vec<[u8; 4]>,
    /// `outcode_start[i]..outcode_start[i + 1]` are outcode `i`'s postcodes.
    pub(super) outcode_start: Vec<u32>,
    /// Per sector: `[first postcode, min lon, min lat, max lon, max lat]` (micro-degrees).
    pub(super) sectors: Vec<[i32; 5]>,
    pub(super) inward: Vec<u16>,
    pub(super) lon: Vec<i32>,
    pub(super) lat: Vec<i32>,
    pub(super) areas: Vec<u16>,
}

/// A postcode found in the index.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Found {
    pub postcode: Postcode,
    pub lon: f64,
    pub lat: f64,
    pub areas: Areas,
}

pub fn to_micro(deg: f64) -> i32 {
    (deg * 1e6).round() as i32
}

pub fn from_micro(v: i32) -> f64 {
    v as f64 / 1e6
}

impl PostcodeIndex {
    /// Builds the index; later duplicates of a postcode are dropped (the count is returned).
    pub fn build(meta: IndexMeta, mut entries: Vec<Entry>) -> (Self, usize) {
        entries.sort_by_key(|e| (e.postcode.outward_bytes(), e.postcode.inward_key()));
        let before = entries.len();
        entries.dedup_by_key(|e| e.postcode);
        let duplicates = before - entries.len();
        let mut index = PostcodeIndex {
            meta,
            outcodes: Vec::new(),
            outcode_start: Vec::new(),
            sectors: Vec::new(),
            inward: Vec::with_capacity(entries.len()),
            lon: Vec::with_capacity(entries.len()),
            lat: Vec::with_capacity(entries.len()),
            areas: Vec::with_capacity(entries.len()),
        };
        for (i, e) in entries.iter().enumerate() {
            if index.outcodes.last() != Some(&e.postcode.outward_bytes()) {
                index.outcodes.push(e.postcode.outward_bytes());
                index.outcode_start.push(i as u32);
            }
            index.inward.push(e.postcode.inward_key());
            index.lon.push(to_micro(e.lon));
            index.lat.push(to_micro(e.lat));
            index.areas.push(e.areas.0);
        }
        index.outcode_start.push(entries.len() as u32);
        index.sectors = index.compute_sectors();
        (index, duplicates)
    }

    /// Sector bounding boxes: derived data, recomputed at load rather than stored.
    pub(super) fn compute_sectors(&self) -> Vec<[i32; 5]> {
        let mut sectors: Vec<[i32; 5]> = Vec::new();
        for o in 0..self.outcodes.len() {
            let mut digit = u16::MAX;
            for i in self.outcode_start[o] as usize..self.outcode_start[o + 1] as usize {
                let (x, y) = (self.lon[i], self.lat[i]);
                if self.inward[i] / 676 != digit {
                    digit = self.inward[i] / 676;
                    sectors.push([i as i32, x, y, x, y]);
                } else if let Some(s) = sectors.last_mut() {
                    s[1] = s[1].min(x);
                    s[2] = s[2].min(y);
                    s[3] = s[3].max(x);
                    s[4] = s[4].max(y);
                }
            }
        }
        sectors
    }

    pub fn len(&self) -> usize {
        self.inward.len()
    }

    pub fn is_empty(&self) -> bool {
        self.inward.is_empty()
    }

    fn found(&self, outcode: usize, i: usize) -> Found {
        Found {
            postcode: Postcode::from_parts(self.outcodes[outcode], self.inward[i]),
            lon: from_micro(self.lon[i]),
            lat: from_micro(self.lat[i]),
            areas: Areas(self.areas[i]),
        }
    }

    fn outcode_position(&self, outward: &[u8; 4]) -> Option<usize> {
        self.outcodes.binary_search(outward).ok()
    }

    pub fn get(&self, postcode: &Postcode) -> Option<Found> {
        let o = self.outcode_position(&postcode.outward_bytes())?;
        let (start, end) = (self.outcode_start[o] as usize, self.outcode_start[o + 1] as usize);
        let at = self.inward[start..end].binary_search(&postcode.inward_key()).ok()?;
        Some(self.found(o, start + at))
    }

    /// Every postcode of an outward code, in order.
    pub fn outcode(&self, outward: &[u8; 4]) -> Option<impl Iterator<Item = Found> + '_> {
        let o = self.outcode_position(outward)?;
        let range = self.outcode_start[o] as usize..self.outcode_start[o + 1] as usize;
        Some(range.map(move |i| self.found(o, i)))
    }

    /// Up to `limit` postcodes within `radius_m` metres of the point, nearest first.
    pub fn nearest(&self, lon: f64, lat: f64, radius_m: f64, limit: usize) -> Vec<(Found, f64)> {
        let metric = LocalMetric::at(lon, lat);
        let (dx, dy) = (metric.dx_deg(radius_m), metric.dy_deg(radius_m));
        let (x0, x1, y0, y1) = (
            to_micro(lon - dx),
            to_micro(lon + dx),
            to_micro(lat - dy),
            to_micro(lat + dy),
        );
        let mut hits: Vec<(usize, f64)> = Vec::new();
        for (s, sector) in self.sectors.iter().enumerate() {
            if sector[3] < x0 || sector[1] > x1 || sector[4] < y0 || sector[2] > y1 {
                continue;
            }
            let end = self.sectors.get(s + 1).map_or(self.len(), |n| n[0] as usize);
            for i in sector[0] as usize..end {
                let d = metric.point_distance_m(from_micro(self.lon[i]), from_micro(self.lat[i]));
                if d <= radius_m {
                    hits.push((i, d));
                }
            }
        }
        hits.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
        hits.truncate(limit);
        hits.into_iter()
            .map(|(i, d)| {
                let o = self.outcode_start.partition_point(|&start| start as usize <= i) - 1;
                (self.found(o, i), d)
            })
            .collect()
    }

    /// Bytes of postcode data held in memory (the per-postcode arrays and tables).
    pub fn memory_bytes(&self) -> usize {
        self.outcodes.len() * 4
            + self.outcode_start.len() * 4
            + self.sectors.len() * 20
            + self.inward.len() * 2
            + self.lon.len() * 4
            + self.lat.len() * 4
            + self.areas.len() * 2
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub fn sample() -> PostcodeIndex {
        let meta = IndexMeta {
            source: "test".into(),
            fingerprint: "f".into(),
            alliances: vec!["E56000003".into()],
            stps: vec!["E54000005".into()],
        };
        let e = |pc: &str, lon, lat| Entry {
            postcode: Postcode::parse(pc).unwrap(),
            lon,
            lat,
            areas: Areas::new(Some(0), Some(0), 1),
        };
        PostcodeIndex::build(
            meta,
            vec![
                e("LS1 1AZ", -1.5492, 53.7997),
                e("LS1 1BA", -1.5480, 53.7990),
                e("LS2 7AA", -1.5500, 53.8100),
                e("S40 1LL", -1.4216, 53.2350),
                e("LS1 1AZ", 0.0, 0.0),
            ],
        )
        .0
    }

    #[test]
    fn areas_pack_and_unpack() {
        let a = Areas::new(Some(18), Some(43), 6);
        assert_eq!((a.alliance(), a.stp(), a.country()), (Some(18), Some(43), 6));
        let none = Areas::new(None, None, 2);
        assert_eq!((none.alliance(), none.stp(), none.country()), (None, None, 2));
    }

    #[test]
    fn finds_postcodes_and_drops_duplicates() {
        let idx = sample();
        assert_eq!(idx.len(), 4);
        let f = idx.get(&Postcode::parse("ls11az").unwrap()).unwrap();
        assert_eq!((f.lon, f.lat), (-1.5492, 53.7997), "the first of a duplicate is kept");
        assert!(idx.get(&Postcode::parse("LS1 1AA").unwrap()).is_none());
        assert!(idx.get(&Postcode::parse("ZZ1 1AA").unwrap()).is_none());
        assert_eq!(idx.outcode(b"LS1 ").unwrap().count(), 2);
    }

    #[test]
    fn nearest_is_sorted_and_bounded() {
        let idx = sample();
        let near = idx.nearest(-1.5492, 53.7997, 2000.0, 10);
        let names: Vec<String> = near.iter().map(|(f, _)| f.postcode.to_string()).collect();
        assert_eq!(names, ["LS1 1AZ", "LS1 1BA", "LS2 7AA"]);
        assert_eq!(near[0].1, 0.0);
        assert_eq!(idx.nearest(-1.5492, 53.7997, 100.0, 10).len(), 2);
        assert_eq!(idx.nearest(-1.5492, 53.7997, 2000.0, 1).len(), 1);
    }
}

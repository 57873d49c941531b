//! The postcode index: every live postcode with its location and its resolved alliance,
//! STP and country, in 12 bytes a postcode.
//!
//! Layout (sorted by outward code then inward code):
//! - per outward code: the code, and where its postcodes start;
//! - per sector (outward code + inward digit, derived at load): where its postcodes start
//!   and their bounding box, which narrows both the exact search and the nearest search;
//! - per postcode, one 12-byte [`Record`]: inward code, packed area indexes, longitude and
//!   latitude in micro-degrees. One record is one cache line access on a lookup.

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

/// A postcode's areas in one period, as indexes into that period's editions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct PeriodAreas {
    pub alliance: Option<u16>,
    pub footprint: Option<u16>,
    pub sub_area: Option<u16>,
}

impl From<crate::locate::Located> for PeriodAreas {
    fn from(l: crate::locate::Located) -> Self {
        PeriodAreas {
            alliance: l.alliance,
            footprint: l.footprint,
            sub_area: l.sub_area,
        }
    }
}

/// A postcode's source, country and areas in every period. Every postcode of one face of the
/// overlaid layers (from one source) shares one, so the index stores each once and a postcode
/// refers to it by number: every edition resolved at import, in the 12 bytes of a [`Record`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Areas {
    /// Index into [`IndexMeta::sources`]: where the postcode's location comes from.
    pub source: u8,
    /// Index into [`COUNTRIES`].
    pub country: u8,
    /// Per period of the data, in order.
    pub periods: Vec<PeriodAreas>,
}

impl Areas {
    /// The areas in period `p` (none for a period the index does not know).
    pub fn at(&self, p: usize) -> PeriodAreas {
        self.periods.get(p).copied().unwrap_or_default()
    }
}

/// Descriptive header stored with the index.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct IndexMeta {
    /// The sources the postcodes come from, in precedence order, e.g.
    /// `OS Code-Point Open 2018.3.0`, `ONS NSPL May 2025`.
    pub sources: Vec<String>,
    /// Fingerprint of the source file and boundaries this index was built from.
    pub fingerprint: String,
    /// Per period: how many alliances, footprints and sub-areas its editions have (0: none
    /// held), which bounds the stored indexes.
    pub period_sizes: Vec<[u16; 3]>,
}

/// One postcode as read from a source file, before indexing.
#[derive(Debug, Clone)]
pub struct Entry {
    pub postcode: Postcode,
    pub lon: f64,
    pub lat: f64,
    pub areas: Areas,
}

/// One postcode: 12 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(C)]
pub struct Record {
    /// [`Postcode::inward_key`].
    pub inward: u16,
    /// Index into the index's [`Areas`] table.
    pub areas: u16,
    /// Micro-degrees.
    pub lon: i32,
    pub lat: i32,
}

/// The postcodes of one sector (`S40 1`): where they start and their bounding box.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Sector {
    first: u32,
    digit: u16,
    /// `[min lon, min lat, max lon, max lat]`, micro-degrees.
    bbox: [i32; 4],
}

#[derive(Debug, Clone, PartialEq)]
pub struct PostcodeIndex {
    pub meta: IndexMeta,
    pub(super) outcodes: Vec<[u8; 4]>,
    /// `outcode_start[i]..outcode_start[i + 1]` are outcode `i`'s postcodes.
    pub(super) outcode_start: Vec<u32>,
    pub(super) records: Vec<Record>,
    /// The distinct [`Areas`] the records refer to.
    pub(super) areas: Vec<Areas>,
    /// Derived at load: sectors in order, and for each outcode where its sectors start.
    pub(super) sectors: Vec<Sector>,
    pub(super) outcode_sectors: Vec<u32>,
    /// Derived at load, per sector: which of its 676 possible unit codes exist, one bit each.
    /// A postcode's record is the sector's first plus the number of bits set before its own:
    /// one read of 88 bytes instead of a binary search over the sector's records (each probe
    /// a likely cache miss in a 32 MB array).
    pub(super) units: Vec<[u64; UNIT_WORDS]>,
}

/// 676 unit codes (`AA`..`ZZ` of the inward code) a sector can hold, in 64-bit words.
const UNIT_WORDS: usize = 676usize.div_ceil(64);

/// A postcode found in the index.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Found<'a> {
    pub postcode: Postcode,
    pub lon: f64,
    pub lat: f64,
    pub areas: &'a Areas,
    /// The source of the postcode's location.
    pub source: &'a str,
}

pub fn to_micro(deg: f64) -> i32 {
    (deg * 1e6).round() as i32
}

pub fn from_micro(v: i32) -> f64 {
    v as f64 / 1e6
}

impl PostcodeIndex {
    /// Most distinct [`Areas`] an index can hold (a record refers to one by a `u16`).
    pub const MAX_AREAS: usize = u16::MAX as usize;

    /// Builds the index; later duplicates of a postcode are dropped (the count is returned).
    /// `None` when the postcodes have more distinct areas than [`Self::MAX_AREAS`].
    pub fn build(meta: IndexMeta, mut entries: Vec<Entry>) -> Option<(Self, usize)> {
        entries.sort_by_key(|e| (e.postcode.outward_bytes(), e.postcode.inward_key()));
        let before = entries.len();
        entries.dedup_by_key(|e| e.postcode);
        let duplicates = before - entries.len();
        let mut outcodes = Vec::new();
        let mut outcode_start = Vec::new();
        let mut records = Vec::with_capacity(entries.len());
        let mut areas: Vec<Areas> = Vec::new();
        let mut numbers: std::collections::HashMap<Areas, u16> = std::collections::HashMap::new();
        for (i, e) in entries.into_iter().enumerate() {
            if outcodes.last() != Some(&e.postcode.outward_bytes()) {
                outcodes.push(e.postcode.outward_bytes());
                outcode_start.push(i as u32);
            }
            let number = match numbers.get(&e.areas) {
                Some(&n) => n,
                None if areas.len() < Self::MAX_AREAS => {
                    let n = areas.len() as u16;
                    numbers.insert(e.areas.clone(), n);
                    areas.push(e.areas.clone());
                    n
                }
                None => return None,
            };
            records.push(Record {
                inward: e.postcode.inward_key(),
                areas: number,
                lon: to_micro(e.lon),
                lat: to_micro(e.lat),
            });
        }
        outcode_start.push(records.len() as u32);
        Some((
            Self::from_parts(meta, outcodes, outcode_start, records, areas),
            duplicates,
        ))
    }

    /// Assembles an index from its stored parts, deriving the sector tables.
    pub(super) fn from_parts(
        meta: IndexMeta,
        outcodes: Vec<[u8; 4]>,
        outcode_start: Vec<u32>,
        records: Vec<Record>,
        areas: Vec<Areas>,
    ) -> Self {
        let mut sectors: Vec<Sector> = Vec::new();
        let mut outcode_sectors = Vec::with_capacity(outcodes.len() + 1);
        for w in outcode_start.windows(2) {
            outcode_sectors.push(sectors.len() as u32);
            for i in w[0]..w[1] {
                let r = &records[i as usize];
                let digit = r.inward / 676;
                match sectors.last_mut() {
                    Some(s) if s.digit == digit && s.first >= w[0] => {
                        s.bbox = [
                            s.bbox[0].min(r.lon),
                            s.bbox[1].min(r.lat),
                            s.bbox[2].max(r.lon),
                            s.bbox[3].max(r.lat),
                        ];
                    }
                    _ => sectors.push(Sector {
                        first: i,
                        digit,
                        bbox: [r.lon, r.lat, r.lon, r.lat],
                    }),
                }
            }
        }
        outcode_sectors.push(sectors.len() as u32);
        let mut units = vec![[0u64; UNIT_WORDS]; sectors.len()];
        for (s, sector) in sectors.iter().enumerate() {
            let end = sectors.get(s + 1).map_or(records.len(), |n| n.first as usize);
            for r in &records[sector.first as usize..end] {
                let unit = usize::from(r.inward % 676);
                units[s][unit / 64] |= 1 << (unit % 64);
            }
        }
        PostcodeIndex {
            meta,
            outcodes,
            outcode_start,
            records,
            areas,
            sectors,
            outcode_sectors,
            units,
        }
    }

    /// The sources in words, for messages: "A", "A and B", "A, B and C".
    pub fn describe_sources(&self) -> String {
        match self.meta.sources.split_last() {
            None => "the postcode index".into(),
            Some((last, [])) => last.clone(),
            Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
        }
    }

    /// The outward codes in order, and where each one's records start (one more entry than
    /// outcodes: the last is the number of records).
    pub fn outcode_table(&self) -> (&[[u8; 4]], &[u32]) {
        (&self.outcodes, &self.outcode_start)
    }

    pub fn records(&self) -> &[Record] {
        &self.records
    }

    pub fn len(&self) -> usize {
        self.records.len()
    }

    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// The distinct areas the postcodes refer to.
    pub fn areas(&self) -> &[Areas] {
        &self.areas
    }

    fn found(&self, outcode: usize, i: usize) -> Found<'_> {
        const NONE: &Areas = &Areas {
            source: 0,
            country: 0,
            periods: Vec::new(),
        };
        let r = &self.records[i];
        // Decoding checks every record's number and every source index; the defaults are
        // never reached.
        let areas = self.areas.get(r.areas as usize).unwrap_or(NONE);
        Found {
            postcode: Postcode::from_parts(self.outcodes[outcode], r.inward),
            lon: from_micro(r.lon),
            lat: from_micro(r.lat),
            areas,
            source: self.meta.sources.get(areas.source as usize).map_or("", String::as_str),
        }
    }

    fn outcode_position(&self, outward: &[u8; 4]) -> Option<usize> {
        self.outcodes.binary_search(outward).ok()
    }

    /// The postcode range of sector `s`.
    fn sector_range(&self, s: usize) -> std::ops::Range<usize> {
        let end = self.sectors.get(s + 1).map_or(self.len(), |n| n.first as usize);
        self.sectors[s].first as usize..end
    }

    pub fn get(&self, postcode: &Postcode) -> Option<Found<'_>> {
        let o = self.outcode_position(&postcode.outward_bytes())?;
        let key = postcode.inward_key();
        let sectors = self.outcode_sectors[o] as usize..self.outcode_sectors[o + 1] as usize;
        let s = sectors.clone().find(|&s| self.sectors[s].digit == key / 676)?;
        let unit = usize::from(key % 676);
        let bits = self.units.get(s)?;
        let (word, bit) = (unit / 64, unit % 64);
        if bits[word] >> bit & 1 == 0 {
            return None;
        }
        let before: u32 =
            bits[..word].iter().map(|w| w.count_ones()).sum::<u32>() + (bits[word] & ((1u64 << bit) - 1)).count_ones();
        Some(self.found(o, self.sectors[s].first as usize + before as usize))
    }

    /// Every postcode of an outward code, in order.
    pub fn outcode(&self, outward: &[u8; 4]) -> Option<impl Iterator<Item = Found<'_>> + '_> {
        let o = self.outcode_position(outward)?;
        let range = self.outcode_start[o] as usize..self.outcode_start[o + 1] as usize;
        Some(range.map(move |i| self.found(o, i)))
    }

    /// Up to `limit` postcodes within `radius_m` metres of the point, nearest first.
    pub fn nearest(&self, lon: f64, lat: f64, radius_m: f64, limit: usize) -> Vec<(Found<'_>, f64)> {
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
            let b = sector.bbox;
            if b[2] < x0 || b[0] > x1 || b[3] < y0 || b[1] > y1 {
                continue;
            }
            for i in self.sector_range(s) {
                let r = &self.records[i];
                let d = metric.point_distance_m(from_micro(r.lon), from_micro(r.lat));
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

    /// The postcode at position `i` of the index (in postcode order), if any.
    pub fn postcode_at(&self, i: usize) -> Option<Postcode> {
        if i >= self.len() {
            return None;
        }
        let o = self.outcode_start.partition_point(|&start| start as usize <= i) - 1;
        Some(self.found(o, i).postcode)
    }

    /// Bytes of postcode data held in memory (the per-postcode arrays and tables).
    pub fn memory_bytes(&self) -> usize {
        self.outcodes.len() * 4
            + self.outcode_start.len() * 4
            + self.outcode_sectors.len() * 4
            + self.sectors.len() * std::mem::size_of::<Sector>()
            + self.units.len() * UNIT_WORDS * 8
            + self.records.len() * std::mem::size_of::<Record>()
            + self.areas.iter().map(|a| 2 + a.periods.len() * 6).sum::<usize>()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub fn sample() -> PostcodeIndex {
        let meta = IndexMeta {
            sources: vec!["test".into()],
            fingerprint: "f".into(),
            period_sizes: vec![[1, 1, 0], [1, 1, 1]],
        };
        let leeds = Areas {
            source: 0,
            country: 1,
            periods: vec![
                PeriodAreas {
                    alliance: Some(0),
                    footprint: Some(0),
                    sub_area: None,
                },
                PeriodAreas {
                    alliance: Some(0),
                    footprint: Some(0),
                    sub_area: Some(0),
                },
            ],
        };
        let e = |pc: &str, lon, lat| Entry {
            postcode: Postcode::parse(pc).unwrap(),
            lon,
            lat,
            areas: leeds.clone(),
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
        .unwrap()
        .0
    }

    #[test]
    fn a_record_is_twelve_bytes_and_areas_are_shared() {
        assert_eq!(std::mem::size_of::<Record>(), 12);
        let idx = sample();
        assert_eq!(idx.areas().len(), 1, "one face, one entry");
        let f = idx.get(&Postcode::parse("S40 1LL").unwrap()).unwrap();
        assert_eq!(f.areas.at(1).sub_area, Some(0));
        assert_eq!(f.areas.at(9), PeriodAreas::default(), "a period it does not know");
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
    fn unit_bits_find_every_postcode_across_word_edges_and_no_other() {
        // Units either side of the 64-bit words' edges (`EX` 127 | `EY` 128, `HJ` 191 | `HL`
        // 193, `JW` 256, `JX` 257), the first and the last (`AA` 0, `ZZ` 675) of sector S40 1,
        // and units between them absent.
        let present = [
            "S40 1AA", "S40 1EX", "S40 1EY", "S40 1HJ", "S40 1HL", "S40 1JW", "S40 1JX", "S40 1ZZ", "S40 2AB",
        ];
        let absent = [
            "S40 1AB", "S40 1EW", "S40 1HH", "S40 1JU", "S40 1ZY", "S40 2AA", "S40 3AA",
        ];
        let meta = IndexMeta {
            sources: vec!["test".into()],
            fingerprint: "f".into(),
            period_sizes: vec![],
        };
        let entries = present
            .iter()
            .enumerate()
            .map(|(i, pc)| Entry {
                postcode: Postcode::parse(pc).unwrap(),
                lon: i as f64,
                lat: 0.0,
                areas: Areas::default(),
            })
            .collect();
        let idx = PostcodeIndex::build(meta, entries).unwrap().0;
        for (i, pc) in present.iter().enumerate() {
            let found = idx.get(&Postcode::parse(pc).unwrap()).expect(pc);
            assert_eq!((found.postcode.to_string().as_str(), found.lon), (*pc, i as f64));
        }
        for pc in absent {
            assert!(idx.get(&Postcode::parse(pc).unwrap()).is_none(), "{pc}");
        }
    }

    #[test]
    fn nearest_is_sorted_and_bounded() {
        let idx = sample();
        let near = idx.nearest(-1.5492, 53.7997, 2000.0, 10);
        let names: Vec<String> = near.iter().map(|(f, _)| f.postcode.to_string()).collect();
        assert_eq!(names, ["LS1 1AZ", "LS1 1BA", "LS2 7AA"]);
        assert_eq!(near[0].1, 0.0);
        assert_eq!(idx.nearest(-1.5492, 53.7997, 120.0, 10).len(), 2);
        assert_eq!(idx.nearest(-1.5492, 53.7997, 100.0, 10).len(), 1);
        assert_eq!(idx.nearest(-1.5492, 53.7997, 2000.0, 1).len(), 1);
    }
}

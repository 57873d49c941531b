//! The postcode index in packed form: the same parts as the index file
//! ([`crate::postcode::file`]) but laid out for compression: each column on its own, sorted
//! values as deltas, small numbers as varints. 2.6 million postcodes with every edition
//! resolved pack to a few bytes each; decoding checks the same invariants as reading the
//! index file.

use super::codec::{Reader, Writer};
use crate::postcode::file::validated;
use crate::postcode::index::{Areas, IndexMeta, PeriodAreas, PostcodeIndex, Record};

pub fn encode(index: &PostcodeIndex) -> Vec<u8> {
    let (outcodes, starts) = index.outcode_table();
    let mut head = Writer::default();
    head.str(&serde_json::to_string(&index.meta).unwrap_or_default());
    head.u(outcodes.len() as u64);
    for (o, w) in outcodes.iter().zip(starts.windows(2)) {
        head.bytes(o);
        head.u(u64::from(w[1] - w[0]));
    }
    let areas = index.areas();
    head.u(areas.len() as u64);
    for a in areas {
        head.u(a.source.into());
        head.u(a.country.into());
        for p in &a.periods {
            for v in [p.alliance, p.footprint, p.sub_area] {
                head.u(v.map_or(0, |v| u64::from(v) + 1));
            }
        }
    }
    // Columns: inward codes as steps within their outcode, the rest as steps from the record
    // before (neighbours in postcode order are neighbours on the ground).
    let (mut inward, mut number, mut lon, mut lat) = (
        Writer::default(),
        Writer::default(),
        Writer::default(),
        Writer::default(),
    );
    let mut prev = Record {
        inward: 0,
        areas: 0,
        lon: 0,
        lat: 0,
    };
    for w in starts.windows(2) {
        let mut prev_inward = 0u16;
        for r in &index.records()[w[0] as usize..w[1] as usize] {
            inward.u(u64::from(r.inward - prev_inward));
            prev_inward = r.inward;
            number.i(i64::from(r.areas) - i64::from(prev.areas));
            lon.i(i64::from(r.lon) - i64::from(prev.lon));
            lat.i(i64::from(r.lat) - i64::from(prev.lat));
            prev = *r;
        }
    }
    let mut out = head;
    for column in [inward, number, lon, lat] {
        out.bytes(&column.buf);
    }
    out.buf
}

pub fn decode(payload: &[u8]) -> Result<PostcodeIndex, String> {
    let mut r = Reader::new(payload);
    let meta: IndexMeta = serde_json::from_str(r.str()?).map_err(|e| format!("damaged metadata: {e}"))?;
    let n_outcodes = r.len()?;
    let mut outcodes = Vec::with_capacity(n_outcodes);
    let mut starts = Vec::with_capacity(n_outcodes + 1);
    let mut counts = Vec::with_capacity(n_outcodes);
    let mut total = 0u64;
    starts.push(0u32);
    for _ in 0..n_outcodes {
        let o: [u8; 4] = r.bytes()?.try_into().map_err(|_| "damaged outcode")?;
        outcodes.push(o);
        let count = r.u()?;
        total = total.checked_add(count).ok_or("damaged outcode counts")?;
        starts.push(u32::try_from(total).map_err(|_| "damaged outcode counts")?);
        counts.push(count);
    }
    let n_areas = r.len()?;
    let mut areas = Vec::with_capacity(n_areas);
    let small = |v: u64| u8::try_from(v).map_err(|_| "damaged areas table".to_string());
    let index = |v: u64| match v {
        0 => Ok(None),
        v => u16::try_from(v - 1)
            .map(Some)
            .map_err(|_| "damaged areas table".to_string()),
    };
    for _ in 0..n_areas {
        let source = small(r.u()?)?;
        let country = small(r.u()?)?;
        let mut periods = Vec::with_capacity(meta.period_sizes.len());
        for _ in &meta.period_sizes {
            periods.push(PeriodAreas {
                alliance: index(r.u()?)?,
                footprint: index(r.u()?)?,
                sub_area: index(r.u()?)?,
            });
        }
        areas.push(Areas {
            source,
            country,
            periods,
        });
    }
    let (mut inward, mut number, mut lon, mut lat) = (
        Reader::new(r.bytes()?),
        Reader::new(r.bytes()?),
        Reader::new(r.bytes()?),
        Reader::new(r.bytes()?),
    );
    if !r.is_empty() {
        return Err("trailing bytes".into());
    }
    // Every record takes at least a byte of each column.
    if total > inward.remaining() as u64 {
        return Err("damaged (more records counted than stored)".into());
    }
    let mut records = Vec::with_capacity(total as usize);
    let mut prev = (0i64, 0i64, 0i64);
    for count in counts {
        let mut prev_inward = 0u64;
        for _ in 0..count {
            let out_of_range = || "damaged records".to_string();
            prev_inward = prev_inward.checked_add(inward.u()?).ok_or_else(out_of_range)?;
            prev = (
                prev.0.checked_add(number.i()?).ok_or_else(out_of_range)?,
                prev.1.checked_add(lon.i()?).ok_or_else(out_of_range)?,
                prev.2.checked_add(lat.i()?).ok_or_else(out_of_range)?,
            );
            records.push(Record {
                inward: u16::try_from(prev_inward).map_err(|_| out_of_range())?,
                areas: u16::try_from(prev.0).map_err(|_| out_of_range())?,
                lon: i32::try_from(prev.1).map_err(|_| out_of_range())?,
                lat: i32::try_from(prev.2).map_err(|_| out_of_range())?,
            });
        }
    }
    validated(meta, outcodes, starts, records, areas)
}

#[cfg(test)]
mod tests {
    use crate::postcode::index::tests::sample;
    use proptest::prelude::*;

    proptest! {
        /// Damaged payloads decode to an error or to a valid index, never a panic or a huge
        /// allocation.
        #[test]
        fn damage_never_panics(flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8)) {
            let mut packed = super::encode(&sample());
            for (at, byte) in flips {
                let n = packed.len();
                packed[at % n] = byte;
            }
            let _ = super::decode(&packed);
        }
    }

    #[test]
    fn round_trips_and_refuses_damage() {
        let idx = sample();
        let packed = super::encode(&idx);
        assert_eq!(super::decode(&packed).unwrap(), idx);
        for cut in [1, packed.len() / 2, packed.len() - 1] {
            assert!(super::decode(&packed[..cut]).is_err(), "cut at {cut}");
        }
    }
}

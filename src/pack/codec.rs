//! The byte encoding of the packed files: LEB128 varints (zigzag for signed values),
//! length-prefixed strings, and a file as a list of zstd-compressed parts. Reading never panics:
//! truncated or damaged input is an error naming what was being read.

/// Appends values to a byte buffer.
#[derive(Default)]
pub struct Writer {
    pub buf: Vec<u8>,
}

impl Writer {
    pub fn u(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.buf.push((v as u8) | 0x80);
            v >>= 7;
        }
        self.buf.push(v as u8);
    }

    pub fn i(&mut self, v: i64) {
        self.u(((v << 1) ^ (v >> 63)) as u64);
    }

    pub fn bytes(&mut self, b: &[u8]) {
        self.u(b.len() as u64);
        self.buf.extend_from_slice(b);
    }

    pub fn str(&mut self, s: &str) {
        self.bytes(s.as_bytes());
    }
}

/// Reads values back; every method fails rather than reading past the end.
pub struct Reader<'a> {
    data: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        Reader { data, at: 0 }
    }

    pub fn is_empty(&self) -> bool {
        self.at >= self.data.len()
    }

    /// Bytes not yet read.
    pub fn remaining(&self) -> usize {
        self.data.len().saturating_sub(self.at)
    }

    pub fn u(&mut self) -> Result<u64, String> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = *self.data.get(self.at).ok_or("truncated (a number runs past the end)")?;
            self.at += 1;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err("damaged (a number longer than 64 bits)".into())
    }

    /// A count or length, bounded by what the rest of the data could hold (every counted item
    /// takes a byte at least), so damaged input cannot ask for a huge allocation.
    pub fn len(&mut self) -> Result<usize, String> {
        let n = self.u()?;
        let left = (self.data.len() - self.at) as u64;
        if n > left {
            return Err(format!("damaged (a count of {n} with {left} bytes left)"));
        }
        Ok(n as usize)
    }

    pub fn i(&mut self) -> Result<i64, String> {
        let v = self.u()?;
        Ok(((v >> 1) as i64) ^ -((v & 1) as i64))
    }

    pub fn i32(&mut self) -> Result<i32, String> {
        i32::try_from(self.i()?).map_err(|_| "damaged (a coordinate out of range)".to_string())
    }

    pub fn bytes(&mut self) -> Result<&'a [u8], String> {
        let n = self.u()? as usize;
        let end = self
            .at
            .checked_add(n)
            .filter(|&e| e <= self.data.len())
            .ok_or("truncated (a string runs past the end)")?;
        let b = &self.data[self.at..end];
        self.at = end;
        Ok(b)
    }

    pub fn str(&mut self) -> Result<&'a str, String> {
        std::str::from_utf8(self.bytes()?).map_err(|_| "damaged (a string is not UTF-8)".to_string())
    }

    pub fn f64(&mut self) -> Result<f64, String> {
        let end = self.at + 8;
        let b = self
            .data
            .get(self.at..end)
            .ok_or("truncated (a number runs past the end)")?;
        self.at = end;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(f64::from_le_bytes(a))
    }
}

/// Magic bytes at the start of every packed file, then the format version.
pub const MAGIC: &[u8; 8] = b"AMPACK\0\n";
/// 2: a file is a list of independently compressed parts (1: one frame), so the boundaries'
/// arcs decompress and decode on every core.
pub const VERSION: u32 = 2;
/// The largest payload accepted (the real ones are 0.4–16 MB).
const MAX_PAYLOAD: u64 = 256 << 20;
/// zstd level: the data is packed once and read at every start, so pack hard.
const LEVEL: i32 = 19;

/// A packed file of one part: see [`seal_parts`].
pub fn seal(kind: &str, payload: &[u8]) -> std::io::Result<Vec<u8>> {
    seal_parts(kind, &[payload])
}

/// A packed file: magic, version, a kind tag, the number of parts, then each part as a
/// length-prefixed zstd frame.
pub fn seal_parts(kind: &str, parts: &[impl AsRef<[u8]>]) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&VERSION.to_le_bytes());
    let mut w = Writer::default();
    w.str(kind);
    w.u(parts.len() as u64);
    for part in parts {
        w.bytes(&zstd::bulk::compress(part.as_ref(), LEVEL)?);
    }
    out.extend_from_slice(&w.buf);
    Ok(out)
}

/// The payload of a packed file of `kind` and one part, checked and decompressed.
pub fn open(kind: &str, file: &[u8]) -> Result<Vec<u8>, String> {
    let mut parts = open_parts(kind, file)?;
    match (parts.pop(), parts.is_empty()) {
        (Some(only), true) => Ok(only),
        _ => Err(format!("damaged ({} parts where one was expected)", parts.len() + 1)),
    }
}

/// The parts of a packed file of `kind`, checked and decompressed side by side.
pub fn open_parts(kind: &str, file: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    use rayon::prelude::*;
    frames(kind, file)?.par_iter().map(|f| decompress(f)).collect()
}

/// The compressed parts of a packed file of `kind`, checked, to decompress one by one.
pub fn frames<'a>(kind: &str, file: &'a [u8]) -> Result<Vec<&'a [u8]>, String> {
    let rest = file
        .strip_prefix(MAGIC.as_slice())
        .ok_or("not an alliance-map packed file (wrong magic bytes)")?;
    let version = rest.get(..4).ok_or("truncated")?;
    let version = u32::from_le_bytes([version[0], version[1], version[2], version[3]]);
    if version != VERSION {
        return Err(format!(
            "packed format version {version}, this program reads version {VERSION}; repack with `alliance-map pack-data`"
        ));
    }
    let mut r = Reader::new(&rest[4..]);
    let found = r.str()?;
    if found != kind {
        return Err(format!("holds {found:?}, expected {kind:?}"));
    }
    let n = r.len()?;
    let frames = (0..n)
        .map(|i| {
            r.bytes()
                .map_err(|_| format!("damaged (truncated: part {} of {n} runs past the end)", i + 1))
        })
        .collect::<Result<Vec<_>, _>>()?;
    if !r.is_empty() {
        return Err("damaged (bytes after the last part)".into());
    }
    Ok(frames)
}

/// One part, decompressed (its size checked first).
pub fn decompress(body: &[u8]) -> Result<Vec<u8>, String> {
    // The frame states its size; refuse absurd ones before allocating.
    let size = zstd::zstd_safe::get_frame_content_size(body)
        .ok()
        .flatten()
        .ok_or("damaged (no zstd frame size)")?;
    // The real parts are at most 16 MB and a few times their compressed size, the lookup grids'
    // up to a few hundred times (long runs of one cell value); a header claiming more is
    // damage, refused before allocating.
    if size > MAX_PAYLOAD || size > (body.len() as u64).saturating_mul(1024) {
        return Err(format!("damaged (claims {size} bytes uncompressed)"));
    }
    zstd::bulk::decompress(body, size as usize).map_err(|e| format!("damaged (zstd: {e})"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_strings_round_trip() {
        let mut w = Writer::default();
        for v in [0u64, 1, 127, 128, 300, u64::MAX] {
            w.u(v);
        }
        for v in [0i64, -1, 1, i32::MIN as i64, i64::MAX, i64::MIN] {
            w.i(v);
        }
        w.str("Côte");
        let mut r = Reader::new(&w.buf);
        for v in [0u64, 1, 127, 128, 300, u64::MAX] {
            assert_eq!(r.u().unwrap(), v);
        }
        for v in [0i64, -1, 1, i32::MIN as i64, i64::MAX, i64::MIN] {
            assert_eq!(r.i().unwrap(), v);
        }
        assert_eq!(r.str().unwrap(), "Côte");
        assert!(r.is_empty());
        assert!(r.u().is_err(), "reading past the end fails");
    }

    #[test]
    fn parts_round_trip_and_one_part_is_asked_for_as_one() {
        let sealed = seal_parts("boundaries", &[&b"first part"[..], b"", b"third"]).unwrap();
        let parts = open_parts("boundaries", &sealed).unwrap();
        assert_eq!(parts, vec![b"first part".to_vec(), vec![], b"third".to_vec()]);
        assert!(open("boundaries", &sealed).unwrap_err().contains("3 parts"));
        let mut extra = sealed;
        extra.push(0);
        assert!(open_parts("boundaries", &extra)
            .unwrap_err()
            .contains("after the last part"));
    }

    #[test]
    fn sealed_files_open_and_damage_is_reported() {
        let sealed = seal("tables", b"hello hello hello").unwrap();
        assert_eq!(open("tables", &sealed).unwrap(), b"hello hello hello");
        assert!(open("postcodes", &sealed).unwrap_err().contains("expected"));
        assert!(open("tables", b"PK\x03\x04").unwrap_err().contains("magic"));
        let mut cut = sealed.clone();
        cut.truncate(sealed.len() - 3);
        assert!(open("tables", &cut).is_err());
        let mut bumped = sealed;
        bumped[8] = 9;
        assert!(open("tables", &bumped).unwrap_err().contains("version 9"));
    }
}

//! The map's label glyphs: SDF glyph ranges of DejaVu Sans made by `tools/glyphs` from the
//! open font and embedded here, so labels never need a font CDN.

use std::sync::OnceLock;

use crate::maplayers::asset::Asset;

macro_rules! glyphs {
    ($($font:literal: $($range:literal),+;)+) => {
        &[$($(($font, $range, include_bytes!(concat!("../../web/glyphs/", $font, "/", $range, ".pbf")) as &[u8]),)+)+]
    };
}

/// (font, range, bytes).
const GLYPHS: &[(&str, &str, &[u8])] = glyphs! {
    "DejaVu Sans Book": "0-255", "256-511", "8192-8447";
    "DejaVu Sans Bold": "0-255", "256-511", "8192-8447";
};

/// The fonts served.
pub const FONTS: [&str; 2] = ["DejaVu Sans Book", "DejaVu Sans Bold"];

/// Glyph range `range` (`0-255`) of the first font of `stack` (`A,B,…`, as MapLibre asks)
/// that is served here, or `None`; a range of a served font with no glyphs here is empty.
pub fn glyphs(stack: &str, range: &str) -> Option<&'static Asset> {
    static ASSETS: OnceLock<Vec<Asset>> = OnceLock::new();
    static EMPTY: OnceLock<Asset> = OnceLock::new();
    let assets = ASSETS.get_or_init(|| {
        GLYPHS
            .iter()
            .map(|(_, _, b)| Asset::new(b.to_vec(), "application/x-protobuf", "public, max-age=86400"))
            .collect()
    });
    let font = stack.split(',').map(str::trim).find(|f| FONTS.contains(f))?;
    let (start, end) = range.split_once('-')?;
    let (start, end): (u32, u32) = (start.parse().ok()?, end.parse().ok()?);
    if start % 256 != 0 || end != start + 255 || end > 0xFFFF {
        return None;
    }
    match GLYPHS.iter().position(|(f, r, _)| *f == font && *r == range) {
        Some(i) => Some(&assets[i]),
        // MapLibre asks for the range of every character it meets: answer "none here".
        None => Some(EMPTY.get_or_init(|| Asset::new(Vec::new(), "application/x-protobuf", "public, max-age=86400"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_first_served_font_of_a_stack() {
        assert!(glyphs("DejaVu Sans Book", "0-255").is_some_and(|a| a.len() > 10_000));
        assert!(glyphs("Noto Sans Regular,DejaVu Sans Bold", "256-511").is_some_and(|a| a.len() > 10_000));
        assert!(glyphs("DejaVu Sans Book", "512-767").is_some_and(|a| a.is_empty()));
        assert!(glyphs("Comic Sans", "0-255").is_none());
        assert!(glyphs("DejaVu Sans Book", "0-100").is_none());
        assert!(glyphs("DejaVu Sans Book", "x").is_none());
    }
}

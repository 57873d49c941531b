//! `make-glyphs FONT.ttf OUT_DIR`: writes `OUT_DIR/<family style>/<start>-<end>.pbf` for the
//! ranges the map's labels use (Latin, Latin Extended, general punctuation), with martin's
//! parameters (24 px, radius 8, cutoff 0.25).

use pbf_font_tools::prost::Message;

const RANGES: [(u32, u32); 3] = [(0, 255), (256, 511), (8192, 8447)];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (Some(font), Some(out)) = (args.next(), args.next()) else {
        return Err("usage: make-glyphs FONT.ttf OUT_DIR".into());
    };
    for (start, end) in RANGES {
        let glyphs = pbf_font_tools::glyph_range_for_font(&font, start, end, 24, 8, 0.25)?;
        for stack in &glyphs.stacks {
            let dir = std::path::Path::new(&out).join(&stack.name);
            std::fs::create_dir_all(&dir)?;
            let one = pbf_font_tools::Glyphs {
                stacks: vec![stack.clone()],
            };
            let path = dir.join(format!("{start}-{end}.pbf"));
            std::fs::write(&path, one.encode_to_vec())?;
            println!("{} ({} glyphs)", path.display(), stack.glyphs.len());
        }
    }
    Ok(())
}

//! `alliance-map pack-data`: rebuilds the packed data compiled into the binary (`data/packed/`)
//! from the official files, deterministically; prints what was read and written.

use std::path::PathBuf;

use clap::Args;

use super::Failure;
use crate::locate::DEFAULT_TOLERANCE_M;
use crate::model::manifest::{Manifest, DEFAULT_MANIFEST, MANIFEST_FILE};

#[derive(Args, Debug)]
pub struct PackDataArgs {
    /// The directory of official files (laid out as the manifest says).
    #[arg(long, value_name = "DIR", default_value = "../shared/data")]
    pub from: PathBuf,
    /// Where the packed files go.
    #[arg(long, value_name = "DIR", default_value = "data/packed")]
    pub out: PathBuf,
    /// The manifest (else the directory's own manifest.toml, else the built-in one).
    #[arg(long, value_name = "FILE")]
    pub manifest: Option<PathBuf>,
}

pub fn run(args: PackDataArgs) -> Result<(), Failure> {
    let own = args.from.join(MANIFEST_FILE);
    let manifest_path = args.manifest.clone().or_else(|| own.is_file().then_some(own));
    let text = match &manifest_path {
        Some(path) => {
            std::fs::read_to_string(path).map_err(|e| Failure::Data(format!("{}: cannot read: {e}", path.display())))?
        }
        None => DEFAULT_MANIFEST.to_string(),
    };
    // Checked before the long work starts.
    Manifest::parse(
        manifest_path
            .as_deref()
            .unwrap_or(std::path::Path::new("data/manifest.toml")),
        &text,
    )?;
    let started = std::time::Instant::now();
    let summary = crate::pack::write::pack(&args.from, &text, &args.out, DEFAULT_TOLERANCE_M)
        .map_err(|e| Failure::Data(format!("{e:#}")))?;
    eprintln!(
        "read {} source files ({} bytes)",
        summary.sources.len(),
        summary.sources.iter().map(|s| s.bytes).sum::<u64>()
    );
    eprintln!(
        "boundaries: {} ring vertices stored as {} arcs of {} vertices ({:.1} %)",
        summary.vertices_in,
        summary.arcs,
        summary.vertices_stored,
        100.0 * summary.vertices_stored as f64 / summary.vertices_in.max(1) as f64
    );
    if let Some(p) = &summary.postcodes {
        eprint!("{}", p.table());
    }
    for f in &summary.packed {
        eprintln!("wrote {}/{} ({} bytes)", args.out.display(), f.file, f.bytes);
    }
    eprintln!("packed in {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}

//! `alliance-map import-postcodes`: Code-Point Open zips and ONSPD/NSPL CSVs (in precedence
//! order) into an index file, with a summary table.

use std::path::PathBuf;

use clap::Args;

use super::{load, DataArgs, Failure};
use crate::postcode::{cache, file, import};

#[derive(Args, Debug)]
pub struct ImportArgs {
    /// Postcode files, in precedence order: a postcode takes its location from the first
    /// listing it.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Output index (default: the first FILE with extension .amp).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub data: DataArgs,
}

pub fn run(args: ImportArgs) -> Result<(), Failure> {
    let atlas = load(&args.data, None)?;
    let sources: Vec<import::SourceFile> = args
        .files
        .iter()
        .map(|path| import::SourceFile {
            path: path.clone(),
            name: None,
        })
        .collect();
    let out = args.out.clone().unwrap_or_else(|| args.files[0].with_extension("amp"));
    let fp = cache::fingerprint(&sources, &atlas.data, &atlas.locators());
    let started = std::time::Instant::now();
    let (index, summary) =
        import::import(&sources, &atlas.data, &atlas.locators(), fp).map_err(|e| Failure::Data(e.to_string()))?;
    file::write(&index, &out).map_err(|e| Failure::Other(anyhow::anyhow!("{}: cannot write: {e}", out.display())))?;
    eprint!("{}", summary.table());
    eprintln!(
        "wrote {} ({} postcodes, {} bytes) in {:.1} s",
        out.display(),
        index.len(),
        std::fs::metadata(&out).map(|m| m.len()).unwrap_or(0),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

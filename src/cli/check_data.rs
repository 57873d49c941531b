//! `alliance-map check-data`: validates a data directory, including full OGC validity (too
//! slow for start-up), and prints one row per alliance.

use clap::Args;
use rayon::prelude::*;

use super::{load, DataArgs, Failure};
use crate::model::boundaries::ogc_problems;
use crate::model::manifest::Kind;

#[derive(Args, Debug)]
pub struct CheckDataArgs {
    #[command(flatten)]
    pub data: DataArgs,
}

/// Prints one row per area and fails (exit 2) on any OGC validity problem.
pub fn run(args: CheckDataArgs) -> Result<(), Failure> {
    let atlas = load(&args.data, None)?;
    let data = &atlas.data;
    let manifest = &data.manifest;
    println!("data directory: {}", data.source.describe());
    println!("manifest: {} (answers for {})", manifest.title, manifest.default_date);
    println!(
        "{:<10} {:<62} {:>6} {:>6} {:>9} {:>5}",
        "code", "name", "parts", "STPs", "vertices", "CCGs"
    );
    for a in &data.alliances {
        let vertices: usize = a
            .geometry
            .0
            .iter()
            .map(|p| p.exterior().0.len() + p.interiors().iter().map(|r| r.0.len()).sum::<usize>())
            .sum();
        println!(
            "{:<10} {:<62} {:>6} {:>6} {:>9} {:>5}",
            a.code,
            a.name,
            a.geometry.0.len(),
            a.stps.len(),
            vertices,
            a.ccgs.len()
        );
    }
    let file_of = |kind: Kind| {
        manifest
            .edition_at(kind, manifest.default_date)
            .and_then(|l| l.file.clone())
            .unwrap_or_default()
    };
    let (alliance_file, stp_file) = (file_of(Kind::Alliance), file_of(Kind::Footprint));
    // Full OGC validation takes seconds on ~240k vertices: spread it over the cores.
    let layers = data
        .alliances
        .iter()
        .map(|a| (&alliance_file, &a.code, &a.geometry))
        .chain(data.stps.iter().map(|s| (&stp_file, &s.code, &s.geometry)))
        .collect::<Vec<_>>();
    let problems: Vec<String> = layers
        .par_iter()
        .flat_map_iter(|(file, code, g)| ogc_problems(g).into_iter().map(move |p| format!("{file} {code}: {p}")))
        .collect();
    let split: Vec<&str> = data
        .stps
        .iter()
        .filter(|s| s.alliances.len() > 1)
        .map(|s| s.code.as_str())
        .collect();
    println!(
        "{} alliances, {} STPs ({} split between alliances: {}), {} CCGs, {} countries",
        data.alliances.len(),
        data.stps.len(),
        split.len(),
        split.join(", "),
        data.ccgs.len(),
        data.countries.len()
    );
    if problems.is_empty() {
        println!("all geometries are valid (OGC)");
        Ok(())
    } else {
        Err(Failure::Data(format!(
            "{}: {} invalid geometries:\n  {}",
            data.source.describe(),
            problems.len(),
            problems.join("\n  ")
        )))
    }
}

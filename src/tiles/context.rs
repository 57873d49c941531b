//! The map's context, to orient a reader: local authority district outlines, district label
//! points, and towns and cities (GeoNames), read through the data source from the files the
//! manifest names. Never answered as areas.
//!
//! Which places show at which zoom: GeoNames populations are uneven (some are district
//! totals), so each place gets a zoom from its population, and the largest place of each
//! district shows by zoom 8 whatever its figure, so every district has a town named on it.
//! Neighbourhood rows (PPLX, PPLL) are dropped.

use std::collections::HashMap;

use geo::MultiPolygon;

use super::project::to_world;
use crate::model::{DataError, DataSource, Manifest};

/// A labelled point.
#[derive(Debug, Clone)]
pub struct Label {
    /// World coordinates.
    pub at: (f64, f64),
    pub code: String,
    pub name: String,
    /// The first zoom it is drawn at.
    pub minzoom: u8,
    /// Population (places only; 0: unknown).
    pub population: u64,
    /// Lower draws first when labels collide.
    pub rank: u32,
}

/// The context files, as loaded.
#[derive(Default)]
pub struct Context {
    pub districts: Vec<(String, String)>,
    pub district_geometry: Vec<std::sync::Arc<MultiPolygon<f64>>>,
    pub district_labels: Vec<Label>,
    pub places: Vec<Label>,
}

/// The first zoom at which district outlines and names are drawn.
pub const DISTRICT_MINZOOM: u8 = 7;

impl Context {
    /// Reads whichever context files the manifest names.
    pub fn load(source: &DataSource, manifest: &Manifest) -> Result<Self, DataError> {
        let mut context = Context::default();
        if let Some(d) = &manifest.context.districts {
            for f in source.features(&d.file)? {
                let prop = |name: &str| {
                    f.properties
                        .get(name)
                        .and_then(|v| v.as_str())
                        .unwrap_or("")
                        .to_string()
                };
                let Ok(geometry) = f.geometry else { continue };
                context.districts.push((prop(&d.code_property), prop(&d.name_property)));
                context.district_geometry.push(std::sync::Arc::new(geometry));
            }
        }
        if let Some(file) = &manifest.context.district_labels {
            let text = source.text(file)?;
            context.district_labels = read_csv(&source.path(file), &text, |row| {
                let area: f64 = row.get("area_km2").and_then(|v| v.parse().ok()).unwrap_or(0.0);
                Some(Label {
                    at: row.at()?,
                    code: row.get("code")?.to_string(),
                    name: row.get("name")?.to_string(),
                    // The largest districts' names help from one zoom out.
                    minzoom: if area >= 1500.0 {
                        DISTRICT_MINZOOM
                    } else {
                        DISTRICT_MINZOOM + 1
                    },
                    population: 0,
                    rank: 0,
                })
            })?;
        }
        if let Some(file) = &manifest.context.places {
            let text = source.text(file)?;
            let mut seats: HashMap<String, (u64, usize)> = HashMap::new();
            let rows = read_csv(&source.path(file), &text, |row| {
                let code = row.get("feature_code").unwrap_or("");
                if code == "PPLX" || code == "PPLL" {
                    return None;
                }
                let population: u64 = row.get("population").and_then(|v| v.parse().ok()).unwrap_or(0);
                let label = Label {
                    at: row.at()?,
                    code: row.get("geonameid")?.to_string(),
                    name: row.get("name")?.to_string(),
                    minzoom: place_minzoom(population),
                    population,
                    rank: 0,
                };
                Some((label, row.get("lad17cd").unwrap_or("").to_string()))
            })?;
            let (mut places, districts): (Vec<Label>, Vec<String>) = rows.into_iter().unzip();
            // The largest place of each district shows by zoom 8.
            for (i, (p, d)) in places.iter().zip(&districts).enumerate() {
                if d.is_empty() {
                    continue;
                }
                let e = seats.entry(d.clone()).or_insert((p.population, i));
                if p.population > e.0 {
                    *e = (p.population, i);
                }
            }
            for &(_, i) in seats.values() {
                places[i].minzoom = places[i].minzoom.min(8);
            }
            let mut order: Vec<usize> = (0..places.len()).collect();
            order.sort_by_key(|&i| (places[i].minzoom, std::cmp::Reverse(places[i].population)));
            for (rank, i) in order.into_iter().enumerate() {
                places[i].rank = rank as u32;
            }
            context.places = places;
        }
        Ok(context)
    }
}

/// The first zoom a place of this population is drawn at (cities first).
fn place_minzoom(population: u64) -> u8 {
    match population {
        1_000_000.. => 4,
        250_000.. => 5,
        100_000.. => 6,
        40_000.. => 7,
        15_000.. => 8,
        5_000.. => 9,
        2_000.. => 10,
        _ => 11,
    }
}

/// A CSV row with its header, for reading columns by name.
struct Row<'a> {
    header: &'a csv::StringRecord,
    record: &'a csv::StringRecord,
}

impl Row<'_> {
    fn get(&self, name: &str) -> Option<&str> {
        let i = self.header.iter().position(|h| h == name)?;
        self.record.get(i).map(str::trim).filter(|v| !v.is_empty())
    }

    /// The row's `lon`/`lat` in world coordinates, if both are finite and in range.
    fn at(&self) -> Option<(f64, f64)> {
        let lon: f64 = self.get("lon")?.parse().ok()?;
        let lat: f64 = self.get("lat")?.parse().ok()?;
        ((-180.0..=180.0).contains(&lon) && (-85.0..=85.0).contains(&lat)).then(|| to_world(lon, lat))
    }
}

/// Reads every row `keep` accepts; a row it cannot use is skipped (context is decoration:
/// one bad row should not stop the service), a file that is not CSV is an error.
fn read_csv<T>(
    path: &std::path::Path,
    text: &str,
    mut keep: impl FnMut(&Row) -> Option<T>,
) -> Result<Vec<T>, DataError> {
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(text.as_bytes());
    let header = reader
        .headers()
        .map_err(|e| DataError::file(path, format!("not a CSV table: {e}")))?
        .clone();
    let mut out = Vec::new();
    let mut skipped = 0usize;
    for record in reader.records() {
        let record = record.map_err(|e| DataError::file(path, format!("not a CSV table: {e}")))?;
        match keep(&Row {
            header: &header,
            record: &record,
        }) {
            Some(t) => out.push(t),
            None => skipped += 1,
        }
    }
    tracing::debug!(path = %path.display(), kept = out.len(), skipped, "context table read");
    Ok(out)
}

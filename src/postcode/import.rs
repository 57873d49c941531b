//! Importing postcode files into a [`PostcodeIndex`]: OS Code-Point Open (the zip exactly as
//! OS ships it, read in place) and ONS Postcode Directory / NSPL CSVs (header-detected).
//!
//! Each live postcode is resolved once, here, through the core point lookup: a postcode in
//! England gets the alliance and STP covering its location (or the nearest within the
//! tolerance); elsewhere, none.

use std::collections::BTreeMap;
use std::io::{BufReader, Read};
use std::path::Path;

use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;
use serde::Serialize;

use super::index::{country_index, Areas, Entry, IndexMeta, PeriodAreas, PostcodeIndex, COUNTRIES};
use super::parse::Postcode;
use crate::locate::Locator;
use crate::model::Dataset;

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{path}: cannot read: {message}")]
    Read { path: String, message: String },
    #[error("{path}: {problem}")]
    Format { path: String, problem: String },
}

/// Where a row's location comes from.
#[derive(Debug, Clone, Copy)]
enum Location {
    /// British National Grid easting/northing (OSGB36, EPSG:27700), metres.
    Grid(f64, f64),
    /// WGS84 longitude/latitude.
    LonLat(f64, f64),
}

#[derive(Debug)]
struct Row {
    postcode: Postcode,
    location: Location,
    country: u8,
    /// Codes the file itself assigns (ONSPD `calncv`, `stp`), to compare with ours.
    file_alliance: Option<String>,
    file_stp: Option<String>,
}

/// What an import did, for the summary table and for tests.
#[derive(Debug, Default, Clone, Serialize, PartialEq)]
pub struct ImportSummary {
    pub source: String,
    pub rows_read: u64,
    pub imported: u64,
    /// Rows skipped, by reason.
    pub skipped: BTreeMap<&'static str, u64>,
    /// Imported postcodes per country.
    pub per_country: BTreeMap<&'static str, u64>,
    /// Imported English postcodes without an alliance (outside every area beyond the tolerance).
    pub england_unresolved: u64,
    /// Rows whose own alliance / STP code was compared with the geometry answer, and how
    /// many disagreed.
    pub compared: u64,
    pub alliance_disagreements: u64,
    pub stp_disagreements: u64,
}

impl ImportSummary {
    fn skip(&mut self, reason: &'static str) {
        self.skip_n(reason, 1);
    }

    fn skip_n(&mut self, reason: &'static str, n: u64) {
        if n > 0 {
            *self.skipped.entry(reason).or_default() += n;
        }
    }

    /// A plain-text table for the terminal.
    pub fn table(&self) -> String {
        let mut s = format!("source: {}\n", self.source);
        s += &format!("{:<40} {:>10}\n", "rows read", self.rows_read);
        s += &format!("{:<40} {:>10}\n", "imported", self.imported);
        for (reason, n) in &self.skipped {
            s += &format!("{:<40} {:>10}\n", format!("skipped: {reason}"), n);
        }
        for (country, n) in &self.per_country {
            s += &format!("{:<40} {:>10}\n", format!("imported in {country}"), n);
        }
        s += &format!(
            "{:<40} {:>10}\n",
            "England, no area within tolerance", self.england_unresolved
        );
        if self.compared > 0 {
            s += &format!(
                "{:<40} {:>10}\n",
                "rows with their own alliance/STP codes", self.compared
            );
            s += &format!(
                "{:<40} {:>10}\n",
                "  alliance differs from geometry", self.alliance_disagreements
            );
            s += &format!("{:<40} {:>10}\n", "  STP differs from geometry", self.stp_disagreements);
        }
        s
    }
}

fn progress(len: u64, what: &str) -> ProgressBar {
    let bar = ProgressBar::new(len);
    bar.set_style(
        ProgressStyle::with_template("{msg:>12} [{bar:40}] {percent:>3}% {pos}/{len} ({eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_message(what.to_string());
    bar
}

/// Imports `path` (a Code-Point Open zip or an ONSPD/NSPL CSV), resolving each postcode in
/// every period of `data` through that period's locator (`locators[p]`).
pub fn import(
    path: &Path,
    data: &Dataset,
    locators: &[Locator],
    fingerprint: String,
) -> Result<(PostcodeIndex, ImportSummary), ImportError> {
    let name = path.display().to_string();
    let mut summary = ImportSummary::default();
    let (rows, source) = if is_zip(path).map_err(|e| ImportError::Read {
        path: name.clone(),
        message: e.to_string(),
    })? {
        read_codepoint_zip(path, &mut summary)?
    } else {
        let file = std::fs::File::open(path).map_err(|e| ImportError::Read {
            path: name.clone(),
            message: e.to_string(),
        })?;
        let rows = read_directory_csv(&name, file, &mut summary)?;
        (rows, format!("ONS Postcode Directory ({})", file_name(path)))
    };
    summary.source = source.clone();

    // A million lookups per period ahead: worth the grids (built side by side).
    rayon::scope(|s| {
        for l in locators {
            s.spawn(move |_| {
                l.grid();
            });
        }
    });
    let default = data.default_period;
    let bar = progress(rows.len() as u64, "resolving");
    let england = country_index(&data.manifest.home_country);
    let resolved: Vec<(Entry, Option<(bool, bool)>)> = rows
        .par_iter()
        .filter_map(|row| {
            bar.inc(1);
            let (lon, lat) = match row.location {
                Location::LonLat(lon, lat) => (lon, lat),
                Location::Grid(e, n) => lonlat_bng::convert_osgb36_to_ll(e, n).ok()?,
            };
            // Outside England a postcode gets no English area, whatever the boundaries say.
            let periods: Vec<PeriodAreas> = if row.country == england {
                locators.iter().map(|l| PeriodAreas::from(l.locate(lon, lat))).collect()
            } else {
                vec![PeriodAreas::default(); locators.len()]
            };
            let (alliance, stp) = periods.get(default).map_or((None, None), |p| (p.alliance, p.footprint));
            let agreement = match (&row.file_alliance, &row.file_stp) {
                (Some(fa), Some(fs)) if row.country == england => Some((
                    alliance.is_some_and(|a| data.alliances[a as usize].code == *fa),
                    stp.is_some_and(|s| data.stps[s as usize].code == *fs),
                )),
                _ => None,
            };
            let entry = Entry {
                postcode: row.postcode,
                lon,
                lat,
                areas: Areas {
                    country: row.country,
                    periods,
                },
            };
            Some((entry, agreement))
        })
        .collect();
    bar.finish_and_clear();
    summary.skip_n(
        "grid reference outside OSTN15 coverage",
        (rows.len() - resolved.len()) as u64,
    );

    let mut entries = Vec::with_capacity(resolved.len());
    for (entry, agreement) in resolved {
        if let Some((alliance_ok, stp_ok)) = agreement {
            summary.compared += 1;
            summary.alliance_disagreements += !alliance_ok as u64;
            summary.stp_disagreements += !stp_ok as u64;
        }
        entries.push(entry);
    }
    let meta = IndexMeta {
        source,
        fingerprint,
        period_sizes: data.period_sizes(),
    };
    let (index, duplicates) = PostcodeIndex::build(meta, entries).ok_or_else(|| ImportError::Format {
        path: name.clone(),
        problem: format!(
            "the postcodes fall in more than {} distinct combinations of areas",
            PostcodeIndex::MAX_AREAS
        ),
    })?;
    summary.skip_n("duplicate postcode", duplicates as u64);
    summary.imported = index.len() as u64;
    for r in index.records() {
        let areas = &index.areas()[r.areas as usize];
        *summary
            .per_country
            .entry(COUNTRIES[areas.country as usize].1)
            .or_default() += 1;
        if areas.country == england && areas.at(default).alliance.is_none() {
            summary.england_unresolved += 1;
        }
    }
    Ok((index, summary))
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn is_zip(path: &Path) -> std::io::Result<bool> {
    let mut magic = [0u8; 4];
    let mut f = std::fs::File::open(path)?;
    let n = f.read(&mut magic)?;
    Ok(n == 4 && magic == *b"PK\x03\x04")
}

/// Reads `Data/CSV/*.csv` from an OS Code-Point Open zip, in place.
fn read_codepoint_zip(path: &Path, summary: &mut ImportSummary) -> Result<(Vec<Row>, String), ImportError> {
    let name = path.display().to_string();
    let read_err = |e: &dyn std::fmt::Display| ImportError::Read {
        path: name.clone(),
        message: e.to_string(),
    };
    let file = std::fs::File::open(path).map_err(|e| read_err(&e))?;
    let mut zip = zip::ZipArchive::new(BufReader::new(file)).map_err(|e| read_err(&e))?;

    let mut version = String::new();
    if let Ok(mut meta) = zip.by_name("Doc/metadata.txt") {
        let mut text = String::new();
        if meta.read_to_string(&mut text).is_ok() {
            version = text
                .lines()
                .find_map(|l| l.strip_prefix("DATASET VERSION NUMBER:"))
                .map(|v| v.trim().to_string())
                .unwrap_or_default();
        }
    }
    let csv_names: Vec<String> = zip
        .file_names()
        .filter(|n| n.starts_with("Data/CSV/") && n.to_ascii_lowercase().ends_with(".csv"))
        .map(String::from)
        .collect();
    if csv_names.is_empty() {
        return Err(ImportError::Format {
            path: name,
            problem: "zip has no Data/CSV/*.csv files; is this OS Code-Point Open?".into(),
        });
    }
    let bar = progress(csv_names.len() as u64, "reading");
    let mut rows = Vec::with_capacity(1_800_000);
    for entry_name in &csv_names {
        let entry = zip.by_name(entry_name).map_err(|e| read_err(&e))?;
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(BufReader::with_capacity(1 << 16, entry));
        let mut record = csv::ByteRecord::new();
        loop {
            match reader.read_byte_record(&mut record) {
                Ok(false) => break,
                Ok(true) => {}
                Err(e) => {
                    return Err(ImportError::Format {
                        path: format!("{name}!{entry_name}"),
                        problem: e.to_string(),
                    })
                }
            }
            summary.rows_read += 1;
            let field = |i: usize| std::str::from_utf8(record.get(i).unwrap_or(b"")).unwrap_or("").trim();
            let Ok(postcode) = Postcode::parse(field(0)) else {
                summary.skip("bad postcode");
                continue;
            };
            let (quality, e, n) = (field(1), field(2).parse::<f64>(), field(3).parse::<f64>());
            let (Ok(e), Ok(n)) = (e, n) else {
                summary.skip("no coordinates");
                continue;
            };
            if quality == "90" || (e == 0.0 && n == 0.0) {
                summary.skip("zero coordinates");
                continue;
            }
            rows.push(Row {
                postcode,
                location: Location::Grid(e, n),
                country: country_index(field(4)),
                file_alliance: None,
                file_stp: None,
            });
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    let source = if version.is_empty() {
        "OS Code-Point Open".to_string()
    } else {
        format!("OS Code-Point Open {version}")
    };
    Ok((rows, source))
}

/// Reads an ONS Postcode Directory or NSPL CSV, finding its columns by header name.
fn read_directory_csv(name: &str, reader: impl Read, summary: &mut ImportSummary) -> Result<Vec<Row>, ImportError> {
    let format_err = |problem: String| ImportError::Format {
        path: name.to_string(),
        problem,
    };
    let mut csv = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(BufReader::with_capacity(1 << 16, reader));
    let headers = csv
        .byte_headers()
        .map_err(|e| format_err(format!("cannot read the header: {e}")))?
        .clone();
    let col = |names: &[&str]| {
        names.iter().find_map(|n| {
            headers.iter().position(|h| {
                String::from_utf8_lossy(h)
                    .trim_start_matches('\u{feff}')
                    .trim()
                    .eq_ignore_ascii_case(n)
            })
        })
    };
    let postcode_col = col(&["pcds", "pcd", "pcd2"])
        .ok_or_else(|| format_err("no postcode column (pcds, pcd or pcd2): is this an ONSPD/NSPL file?".into()))?;
    let lat_col = col(&["lat"]).ok_or_else(|| format_err("no lat column".into()))?;
    let lon_col = col(&["long"]).ok_or_else(|| format_err("no long column".into()))?;
    let country_col = col(&["ctry"]).ok_or_else(|| format_err("no ctry column".into()))?;
    let (doterm_col, alliance_col, stp_col) = (col(&["doterm"]), col(&["calncv"]), col(&["stp"]));

    let mut rows = Vec::new();
    let mut record = csv::ByteRecord::new();
    let bar = ProgressBar::new_spinner();
    loop {
        match csv.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => return Err(format_err(e.to_string())),
        }
        summary.rows_read += 1;
        if summary.rows_read % 100_000 == 0 {
            bar.set_message(format!("{} rows", summary.rows_read));
        }
        let field = |c: Option<usize>| {
            c.and_then(|c| record.get(c))
                .and_then(|b| std::str::from_utf8(b).ok())
                .map(str::trim)
                .unwrap_or("")
        };
        let Ok(postcode) = Postcode::parse(field(Some(postcode_col))) else {
            summary.skip("bad postcode");
            continue;
        };
        if !field(doterm_col).is_empty() {
            summary.skip("terminated");
            continue;
        }
        let (Ok(lat), Ok(lon)) = (field(Some(lat_col)).parse::<f64>(), field(Some(lon_col)).parse::<f64>()) else {
            summary.skip("no coordinates");
            continue;
        };
        // ONSPD marks a postcode without a grid reference with lat 99.999999, long 0.
        if lat >= 99.0 || (lat == 0.0 && lon == 0.0) || !crate::model::coordinates::is_valid(lon, lat) {
            summary.skip("zero coordinates");
            continue;
        }
        let code =
            |c: Option<usize>| Some(field(c).to_string()).filter(|s| s.starts_with('E') && !s.ends_with("99999"));
        rows.push(Row {
            postcode,
            location: Location::LonLat(lon, lat),
            country: country_index(field(Some(country_col))),
            file_alliance: code(alliance_col),
            file_stp: code(stp_col),
        });
    }
    bar.finish_and_clear();
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directory_csv_rows_are_classified() {
        let csv = "pcd,pcds,doterm,lat,long,ctry,calncv,stp\n\
            \"LS1 1AZ\",\"LS1 1AZ\",\"\",53.7997,-1.5492,E92000001,E56000003,E54000005\n\
            \"AB1 0AA\",\"AB1 0AA\",\"199606\",57.1,-2.2,S92000003,S99999999,S99999999\n\
            \"ZZ\",\"ZZ\",\"\",57.1,-2.2,S92000003,,\n\
            \"AB1 0AB\",\"AB1 0AB\",\"\",99.999999,0.000000,S92000003,,\n\
            \"AB1 0AD\",\"AB1 0AD\",\"\",,,S92000003,,\n";
        let mut s = ImportSummary::default();
        let rows = read_directory_csv("t.csv", csv.as_bytes(), &mut s).unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].file_alliance.as_deref(), Some("E56000003"));
        assert_eq!(s.rows_read, 5);
        assert_eq!(
            s.skipped,
            BTreeMap::from([
                ("terminated", 1),
                ("bad postcode", 1),
                ("zero coordinates", 1),
                ("no coordinates", 1)
            ])
        );
    }

    #[test]
    fn a_csv_without_the_columns_is_refused() {
        let mut s = ImportSummary::default();
        let e = read_directory_csv("t.csv", "a,b\n1,2\n".as_bytes(), &mut s)
            .unwrap_err()
            .to_string();
        assert!(e.contains("t.csv") && e.contains("no postcode column"), "{e}");
    }
}

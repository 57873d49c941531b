//! Importing postcode files into a [`PostcodeIndex`]: OS Code-Point Open (the zip exactly as
//! OS ships it, read in place) and ONS Postcode Directory / NSPL CSVs (header-detected, plain
//! or gzipped).
//!
//! Several files can be imported together, in precedence order: a postcode takes its location
//! from the first file listing it, and each postcode remembers which file that was (Code-Point
//! 2018 first, then NSPL 2025 adds the postcodes created since).
//!
//! Each postcode is resolved once, here, through the core point lookup: a postcode in England
//! gets the areas covering its location (or the nearest within the tolerance) in every
//! period; elsewhere, none.

use std::collections::BTreeMap;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

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

/// One postcode file to import, and what its postcodes are credited to (`None`: Code-Point's
/// own metadata, else the file name).
#[derive(Debug, Clone, PartialEq)]
pub struct SourceFile {
    pub path: PathBuf,
    pub name: Option<String>,
}

#[derive(Debug)]
struct Row {
    postcode: Postcode,
    location: Location,
    /// Index into the sources.
    source: u8,
    /// `None`: the file does not say (NSPL without `ctry`); found from the boundaries.
    country: Option<u8>,
    /// Codes the file itself assigns (ONSPD `calncv`, `stp`), to compare with ours.
    file_alliance: Option<String>,
    file_stp: Option<String>,
}

/// What an import did, for the summary table and for tests.
#[derive(Debug, Default, Clone, Serialize, PartialEq)]
pub struct ImportSummary {
    pub sources: Vec<String>,
    pub rows_read: u64,
    pub imported: u64,
    /// Imported postcodes per source.
    pub per_source: BTreeMap<String, u64>,
    /// Postcodes whose file gives their country and whose country was also found from the
    /// boundaries (as it is for a file that gives none), and how many of those disagreed:
    /// the accuracy of the rule used for postcodes without a stated country.
    pub country_checked: u64,
    pub country_disagreements: u64,
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
        let mut s = format!("sources: {}\n", self.sources.join(", then "));
        s += &format!("{:<40} {:>10}\n", "rows read", self.rows_read);
        s += &format!("{:<40} {:>10}\n", "imported", self.imported);
        for (source, n) in &self.per_source {
            s += &format!("{:<40} {:>10}\n", format!("imported from {source}"), n);
        }
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
        if self.country_checked > 0 {
            s += &format!(
                "{:<40} {:>10}\n",
                "country from file and from boundaries", self.country_checked
            );
            s += &format!("{:<40} {:>10}\n", "  of which differ", self.country_disagreements);
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

/// Imports `sources` (Code-Point Open zips or ONSPD/NSPL CSVs) in precedence order,
/// resolving each postcode in every period of `data` through that period's locator
/// (`locators[p]`).
pub fn import(
    sources: &[SourceFile],
    data: &Dataset,
    locators: &[&Locator],
    fingerprint: String,
) -> Result<(PostcodeIndex, ImportSummary), ImportError> {
    let mut summary = ImportSummary::default();
    if sources.len() > usize::from(u8::MAX) {
        return Err(ImportError::Format {
            path: "postcode sources".into(),
            problem: format!("{} files; at most {} can be imported together", sources.len(), u8::MAX),
        });
    }
    let mut rows = Vec::new();
    let mut names = Vec::new();
    for (i, source) in sources.iter().enumerate() {
        let (mut read, name) = read_source(source, i as u8, &mut summary)?;
        names.push(name);
        rows.append(&mut read);
    }
    summary.sources = names.clone();
    // Locations first: a row whose grid reference cannot be converted must not hide the same
    // postcode in a later source.
    let read = rows.len();
    let mut rows: Vec<Row> = rows
        .into_par_iter()
        .filter_map(|mut row| {
            if let Location::Grid(e, n) = row.location {
                let (lon, lat) = lonlat_bng::convert_osgb36_to_ll(e, n).ok()?;
                row.location = Location::LonLat(lon, lat);
            }
            Some(row)
        })
        .collect();
    summary.skip_n("grid reference outside OSTN15 coverage", (read - rows.len()) as u64);
    // A postcode in several sources keeps its first: a stable sort by postcode puts the
    // earlier source first.
    rows.sort_by_key(|r| (r.postcode.outward_bytes(), r.postcode.inward_key()));
    let before = rows.len();
    rows.dedup_by(|later, first| {
        let same = later.postcode == first.postcode;
        if same && later.source == first.source {
            summary
                .skipped
                .entry("duplicate postcode")
                .and_modify(|n| *n += 1)
                .or_insert(1);
        }
        same
    });
    let same_source = summary.skipped.get("duplicate postcode").copied().unwrap_or(0);
    summary.skip_n(
        "listed by an earlier source",
        (before - rows.len()) as u64 - same_source,
    );

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
    let country_of = |located: &crate::locate::Located| -> u8 {
        match (located.kind, located.country) {
            (crate::locate::MatchKind::Contains, _) => england,
            (_, Some(c)) => data.countries.get(c as usize).map_or(0, |c| country_index(&c.code)),
            (crate::locate::MatchKind::Nearest, None) => england,
            (crate::locate::MatchKind::Outside, None) => 0,
        }
    };
    // Per postcode: the entry, and how the file's own codes and country compared with ours.
    type Resolved = (Entry, Option<(bool, bool)>, Option<bool>);
    let resolved: Vec<Resolved> = rows
        .par_iter()
        .filter_map(|row| {
            bar.inc(1);
            // Every location was converted above.
            let Location::LonLat(lon, lat) = row.location else {
                return None;
            };
            // Great Britain's postcodes without a stated country get the one their location
            // is in; the same rule is checked against the postcodes whose file states one.
            let here = locators.get(default).map(|l| l.locate(lon, lat));
            let derived = here.as_ref().map(country_of);
            let country = row.country.or(derived).unwrap_or(0);
            let country_agrees = row.country.zip(derived).map(|(stated, found)| stated == found);
            // Outside England a postcode gets no English area, whatever the boundaries say.
            let periods: Vec<PeriodAreas> = if country == england {
                locators.iter().map(|l| PeriodAreas::from(l.locate(lon, lat))).collect()
            } else {
                vec![PeriodAreas::default(); locators.len()]
            };
            let (alliance, stp) = periods.get(default).map_or((None, None), |p| (p.alliance, p.footprint));
            let agreement = match (&row.file_alliance, &row.file_stp) {
                (Some(fa), Some(fs)) if country == england => Some((
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
                    source: row.source,
                    country,
                    periods,
                },
            };
            Some((entry, agreement, country_agrees))
        })
        .collect();
    bar.finish_and_clear();

    let mut entries = Vec::with_capacity(resolved.len());
    for (entry, agreement, country_agrees) in resolved {
        if let Some((alliance_ok, stp_ok)) = agreement {
            summary.compared += 1;
            summary.alliance_disagreements += !alliance_ok as u64;
            summary.stp_disagreements += !stp_ok as u64;
        }
        if let Some(agrees) = country_agrees {
            summary.country_checked += 1;
            summary.country_disagreements += !agrees as u64;
        }
        entries.push(entry);
    }
    let meta = IndexMeta {
        sources: names,
        fingerprint,
        period_sizes: data.period_sizes(),
    };
    let name = sources
        .iter()
        .map(|s| s.path.display().to_string())
        .collect::<Vec<_>>()
        .join(", ");
    let (index, _) = PostcodeIndex::build(meta, entries).ok_or_else(|| ImportError::Format {
        path: name,
        problem: format!(
            "the postcodes fall in more than {} distinct combinations of areas",
            PostcodeIndex::MAX_AREAS
        ),
    })?;
    summary.imported = index.len() as u64;
    for r in index.records() {
        let areas = &index.areas()[r.areas as usize];
        *summary
            .per_country
            .entry(COUNTRIES[areas.country as usize].1)
            .or_default() += 1;
        *summary
            .per_source
            .entry(index.meta.sources[areas.source as usize].clone())
            .or_default() += 1;
        if areas.country == england && areas.at(default).alliance.is_none() {
            summary.england_unresolved += 1;
        }
    }
    Ok((index, summary))
}

/// Reads one source file's rows; returns them with the name its postcodes are credited to.
fn read_source(source: &SourceFile, index: u8, summary: &mut ImportSummary) -> Result<(Vec<Row>, String), ImportError> {
    let path = &source.path;
    let name = path.display().to_string();
    let read_err = |e: std::io::Error| ImportError::Read {
        path: name.clone(),
        message: e.to_string(),
    };
    let magic = magic(path).map_err(read_err)?;
    let (mut rows, found_name) = if magic == *b"PK\x03\x04" {
        read_codepoint_zip(path, summary)?
    } else {
        let file = std::fs::File::open(path).map_err(read_err)?;
        let rows = if magic[..2] == [0x1f, 0x8b] {
            read_directory_csv(&name, flate2::read::MultiGzDecoder::new(BufReader::new(file)), summary)?
        } else {
            read_directory_csv(&name, file, summary)?
        };
        (rows, format!("ONS Postcode Directory ({})", file_name(path)))
    };
    for r in &mut rows {
        r.source = index;
    }
    Ok((rows, source.name.clone().unwrap_or(found_name)))
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// A file's first four bytes (zeros past its end).
fn magic(path: &Path) -> std::io::Result<[u8; 4]> {
    let mut magic = [0u8; 4];
    let mut f = std::fs::File::open(path)?;
    let mut filled = 0;
    while filled < 4 {
        match f.read(&mut magic[filled..])? {
            0 => break,
            n => filled += n,
        }
    }
    Ok(magic)
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
                source: 0,
                country: Some(country_index(field(4))),
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
    let postcode_col = col(&["pcds", "pcd", "pcd2", "postcode"]).ok_or_else(|| {
        format_err("no postcode column (pcds, pcd, pcd2 or postcode): is this an ONSPD/NSPL file?".into())
    })?;
    let lat_col = col(&["lat"]).ok_or_else(|| format_err("no lat column".into()))?;
    let lon_col = col(&["long"]).ok_or_else(|| format_err("no long column".into()))?;
    // NSPL extracts may carry no country: it is then found from the postcode area (outside
    // Great Britain) or from the location (see `import`).
    let country_col = col(&["ctry"]);
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
            source: 0,
            country: match country_col {
                Some(c) => Some(country_index(field(Some(c)))),
                None => country_by_area(&postcode),
            },
            file_alliance: code(alliance_col),
            file_stp: code(stp_col),
        });
    }
    bar.finish_and_clear();
    Ok(rows)
}

/// The country of a postcode area outside Great Britain (`BT`: Northern Ireland; `GY`, `JE`:
/// Channel Islands; `IM`: Isle of Man); `None` for Great Britain's, which need a location.
fn country_by_area(postcode: &Postcode) -> Option<u8> {
    let outward = postcode.outward_bytes();
    let area: Vec<u8> = outward.iter().copied().take_while(u8::is_ascii_alphabetic).collect();
    match area.as_slice() {
        b"BT" => Some(country_index("N92000002")),
        b"GY" | b"JE" => Some(country_index("L93000001")),
        b"IM" => Some(country_index("M83000003")),
        _ => None,
    }
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

//! Load → validate: turns the files in the data directory into a [`Dataset`].
//!
//! Nothing downstream re-checks the data: once a `Dataset` exists, every code is unique,
//! every geometry is structurally valid and the two layers agree with the CCG lookup.

pub mod boundaries;
pub mod coordinates;
mod error;
pub mod manifest;
pub mod membership;

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use geo::{MultiPolygon, Rect};
use serde::Serialize;

pub use boundaries::AreaFeature;
pub use error::DataError;
pub use manifest::Manifest;

/// Environment variable naming the data directory (after `--data`, before the defaults).
pub const DATA_ENV: &str = "ALLIANCE_MAP_DATA";

/// Where the data directory came from, for the start-up log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataDirSource {
    Flag,
    Env,
    Default,
}

/// Picks the data directory: `--data`, else `$ALLIANCE_MAP_DATA`, else the first of
/// `./data` and `../shared/data` that holds the default manifest's first file.
pub fn resolve_data_dir(flag: Option<&Path>, env: Option<&Path>) -> Result<(PathBuf, DataDirSource), DataError> {
    if let Some(p) = flag {
        return Ok((p.to_path_buf(), DataDirSource::Flag));
    }
    if let Some(p) = env {
        return Ok((p.to_path_buf(), DataDirSource::Env));
    }
    let manifest = Manifest::default_manifest()?;
    let marker = manifest.marker_file().unwrap_or(manifest::MANIFEST_FILE);
    let candidates = [PathBuf::from("data"), PathBuf::from("../shared/data")];
    for c in &candidates {
        if c.join(marker).is_file() {
            return Ok((c.clone(), DataDirSource::Default));
        }
    }
    Err(DataError::NoDataDir {
        tried: candidates
            .iter()
            .map(|c| format!("{}/{marker}", c.display()))
            .collect::<Vec<_>>()
            .join(", "),
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AllianceKind {
    /// Code E56: one of the 16 Cancer Alliances.
    CancerAlliance,
    /// Code E57: one of the 3 National Cancer Vanguards.
    NationalCancerVanguard,
}

impl AllianceKind {
    fn of(code: &str) -> Self {
        if code.starts_with("E57") {
            AllianceKind::NationalCancerVanguard
        } else {
            AllianceKind::CancerAlliance
        }
    }
}

#[derive(Debug, Clone)]
pub struct Alliance {
    pub code: String,
    pub name: String,
    pub kind: AllianceKind,
    pub geometry: MultiPolygon<f64>,
    pub bbox: Rect<f64>,
    /// Indexes into `Dataset::ccgs`, by code.
    pub ccgs: Vec<usize>,
    /// Indexes into `Dataset::stps`, by code.
    pub stps: Vec<usize>,
}

#[derive(Debug, Clone)]
pub struct Stp {
    pub code: String,
    pub name: String,
    pub geometry: MultiPolygon<f64>,
    pub bbox: Rect<f64>,
    pub ccgs: Vec<usize>,
    /// Usually one; two for the three STPs split along CCG lines.
    pub alliances: Vec<usize>,
}

#[derive(Debug, Clone)]
pub struct Ccg {
    pub code: String,
    pub name: String,
    pub stp: usize,
    pub alliance: usize,
}

#[derive(Debug, Clone)]
pub struct Country {
    pub code: String,
    pub name: String,
    pub geometry: MultiPolygon<f64>,
}

/// Everything the service answers from, validated: the editions in force on the manifest's
/// default date, joined through their relation table.
#[derive(Debug, Clone)]
pub struct Dataset {
    pub dir: PathBuf,
    pub manifest: Arc<Manifest>,
    pub alliances: Vec<Alliance>,
    pub stps: Vec<Stp>,
    pub ccgs: Vec<Ccg>,
    pub countries: Vec<Country>,
    /// Index into `countries` of the manifest's home country (whose areas these are).
    pub home_country: u16,
}

/// The parsed files, before they are joined.
struct Layers {
    alliances: Vec<AreaFeature>,
    stps: Vec<AreaFeature>,
    countries: Vec<AreaFeature>,
    rows: Vec<membership::CcgRow>,
}

impl Dataset {
    /// Loads the data directory as its manifest describes it.
    pub fn load(dir: &Path, manifest: Manifest) -> Result<Self, DataError> {
        let manifest = Arc::new(manifest);
        let origin = dir.join(manifest::MANIFEST_FILE);
        let editions = manifest.in_force(&origin, manifest.default_date)?;
        // The three layers parse independently; do them side by side.
        let (alliances, (stps, countries)) = rayon::join(
            || boundaries::load_layer(dir, editions.alliance),
            || {
                rayon::join(
                    || boundaries::load_layer(dir, editions.footprint),
                    || boundaries::load_layer(dir, editions.country),
                )
            },
        );
        let (alliances, stps, countries) = (alliances?, stps?, countries?);
        let rows = membership::load(dir, editions.relation, &editions)?;
        let lookup_path = dir.join(&editions.relation.file);
        let names = [
            editions.alliance.file.clone().unwrap_or_default(),
            editions.footprint.file.clone().unwrap_or_default(),
        ];
        let home = countries
            .iter()
            .position(|c| c.code == manifest.home_country)
            .ok_or_else(|| {
                DataError::file(
                    &dir.join(editions.country.file.as_deref().unwrap_or_default()),
                    format!("has no feature for the home country {}", manifest.home_country),
                )
            })?;
        let layers = Layers {
            alliances,
            stps,
            countries,
            rows,
        };
        let sub_areas = layers.rows.len();
        let data = Self::assemble(dir, manifest.clone(), &lookup_path, &names, layers, home as u16)?;
        if sub_areas != editions.sub_area.count {
            return Err(DataError::file(
                &lookup_path,
                format!(
                    "expected {} {} sub-areas, found {}",
                    editions.sub_area.count, editions.sub_area.edition, sub_areas
                ),
            ));
        }
        Ok(data)
    }

    /// Joins the layers through the relation table and checks they agree. `files` names the
    /// alliance and footprint files, for messages.
    fn assemble(
        dir: &Path,
        manifest: Arc<Manifest>,
        lookup_path: &Path,
        files: &[String; 2],
        layers: Layers,
        home_country: u16,
    ) -> Result<Self, DataError> {
        let Layers {
            alliances,
            stps,
            countries,
            rows,
        } = layers;
        let mut alliances: Vec<Alliance> = alliances
            .into_iter()
            .map(|f| Alliance {
                kind: AllianceKind::of(&f.code),
                code: f.code,
                name: f.name,
                geometry: f.geometry,
                bbox: f.bbox,
                ccgs: vec![],
                stps: vec![],
            })
            .collect();
        let mut stps: Vec<Stp> = stps
            .into_iter()
            .map(|f| Stp {
                code: f.code,
                name: f.name,
                geometry: f.geometry,
                bbox: f.bbox,
                ccgs: vec![],
                alliances: vec![],
            })
            .collect();
        alliances.sort_by(|a, b| a.code.cmp(&b.code));
        stps.sort_by(|a, b| a.code.cmp(&b.code));
        let alliance_at: HashMap<&str, usize> = alliances
            .iter()
            .enumerate()
            .map(|(i, a)| (a.code.as_str(), i))
            .collect();
        let stp_at: HashMap<&str, usize> = stps.iter().enumerate().map(|(i, s)| (s.code.as_str(), i)).collect();

        let mut rows = rows;
        rows.sort_by(|a, b| a.ccg_code.cmp(&b.ccg_code));
        let mut ccgs = Vec::with_capacity(rows.len());
        for r in &rows {
            let alliance = *alliance_at.get(r.alliance_code.as_str()).ok_or_else(|| {
                DataError::file(
                    lookup_path,
                    format!(
                        "sub-area {} names alliance {}, which is not in {}",
                        r.ccg_code, r.alliance_code, files[0]
                    ),
                )
            })?;
            let stp = *stp_at.get(r.stp_code.as_str()).ok_or_else(|| {
                DataError::file(
                    lookup_path,
                    format!(
                        "sub-area {} names footprint {}, which is not in {}",
                        r.ccg_code, r.stp_code, files[1]
                    ),
                )
            })?;
            ccgs.push(Ccg {
                code: r.ccg_code.clone(),
                name: r.ccg_name.clone(),
                stp,
                alliance,
            });
        }

        let mut alliance_stps: Vec<BTreeSet<usize>> = vec![BTreeSet::new(); alliances.len()];
        let mut stp_alliances: Vec<BTreeSet<usize>> = vec![BTreeSet::new(); stps.len()];
        for (i, c) in ccgs.iter().enumerate() {
            alliances[c.alliance].ccgs.push(i);
            stps[c.stp].ccgs.push(i);
            alliance_stps[c.alliance].insert(c.stp);
            stp_alliances[c.stp].insert(c.alliance);
        }
        for (a, set) in alliances.iter_mut().zip(alliance_stps) {
            if set.is_empty() {
                return Err(DataError::file(
                    lookup_path,
                    format!("alliance {} has no sub-area", a.code),
                ));
            }
            a.stps = set.into_iter().collect();
        }
        for (s, set) in stps.iter_mut().zip(stp_alliances) {
            if set.is_empty() {
                return Err(DataError::file(
                    lookup_path,
                    format!("footprint {} has no sub-area", s.code),
                ));
            }
            s.alliances = set.into_iter().collect();
        }

        let countries = countries
            .into_iter()
            .map(|f| Country {
                code: f.code,
                name: f.name,
                geometry: f.geometry,
            })
            .collect();
        Ok(Dataset {
            dir: dir.to_path_buf(),
            manifest,
            home_country,
            alliances,
            stps,
            ccgs,
            countries,
        })
    }

    pub fn alliance(&self, code: &str) -> Option<&Alliance> {
        self.alliances.iter().find(|a| a.code.eq_ignore_ascii_case(code))
    }

    pub fn stp(&self, code: &str) -> Option<&Stp> {
        self.stps.iter().find(|s| s.code.eq_ignore_ascii_case(code))
    }

    /// Whether the STP lies wholly in the alliance (all its CCGs belong to it).
    pub fn stp_is_whole_in(&self, stp: usize, alliance: usize) -> bool {
        self.stps[stp].alliances == [alliance]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_dir_precedence() {
        let (p, s) = resolve_data_dir(Some(Path::new("/a")), Some(Path::new("/b"))).unwrap();
        assert_eq!((p, s), (PathBuf::from("/a"), DataDirSource::Flag));
        let (p, s) = resolve_data_dir(None, Some(Path::new("/b"))).unwrap();
        assert_eq!((p, s), (PathBuf::from("/b"), DataDirSource::Env));
    }

    #[test]
    fn alliance_kind_follows_the_entity_code() {
        assert_eq!(AllianceKind::of("E56000003"), AllianceKind::CancerAlliance);
        assert_eq!(AllianceKind::of("E57000001"), AllianceKind::NationalCancerVanguard);
    }
}

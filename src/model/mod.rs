//! Load → validate: turns the files in the data directory into a [`Dataset`].
//!
//! Nothing downstream re-checks the data: once a `Dataset` exists, every code is unique,
//! every geometry is structurally valid and the two layers agree with the CCG lookup.

pub mod boundaries;
pub mod coordinates;
pub mod dates;
mod error;
pub mod manifest;
pub mod membership;
pub mod source;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::NaiveDate;
use geo::{MultiPolygon, Rect};
use serde::Serialize;

pub use boundaries::AreaFeature;
pub use error::DataError;
pub use manifest::{Kind, Manifest};
pub use source::{DataSource, RawFeature};

/// Environment variable naming the data directory (after `--data`, before the embedded data).
pub const DATA_ENV: &str = "ALLIANCE_MAP_DATA";

/// Where the data directory came from, for the start-up log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataDirSource {
    Flag,
    Env,
}

/// Picks the data directory: `--data`, else `$ALLIANCE_MAP_DATA`; `None` means the data
/// embedded in the binary.
pub fn resolve_data_dir(flag: Option<&Path>, env: Option<&Path>) -> Option<(PathBuf, DataDirSource)> {
    if let Some(p) = flag {
        return Some((p.to_path_buf(), DataDirSource::Flag));
    }
    env.map(|p| (p.to_path_buf(), DataDirSource::Env))
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
    pub fn of(code: &str) -> Self {
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
    /// The edition's area's geometry, shared.
    pub geometry: Arc<MultiPolygon<f64>>,
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
    /// The edition's area's geometry, shared.
    pub geometry: Arc<MultiPolygon<f64>>,
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
    pub geometry: Arc<MultiPolygon<f64>>,
}

/// One layer edition as loaded: its manifest entry and its areas, sorted by code (an area's
/// index in `areas` is how the indexes and answers refer to it).
#[derive(Debug, Clone)]
pub struct Edition {
    pub spec: manifest::LayerSpec,
    pub path: PathBuf,
    pub areas: Vec<AreaFeature>,
}

impl Edition {
    /// The index of the area with this code (case-insensitive).
    pub fn find(&self, code: &str) -> Option<u16> {
        let code = code.to_ascii_uppercase();
        self.areas
            .binary_search_by(|a| a.code.as_str().cmp(code.as_str()))
            .ok()
            .map(|i| i as u16)
    }
}

/// A span of dates with the same editions in force, and the links between them that the
/// relation tables give (`None` where no relation links the two editions: then each layer
/// answers on its own).
#[derive(Debug, Clone)]
pub struct Period {
    pub from: NaiveDate,
    /// The first day no longer in the period; `None`: open-ended.
    pub until: Option<NaiveDate>,
    /// Indexes into [`Dataset::editions`].
    pub alliance: Option<usize>,
    pub footprint: Option<usize>,
    pub sub_area: Option<usize>,
    /// Per footprint, the alliances it lies in, ascending.
    pub footprint_alliances: Option<Vec<Vec<u16>>>,
    /// Per footprint, its sub-areas, ascending.
    pub footprint_sub_areas: Option<Vec<Vec<u16>>>,
    /// Per sub-area, the alliances it lies in, ascending.
    pub sub_area_alliances: Option<Vec<Vec<u16>>>,
    /// Why a kind has no edition in this period, one sentence per kind missing.
    pub notes: Vec<String>,
}

impl Period {
    pub fn covers(&self, date: NaiveDate) -> bool {
        self.from <= date && self.until.is_none_or(|u| date < u)
    }

    pub fn edition(&self, kind: Kind) -> Option<usize> {
        match kind {
            Kind::Alliance => self.alliance,
            Kind::Footprint => self.footprint,
            Kind::SubArea => self.sub_area,
            Kind::Country => None,
        }
    }
}

/// Everything the service answers from, validated: every layer edition of the manifest, the
/// periods they form, and (the v1 view) the editions in force on the manifest's default
/// date joined through their relation table.
#[derive(Debug, Clone)]
pub struct Dataset {
    /// Where the data was read from.
    pub source: DataSource,
    pub manifest: Arc<Manifest>,
    /// Every alliance, footprint and sub-area edition, in manifest order.
    pub editions: Vec<Edition>,
    /// In date order.
    pub periods: Vec<Period>,
    /// The period of the default date.
    pub default_period: usize,
    pub alliances: Vec<Alliance>,
    pub stps: Vec<Stp>,
    pub ccgs: Vec<Ccg>,
    pub countries: Vec<Country>,
    /// Index into `countries` of the manifest's home country (whose areas these are).
    pub home_country: u16,
}

impl Dataset {
    /// Loads the data as its manifest describes it.
    pub fn load(source: &DataSource, manifest: Manifest) -> Result<Self, DataError> {
        use rayon::prelude::*;
        let manifest = Arc::new(manifest);
        let origin = source.path(manifest::MANIFEST_FILE);
        // Every layer file parses independently: side by side. The error reported is the first
        // in the manifest's order, whichever thread met it first (the same data, the same message).
        let mut loaded: Vec<(manifest::LayerSpec, Vec<AreaFeature>)> = manifest
            .layers
            .par_iter()
            .map(|spec| Ok((spec.clone(), boundaries::load_layer(source, spec)?)))
            .collect::<Vec<Result<_, DataError>>>()
            .into_iter()
            .collect::<Result<_, DataError>>()?;
        let country_at = loaded
            .iter()
            .position(|(s, _)| s.kind == Kind::Country)
            .ok_or_else(|| DataError::file(&origin, "has no country layer"))?;
        let (country_spec, countries) = loaded.remove(country_at);
        let editions: Vec<Edition> = loaded
            .into_iter()
            .map(|(spec, mut areas)| {
                areas.sort_by(|a, b| a.code.cmp(&b.code));
                Edition {
                    path: source.path(spec.file.as_deref().unwrap_or_default()),
                    spec,
                    areas,
                }
            })
            .collect();
        let relations = manifest
            .relations
            .iter()
            .map(|r| {
                let table = membership::load(source, r, &manifest)?;
                check_relation(&table, &editions)?;
                Ok(table)
            })
            .collect::<Result<Vec<_>, DataError>>()?;
        let periods = manifest
            .periods()
            .iter()
            .map(|p| period(p, &editions, &manifest.unloaded, &relations))
            .collect::<Result<Vec<_>, DataError>>()?;
        let default_period = periods
            .iter()
            .position(|p| p.covers(manifest.default_date))
            .ok_or_else(|| DataError::file(&origin, format!("no edition is in force on {}", manifest.default_date)))?;
        let home = countries
            .iter()
            .position(|c| c.code == manifest.home_country)
            .ok_or_else(|| {
                DataError::file(
                    &source.path(country_spec.file.as_deref().unwrap_or_default()),
                    format!("has no feature for the home country {}", manifest.home_country),
                )
            })?;
        let countries = countries
            .into_iter()
            .map(|f| Country {
                code: f.code,
                name: f.name,
                geometry: f.geometry,
            })
            .collect();
        let mut data = Dataset {
            source: source.clone(),
            manifest,
            editions,
            periods,
            default_period,
            alliances: vec![],
            stps: vec![],
            ccgs: vec![],
            countries,
            home_country: home as u16,
        };
        data.assemble_default_view(&origin)?;
        Ok(data)
    }

    /// The v1 view: the default period's alliances, footprints (STPs) and sub-areas (CCGs),
    /// with their members.
    fn assemble_default_view(&mut self, origin: &Path) -> Result<(), DataError> {
        let p = &self.periods[self.default_period];
        let (Some(ai), Some(fi)) = (p.alliance, p.footprint) else {
            return Err(DataError::file(
                origin,
                "no alliance and footprint editions on the default date",
            ));
        };
        let al = &self.editions[ai];
        let fp = &self.editions[fi];
        let Some(fp_al) = &p.footprint_alliances else {
            return Err(DataError::file(
                origin,
                format!(
                    "no relation links {} to {}, the editions of the default date",
                    fp.spec.edition, al.spec.edition
                ),
            ));
        };
        let mut alliances: Vec<Alliance> = al
            .areas
            .iter()
            .map(|f| Alliance {
                kind: AllianceKind::of(&f.code),
                code: f.code.clone(),
                name: f.name.clone(),
                geometry: f.geometry.clone(),
                bbox: f.bbox,
                ccgs: vec![],
                stps: vec![],
            })
            .collect();
        let mut stps: Vec<Stp> = fp
            .areas
            .iter()
            .zip(fp_al)
            .map(|(f, als)| Stp {
                code: f.code.clone(),
                name: f.name.clone(),
                geometry: f.geometry.clone(),
                bbox: f.bbox,
                ccgs: vec![],
                alliances: als.iter().map(|&a| a as usize).collect(),
            })
            .collect();
        for (s, st) in stps.iter().enumerate() {
            for &a in &st.alliances {
                alliances[a].stps.push(s);
            }
        }
        let mut ccgs = Vec::new();
        if let (Some(si), Some(fp_sub), Some(sub_al)) = (p.sub_area, &p.footprint_sub_areas, &p.sub_area_alliances) {
            let sub = &self.editions[si];
            let mut sub_fp = vec![None; sub.areas.len()];
            for (f, subs) in fp_sub.iter().enumerate() {
                for &c in subs {
                    sub_fp[c as usize] = Some(f);
                }
            }
            for (i, area) in sub.areas.iter().enumerate() {
                // A lookup lists each sub-area once: one footprint, one alliance.
                let (Some(stp), [alliance]) = (sub_fp[i], sub_al[i].as_slice()) else {
                    return Err(DataError::file(
                        origin,
                        format!(
                            "sub-area {} is not in exactly one footprint and one alliance",
                            area.code
                        ),
                    ));
                };
                let alliance = *alliance as usize;
                alliances[alliance].ccgs.push(i);
                stps[stp].ccgs.push(i);
                ccgs.push(Ccg {
                    code: area.code.clone(),
                    name: area.name.clone(),
                    stp,
                    alliance,
                });
            }
        }
        for a in &alliances {
            if a.stps.is_empty() {
                return Err(DataError::file(origin, format!("alliance {} has no footprint", a.code)));
            }
        }
        (self.alliances, self.stps, self.ccgs) = (alliances, stps, ccgs);
        Ok(())
    }

    /// Per period: how many alliances, footprints and sub-areas its editions have (0: none).
    pub fn period_sizes(&self) -> Vec<[u16; 3]> {
        let size = |e: Option<usize>| e.map_or(0, |e| self.editions[e].areas.len() as u16);
        self.periods
            .iter()
            .map(|p| [size(p.alliance), size(p.footprint), size(p.sub_area)])
            .collect()
    }

    /// The period in force on `date`, if any.
    pub fn period_at(&self, date: NaiveDate) -> Option<usize> {
        self.periods.iter().position(|p| p.covers(date))
    }

    /// The period `date=latest` answers for ([`Manifest::latest_date`]).
    pub fn latest_period(&self) -> usize {
        self.period_at(self.manifest.latest_date())
            .unwrap_or(self.default_period)
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

/// A relation's codes against the editions it links: every code it names is an area of its
/// edition, and every area of each edition appears in it.
fn check_relation(table: &membership::Relation, editions: &[Edition]) -> Result<(), DataError> {
    let mut columns = Vec::new();
    for (kind, edition) in &table.kinds {
        match editions.iter().find(|e| &e.spec.edition == edition) {
            Some(e) => columns.push((kind, e)),
            None => {
                return Err(DataError::file(
                    &table.path,
                    format!("names edition {edition}, which is not loaded"),
                ))
            }
        }
    }
    // First every code (a wrong code is the likelier mistake, and names the row), then
    // completeness.
    let mut seen: Vec<Vec<bool>> = columns.iter().map(|(_, e)| vec![false; e.areas.len()]).collect();
    for (i, row) in table.rows.iter().enumerate() {
        for (col, (kind, e)) in columns.iter().enumerate() {
            match e.find(&row[col]) {
                Some(at) => seen[col][at as usize] = true,
                None => {
                    return Err(DataError::Row {
                        path: table.path.clone(),
                        row: i as u64 + 2,
                        problem: format!(
                            "{} {} is not in {} ({})",
                            kind.label(),
                            row[col],
                            e.spec.edition,
                            e.path.display()
                        ),
                    })
                }
            }
        }
    }
    for ((kind, e), seen) in columns.iter().zip(seen) {
        if let Some(missing) = seen.iter().position(|s| !s) {
            return Err(DataError::file(
                &table.path,
                format!(
                    "has no row for {} {} of {}",
                    kind.label(),
                    e.areas[missing].code,
                    e.spec.edition
                ),
            ));
        }
    }
    Ok(())
}

/// The first day of the next edition of `kind` starting after `after` among `layers`, if any.
pub fn next_start<'a>(
    layers: impl IntoIterator<Item = &'a manifest::LayerSpec>,
    kind: Kind,
    after: NaiveDate,
) -> Option<NaiveDate> {
    layers
        .into_iter()
        .filter(|l| l.kind == kind)
        .filter_map(|l| l.from)
        .filter(|f| *f > after)
        .min()
}

/// The editions and links of one period of the manifest.
fn period(
    spec: &manifest::PeriodSpec,
    editions: &[Edition],
    unloaded: &[manifest::LayerSpec],
    relations: &[membership::Relation],
) -> Result<Period, DataError> {
    let at =
        |l: Option<&manifest::LayerSpec>| l.and_then(|l| editions.iter().position(|e| e.spec.edition == l.edition));
    let (alliance, footprint, sub_area) = (at(spec.alliance), at(spec.footprint), at(spec.sub_area));
    // The union of every relation's links between editions `a` and `b`, per area of `a`.
    let links = |a: Option<usize>, b: Option<usize>| -> Option<Vec<Vec<u16>>> {
        let (a, b) = (&editions[a?], &editions[b?]);
        let mut out: Vec<BTreeSet<u16>> = vec![BTreeSet::new(); a.areas.len()];
        let mut any = false;
        for r in relations {
            let has = |e: &Edition| r.kinds.iter().any(|(k, ed)| *k == e.spec.kind && *ed == e.spec.edition);
            if !(has(a) && has(b)) {
                continue;
            }
            for (x, y) in r.pairs(a.spec.kind, b.spec.kind).unwrap_or_default() {
                // check_relation has matched every code already.
                if let (Some(x), Some(y)) = (a.find(x), b.find(y)) {
                    out[x as usize].insert(y);
                    any = true;
                }
            }
        }
        any.then(|| out.into_iter().map(|s| s.into_iter().collect()).collect())
    };
    let mut notes = Vec::new();
    for kind in manifest::AREA_KINDS {
        if spec.edition(kind).is_some() {
            continue;
        }
        // Every edition the manifest declares, loaded or left out by a cut manifest: the notes
        // are the same either way.
        let specs = || editions.iter().map(|e| &e.spec).chain(unloaded);
        // The edition of this kind in force last before the period, if any.
        let before = specs()
            .filter(|s| s.kind == kind && s.from.is_some_and(|f| f < spec.from))
            .max_by_key(|s| s.from);
        let first = specs().filter(|s| s.kind == kind).filter_map(|s| s.from).min();
        // The first day of the next edition of this kind, if one is held.
        let next = next_start(specs(), kind, spec.from);
        let to = next
            .and_then(|n| n.pred_opt())
            .map(|d| format!(" to {d}"))
            .unwrap_or_default();
        notes.push(match (before, first) {
            (Some(b), _) => {
                let gone = b.superseded_since.unwrap_or(spec.from);
                format!(
                    "No {} edition is held from {gone}{to}: {} was superseded on {gone} by an edition this data does not hold.",
                    kind.label(),
                    b.edition,
                )
            }
            (None, Some(f)) => format!("No {} edition is held before {f}.", kind.label()),
            (None, None) => format!("This data holds no {} edition.", kind.label()),
        });
    }
    Ok(Period {
        notes,
        from: spec.from,
        until: spec.until,
        alliance,
        footprint,
        sub_area,
        footprint_alliances: links(footprint, alliance),
        footprint_sub_areas: links(footprint, sub_area),
        sub_area_alliances: links(sub_area, alliance),
    })
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
        assert_eq!(resolve_data_dir(None, None), None, "the embedded data");
    }

    #[test]
    fn alliance_kind_follows_the_entity_code() {
        assert_eq!(AllianceKind::of("E56000003"), AllianceKind::CancerAlliance);
        assert_eq!(AllianceKind::of("E57000001"), AllianceKind::NationalCancerVanguard);
    }
}

//! The data manifest: which layer editions and relation tables a data directory holds, and
//! what loading must find in each (files, property names, counts, code prefixes).
//!
//! Nothing about the data's shape is a constant in code: the default manifest
//! (`data/manifest.toml`, compiled in) describes the official ONS/OS files; a data directory
//! with its own `manifest.toml` (such as the synthetic test data) brings its own. A layer has a
//! [`Kind`] and an edition in force from a date, so adding an edition is a manifest entry.

use std::collections::HashSet;
use std::path::Path;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::DataError;

/// The manifest describing the official files (`../shared/data` layout).
pub const DEFAULT_MANIFEST: &str = include_str!("../../data/manifest.toml");

/// Name of a data directory's own manifest, used instead of the default when present.
pub const MANIFEST_FILE: &str = "manifest.toml";

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub title: String,
    /// The date answers are for when a request names none.
    pub default_date: NaiveDate,
    /// GSS code of the nation whose areas these are.
    pub home_country: String,
    /// Attribution the data's licence requires, shown wherever the data is served.
    pub attribution: String,
    pub licence: Licence,
    /// The default postcode sources, relative to the data directory, in precedence order: a
    /// postcode takes its location from the first listing it. A single file name is accepted.
    #[serde(default, deserialize_with = "one_or_many")]
    pub postcodes: Vec<PostcodeFile>,
    #[serde(rename = "layer")]
    pub layers: Vec<LayerSpec>,
    #[serde(rename = "relation", default)]
    pub relations: Vec<RelationSpec>,
    /// Files the map shows for orientation; never answered as areas.
    #[serde(default)]
    pub context: ContextFiles,
    /// The layers [`Manifest::in_force_on`] left out: not loaded, but their dates still end
    /// the periods before them ("no sub-area edition is held from … to …").
    #[serde(skip)]
    pub unloaded: Vec<LayerSpec>,
    /// For a cut manifest, the whole one's [`Manifest::latest_date`].
    #[serde(skip)]
    pub whole_latest: Option<NaiveDate>,
}

/// A postcode source file and the name its postcodes are credited to in answers (default:
/// Code-Point Open's own metadata, or the file name).
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PostcodeFile {
    pub file: String,
    pub name: Option<String>,
}

/// `postcodes = "file"` or `[[postcodes]]` tables.
fn one_or_many<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<PostcodeFile>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<PostcodeFile>),
    }
    Ok(match OneOrMany::deserialize(d)? {
        OneOrMany::One(file) => vec![PostcodeFile { file, name: None }],
        OneOrMany::Many(files) => files,
    })
}

/// The map's context files, relative to the data directory (each optional).
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ContextFiles {
    /// Local authority districts: a GeoJSON FeatureCollection of polygons.
    pub districts: Option<ContextLayer>,
    /// A label point per district: CSV `code,name,lon,lat,area_km2`.
    pub district_labels: Option<String>,
    /// Towns and cities: CSV `geonameid,name,lon,lat,population,feature_code,…` (GeoNames).
    pub places: Option<String>,
}

/// A context GeoJSON layer and its code and name properties.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ContextLayer {
    pub file: String,
    pub code_property: String,
    pub name_property: String,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Licence {
    pub name: String,
    pub url: String,
}

/// What a layer is a layer of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Alliance,
    Footprint,
    SubArea,
    Country,
}

impl Kind {
    /// In messages: `sub-area`, `footprint`, …
    pub fn label(self) -> &'static str {
        match self {
            Kind::Alliance => "alliance",
            Kind::Footprint => "footprint",
            Kind::SubArea => "sub-area",
            Kind::Country => "country",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Alliance => "alliance",
            Kind::Footprint => "footprint",
            Kind::SubArea => "sub_area",
            Kind::Country => "country",
        }
    }
}

/// One layer edition and what its file must look like.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LayerSpec {
    pub kind: Kind,
    /// The edition's code, unique in the manifest (`CALNCV17`, `STP17`, …).
    pub edition: String,
    pub title: String,
    /// What the areas are, in answers: `stp` or `icb` for footprints, `ccg` or
    /// `sub_icb_location` for sub-areas (required for those two kinds).
    pub area_kind: Option<String>,
    /// In force from this date (required for every kind but `country`).
    pub from: Option<NaiveDate>,
    /// A successor not held in this data took over on this date.
    pub superseded_since: Option<NaiveDate>,
    /// GeoJSON FeatureCollection, relative to the data directory. `None` for a sub-area
    /// layer known only through a relation table.
    pub file: Option<String>,
    pub code_property: Option<String>,
    pub name_property: Option<String>,
    /// Exactly this many features (or relation members).
    pub count: usize,
    /// Accepted GSS code prefixes (entity codes), e.g. `E54`.
    pub code_prefixes: Vec<String>,
    /// Made by this project's sources from other official files, not published as is.
    #[serde(default)]
    pub derived: bool,
    pub source: String,
}

/// A table linking areas of two or three editions of different kinds, one link per row: an
/// ONS lookup (each sub-area in one footprint and one alliance) or an area overlay (each
/// footprint × alliance pair sharing area; a footprint split between alliances has a row per
/// alliance). Any two of the three column sets; the links found are the union over every
/// relation naming the same two editions.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RelationSpec {
    pub file: String,
    pub sub_area: Option<Columns>,
    pub footprint: Option<Columns>,
    pub alliance: Option<Columns>,
    /// Made by this project (e.g. by area overlay), not published as is.
    #[serde(default)]
    pub derived: bool,
}

impl RelationSpec {
    /// The column sets present, with the kind each links.
    pub fn columns(&self) -> impl Iterator<Item = (Kind, &Columns)> {
        [
            (Kind::SubArea, self.sub_area.as_ref()),
            (Kind::Footprint, self.footprint.as_ref()),
            (Kind::Alliance, self.alliance.as_ref()),
        ]
        .into_iter()
        .filter_map(|(k, c)| Some((k, c?)))
    }

    /// The edition this relation links for `kind`, if any.
    pub fn edition(&self, kind: Kind) -> Option<&str> {
        self.columns()
            .find(|(k, _)| *k == kind)
            .map(|(_, c)| c.edition.as_str())
    }
}

/// The edition a relation column refers to, and the CSV column holding its codes.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Columns {
    pub edition: String,
    pub code: String,
}

/// A span of dates over which the same editions are in force: `from` until the day before
/// `until` (`None`: open-ended). A kind with no edition held for the span is `None`.
#[derive(Debug, Clone, Copy)]
pub struct PeriodSpec<'a> {
    pub from: NaiveDate,
    pub until: Option<NaiveDate>,
    pub alliance: Option<&'a LayerSpec>,
    pub footprint: Option<&'a LayerSpec>,
    pub sub_area: Option<&'a LayerSpec>,
}

impl PeriodSpec<'_> {
    pub fn covers(&self, date: NaiveDate) -> bool {
        self.from <= date && self.until.is_none_or(|u| date < u)
    }

    pub fn edition(&self, kind: Kind) -> Option<&LayerSpec> {
        match kind {
            Kind::Alliance => self.alliance,
            Kind::Footprint => self.footprint,
            Kind::SubArea => self.sub_area,
            Kind::Country => None,
        }
    }
}

/// The kinds answered for a point, finest last.
pub const AREA_KINDS: [Kind; 3] = [Kind::Alliance, Kind::Footprint, Kind::SubArea];

impl Manifest {
    /// Parses and checks a manifest; `origin` names it in errors.
    pub fn parse(origin: &Path, text: &str) -> Result<Self, DataError> {
        let manifest: Manifest =
            toml::from_str(text).map_err(|e| DataError::file(origin, format!("not a valid manifest: {e}")))?;
        manifest.check(origin)?;
        Ok(manifest)
    }

    /// The data directory's own `manifest.toml` if it has one, else the default.
    pub fn for_dir(dir: &Path) -> Result<Self, DataError> {
        let own = dir.join(MANIFEST_FILE);
        if own.is_file() {
            Self::from_file(&own)
        } else {
            Self::default_manifest()
        }
    }

    pub fn from_file(path: &Path) -> Result<Self, DataError> {
        let text = super::source::read_regular_file(path)?;
        Self::parse(path, &text)
    }

    pub fn default_manifest() -> Result<Self, DataError> {
        Self::parse(Path::new("data/manifest.toml (built in)"), DEFAULT_MANIFEST)
    }

    /// The first file a data directory under this manifest must hold (to recognise one).
    pub fn marker_file(&self) -> Option<&str> {
        self.layers.iter().find_map(|l| l.file.as_deref())
    }

    pub fn layer(&self, edition: &str) -> Option<&LayerSpec> {
        self.layers.iter().find(|l| l.edition == edition)
    }

    /// The edition of `kind` in force on `date`: the latest starting on or before it, unless
    /// it was superseded by then.
    pub fn edition_at(&self, kind: Kind, date: NaiveDate) -> Option<&LayerSpec> {
        self.latest_started(kind, date)
            .filter(|l| l.superseded_since.is_none_or(|s| date < s))
    }

    /// The edition of `kind` started last on or before `date`, superseded by then or not.
    fn latest_started(&self, kind: Kind, date: NaiveDate) -> Option<&LayerSpec> {
        self.layers
            .iter()
            .filter(|l| l.kind == kind && l.from.is_some_and(|f| f <= date))
            .max_by_key(|l| l.from)
    }

    /// The spans of dates between edition changes, in order, from the first edition's start to
    /// the last change; spans in which no area edition is in force are left out.
    pub fn periods(&self) -> Vec<PeriodSpec<'_>> {
        // The left-out layers' dates too: a cut manifest's periods start and end when the
        // whole one's do.
        let mut dates: Vec<NaiveDate> = self
            .layers
            .iter()
            .chain(&self.unloaded)
            .filter(|l| l.kind != Kind::Country)
            .flat_map(|l| [l.from, l.superseded_since])
            .flatten()
            .collect();
        dates.sort();
        dates.dedup();
        let mut periods = Vec::new();
        for (i, &from) in dates.iter().enumerate() {
            let period = PeriodSpec {
                from,
                until: dates.get(i + 1).copied(),
                alliance: self.edition_at(Kind::Alliance, from),
                footprint: self.edition_at(Kind::Footprint, from),
                sub_area: self.edition_at(Kind::SubArea, from),
            };
            if period.alliance.is_some() || period.footprint.is_some() || period.sub_area.is_some() {
                periods.push(period);
            }
        }
        periods
    }

    /// The manifest of the editions in force on `dates` and on the default date only, with
    /// the country layer and the relations among them: what a command answering for those
    /// dates loads (a `lookup` decodes 4 of the 14 layers). Every period covering one of
    /// `dates` has the same editions, relations, start and end as in `self`, so its answers
    /// are the same (tested below, and against the full data in `tests/inprocess_editions.rs`
    /// and `tests/editions_real.rs`).
    pub fn in_force_on(&self, dates: &[NaiveDate]) -> Manifest {
        // The latest edition of each kind started by each date, even if superseded by then:
        // `edition_at` then chooses among the same candidates as in `self`.
        let mut kept: HashSet<&str> = self
            .layers
            .iter()
            .filter(|l| {
                l.kind == Kind::Country
                    || std::iter::once(&self.default_date)
                        .chain(dates)
                        .any(|&d| self.latest_started(l.kind, d).is_some_and(|e| e.edition == l.edition))
            })
            .map(|l| l.edition.as_str())
            .collect();
        // A relation linking two kept editions is loaded whole (its links between those two
        // are what a period uses), so every edition it names is kept too.
        loop {
            let before = kept.len();
            for r in &self.relations {
                if r.columns().filter(|(_, c)| kept.contains(c.edition.as_str())).count() >= 2 {
                    kept.extend(r.columns().map(|(_, c)| c.edition.as_str()));
                }
            }
            if kept.len() == before {
                break;
            }
        }
        let (layers, unloaded): (Vec<LayerSpec>, Vec<LayerSpec>) = self
            .layers
            .iter()
            .cloned()
            .partition(|l| kept.contains(l.edition.as_str()));
        let relations = self
            .relations
            .iter()
            .filter(|r| r.columns().all(|(_, c)| kept.contains(c.edition.as_str())))
            .cloned()
            .collect();
        Manifest {
            layers,
            relations,
            unloaded: self.unloaded.iter().cloned().chain(unloaded).collect(),
            whole_latest: Some(self.latest_date()),
            ..self.clone()
        }
    }

    /// The date `date=latest` answers for: the start of the last period with both an
    /// alliance and a footprint edition, else the default date; for a cut manifest, the whole
    /// one's (its later editions are not there to say).
    pub fn latest_date(&self) -> NaiveDate {
        if let Some(d) = self.whole_latest {
            return d;
        }
        self.periods()
            .iter()
            .rev()
            .find(|p| p.alliance.is_some() && p.footprint.is_some())
            .map_or(self.default_date, |p| p.from)
    }

    /// The country layer (the manifest check guarantees exactly one).
    pub fn country_layer(&self) -> Option<&LayerSpec> {
        self.layers.iter().find(|l| l.kind == Kind::Country)
    }

    /// The relations linking edition `a` to edition `b` (in either column order).
    pub fn relations_between<'m>(&'m self, a: &'m str, b: &'m str) -> impl Iterator<Item = &'m RelationSpec> + 'm {
        self.relations.iter().filter(move |r| {
            let has = |e: &str| r.columns().any(|(_, c)| c.edition == e);
            has(a) && has(b)
        })
    }

    /// The files answers depend on (layers and relation tables, not the map's context),
    /// relative to the data directory.
    pub fn area_files(&self) -> Vec<&str> {
        let layers = self.layers.iter().filter_map(|l| l.file.as_deref());
        layers.chain(self.relations.iter().map(|r| r.file.as_str())).collect()
    }

    /// Internal consistency: unique editions, what each kind needs, relations naming
    /// declared editions of the right kind, and the default date covered.
    fn check(&self, origin: &Path) -> Result<(), DataError> {
        let fail = |problem: String| Err(DataError::file(origin, problem));
        let mut seen = HashSet::new();
        for l in &self.layers {
            let at = format!("layer {}", l.edition);
            if !seen.insert(l.edition.as_str()) {
                return fail(format!("{at} is declared more than once"));
            }
            if l.count == 0 {
                return fail(format!("{at}: count must be at least 1"));
            }
            if l.code_prefixes.is_empty() || l.code_prefixes.iter().any(|p| !is_entity_code(p)) {
                return fail(format!(
                    "{at}: code_prefixes must be GSS entity codes like \"E54\", got {:?}",
                    l.code_prefixes
                ));
            }
            if l.kind != Kind::Country && l.from.is_none() {
                return fail(format!("{at}: a {} layer needs a from date", l.kind.as_str()));
            }
            if let (Some(from), Some(until)) = (l.from, l.superseded_since) {
                if until <= from {
                    return fail(format!("{at}: superseded_since {until} is not after from {from}"));
                }
            }
            if matches!(l.kind, Kind::Footprint | Kind::SubArea) && l.area_kind.is_none() {
                return fail(format!("{at}: a {} layer needs an area_kind", l.kind.as_str()));
            }
            if l.file.is_none() {
                return fail(format!("{at}: a {} layer needs a file", l.kind.as_str()));
            }
            if l.file.is_some() && (l.code_property.is_none() || l.name_property.is_none()) {
                return fail(format!(
                    "{at}: a layer with a file needs code_property and name_property"
                ));
            }
        }
        if self.layers.iter().filter(|l| l.kind == Kind::Country).count() != 1 {
            return fail("must declare exactly one country layer".into());
        }
        for r in &self.relations {
            if r.columns().count() < 2 {
                return fail(format!("relation {}: needs the columns of at least two kinds", r.file));
            }
            for (kind, cols) in r.columns() {
                match self.layer(&cols.edition) {
                    Some(l) if l.kind == kind => {}
                    Some(l) => {
                        return fail(format!(
                            "relation {}: edition {} is a {} layer, not a {} layer",
                            r.file,
                            cols.edition,
                            l.kind.as_str(),
                            kind.as_str()
                        ))
                    }
                    None => return fail(format!("relation {}: edition {} is not declared", r.file, cols.edition)),
                }
            }
        }
        if !is_gss_like(&self.home_country) {
            return fail(format!("home_country {:?} is not a GSS code", self.home_country));
        }
        let periods = self.periods();
        match periods.iter().find(|p| p.covers(self.default_date)) {
            Some(p) if p.alliance.is_some() && p.footprint.is_some() => Ok(()),
            _ => fail(format!(
                "no alliance and footprint editions are in force on the default date {}",
                self.default_date
            )),
        }
    }
}

/// `E54`: a letter and two digits.
fn is_entity_code(p: &str) -> bool {
    let b = p.as_bytes();
    b.len() == 3 && b[0].is_ascii_uppercase() && b[1].is_ascii_digit() && b[2].is_ascii_digit()
}

fn is_gss_like(code: &str) -> bool {
    let b = code.as_bytes();
    b.len() == 9 && b[0].is_ascii_uppercase() && b[1..].iter().all(u8::is_ascii_digit)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn default_manifest_describes_every_edition_from_2017() {
        let m = Manifest::default_manifest().unwrap();
        let periods = m.periods();
        let p = periods.iter().find(|p| p.covers(m.default_date)).unwrap();
        fn ed(l: Option<&LayerSpec>) -> Option<(&str, usize)> {
            l.map(|l| (l.edition.as_str(), l.count))
        }
        assert_eq!(ed(p.alliance), Some(("CALNCV17", 19)));
        assert_eq!(ed(p.footprint), Some(("STP17", 44)));
        assert_eq!(ed(p.sub_area), Some(("CCG17", 207)));
        assert_eq!(m.country_layer().unwrap().count, 4);
        assert!(m.edition_at(Kind::Alliance, date("2017-03-31")).is_none());
        // One period per span between edition dates, in order, ending when every held
        // edition has been superseded.
        type Span<'a> = (String, Option<&'a str>, Option<&'a str>, Option<&'a str>);
        let spans: Vec<Span> = periods
            .iter()
            .map(|p| {
                fn e(l: Option<&LayerSpec>) -> Option<&str> {
                    l.map(|l| l.edition.as_str())
                }
                (p.from.to_string(), e(p.alliance), e(p.footprint), e(p.sub_area))
            })
            .collect();
        let want = [
            ("2017-04-01", Some("CALNCV17"), Some("STP17"), Some("CCG17")),
            ("2018-04-01", Some("CALNCV17"), Some("STP17"), None),
            ("2019-04-01", Some("CALNCV17"), Some("STP19"), None),
            ("2019-07-01", Some("CAL19"), Some("STP19"), None),
            ("2021-04-01", Some("CAL21"), Some("STP21"), Some("CCG21")),
            ("2022-07-01", Some("CAL21"), Some("ICB22"), Some("SICBL22")),
            ("2023-04-01", Some("CAL21"), Some("ICB23"), Some("SICBL23")),
            ("2023-07-01", Some("CAL23"), Some("ICB23"), Some("SICBL23")),
        ];
        let want: Vec<_> = want.iter().map(|(d, a, f, s)| (d.to_string(), *a, *f, *s)).collect();
        assert_eq!(spans, want);
        assert_eq!(periods.last().unwrap().until, Some(date("2024-04-01")));
        for w in periods.windows(2) {
            assert_eq!(w[0].until, Some(w[1].from), "contiguous");
        }
    }

    /// A manifest cut to one date's editions gives that date the same period (editions, start
    /// and end), and `latest` the same date, as the whole manifest; on the built-in manifest
    /// and on one with an edition between others, a default date after the first edition, a
    /// last period without an alliance and a three-column relation spanning an edition change.
    #[test]
    fn a_cut_manifest_keeps_each_dates_period() {
        let layer = |kind: &str, ed: &str, from: &str, until: Option<&str>| {
            let area_kind = if kind == "footprint" || kind == "sub_area" {
                "area_kind = \"x\"\n"
            } else {
                ""
            };
            let until = until
                .map(|u| format!("superseded_since = \"{u}\"\n"))
                .unwrap_or_default();
            format!(
                "[[layer]]\nkind = \"{kind}\"\nedition = \"{ed}\"\n{area_kind}title = \"t\"\nfrom = \"{from}\"\n{until}file = \"{ed}.geojson\"\ncode_property = \"c\"\nname_property = \"n\"\ncount = 1\ncode_prefixes = [\"E54\"]\nsource = \"s\"\n\n"
            )
        };
        let mut tricky = String::from(
            "title = \"t\"\ndefault_date = \"2018-06-01\"\nhome_country = \"E92000001\"\nattribution = \"a\"\nlicence = { name = \"n\", url = \"u\" }\n\n",
        );
        tricky += &layer("footprint", "F17", "2017-01-01", Some("2019-01-01"));
        tricky += &layer("footprint", "F18", "2018-01-01", None);
        tricky += &layer("footprint", "F19", "2019-01-01", Some("2020-01-01"));
        tricky += &layer("footprint", "F21", "2021-01-01", None);
        tricky += &layer("alliance", "A17", "2017-01-01", Some("2021-01-01"));
        tricky += &layer("sub_area", "S17", "2017-01-01", Some("2019-06-01"));
        tricky += &layer("sub_area", "S19", "2019-06-01", None);
        tricky += "[[layer]]\nkind = \"country\"\nedition = \"C\"\ntitle = \"t\"\nfile = \"c.geojson\"\ncode_property = \"c\"\nname_property = \"n\"\ncount = 1\ncode_prefixes = [\"E92\"]\nsource = \"s\"\n\n";
        tricky += "[[relation]]\nfile = \"r.csv\"\nsub_area = { edition = \"S17\", code = \"S\" }\nfootprint = { edition = \"F19\", code = \"F\" }\nalliance = { edition = \"A17\", code = \"A\" }\n";
        let tricky = Manifest::parse(Path::new("tricky"), &tricky).unwrap();
        for whole in [Manifest::default_manifest().unwrap(), tricky] {
            let periods = whole.periods();
            let mut dates: Vec<NaiveDate> = periods.iter().map(|p| p.from).collect();
            dates.extend(periods.iter().filter_map(|p| p.until).map(|d| d - chrono::Days::new(1)));
            dates.push(whole.latest_date());
            for d in dates {
                let cut = whole.in_force_on(&[d]);
                let name = |l: Option<&LayerSpec>| l.map(|l| l.edition.clone());
                let span = |m: &Manifest| {
                    m.periods()
                        .iter()
                        .find(|p| p.covers(d))
                        .map(|p| (p.from, p.until, name(p.alliance), name(p.footprint), name(p.sub_area)))
                };
                assert_eq!(span(&cut), span(&whole), "the period of {d}");
                for kind in AREA_KINDS {
                    let (a, b) = (whole.edition_at(kind, d), cut.edition_at(kind, d));
                    if let (Some(a), Some(_)) = (a, &b) {
                        // The relations between the date's editions are kept.
                        let others = AREA_KINDS.iter().filter_map(|&k| whole.edition_at(k, d));
                        for other in others.filter(|o| o.edition != a.edition) {
                            assert_eq!(
                                whole.relations_between(&a.edition, &other.edition).count(),
                                cut.relations_between(&a.edition, &other.edition).count(),
                                "relations of {} and {} on {d}",
                                a.edition,
                                other.edition
                            );
                        }
                    }
                    assert_eq!(name(a), name(b));
                }
            }
            let latest = whole.latest_date();
            assert_eq!(whole.in_force_on(&[latest]).latest_date(), latest);
        }
    }

    #[test]
    fn editions_follow_dates_and_supersession() {
        let m = Manifest::default_manifest().unwrap();
        let at = |d: &str| m.edition_at(Kind::Alliance, date(d)).map(|l| l.edition.as_str());
        assert_eq!(at("2019-06-30"), Some("CALNCV17"));
        assert_eq!(at("2019-07-01"), Some("CAL19"));
        assert_eq!(at("2023-06-30"), Some("CAL21"));
        assert_eq!(at("2024-03-31"), Some("CAL23"));
        assert_eq!(at("2024-04-01"), None, "never the stale edition after its successor");
        let sub = |d: &str| m.edition_at(Kind::SubArea, date(d)).map(|l| l.edition.as_str());
        assert_eq!(sub("2018-03-31"), Some("CCG17"));
        assert_eq!(sub("2018-04-01"), None, "the CCGs of 2018–2020 are not held");
        assert_eq!(sub("2021-04-01"), Some("CCG21"));
    }

    #[test]
    fn bad_manifests_are_refused_with_the_reason() {
        let cases = [
            (
                DEFAULT_MANIFEST.replace("count = 19", "count = 0"),
                "count must be at least 1",
            ),
            (
                DEFAULT_MANIFEST.replace("edition = \"STP17\"\n", "edition = \"CALNCV17\"\n"),
                "more than once",
            ),
            (DEFAULT_MANIFEST.replace("[\"E54\"]", "[\"54\"]"), "code_prefixes"),
            (
                DEFAULT_MANIFEST.replace("{ edition = \"STP17\", code", "{ edition = \"STP99\", code"),
                "STP99 is not declared",
            ),
            (
                DEFAULT_MANIFEST.replace("default_date = \"2017-04-01\"", "default_date = \"2016-01-01\""),
                "no alliance and footprint editions are in force",
            ),
            (
                DEFAULT_MANIFEST.replace("title = \"Eng", "colour = 1\ntitle = \"Eng"),
                "unknown field",
            ),
            (
                DEFAULT_MANIFEST.replace(
                    "from = \"2017-04-01\"\nfile = \"boundaries/stps",
                    "from = \"2017-13-01\"\nfile = \"boundaries/stps",
                ),
                "not a valid manifest",
            ),
        ];
        for (text, says) in cases {
            let e = Manifest::parse(Path::new("m.toml"), &text).unwrap_err().to_string();
            assert!(e.contains("m.toml") && e.contains(says), "{says}: {e}");
        }
    }
}

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
    /// The default postcode source, relative to the data directory.
    pub postcodes: Option<String>,
    #[serde(rename = "layer")]
    pub layers: Vec<LayerSpec>,
    #[serde(rename = "relation", default)]
    pub relations: Vec<RelationSpec>,
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

/// A table linking each sub-area to one footprint and one alliance.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RelationSpec {
    pub file: String,
    pub sub_area: Columns,
    pub footprint: Columns,
    pub alliance: Columns,
}

/// The edition a relation column refers to, and the CSV columns holding its codes (and names).
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Columns {
    pub edition: String,
    pub code: String,
    pub name: Option<String>,
}

/// The layer editions and relation that answer for one date.
#[derive(Debug, Clone, Copy)]
pub struct InForce<'a> {
    pub alliance: &'a LayerSpec,
    pub footprint: &'a LayerSpec,
    pub sub_area: &'a LayerSpec,
    pub country: &'a LayerSpec,
    pub relation: &'a RelationSpec,
}

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
        let text = super::boundaries::read_regular_file(path)?;
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
        self.layers
            .iter()
            .filter(|l| l.kind == kind && l.from.is_some_and(|f| f <= date))
            .max_by_key(|l| l.from)
            .filter(|l| l.superseded_since.is_none_or(|s| date < s))
    }

    /// The editions answering for `date`, and the relation linking them.
    pub fn in_force(&self, origin: &Path, date: NaiveDate) -> Result<InForce<'_>, DataError> {
        let pick = |kind: Kind| {
            self.edition_at(kind, date)
                .ok_or_else(|| DataError::file(origin, format!("no {} edition is in force on {date}", kind.as_str())))
        };
        let (alliance, footprint, sub_area) = (pick(Kind::Alliance)?, pick(Kind::Footprint)?, pick(Kind::SubArea)?);
        let country = self
            .layers
            .iter()
            .find(|l| l.kind == Kind::Country)
            .ok_or_else(|| DataError::file(origin, "has no country layer"))?;
        let relation = self
            .relations
            .iter()
            .find(|r| {
                r.sub_area.edition == sub_area.edition
                    && r.footprint.edition == footprint.edition
                    && r.alliance.edition == alliance.edition
            })
            .ok_or_else(|| {
                DataError::file(
                    origin,
                    format!(
                        "no relation links {} to {} and {} (the editions in force on {date})",
                        sub_area.edition, footprint.edition, alliance.edition
                    ),
                )
            })?;
        Ok(InForce {
            alliance,
            footprint,
            sub_area,
            country,
            relation,
        })
    }

    /// Every file the manifest names, relative to the data directory.
    pub fn files(&self) -> Vec<&str> {
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
            let needs_file = l.kind != Kind::SubArea;
            if needs_file && l.file.is_none() {
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
            for (cols, kind) in [
                (&r.sub_area, Kind::SubArea),
                (&r.footprint, Kind::Footprint),
                (&r.alliance, Kind::Alliance),
            ] {
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
            if r.sub_area.name.is_none() {
                return fail(format!("relation {}: the sub_area columns need a name column", r.file));
            }
        }
        if !is_gss_like(&self.home_country) {
            return fail(format!("home_country {:?} is not a GSS code", self.home_country));
        }
        self.in_force(origin, self.default_date).map(|_| ())
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
    fn default_manifest_describes_the_2017_configuration() {
        let m = Manifest::default_manifest().unwrap();
        let f = m.in_force(Path::new("m"), m.default_date).unwrap();
        assert_eq!((f.alliance.edition.as_str(), f.alliance.count), ("CALNCV17", 19));
        assert_eq!((f.footprint.edition.as_str(), f.footprint.count), ("STP17", 44));
        assert_eq!((f.sub_area.edition.as_str(), f.sub_area.count), ("CCG17", 207));
        assert_eq!(f.country.count, 4);
        assert!(m.edition_at(Kind::Alliance, date("2017-03-31")).is_none());
    }

    #[test]
    fn editions_follow_dates_and_supersession() {
        let mut m = Manifest::default_manifest().unwrap();
        let mut later = m.layer("CALNCV17").unwrap().clone();
        later.edition = "CAL19".into();
        later.from = Some(date("2019-07-01"));
        later.superseded_since = Some(date("2024-04-01"));
        m.layers.push(later);
        let at = |d: &str| m.edition_at(Kind::Alliance, date(d)).map(|l| l.edition.as_str());
        assert_eq!(at("2019-06-30"), Some("CALNCV17"));
        assert_eq!(at("2019-07-01"), Some("CAL19"));
        assert_eq!(at("2024-03-31"), Some("CAL19"));
        assert_eq!(at("2024-04-01"), None, "never the stale edition after its successor");
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
                "no alliance edition is in force",
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

//! The JSON shapes of answers, shared by the HTTP API and the CLI so both print the same.

use serde::{Serialize, Serializer};
use serde_json::value::RawValue;
use utoipa::ToSchema;

use crate::locate::{Located, MatchKind};
use chrono::NaiveDate;

use crate::model::{AllianceKind, Dataset, Kind};
use crate::postcode::index::{Found, COUNTRIES};

#[derive(Debug, Clone, ToSchema, PartialEq)]
pub struct AllianceRef<'a> {
    #[schema(example = "E56000003")]
    pub code: &'a str,
    #[schema(example = "West Yorkshire")]
    pub name: &'a str,
    pub kind: AllianceKind,
    /// The layer edition the area is from (`CALNCV17`, `CAL19`, …; see `/api/v1/editions`).
    #[schema(example = "CALNCV17")]
    pub edition: &'a str,
}

/// The 2017 shape of a footprint: `{"code", "name"}`, kept as `stp` in answers whose footprint
/// is an STP edition.
#[derive(Debug, Clone, ToSchema, PartialEq)]
pub struct StpRef<'a> {
    #[schema(example = "E54000005")]
    pub code: &'a str,
    #[schema(example = "West Yorkshire")]
    pub name: &'a str,
}

/// A footprint (STP or ICB) or sub-area (CCG or Sub-ICB Location).
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
pub struct AreaRef<'a> {
    #[schema(example = "E54000005")]
    pub code: &'a str,
    #[schema(example = "West Yorkshire")]
    pub name: &'a str,
    /// `stp` or `icb` for a footprint; `ccg` or `sub_icb_location` for a sub-area.
    #[schema(example = "stp")]
    pub kind: &'a str,
    /// The layer edition the area is from (`STP17`, `ICB23`, `CCG17`, …).
    #[schema(example = "STP17")]
    pub edition: &'a str,
}

/// `{"code", "name", "kind", "edition"}`. (In answers an area reference is a [`Rendered`],
/// written from its pre-rendered JSON in [`Fragments`] where there is one: no escaping of
/// names per request.)
impl Serialize for AllianceRef<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("AllianceRef", 4)?;
        st.serialize_field("code", self.code)?;
        st.serialize_field("name", self.name)?;
        st.serialize_field("kind", &self.kind)?;
        st.serialize_field("edition", self.edition)?;
        st.end()
    }
}

impl Serialize for StpRef<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("StpRef", 2)?;
        st.serialize_field("code", self.code)?;
        st.serialize_field("name", self.name)?;
        st.end()
    }
}

/// An area reference in an answer: written from its pre-rendered JSON when there is one.
/// Compared by the reference it carries.
#[derive(Debug, Clone)]
pub enum Rendered<'a, T> {
    Fields(T),
    Json(&'a RawValue, T),
}

impl<T: Serialize> Serialize for Rendered<'_, T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Rendered::Fields(t) => t.serialize(s),
            Rendered::Json(raw, _) => raw.serialize(s),
        }
    }
}

impl<T: PartialEq> PartialEq for Rendered<'_, T> {
    fn eq(&self, other: &Self) -> bool {
        self.get() == other.get()
    }
}

impl<T> Rendered<'_, T> {
    pub fn get(&self) -> &T {
        match self {
            Rendered::Fields(t) | Rendered::Json(_, t) => t,
        }
    }
}

/// Every area's reference, rendered to JSON once per data generation: per edition, and the
/// default period's STPs in their 2017 shape.
#[derive(Debug, Default)]
pub struct Fragments {
    editions: Vec<Vec<Box<RawValue>>>,
    stps: Vec<Box<RawValue>>,
}

impl Fragments {
    pub fn render(data: &Dataset) -> Self {
        use serde_json::value::to_raw_value;
        let editions: Vec<Vec<Box<RawValue>>> = (0..data.editions.len())
            .map(|e| {
                (0..data.editions[e].areas.len() as u16)
                    .filter_map(|i| match data.editions[e].spec.kind {
                        Kind::Alliance => to_raw_value(&data.alliance_ref_in(e, i)).ok(),
                        _ => to_raw_value(&data.area_ref(e, i)).ok(),
                    })
                    .collect()
            })
            .collect();
        let stps = (0..data.stps.len())
            .filter_map(|i| to_raw_value(&data.stp_ref(i as u16)).ok())
            .collect::<Vec<_>>();
        // All or nothing: a partial table would mis-index.
        let complete = editions
            .iter()
            .zip(&data.editions)
            .all(|(f, e)| f.len() == e.areas.len());
        if complete && stps.len() == data.stps.len() {
            Fragments { editions, stps }
        } else {
            Fragments::default()
        }
    }

    fn area(&self, edition: usize, i: u16) -> Option<&RawValue> {
        self.editions.get(edition)?.get(i as usize).map(|b| &**b)
    }

    fn stp(&self, i: u16) -> Option<&RawValue> {
        self.stps.get(i as usize).map(|b| &**b)
    }
}

/// The default period's answers for covered points, rendered to JSON once per generation
/// from the `"match"` field on: a single lookup without a date writes its two coordinates and
/// copies one of these (the hot path of the service; see docs/PERFORMANCE.md). Only the
/// combinations the relations allow are rendered (a few hundred); any other answer is
/// serialised as usual.
#[derive(Debug, Default)]
pub struct RenderedAnswers {
    /// Per footprint: its rendered answers.
    by_footprint: Vec<Vec<Rendering>>,
    /// The answers for points no area covers or lies near ([`Located::outside`]), per country:
    /// `[0]` at sea, `[c + 1]` in country `c`. Most points of England's bounding box are
    /// outside it (Scotland, Wales, the sea), so these are as hot as the covered ones.
    outside: Vec<Box<[u8]>>,
    home: Option<u16>,
}

/// `((alliance, sub-area), the answer after "lat":…,)` of one footprint.
type Rendering = ((u16, Option<u16>), Box<[u8]>);

/// What every rendered answer starts with before its suffix (lon and lat 0).
const RENDERED_PREFIX: &[u8] = b"{\"lon\":0.0,\"lat\":0.0,";

impl RenderedAnswers {
    pub fn render(data: &Dataset, fragments: &Fragments) -> Self {
        let p = &data.periods[data.default_period];
        let (Some(fe), Some(links)) = (p.footprint, &p.footprint_alliances) else {
            return RenderedAnswers::default();
        };
        let when = data.default_when();
        let home = Some(data.home_country);
        let suffix = |located: &Located| -> Option<Box<[u8]>> {
            let r = data.lookup_result(0.0, 0.0, &when, located, Some(fragments));
            let json = serde_json::to_vec(&r).ok()?;
            json.strip_prefix(RENDERED_PREFIX).map(Into::into)
        };
        let outside = std::iter::once(None)
            .chain((0..data.countries.len() as u16).map(Some))
            .map(|c| suffix(&Located::outside(c)))
            .collect::<Option<Vec<_>>>()
            .unwrap_or_default();
        let by_footprint = (0..data.editions[fe].areas.len() as u16)
            .map(|f| {
                let subs: Vec<Option<u16>> = match &p.footprint_sub_areas {
                    Some(l) => l[f as usize].iter().map(|&s| Some(s)).collect(),
                    None => vec![None],
                };
                let mut out = Vec::new();
                for &a in &links[f as usize] {
                    for &s in &subs {
                        let located = Located {
                            kind: MatchKind::Contains,
                            distance_m: 0.0,
                            alliance: Some(a),
                            footprint: Some(f),
                            sub_area: s,
                            country: home,
                        };
                        if let Some(suffix) = suffix(&located) {
                            out.push(((a, s), suffix));
                        }
                    }
                }
                out
            })
            .collect();
        RenderedAnswers {
            by_footprint,
            outside,
            home,
        }
    }

    /// The JSON answer for a point of the default period that is covered, or outside
    /// everything, if rendered.
    pub fn write(&self, lon: f64, lat: f64, l: &Located) -> Option<Vec<u8>> {
        let suffix = match l.kind {
            MatchKind::Outside if *l == Located::outside(l.country) => {
                self.outside.get(l.country.map_or(0, |c| c as usize + 1))?
            }
            MatchKind::Contains if l.country == self.home && self.home.is_some() => {
                let (a, f) = (l.alliance?, l.footprint?);
                self.by_footprint
                    .get(f as usize)?
                    .iter()
                    .find(|(k, _)| *k == (a, l.sub_area))
                    .map(|(_, s)| s)?
            }
            _ => return None,
        };
        let mut buf = Vec::with_capacity(suffix.len() + 48);
        buf.extend_from_slice(b"{\"lon\":");
        serde_json::to_writer(&mut buf, &lon).ok()?;
        buf.extend_from_slice(b",\"lat\":");
        serde_json::to_writer(&mut buf, &lat).ok()?;
        buf.push(b',');
        buf.extend_from_slice(suffix);
        Some(buf)
    }
}

/// The date an answer is for, and the period of editions in force then.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct When {
    /// Index into `Dataset::periods`.
    pub period: usize,
    pub as_of: NaiveDate,
    /// For `date=latest`: when the latest held editions were superseded by editions not held.
    pub superseded_since: Option<NaiveDate>,
}

/// The answer for one point.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
pub struct LookupResult<'a> {
    #[schema(example = -1.5492)]
    pub lon: f64,
    #[schema(example = 53.7997)]
    pub lat: f64,
    #[serde(rename = "match")]
    pub match_kind: MatchKind,
    /// 0 when the areas contain the point; metres to the nearest footprint when `match` is
    /// `nearest`.
    pub distance_m: f64,
    #[schema(value_type = Option<AllianceRef>)]
    pub alliance: Option<Rendered<'a, AllianceRef<'a>>>,
    /// The footprint in its 2017 shape; present when the footprint edition is an STP edition.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<StpRef>)]
    pub stp: Option<Option<Rendered<'a, StpRef<'a>>>>,
    /// The STP or ICB; null where none covers the point or no edition is held for the date.
    #[schema(value_type = Option<AreaRef>)]
    pub footprint: Option<Rendered<'a, AreaRef<'a>>>,
    /// The CCG or Sub-ICB Location; null where none covers the point or no edition is held
    /// for the date (see `notes`).
    #[schema(value_type = Option<AreaRef>)]
    pub sub_area: Option<Rendered<'a, AreaRef<'a>>>,
    /// The UK country the point lies in (`England`, `Scotland`, …), or null at sea.
    #[schema(example = "England")]
    pub country: Option<&'a str>,
    /// The date the answer is for (without `date`: the 2017 configuration).
    #[schema(value_type = String, example = "2017-04-01")]
    pub as_of: NaiveDate,
    /// With `date=latest`: the date a successor not held here took over.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, example = "2024-04-01")]
    pub superseded_since: Option<NaiveDate>,
    /// Why a layer is null for this date (no edition held), if one is.
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    pub notes: &'a [String],
}

impl Dataset {
    /// An alliance of the default period (the v1 lists).
    pub fn alliance_ref(&self, i: u16) -> AllianceRef<'_> {
        let e = self.periods[self.default_period].alliance.unwrap_or_default();
        self.alliance_ref_in(e, i)
    }

    /// Alliance `i` of edition `e`.
    pub fn alliance_ref_in(&self, e: usize, i: u16) -> AllianceRef<'_> {
        let edition = &self.editions[e];
        let a = &edition.areas[i as usize];
        AllianceRef {
            code: &a.code,
            name: &a.name,
            kind: AllianceKind::of(&a.code),
            edition: &edition.spec.edition,
        }
    }

    /// Footprint or sub-area `i` of edition `e`.
    pub fn area_ref(&self, e: usize, i: u16) -> AreaRef<'_> {
        let edition = &self.editions[e];
        let a = &edition.areas[i as usize];
        AreaRef {
            code: &a.code,
            name: &a.name,
            kind: edition.spec.area_kind.as_deref().unwrap_or_default(),
            edition: &edition.spec.edition,
        }
    }

    pub fn stp_ref(&self, i: u16) -> StpRef<'_> {
        let s = &self.stps[i as usize];
        StpRef {
            code: &s.code,
            name: &s.name,
        }
    }

    /// The answer for a point located in `when`'s period; area references come from
    /// `fragments` when given.
    pub fn lookup_result<'a>(
        &'a self,
        lon: f64,
        lat: f64,
        when: &When,
        located: &Located,
        fragments: Option<&'a Fragments>,
    ) -> LookupResult<'a> {
        let period = &self.periods[when.period];
        let rendered = |e: usize, i: u16| fragments.and_then(|f| f.area(e, i));
        let alliance = period.alliance.zip(located.alliance).map(|(e, i)| {
            let r = self.alliance_ref_in(e, i);
            match rendered(e, i) {
                Some(json) => Rendered::Json(json, r),
                None => Rendered::Fields(r),
            }
        });
        let area = |e: Option<usize>, i: Option<u16>| {
            e.zip(i).map(|(e, i)| {
                let r = self.area_ref(e, i);
                match rendered(e, i) {
                    Some(json) => Rendered::Json(json, r),
                    None => Rendered::Fields(r),
                }
            })
        };
        let footprint = area(period.footprint, located.footprint);
        let stp = self.footprint_is_stp(when.period).then(|| {
            located.footprint.map(|i| {
                let default = when.period == self.default_period;
                match fragments.and_then(|f| f.stp(i)).filter(|_| default) {
                    Some(json) => Rendered::Json(json, self.stp_ref(i)),
                    None => {
                        let a = &self.editions[period.footprint.unwrap_or_default()].areas[i as usize];
                        Rendered::Fields(StpRef {
                            code: &a.code,
                            name: &a.name,
                        })
                    }
                }
            })
        });
        LookupResult {
            lon,
            lat,
            match_kind: located.kind,
            // Decimetres are as precise as the generalised boundaries allow.
            distance_m: (located.distance_m * 10.0).round() / 10.0,
            alliance,
            stp,
            footprint,
            sub_area: area(period.sub_area, located.sub_area),
            country: located.country.map(|i| self.countries[i as usize].name.as_str()),
            as_of: when.as_of,
            superseded_since: when.superseded_since,
            notes: &period.notes,
        }
    }
}

/// What covered a point (or postcode) in one period.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TimelinePeriod<'a> {
    #[schema(value_type = String, example = "2019-07-01")]
    pub from: NaiveDate,
    /// The first day after the period (exclusive); null: open-ended.
    #[schema(value_type = Option<String>, example = "2021-04-01")]
    pub until: Option<NaiveDate>,
    #[serde(rename = "match")]
    pub match_kind: MatchKind,
    pub distance_m: f64,
    #[schema(value_type = Option<AllianceRef>)]
    pub alliance: Option<Rendered<'a, AllianceRef<'a>>>,
    #[schema(value_type = Option<AreaRef>)]
    pub footprint: Option<Rendered<'a, AreaRef<'a>>>,
    #[schema(value_type = Option<AreaRef>)]
    pub sub_area: Option<Rendered<'a, AreaRef<'a>>>,
    /// The layers whose area (by code, or being held at all) differs from the period before:
    /// `alliance`, `footprint`, `sub_area`. Empty for the first period.
    pub changed: Vec<&'static str>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    pub notes: &'a [String],
}

/// A point's (or postcode's) areas in every period, in date order.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Timeline<'a> {
    pub lon: f64,
    pub lat: f64,
    /// The UK country the point lies in, or null at sea.
    pub country: Option<&'a str>,
    pub periods: Vec<TimelinePeriod<'a>>,
    /// When the last period's editions were superseded by editions not held here.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, example = "2024-04-01")]
    pub superseded_since: Option<NaiveDate>,
}

impl Dataset {
    /// The timeline of a point located in every period (`located[p]` for period `p`).
    pub fn timeline<'a>(
        &'a self,
        lon: f64,
        lat: f64,
        located: impl IntoIterator<Item = Located>,
        fragments: Option<&'a Fragments>,
    ) -> Timeline<'a> {
        let mut periods: Vec<TimelinePeriod<'a>> = Vec::with_capacity(self.periods.len());
        let mut country = None;
        for (p, l) in located.into_iter().enumerate() {
            let period = &self.periods[p];
            let when = When {
                period: p,
                as_of: period.from,
                superseded_since: None,
            };
            let r = self.lookup_result(lon, lat, &when, &l, fragments);
            country = country.or(r.country);
            let code = |x: &Option<Rendered<'a, AreaRef<'a>>>| x.as_ref().map(|a| a.get().code);
            let changed = match periods.last() {
                None => vec![],
                Some(prev) => {
                    let mut c = vec![];
                    let al = |x: &Option<Rendered<'a, AllianceRef<'a>>>| x.as_ref().map(|a| a.get().code);
                    if al(&prev.alliance) != al(&r.alliance) {
                        c.push("alliance");
                    }
                    if code(&prev.footprint) != code(&r.footprint) {
                        c.push("footprint");
                    }
                    if code(&prev.sub_area) != code(&r.sub_area) {
                        c.push("sub_area");
                    }
                    c
                }
            };
            periods.push(TimelinePeriod {
                from: period.from,
                until: period.until,
                match_kind: r.match_kind,
                distance_m: r.distance_m,
                alliance: r.alliance,
                footprint: r.footprint,
                sub_area: r.sub_area,
                changed,
                notes: r.notes,
            });
        }
        Timeline {
            lon,
            lat,
            country,
            superseded_since: self.periods.last().and_then(|p| p.until),
            periods,
        }
    }
}

/// The answer for one postcode.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
pub struct PostcodeResult<'a> {
    #[schema(example = "LS1 1AZ")]
    pub postcode: String,
    pub lon: f64,
    pub lat: f64,
    #[schema(example = "England")]
    pub country: &'static str,
    #[schema(value_type = Option<AllianceRef>)]
    pub alliance: Option<Rendered<'a, AllianceRef<'a>>>,
    /// The footprint in its 2017 shape; present when the footprint edition is an STP edition.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<StpRef>)]
    pub stp: Option<Option<Rendered<'a, StpRef<'a>>>>,
    #[schema(value_type = Option<AreaRef>)]
    pub footprint: Option<Rendered<'a, AreaRef<'a>>>,
    #[schema(value_type = Option<AreaRef>)]
    pub sub_area: Option<Rendered<'a, AreaRef<'a>>>,
    /// The date the answer is for (without `date`: the 2017 configuration).
    #[schema(value_type = String, example = "2017-04-01")]
    pub as_of: NaiveDate,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, example = "2024-04-01")]
    pub superseded_since: Option<NaiveDate>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    pub notes: &'a [String],
    #[schema(example = "OS Code-Point Open 2018.3.0")]
    pub source: &'a str,
}

/// A postcode's areas in period `p`, as the point lookup gives them (its match is `contains`
/// when it has a footprint: postcodes are resolved at import, distances are not kept).
pub fn postcode_located(found: &Found, p: usize) -> Located {
    let at = found.areas.at(p);
    Located {
        kind: if at.footprint.is_some() {
            MatchKind::Contains
        } else {
            MatchKind::Outside
        },
        distance_m: 0.0,
        alliance: at.alliance,
        footprint: at.footprint,
        sub_area: at.sub_area,
        country: None,
    }
}

impl Dataset {
    pub fn postcode_result<'a>(
        &'a self,
        found: &Found<'a>,
        when: &When,
        fragments: Option<&'a Fragments>,
    ) -> PostcodeResult<'a> {
        let located = postcode_located(found, when.period);
        let r = self.lookup_result(found.lon, found.lat, when, &located, fragments);
        PostcodeResult {
            postcode: found.postcode.to_string(),
            lon: found.lon,
            lat: found.lat,
            country: COUNTRIES[found.areas.country as usize].1,
            alliance: r.alliance,
            stp: r.stp,
            footprint: r.footprint,
            sub_area: r.sub_area,
            as_of: r.as_of,
            superseded_since: r.superseded_since,
            notes: r.notes,
            source: found.source,
        }
    }

    /// A postcode's timeline: its areas in every period.
    pub fn postcode_timeline<'a>(&'a self, found: &Found, fragments: Option<&'a Fragments>) -> Timeline<'a> {
        let located = (0..self.periods.len()).map(|p| postcode_located(found, p));
        let mut t = self.timeline(found.lon, found.lat, located, fragments);
        t.country = Some(COUNTRIES[found.areas.country as usize].1).filter(|c| *c != "Unknown");
        t
    }
}

//! The JSON shapes of answers, shared by the HTTP API and the CLI so both print the same.

use serde::{Serialize, Serializer};
use serde_json::value::RawValue;
use utoipa::ToSchema;

use crate::locate::{Located, MatchKind};
use crate::model::{AllianceKind, Dataset};

#[derive(Debug, Clone, ToSchema, PartialEq)]
pub struct AllianceRef<'a> {
    #[schema(example = "E56000003")]
    pub code: &'a str,
    #[schema(example = "West Yorkshire")]
    pub name: &'a str,
    pub kind: AllianceKind,
}

#[derive(Debug, Clone, ToSchema, PartialEq)]
pub struct StpRef<'a> {
    #[schema(example = "E54000005")]
    pub code: &'a str,
    #[schema(example = "West Yorkshire")]
    pub name: &'a str,
}

/// `{"code", "name", "kind"}`. (In answers an area reference is a [`Rendered`], written from
/// its pre-rendered JSON in [`Fragments`] where there is one: no escaping of names per request.)
impl Serialize for AllianceRef<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("AllianceRef", 3)?;
        st.serialize_field("code", self.code)?;
        st.serialize_field("name", self.name)?;
        st.serialize_field("kind", &self.kind)?;
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

/// Every alliance's and STP's reference, rendered to JSON once per data generation.
#[derive(Debug, Default)]
pub struct Fragments {
    alliances: Vec<Box<RawValue>>,
    stps: Vec<Box<RawValue>>,
}

impl Fragments {
    pub fn render(data: &Dataset) -> Self {
        use serde_json::value::to_raw_value;
        let alliances = (0..data.alliances.len())
            .filter_map(|i| to_raw_value(&data.alliance_ref(i as u16)).ok())
            .collect::<Vec<_>>();
        let stps = (0..data.stps.len())
            .filter_map(|i| to_raw_value(&data.stp_ref(i as u16)).ok())
            .collect::<Vec<_>>();
        // All or nothing: a partial table would mis-index.
        if alliances.len() == data.alliances.len() && stps.len() == data.stps.len() {
            Fragments { alliances, stps }
        } else {
            Fragments::default()
        }
    }

    fn alliance(&self, i: u16) -> Option<&RawValue> {
        self.alliances.get(i as usize).map(|b| &**b)
    }

    fn stp(&self, i: u16) -> Option<&RawValue> {
        self.stps.get(i as usize).map(|b| &**b)
    }
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
    /// 0 when the areas contain the point; metres to the nearest STP when `match` is `nearest`.
    pub distance_m: f64,
    #[schema(value_type = Option<AllianceRef>)]
    pub alliance: Option<Rendered<'a, AllianceRef<'a>>>,
    #[schema(value_type = Option<StpRef>)]
    pub stp: Option<Rendered<'a, StpRef<'a>>>,
    /// The UK country the point lies in (`England`, `Scotland`, …), or null at sea.
    #[schema(example = "England")]
    pub country: Option<&'a str>,
}

impl Dataset {
    pub fn alliance_ref(&self, i: u16) -> AllianceRef<'_> {
        let a = &self.alliances[i as usize];
        AllianceRef {
            code: &a.code,
            name: &a.name,
            kind: a.kind,
        }
    }

    pub fn stp_ref(&self, i: u16) -> StpRef<'_> {
        let s = &self.stps[i as usize];
        StpRef {
            code: &s.code,
            name: &s.name,
        }
    }

    /// The answer for a located point; area references come from `fragments` when given.
    pub fn lookup_result<'a>(
        &'a self,
        lon: f64,
        lat: f64,
        located: &Located,
        fragments: Option<&'a Fragments>,
    ) -> LookupResult<'a> {
        LookupResult {
            lon,
            lat,
            match_kind: located.kind,
            // Decimetres are as precise as the generalised boundaries allow.
            distance_m: (located.distance_m * 10.0).round() / 10.0,
            alliance: located.alliance.map(|i| {
                let r = self.alliance_ref(i);
                match fragments.and_then(|f| f.alliance(i)) {
                    Some(json) => Rendered::Json(json, r),
                    None => Rendered::Fields(r),
                }
            }),
            stp: located.footprint.map(|i| {
                let r = self.stp_ref(i);
                match fragments.and_then(|f| f.stp(i)) {
                    Some(json) => Rendered::Json(json, r),
                    None => Rendered::Fields(r),
                }
            }),
            country: located.country.map(|i| self.countries[i as usize].name.as_str()),
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
    pub alliance: Option<AllianceRef<'a>>,
    pub stp: Option<StpRef<'a>>,
    #[schema(example = "OS Code-Point Open 2018.3.0")]
    pub source: &'a str,
}

impl Dataset {
    pub fn postcode_result<'a>(&'a self, found: &crate::postcode::index::Found, source: &'a str) -> PostcodeResult<'a> {
        PostcodeResult {
            postcode: found.postcode.to_string(),
            lon: found.lon,
            lat: found.lat,
            country: crate::postcode::index::COUNTRIES[found.areas.country() as usize].1,
            alliance: found.areas.alliance().map(|i| self.alliance_ref(i)),
            stp: found.areas.stp().map(|i| self.stp_ref(i)),
            source,
        }
    }
}

//! The JSON shapes of answers, shared by the HTTP API and the CLI so both print the same.

use serde::Serialize;
use utoipa::ToSchema;

use crate::model::{AllianceKind, Dataset};
use crate::locate::{Located, MatchKind};

#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
pub struct AllianceRef<'a> {
    #[schema(example = "E56000003")]
    pub code: &'a str,
    #[schema(example = "West Yorkshire")]
    pub name: &'a str,
    pub kind: AllianceKind,
}

#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
pub struct StpRef<'a> {
    #[schema(example = "E54000005")]
    pub code: &'a str,
    #[schema(example = "West Yorkshire")]
    pub name: &'a str,
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
    pub alliance: Option<AllianceRef<'a>>,
    pub stp: Option<StpRef<'a>>,
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

    pub fn lookup_result(&self, lon: f64, lat: f64, located: &Located) -> LookupResult<'_> {
        LookupResult {
            lon,
            lat,
            match_kind: located.kind,
            // Decimetres are as precise as the generalised boundaries allow.
            distance_m: (located.distance_m * 10.0).round() / 10.0,
            alliance: located.alliance.map(|i| self.alliance_ref(i)),
            stp: located.stp.map(|i| self.stp_ref(i)),
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

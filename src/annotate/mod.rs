//! Annotation: a table of rows in, the same rows out in the same order with each row's areas
//! appended, looked up by a postcode column (through the postcode index) or by longitude and
//! latitude columns (through the point lookup).
//!
//! One set of rules ([`Resolver`]) for every format: CSV ([`tabular`], streamed record by
//! record), NDJSON ([`ndjson`], one JSON object a line) and Parquet ([`columnar`], a row
//! group at a time). The CLI (`alliance-map annotate`) and the HTTP endpoint
//! (`POST /api/v1/annotate`) both drive these.
//!
//! Columns added ([`Columns`]): without a date, the 2017 alliance and STP (the first
//! release's four columns); for a date, that date's alliance, footprint and sub-area; for a
//! timeline, those three for every period, suffixed with the period's start date. Then a
//! status column, last, saying what happened to the row: `matched`, or why it has no areas
//! ([`Unmatched`]). Every input row is written out; a row that cannot be looked up gets empty
//! area columns and its reason, never a shifted column.

#[cfg(feature = "parquet")]
pub mod columnar;
pub mod ndjson;
pub mod tabular;

pub use tabular::{annotate, Annotator};

use crate::atlas::Atlas;
use crate::model::{coordinates, Dataset};
use crate::postcode::index::PeriodAreas;
use crate::postcode::{Postcode, PostcodeIndex};

/// The columns added without a date: the first release's.
pub const ADDED_COLUMNS: [&str; 4] = ["alliance_code", "alliance_name", "stp_code", "stp_name"];
/// The columns added per period with a date or a timeline.
pub const DATED_COLUMNS: [&str; 6] = [
    "alliance_code",
    "alliance_name",
    "footprint_code",
    "footprint_name",
    "sub_area_code",
    "sub_area_name",
];

/// The last column: `matched`, or why the row has no areas ([`Unmatched::status`]).
pub const STATUS_COLUMN: &str = "annotate_status";

#[derive(Debug, thiserror::Error)]
pub enum AnnotateError {
    #[error("input has no column {column:?}; its columns are: {available}")]
    MissingColumn { column: String, available: String },
    /// The input is not what the format says (not CSV, not JSON), or could not be read (a
    /// stalled upload, a closed file).
    #[error("input: {0}")]
    Input(InputError),
    #[error("output: {0}")]
    Output(std::io::Error),
}

/// Why the input could not be read: a message, and the I/O error's kind when reading failed.
#[derive(Debug)]
pub struct InputError {
    pub message: String,
    pub io: Option<std::io::ErrorKind>,
}

impl std::fmt::Display for InputError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl From<csv::Error> for InputError {
    fn from(e: csv::Error) -> Self {
        match e.kind() {
            csv::ErrorKind::Io(io) => InputError {
                message: io.to_string(),
                io: Some(io.kind()),
            },
            _ => InputError {
                message: format!("not CSV: {e}"),
                io: None,
            },
        }
    }
}

impl From<std::io::Error> for InputError {
    fn from(e: std::io::Error) -> Self {
        InputError {
            message: e.to_string(),
            io: Some(e.kind()),
        }
    }
}

impl AnnotateError {
    /// A reader's error, as an input error.
    pub fn input(e: impl Into<InputError>) -> Self {
        AnnotateError::Input(e.into())
    }

    /// A writer's error, as an output error.
    pub fn output(e: csv::Error) -> Self {
        match e.into_kind() {
            csv::ErrorKind::Io(io) => AnnotateError::Output(io),
            other => AnnotateError::Output(std::io::Error::other(format!("{other:?}"))),
        }
    }
}

/// Which columns to add.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Columns {
    /// The default date's alliance and STP: [`ADDED_COLUMNS`].
    Default,
    /// One period's alliance, footprint and sub-area: [`DATED_COLUMNS`].
    Period(usize),
    /// Every period's, suffixed `_<from>`.
    Timeline,
}

/// Why a row got no areas.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unmatched {
    Malformed,
    NotFound,
    NoArea,
    /// More or fewer fields than the header (CSV), or a line that is not a JSON object
    /// (NDJSON).
    Ragged,
}

impl Unmatched {
    /// The row's value in the status column.
    pub fn status(self) -> &'static str {
        match self {
            Unmatched::Malformed => "malformed",
            Unmatched::NotFound => "not_found",
            Unmatched::NoArea => "no_area",
            Unmatched::Ragged => "ragged",
        }
    }
}

/// Rows in, rows matched and each reason rows were not.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct AnnotateStats {
    pub rows: u64,
    pub matched: u64,
    pub malformed: u64,
    pub not_found: u64,
    pub no_area: u64,
    pub ragged: u64,
}

impl AnnotateStats {
    /// Counts one row's outcome.
    pub fn count(&mut self, outcome: Result<(), Unmatched>) {
        self.rows += 1;
        match outcome {
            Ok(()) => self.matched += 1,
            Err(Unmatched::Malformed) => self.malformed += 1,
            Err(Unmatched::NotFound) => self.not_found += 1,
            Err(Unmatched::NoArea) => self.no_area += 1,
            Err(Unmatched::Ragged) => self.ragged += 1,
        }
    }
}

/// What each row is looked up by.
pub enum By<'a> {
    /// A postcode column, looked up in the postcode index.
    Postcode { column: &'a str, index: &'a PostcodeIndex },
    /// Longitude and latitude columns, looked up by every period's locator.
    Point {
        lon: &'a str,
        lat: &'a str,
        /// Each period's locator is the atlas's (built for the periods asked for only).
        atlas: &'a Atlas,
    },
}

impl By<'_> {
    /// The input columns a row is looked up by: one, or longitude then latitude.
    pub fn column_names(&self) -> Vec<&str> {
        match self {
            By::Postcode { column, .. } => vec![column],
            By::Point { lon, lat, .. } => vec![lon, lat],
        }
    }
}

/// One row's areas in each period written, or why it has none.
pub type Found = Result<Vec<PeriodAreas>, Unmatched>;

/// The rules every format shares: which periods are written, the added columns' names, how a
/// row's value(s) are looked up and what is written for the areas found.
pub struct Resolver<'a> {
    pub by: By<'a>,
    pub data: &'a Dataset,
    pub columns: Columns,
    /// The periods whose areas are written, in column order.
    periods: Vec<usize>,
}

impl<'a> Resolver<'a> {
    pub fn new(by: By<'a>, data: &'a Dataset, columns: Columns) -> Self {
        let periods = match columns {
            Columns::Default => vec![data.default_period],
            Columns::Period(p) => vec![p],
            Columns::Timeline => (0..data.periods.len()).collect(),
        };
        Resolver {
            by,
            data,
            columns,
            periods,
        }
    }

    /// The names of the added area columns (the status column not included), in order.
    pub fn added_headers(&self) -> Vec<String> {
        match self.columns {
            Columns::Default => ADDED_COLUMNS.iter().map(|c| c.to_string()).collect(),
            Columns::Period(_) => DATED_COLUMNS.iter().map(|c| c.to_string()).collect(),
            Columns::Timeline => self
                .periods
                .iter()
                .flat_map(|&p| {
                    DATED_COLUMNS
                        .iter()
                        .map(move |c| format!("{c}_{}", self.data.periods[p].from))
                })
                .collect(),
        }
    }

    /// How many area columns are added.
    pub fn width(&self) -> usize {
        let per_period = if self.columns == Columns::Default {
            ADDED_COLUMNS.len()
        } else {
            DATED_COLUMNS.len()
        };
        per_period * self.periods.len()
    }

    /// A row's areas by its postcode text.
    pub fn postcode(&self, text: &str) -> Found {
        let By::Postcode { index, .. } = &self.by else {
            return Err(Unmatched::Malformed);
        };
        let found = match Postcode::parse(text) {
            Err(_) => Err(Unmatched::Malformed),
            Ok(pc) => index
                .get(&pc)
                .map(|f| self.periods.iter().map(|&p| f.areas.at(p)).collect())
                .ok_or(Unmatched::NotFound),
        };
        found.and_then(in_an_area)
    }

    /// A row's areas by its longitude and latitude texts (surrounding spaces ignored).
    pub fn point_text(&self, lon: &str, lat: &str) -> Found {
        match (lon.trim().parse::<f64>(), lat.trim().parse::<f64>()) {
            (Ok(lon), Ok(lat)) => self.point(lon, lat),
            _ => Err(Unmatched::Malformed),
        }
    }

    /// A row's areas at a point; out-of-range or non-finite coordinates are malformed.
    pub fn point(&self, lon: f64, lat: f64) -> Found {
        let By::Point { atlas, .. } = &self.by else {
            return Err(Unmatched::Malformed);
        };
        if !coordinates::is_valid(lon, lat) {
            return Err(Unmatched::Malformed);
        }
        in_an_area(
            self.periods
                .iter()
                .map(|&p| PeriodAreas::from(atlas.locator_at(p).locate(lon, lat)))
                .collect(),
        )
    }

    /// The added columns' values for `areas` (as [`Found`] gives them), in column order:
    /// code and name of the alliance and footprint (and sub-area with a date or timeline)
    /// of each period; `""` where a period has no such area.
    pub fn values(&self, areas: &[PeriodAreas], mut push: impl FnMut(&'a str)) {
        let data = self.data;
        for (&p, a) in self.periods.iter().zip(areas) {
            let period = &data.periods[p];
            let mut area = |e: Option<usize>, i: Option<u16>| match e.zip(i) {
                Some((e, i)) => match data.editions[e].areas.get(i as usize) {
                    Some(area) => {
                        push(&area.code);
                        push(&area.name);
                    }
                    None => {
                        push("");
                        push("");
                    }
                },
                None => {
                    push("");
                    push("");
                }
            };
            area(period.alliance, a.alliance);
            area(period.footprint, a.footprint);
            if self.columns != Columns::Default {
                area(period.sub_area, a.sub_area);
            }
        }
    }
}

/// `areas`, unless no period has an alliance or footprint there.
fn in_an_area(areas: Vec<PeriodAreas>) -> Found {
    if areas.iter().any(|a| a.alliance.is_some() || a.footprint.is_some()) {
        Ok(areas)
    } else {
        Err(Unmatched::NoArea)
    }
}

/// The position of `column` among `headers`: an exact match first, else one ignoring ASCII
/// case; a byte-order mark and surrounding spaces are ignored.
pub fn find_column<'h>(headers: impl Iterator<Item = &'h str> + Clone, column: &str) -> Option<usize> {
    let name = |h: &str| h.trim_start_matches('\u{feff}').trim().to_string();
    headers
        .clone()
        .position(|h| name(h) == column)
        .or_else(|| headers.into_iter().position(|h| name(h).eq_ignore_ascii_case(column)))
}

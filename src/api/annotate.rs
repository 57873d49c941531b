//! `POST /api/v1/annotate`: a table of any length in, the same table streamed back with each
//! row's areas appended — CSV (`text/csv`) or NDJSON (`application/x-ndjson`), the answer in
//! the format of the request.
//!
//! The rows are looked up on a worker thread of their own (at the bulk pool's lower
//! priority) through the same rules as the CLI's `annotate` ([`crate::annotate`]), fed by
//! the request body as it arrives and feeding the answer as it goes ([`super::pipe`]):
//! memory stays bounded whatever the input's size. The input's header (CSV) or first object
//! (NDJSON) is read and checked before anything is answered, so a missing column, a body that
//! is not CSV or a bad parameter is a 4xx problem, never a half-written table. After that the
//! answer is 200 and streams; should the input break later (a stalled upload, a line over
//! 1 MiB), the answer is cut off, never completed as if nothing happened.
//!
//! The body-size limit of the other endpoints does not apply here; the protection stack
//! instead paces the upload (a stalled or trickling client is cut off) and bounds how many
//! annotations run at once.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use tokio::sync::oneshot;

use super::error::{ApiError, Problem};
use super::pipe::{body_reader, body_writer, BodyWriter};
use super::query::{when, DateParam, Query};
use super::AppState;
use crate::annotate::ndjson::{NdjsonAnnotator, MAX_LINE_BYTES};
use crate::annotate::{AnnotateError, AnnotateStats, Annotator, By, Columns};
use crate::atlas::Atlas;

/// How rows are looked up, and which columns are added.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AnnotateParams {
    /// The column (CSV) or field (NDJSON) holding each row's postcode.
    #[param(example = "postcode")]
    pub postcode_column: Option<String>,
    /// The column holding each row's longitude (WGS84); with `lat_column`, instead of
    /// `postcode_column`.
    #[param(example = "lon")]
    pub lon_column: Option<String>,
    /// The column holding each row's latitude (WGS84).
    #[param(example = "lat")]
    pub lat_column: Option<String>,
    /// Add the areas in force on this date (`YYYY-MM-DD` or `latest`): alliance, footprint
    /// and sub-area. Without it (and without `timeline`): the 2017 alliance and STP.
    #[param(value_type = Option<String>, example = "2023-07-01")]
    #[serde(default)]
    pub date: Option<DateParam>,
    /// `true`: add the alliance, footprint and sub-area of every period of editions held,
    /// each column suffixed with the period's start date.
    #[serde(default)]
    pub timeline: Option<bool>,
}

/// The column(s) named by the query, owned (the worker thread outlives the request).
enum ByColumns {
    Postcode(String),
    Point(String, String),
}

impl AnnotateParams {
    fn by(&self) -> Result<ByColumns, ApiError> {
        let named = |p: &'static str, v: &Option<String>| match v {
            Some(v) if v.trim().is_empty() => Err(ApiError::parameter(p, format!("{p} is empty"))),
            other => Ok(other.clone()),
        };
        let postcode = named("postcode_column", &self.postcode_column)?;
        let lon = named("lon_column", &self.lon_column)?;
        let lat = named("lat_column", &self.lat_column)?;
        match (postcode, lon, lat) {
            (Some(p), None, None) => Ok(ByColumns::Postcode(p)),
            (None, Some(lon), Some(lat)) => Ok(ByColumns::Point(lon, lat)),
            (Some(_), _, _) => Err(ApiError::parameter(
                "postcode_column",
                "give postcode_column, or lon_column and lat_column, not both",
            )),
            (None, Some(_), None) => Err(ApiError::parameter(
                "lat_column",
                "lat_column is required with lon_column",
            )),
            (None, None, Some(_)) => Err(ApiError::parameter(
                "lon_column",
                "lon_column is required with lat_column",
            )),
            (None, None, None) => Err(ApiError::parameter(
                "postcode_column",
                "give postcode_column, or lon_column and lat_column",
            )),
        }
    }
}

/// The table formats taken (and answered in).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Ndjson,
}

impl Format {
    fn content_type(self) -> &'static str {
        match self {
            Format::Csv => "text/csv; charset=utf-8",
            Format::Ndjson => "application/x-ndjson",
        }
    }

    /// The request's format, from its `Content-Type`.
    fn of(headers: &HeaderMap) -> Result<Self, ApiError> {
        let given = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let essence = given.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
        match essence.as_str() {
            "text/csv" | "application/csv" => Ok(Format::Csv),
            "application/x-ndjson" | "application/ndjson" | "application/jsonl" | "application/jsonlines" => {
                Ok(Format::Ndjson)
            }
            _ => Err(ApiError::UnsupportedMediaType {
                detail: format!(
                    "the body must be text/csv or application/x-ndjson (Content-Type was {:?})",
                    given.chars().take(100).collect::<String>()
                ),
            }),
        }
    }
}

/// Annotates a CSV or NDJSON table of any length, streamed.
#[utoipa::path(post, path = "/api/v1/annotate", tag = "bulk",
    params(AnnotateParams),
    request_body(content = String, description = "A CSV table with a header row (`text/csv`), or one JSON object a line (`application/x-ndjson`); any length", content_type = "text/csv"),
    responses(
        (status = 200, description = "The input's rows, in order, each with the area columns and `annotate_status` appended (`matched`, `malformed`, `not_found`, `no_area`, `ragged`; NDJSON lines that are not objects: `not_an_object`), in the request's format, streamed", body = String, content_type = "text/csv"),
        (status = 400, description = "No column named, both kinds named, a named column missing from the input's header (or first object), a date malformed or outside every edition held, or an unknown parameter", body = Problem, content_type = "application/problem+json"),
        (status = 408, description = "The upload stalled before its header arrived", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The body is not CSV (or its first line not a JSON object), or its first line is over 1 MiB", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Content-Type is neither text/csv nor application/x-ndjson", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "No postcode index loaded (postcode_column), or too many annotations at once", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn annotate(
    State(state): State<AppState>,
    Query(params): Query<AnnotateParams>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let format = Format::of(&headers)?;
    let by = params.by()?;
    let atlas: Arc<Atlas> = state.atlas_full();
    let columns = match (params.timeline.unwrap_or(false), params.date) {
        (true, Some(_)) => return Err(ApiError::parameter("timeline", "give date or timeline=true, not both")),
        (true, None) => Columns::Timeline,
        (false, None) => Columns::Default,
        (false, Some(date)) => Columns::Period(when(&atlas.data, Some(date))?.period),
    };
    if matches!(by, ByColumns::Postcode(_)) && atlas.postcodes.is_none() {
        return Err(ApiError::Unavailable {
            detail: "no postcode index is loaded; annotate by lon_column and lat_column".into(),
        });
    }
    // CSV parsers buffer a whole record: bound it. NDJSON lines are bounded by their reader.
    let reader = body_reader(body, (format == Format::Csv).then_some(MAX_LINE_BYTES));
    let (writer, answer) = body_writer();
    let (checked, header_checked) = oneshot::channel();
    let started = std::thread::Builder::new().name("annotate".into()).spawn(move || {
        crate::priority::lower_this_thread(crate::priority::bulk_nice());
        work(&atlas, format, by, columns, reader, writer, checked)
    });
    if let Err(e) = started {
        return Err(ApiError::Overloaded {
            detail: format!("cannot start an annotation now ({e}); retry in a moment"),
        });
    }
    match header_checked.await {
        Ok(Ok(())) => Ok((
            [(header::CONTENT_TYPE, HeaderValue::from_static(format.content_type()))],
            Body::from(answer),
        )
            .into_response()),
        Ok(Err(problem)) => Err(problem),
        Err(_) => Err(ApiError::Internal {
            detail: "the annotation stopped before reading the input".into(),
        }),
    }
}

/// The worker: checks the start of the input (answering `checked`), then annotates the rest
/// into `writer`.
fn work(
    atlas: &Atlas,
    format: Format,
    by: ByColumns,
    columns: Columns,
    reader: super::pipe::BodyReader,
    mut writer: BodyWriter,
    checked: oneshot::Sender<Result<(), ApiError>>,
) {
    let by_columns = by;
    let by = match &by_columns {
        ByColumns::Postcode(column) => match &atlas.postcodes {
            Some(index) => By::Postcode { column, index },
            None => return,
        },
        ByColumns::Point(lon, lat) => By::Point { lon, lat, atlas },
    };
    let ignore = |_: u64, _: &str, _| {};
    let written: Result<AnnotateStats, AnnotateError> = match format {
        Format::Csv => match Annotator::open(reader, by, &atlas.data) {
            Err(e) => {
                let _ = checked.send(Err(refusal(e, &by_columns)));
                return;
            }
            Ok(annotator) => {
                let _ = checked.send(Ok(()));
                annotator.write_to(&mut writer, &columns, ignore)
            }
        },
        Format::Ndjson => {
            match NdjsonAnnotator::open(
                std::io::BufReader::with_capacity(1 << 16, reader),
                by,
                &atlas.data,
                columns,
            ) {
                Err(e) => {
                    let _ = checked.send(Err(refusal(e, &by_columns)));
                    return;
                }
                Ok(annotator) => {
                    let _ = checked.send(Ok(()));
                    annotator.write_to(&mut writer, ignore)
                }
            }
        }
    };
    match written {
        Ok(stats) => tracing::info!(
            rows = stats.rows,
            matched = stats.matched,
            ragged = stats.ragged,
            "annotated a stream"
        ),
        Err(AnnotateError::Output(e)) => tracing::info!(error = %e, "an annotation's client went away"),
        Err(e) => {
            tracing::info!(error = %e, "an annotation's input broke off; its answer is cut off");
            writer.fail(e.to_string());
        }
    }
}

/// The problem for an input refused at its start; a missing column names the query
/// parameter that named it.
fn refusal(e: AnnotateError, by: &ByColumns) -> ApiError {
    match e {
        AnnotateError::MissingColumn { ref column, .. } => {
            let parameter = match by {
                ByColumns::Postcode(_) => "postcode_column",
                ByColumns::Point(lon, _) if lon == column => "lon_column",
                ByColumns::Point(..) => "lat_column",
            };
            ApiError::parameter(parameter, e.to_string())
        }
        AnnotateError::Input(input) if input.io == Some(std::io::ErrorKind::TimedOut) => {
            ApiError::RequestTimeout { detail: input.message }
        }
        AnnotateError::Input(input) => ApiError::body(None, input.message),
        AnnotateError::Output(e) => ApiError::Internal { detail: e.to_string() },
    }
}

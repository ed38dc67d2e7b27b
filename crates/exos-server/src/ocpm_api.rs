//! Imported event logs and the object-centric, operator and opportunity routes:
//! thin handlers over `exos-ocpm`.
//!
//! Any signed-in user may list, export and analyse logs; importing and
//! deleting need the admin role, like the other routes that change stored data.
//! An upload is the raw file as the request body (at most
//! [`MAX_UPLOAD_BYTES`]), saved to a temporary file and imported from there.

use std::io::Write;

use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use exos_ocpm::export::{export_log, ExportFormat};
use exos_ocpm::import::{import_file, parse_on_error, ColumnOptions, Format, ImportRequest};
use exos_ocpm::{ocpm, operators, opportunities, OcpmError};
use exos_store::eventlogs::list_event_logs;
use serde::Serialize;

use crate::api::{blocking, Admin, ApiError, Caller};
use crate::state::AppState;

/// Largest accepted upload: 512 MiB.
pub const MAX_UPLOAD_BYTES: usize = 512 << 20;

type Pairs = Query<Vec<(String, String)>>;

impl From<OcpmError> for ApiError {
    fn from(error: OcpmError) -> Self {
        match error {
            OcpmError::NotFound(message) => ApiError::NotFound(message),
            OcpmError::Store(store) => ApiError::Store(store),
            OcpmError::Analytics(analytics) => analytics.into(),
            OcpmError::Io(message) => ApiError::Store(exos_store::StoreError::Other(message)),
            other => ApiError::BadRequest(other.to_string()),
        }
    }
}

/// Adds the event-log and process-analysis routes.
pub fn routes(router: Router<AppState>) -> Router<AppState> {
    router
        .route("/api/logs", get(list))
        .route(
            "/api/logs/import",
            post(import).layer(DefaultBodyLimit::max(MAX_UPLOAD_BYTES)),
        )
        .route("/api/logs/{log}", delete(remove))
        .route("/api/logs/{log}/export", get(export))
        .route("/api/ocpm", get(ocpm_route).post(ocpm_post))
        .route("/api/operators", get(operators_route).post(operators_post))
        .route(
            "/api/opportunities",
            get(opportunities_route).post(opportunities_post),
        )
}

/// The response body of `GET /api/logs`.
#[derive(Debug, Serialize)]
pub struct LogList {
    pub logs: Vec<exos_store::EventLogEntry>,
}

async fn list(State(state): State<AppState>, _caller: Caller) -> Result<Response, ApiError> {
    let store = state.store.clone();
    let logs = blocking(move || Ok(list_event_logs(store.as_ref())?)).await?;
    Ok(Json(LogList { logs }).into_response())
}

/// Reads the import parameters; `file` names the upload (for the format and the default name).
fn import_request(pairs: &[(String, String)]) -> Result<ImportRequest, ApiError> {
    let known = [
        "file",
        "name",
        "format",
        "on_error",
        "replace",
        "case",
        "activity",
        "timestamp",
        "start_timestamp",
        "resource",
        "timestamp_format",
        "timezone",
        "delimiter",
    ];
    let params = exos_analytics::params::Params::new(pairs, &known)?;
    let text = |name: &str| -> Result<Option<String>, ApiError> {
        let value = params.one(name)?.map(str::to_string);
        if let Some(value) = &value {
            exos_analytics::params::check_text(name, value)?;
        }
        Ok(value)
    };
    let file_name = text("file")?.ok_or_else(|| {
        ApiError::BadRequest(
            "missing `file`: pass the uploaded file's name, e.g. ?file=orders.xes".into(),
        )
    })?;
    let delimiter = match text("delimiter")? {
        None => None,
        Some(d) if d.len() == 1 => Some(d.as_bytes()[0]),
        Some(d) => {
            return Err(ApiError::BadRequest(format!(
                "invalid delimiter {d:?}: give one character"
            )))
        }
    };
    Ok(ImportRequest {
        path: std::path::PathBuf::new(),
        file_name,
        format: text("format")?.map(|f| Format::parse(&f)).transpose()?,
        name: text("name")?,
        on_error: parse_on_error(text("on_error")?.as_deref().unwrap_or("skip"))?,
        replace: text("replace")?.as_deref() == Some("true"),
        columns: ColumnOptions {
            case: text("case")?,
            activity: text("activity")?,
            timestamp: text("timestamp")?,
            start_timestamp: text("start_timestamp")?,
            resource: text("resource")?,
            timestamp_format: text("timestamp_format")?,
            timezone: text("timezone")?,
            delimiter,
        },
        progress: None,
    })
}

async fn import(
    State(state): State<AppState>,
    _admin: Admin,
    Query(pairs): Pairs,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let mut request = import_request(&pairs)?;
    if body.is_empty() {
        return Err(ApiError::BadRequest(
            "empty body: send the log file's bytes as the request body".into(),
        ));
    }
    let store = state.store.clone();
    let summary = blocking(move || {
        // The temporary file keeps the upload's name ending, which some readers look at.
        let suffix = request
            .file_name
            .rsplit_once('.')
            .map(|(_, ending)| format!(".{ending}"))
            .unwrap_or_default();
        let mut file = tempfile::Builder::new()
            .suffix(&suffix)
            .tempfile()
            .map_err(|e| {
                ApiError::Store(exos_store::StoreError::Other(format!(
                    "cannot save the upload: {e}"
                )))
            })?;
        file.write_all(&body).map_err(|e| {
            ApiError::Store(exos_store::StoreError::Other(format!(
                "cannot save the upload: {e}"
            )))
        })?;
        request.path = file.path().to_path_buf();
        Ok(import_file(store.as_ref(), &request)?)
    })
    .await?;
    tracing::info!(log = %summary.log.log_id, events = summary.log.events, issues = summary.issue_count, "imported event log");
    Ok((StatusCode::CREATED, Json(summary)).into_response())
}

async fn remove(
    State(state): State<AppState>,
    _admin: Admin,
    Path(log): Path<String>,
) -> Result<Response, ApiError> {
    let store = state.store.clone();
    let lookup = log.clone();
    let deleted = blocking(move || {
        exos_store::eventlogs::check_log_id(&lookup).map_err(ApiError::BadRequest)?;
        Ok(store.delete_event_log(&lookup)?)
    })
    .await?;
    if !deleted {
        return Err(ApiError::NotFound(format!("no imported log named {log:?}")));
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn export(
    State(state): State<AppState>,
    _caller: Caller,
    Path(log): Path<String>,
    Query(pairs): Pairs,
) -> Result<Response, ApiError> {
    let params = exos_analytics::params::Params::new(&pairs, &["format", "type"])?;
    let format_name = params.one("format")?.unwrap_or("ocel-json").to_string();
    let format = ExportFormat::parse(&format_name)?;
    let object_type = params.one("type")?.map(str::to_string);
    let store = state.store.clone();
    let log_id = log.clone();
    let bytes = blocking(move || {
        exos_store::eventlogs::check_log_id(&log_id).map_err(ApiError::BadRequest)?;
        let file = tempfile::NamedTempFile::new()
            .map_err(|e| ApiError::Store(exos_store::StoreError::Other(e.to_string())))?;
        export_log(
            store.as_ref(),
            &log_id,
            format,
            object_type.as_deref(),
            file.path(),
        )?;
        std::fs::read(file.path())
            .map_err(|e| ApiError::Store(exos_store::StoreError::Other(e.to_string())))
    })
    .await?;
    let ending = match format {
        ExportFormat::Xes => "xes",
        ExportFormat::Csv => "csv",
        ExportFormat::OcelJson => "jsonocel",
        ExportFormat::OcelSqlite => "sqlite",
    };
    let disposition = format!("attachment; filename=\"{log}.{ending}\"");
    Ok((
        [
            (header::CONTENT_TYPE, "application/octet-stream".to_string()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        bytes,
    )
        .into_response())
}

/// Turns a JSON object of parameters into query pairs; arrays repeat their key.
///
/// Dashboard panels re-run an analysis by POSTing the request they saved, so the
/// POST forms of the analysis routes take the same parameters as a JSON object.
fn body_pairs(body: &[u8]) -> Result<Vec<(String, String)>, ApiError> {
    let expected = "a JSON object of parameters, e.g. {\"from\": \"2026-12-01T00:00:00Z\", \"lob\": \"Title\"}";
    let value: serde_json::Value = crate::api::json_body(body, expected)?;
    let serde_json::Value::Object(object) = value else {
        return Err(ApiError::BadRequest(format!(
            "invalid request body: send {expected}"
        )));
    };
    let text = |value: &serde_json::Value| match value {
        serde_json::Value::String(text) => Some(text.clone()),
        serde_json::Value::Number(number) => Some(number.to_string()),
        serde_json::Value::Bool(flag) => Some(flag.to_string()),
        _ => None,
    };
    let mut pairs = Vec::new();
    for (key, value) in object {
        let values = match &value {
            serde_json::Value::Array(items) => items.iter().map(text).collect::<Option<Vec<_>>>(),
            serde_json::Value::Null => Some(Vec::new()),
            other => text(other).map(|t| vec![t]),
        };
        let values = values.ok_or_else(|| {
            ApiError::BadRequest(format!(
                "invalid value of {key:?}: use text, a number, true/false or a list of them"
            ))
        })?;
        pairs.extend(values.into_iter().map(|v| (key.clone(), v)));
    }
    Ok(pairs)
}

async fn ocpm_post(
    state: State<AppState>,
    caller: Caller,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    ocpm_route(state, caller, Query(body_pairs(&body)?)).await
}

async fn operators_post(
    state: State<AppState>,
    caller: Caller,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    operators_route(state, caller, Query(body_pairs(&body)?)).await
}

async fn opportunities_post(
    state: State<AppState>,
    caller: Caller,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    opportunities_route(state, caller, Query(body_pairs(&body)?)).await
}

async fn ocpm_route(
    State(state): State<AppState>,
    _caller: Caller,
    Query(pairs): Pairs,
) -> Result<Response, ApiError> {
    let request = ocpm::OcpmRequest::from_query(&pairs)?;
    let store = state.store.clone();
    let response = blocking(move || Ok(ocpm::ocpm(store.as_ref(), &request)?)).await?;
    Ok(Json(response).into_response())
}

async fn operators_route(
    State(state): State<AppState>,
    _caller: Caller,
    Query(pairs): Pairs,
) -> Result<Response, ApiError> {
    let request = operators::OperatorsRequest::from_query(&pairs)?;
    let store = state.store.clone();
    let response = blocking(move || Ok(operators::operators(store.as_ref(), &request)?)).await?;
    Ok(Json(response).into_response())
}

async fn opportunities_route(
    State(state): State<AppState>,
    _caller: Caller,
    Query(pairs): Pairs,
) -> Result<Response, ApiError> {
    let request = opportunities::OpportunitiesRequest::from_query(&pairs)?;
    let store = state.store.clone();
    let response =
        blocking(move || Ok(opportunities::opportunities(store.as_ref(), &request)?)).await?;
    Ok(Json(response).into_response())
}

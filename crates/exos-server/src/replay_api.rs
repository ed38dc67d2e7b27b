//! `/api/sessions` and `/api/replay/{session}`: the sessions list and one session's replay.

use axum::extract::path::ErrorKind;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, Query, State};
use axum::http::Uri;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use exos_analytics::params::{check_text, Params};
use exos_analytics::AnalyticsError;
use exos_replay::queries::{self, SessionQuery, SessionSort};

use crate::api::{blocking, ApiError, Caller};
use crate::state::AppState;

/// Adds the replay routes.
pub fn routes(router: Router<AppState>) -> Router<AppState> {
    router
        .route("/api/sessions", get(sessions))
        .route("/api/replay/{session}", get(replay))
}

/// The query parameters `GET /api/sessions` accepts.
const SESSION_PARAMS: &[&str] = &[
    "from",
    "to",
    "q",
    "lob",
    "frustrated",
    "has_replay",
    "did",
    "browser",
    "device",
    "country",
    "sort",
    "limit",
];

/// Maximum number of rows in one sessions list.
const MAX_LIMIT: usize = 1000;
/// Number of rows listed when `limit` is absent.
const DEFAULT_LIMIT: usize = 200;

/// Reads a time as the other pages' routes do: RFC 3339 text, or milliseconds
/// since the Unix epoch. Returns milliseconds.
fn millis(params: &Params, name: &str, default: i64) -> Result<i64, AnalyticsError> {
    match params.one(name)?.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(default),
        Some(text) => Ok(exos_analytics::time::parse_time(name, text)?.div_euclid(1_000_000)),
    }
}

/// Reads `true` or `false`, or returns `None` when the parameter is absent.
fn flag(params: &Params, name: &str) -> Result<Option<bool>, AnalyticsError> {
    match params.one(name)? {
        None => Ok(None),
        Some("true") => Ok(Some(true)),
        Some("false") => Ok(Some(false)),
        Some(other) => Err(AnalyticsError::bad(
            name,
            format!("{other:?} is not true or false; use true or false"),
        )),
    }
}

/// Reads a free-text filter, rejecting NUL characters and overlong values.
fn text(params: &Params, name: &str) -> Result<Option<String>, AnalyticsError> {
    let value = params.one(name)?;
    if let Some(value) = value {
        check_text(name, value)?;
    }
    Ok(value.map(str::to_string))
}

/// Reads a filter value that must be one of `choices` (compared without case).
fn choice(params: &Params, name: &str, choices: &[&str]) -> Result<Option<String>, AnalyticsError> {
    match params.one(name)? {
        Some(value) if !choices.contains(&value.to_ascii_lowercase().as_str()) => {
            Err(AnalyticsError::bad(
                name,
                format!("{value:?} is not known; use one of {}", choices.join(", ")),
            ))
        }
        value => Ok(value.map(str::to_string)),
    }
}

/// Reads an ISO 3166-1 alpha-2 country code: two ASCII letters, in either case.
fn country(params: &Params) -> Result<Option<String>, AnalyticsError> {
    match params.one("country")? {
        Some(value) if value.len() != 2 || !value.bytes().all(|b| b.is_ascii_alphabetic()) => {
            Err(AnalyticsError::bad(
                "country",
                format!(
                    "{value:?} is not a country code; give the two-letter ISO 3166 code, such as DE or US"
                ),
            ))
        }
        value => Ok(value.map(str::to_string)),
    }
}

/// Builds the sessions query from the request's parameters. Unknown names, repeated
/// values and values a parameter does not accept are rejected.
fn session_query(pairs: &[(String, String)], now: i64) -> Result<SessionQuery, AnalyticsError> {
    let params = Params::new(pairs, SESSION_PARAMS)?;
    let to_ms = millis(&params, "to", now)?;
    let from_ms = millis(&params, "from", to_ms - 24 * 3_600_000)?;
    let sort = match params.one("sort")? {
        None | Some("newest") => SessionSort::Newest,
        Some("longest") => SessionSort::Longest,
        Some("most_errors") => SessionSort::MostErrors,
        Some("most_frustrated") => SessionSort::MostFrustrated,
        Some(other) => {
            return Err(AnalyticsError::bad(
                "sort",
                format!(
                    "{other:?} is not a sort order; use newest, longest, most_errors or most_frustrated"
                ),
            ))
        }
    };
    Ok(SessionQuery {
        from_ms,
        to_ms,
        search: text(&params, "q")?,
        lob: text(&params, "lob")?,
        frustrated: flag(&params, "frustrated")?.unwrap_or(false),
        has_replay: flag(&params, "has_replay")?,
        did: text(&params, "did")?,
        browser: choice(
            &params,
            "browser",
            &["chrome", "edge", "firefox", "opera", "safari"],
        )?,
        device: choice(&params, "device", &["desktop", "mobile", "tablet"])?,
        country: country(&params)?,
        sort,
        limit: Some(params.count("limit", DEFAULT_LIMIT, MAX_LIMIT)?),
    })
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default()
}

async fn sessions(
    State(state): State<AppState>,
    _caller: Caller,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let query = session_query(&pairs, now_ms())?;
    let store = state.store.clone();
    let list = blocking(move || Ok(queries::list_sessions(store.as_ref(), &query)?)).await?;
    Ok(Json(list).into_response())
}

async fn replay(
    State(state): State<AppState>,
    _caller: Caller,
    uri: Uri,
    session: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    // Without this, axum rejects the path with a plain-text body instead of the API's JSON error.
    let Path(session) = session.map_err(|rejection| {
        let raw_id = uri.path().rsplit('/').next().unwrap_or_default();
        let problem = match &rejection {
            PathRejection::FailedToDeserializePathParams(failure)
                if matches!(failure.kind(), ErrorKind::InvalidUtf8InPathParam { .. }) =>
            {
                "it is not UTF-8 text once percent-decoded".to_string()
            }
            other => other.body_text(),
        };
        ApiError::BadRequest(format!(
            "invalid session id {raw_id:?}: {problem}; give the rum.session_id of a session"
        ))
    })?;
    if session.is_empty() || session.len() > 128 {
        return Err(ApiError::BadRequest(
            "invalid session id: give the rum.session_id of a session".into(),
        ));
    }
    let store = state.store.clone();
    let settings = state.config.replay.signals.clone();
    let lookup = session.clone();
    let replay = blocking(move || Ok(queries::replay(store.as_ref(), &lookup, &settings)?)).await?;
    if replay.events.is_empty() && replay.markers.is_empty() {
        return Err(ApiError::NotFound(format!(
            "no session {session:?} in the store"
        )));
    }
    Ok(Json(replay).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
        items
            .iter()
            .map(|(key, value)| (key.to_string(), value.to_string()))
            .collect()
    }

    #[test]
    fn times_take_rfc_3339_or_milliseconds() {
        let raw = pairs(&[("from", "2026-12-01T00:00:00Z"), ("to", "1796169600000")]);
        let params = Params::new(&raw, &["from", "to"]).unwrap();
        assert_eq!(millis(&params, "from", 0).unwrap(), 1_796_083_200_000);
        assert_eq!(millis(&params, "to", 0).unwrap(), 1_796_169_600_000);
        let raw = pairs(&[("from", "yesterday")]);
        let params = Params::new(&raw, &["from"]).unwrap();
        let error = millis(&params, "from", 0).unwrap_err().to_string();
        assert!(error.contains("RFC 3339"), "{error}");
    }
}

//! `/api/sessions` and `/api/replay/{session}`: the sessions list and one session's replay.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use exos_replay::queries::{self, SessionQuery, SessionSort};
use serde_json::json;

use crate::api::{blocking, ApiError, Caller};
use crate::state::AppState;

/// Adds the replay routes.
pub fn routes(router: Router<AppState>) -> Router<AppState> {
    router
        .route("/api/sessions", get(sessions))
        .route("/api/replay/{session}", get(replay))
}

fn millis(params: &HashMap<String, String>, name: &str, default: i64) -> Result<i64, ApiError> {
    match params.get(name).map(|v| v.trim()).filter(|v| !v.is_empty()) {
        None => Ok(default),
        Some(text) => text.parse::<i64>().map_err(|_| {
            ApiError::BadRequest(format!(
                "invalid {name} {text:?}: give milliseconds since the Unix epoch"
            ))
        }),
    }
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
    Query(params): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let to_ms = millis(&params, "to", now_ms())?;
    let from_ms = millis(&params, "from", to_ms - 24 * 3_600_000)?;
    let sort = match params.get("sort").map(String::as_str).unwrap_or("newest") {
        "newest" => SessionSort::Newest,
        "longest" => SessionSort::Longest,
        "most_errors" => SessionSort::MostErrors,
        "most_frustrated" => SessionSort::MostFrustrated,
        other => {
            return Err(ApiError::BadRequest(format!(
                "invalid sort {other:?}: use newest, longest, most_errors or most_frustrated"
            )))
        }
    };
    let has_replay = match params.get("has_replay").map(String::as_str) {
        None | Some("") => None,
        Some("true") => Some(true),
        Some("false") => Some(false),
        Some(other) => {
            return Err(ApiError::BadRequest(format!(
                "invalid has_replay {other:?}: use true or false"
            )))
        }
    };
    let limit = match params.get("limit") {
        None => None,
        Some(text) => Some(text.parse::<usize>().map_err(|_| {
            ApiError::BadRequest(format!("invalid limit {text:?}: give a number up to 1000"))
        })?),
    };
    check_choice(
        &params,
        "browser",
        &["chrome", "edge", "firefox", "opera", "safari"],
    )?;
    check_choice(&params, "device", &["desktop", "mobile", "tablet"])?;
    let query = SessionQuery {
        from_ms,
        to_ms,
        search: params.get("q").cloned(),
        lob: params.get("lob").cloned(),
        frustrated: params.get("frustrated").is_some_and(|v| v == "true"),
        has_replay,
        did: params.get("did").cloned(),
        browser: params.get("browser").cloned(),
        device: params.get("device").cloned(),
        country: params.get("country").cloned(),
        sort,
        limit,
    };
    let store = state.store.clone();
    let rows = blocking(move || Ok(queries::list_sessions(store.as_ref(), &query)?)).await?;
    Ok(Json(json!({"sessions": rows})).into_response())
}

/// Rejects a filter value outside its list (compared without case), naming the choices.
fn check_choice(
    params: &HashMap<String, String>,
    key: &str,
    choices: &[&str],
) -> Result<(), ApiError> {
    match params.get(key).filter(|value| !value.is_empty()) {
        Some(value) if !choices.contains(&value.to_ascii_lowercase().as_str()) => {
            Err(ApiError::BadRequest(format!(
                "invalid {key} {value:?}: use one of {}",
                choices.join(", ")
            )))
        }
        _ => Ok(()),
    }
}

async fn replay(
    State(state): State<AppState>,
    _caller: Caller,
    Path(session): Path<String>,
) -> Result<Response, ApiError> {
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

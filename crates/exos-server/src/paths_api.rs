//! Product-analytics routes over `exos-analytics`: paths, their actors, and trends.
//!
//! Each handler reads a typed JSON question, loads the saved actions and cohorts
//! the caller may see (the same visibility as `/api/workspaces`), and runs the
//! question off the async threads. Nothing is computed here.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use exos_analytics as analytics;
use exos_analytics::{AnalyticsError, Library};
use exos_store::Store;
use serde::Serialize;

use crate::api::{blocking, json_body, ApiError, Caller};
use crate::auth::Principal;
use crate::state::AppState;

const PATHS_EXAMPLE: &str = r#"{"actor": "OrderId", "time_range": {"from_ns": 0, "to_ns": 1}, "depth": 5, "start": "Order Received"}"#;
const ACTORS_EXAMPLE: &str = r#"{"query": {"actor": "OrderId", "time_range": {"from_ns": 0, "to_ns": 1}}, "at": {"step": 1, "name": "Approve"}}"#;
const TRENDS_EXAMPLE: &str = r#"{"actor": "UserId", "time_range": {"from_ns": 0, "to_ns": 1}, "interval": "day", "series": [{"event": {"span_name": "click"}}]}"#;

/// Adds the paths and trends routes.
pub fn routes(router: Router<AppState>) -> Router<AppState> {
    router
        .route("/api/paths", post(paths))
        .route("/api/paths/actors", post(path_actors))
        .route("/api/trends", post(trends))
}

/// Returns the saved actions and cohorts `caller` may see, as `/api/workspaces` lists them.
pub(crate) fn caller_library(store: &dyn Store, caller: &Principal) -> Result<Library, ApiError> {
    let items: Vec<_> = store
        .saved_items()?
        .into_iter()
        .filter(|item| crate::workspaces::visible(item, caller))
        .collect();
    Ok(Library::from_items(&items))
}

/// Runs one question with the caller's library on a blocking thread and answers JSON.
pub(crate) async fn answer<T: Serialize + Send + 'static>(
    state: &AppState,
    caller: Principal,
    work: impl FnOnce(&dyn Store, &Library) -> Result<T, AnalyticsError> + Send + 'static,
) -> Result<Response, ApiError> {
    let store = state.store.clone();
    let result = blocking(move || {
        let library = caller_library(store.as_ref(), &caller)?;
        Ok(work(store.as_ref(), &library)?)
    })
    .await?;
    Ok(Json(result).into_response())
}

async fn paths(
    State(state): State<AppState>,
    Caller(caller): Caller,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let query: analytics::PathsQuery = json_body(&body, PATHS_EXAMPLE)?;
    answer(&state, caller, move |store, library| {
        analytics::paths(store, &query, library)
    })
    .await
}

async fn path_actors(
    State(state): State<AppState>,
    Caller(caller): Caller,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let request: analytics::PathActorsRequest = json_body(&body, ACTORS_EXAMPLE)?;
    answer(&state, caller, move |store, library| {
        analytics::path_actors(store, &request, library)
    })
    .await
}

async fn trends(
    State(state): State<AppState>,
    Caller(caller): Caller,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let query: analytics::TrendsQuery = json_body(&body, TRENDS_EXAMPLE)?;
    answer(&state, caller, move |store, library| {
        analytics::trends(store, &query, library)
    })
    .await
}

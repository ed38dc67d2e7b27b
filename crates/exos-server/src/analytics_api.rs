//! The page data routes: thin handlers over `exos-analytics`.
//!
//! Each handler authenticates, passes the query string's pairs to the route's
//! request parser, runs the query off the async threads and returns the
//! response as JSON. Nothing is computed here.

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use exos_analytics as analytics;
use exos_analytics::AnalyticsError;
use exos_store::Store;
use serde::Serialize;

use crate::api::{blocking, json_body, ApiError, Caller};
use crate::state::AppState;

type Pairs = Query<Vec<(String, String)>>;

impl From<AnalyticsError> for ApiError {
    fn from(error: AnalyticsError) -> Self {
        match error {
            AnalyticsError::BadParameter { .. } => ApiError::BadRequest(error.to_string()),
            AnalyticsError::NotFound(message) => ApiError::NotFound(message),
            AnalyticsError::Store(store) => ApiError::Store(store),
            AnalyticsError::Result(message) => ApiError::Store(exos_store::StoreError::Other(
                format!("unexpected query result: {message}"),
            )),
        }
    }
}

/// Adds the page data routes.
pub fn routes(router: Router<AppState>) -> Router<AppState> {
    router
        .route("/api/stats", get(stats))
        .route("/api/events", get(events))
        .route("/api/filters", get(filters))
        .route("/api/errors", get(errors))
        .route("/api/errors/{fingerprint}", get(error_group))
        .route("/api/services", get(services))
        .route("/api/trace/{trace_id}", get(trace))
        .route("/api/visitor", get(visitor))
        .route("/api/schema", get(schema))
        .route("/api/visualize", post(visualize))
}

/// Runs one analytics call on a blocking thread and answers its result as JSON.
async fn answer<T: Serialize + Send + 'static>(
    state: &AppState,
    work: impl FnOnce(&dyn Store) -> Result<T, AnalyticsError> + Send + 'static,
) -> Result<Response, ApiError> {
    let store = state.store.clone();
    let result = blocking(move || Ok(work(store.as_ref())?)).await?;
    Ok(Json(result).into_response())
}

async fn stats(
    State(state): State<AppState>,
    _caller: Caller,
    Query(pairs): Pairs,
) -> Result<Response, ApiError> {
    let request = analytics::StatsRequest::from_query(&pairs)?;
    answer(&state, move |store| analytics::stats(store, &request)).await
}

async fn events(
    State(state): State<AppState>,
    _caller: Caller,
    Query(pairs): Pairs,
) -> Result<Response, ApiError> {
    let request = analytics::EventsRequest::from_query(&pairs)?;
    answer(&state, move |store| analytics::events(store, &request)).await
}

async fn filters(
    State(state): State<AppState>,
    _caller: Caller,
    Query(pairs): Pairs,
) -> Result<Response, ApiError> {
    let request = analytics::FiltersRequest::from_query(&pairs)?;
    answer(&state, move |store| analytics::filters(store, &request)).await
}

async fn errors(
    State(state): State<AppState>,
    _caller: Caller,
    Query(pairs): Pairs,
) -> Result<Response, ApiError> {
    let request = analytics::ErrorsRequest::from_query(&pairs)?;
    answer(&state, move |store| analytics::errors(store, &request)).await
}

async fn error_group(
    State(state): State<AppState>,
    _caller: Caller,
    Path(fingerprint): Path<String>,
    Query(pairs): Pairs,
) -> Result<Response, ApiError> {
    let request = analytics::ErrorGroupRequest::from_query(&fingerprint, &pairs)?;
    answer(&state, move |store| analytics::error_group(store, &request)).await
}

async fn services(
    State(state): State<AppState>,
    _caller: Caller,
    Query(pairs): Pairs,
) -> Result<Response, ApiError> {
    let request = analytics::ServicesRequest::from_query(&pairs)?;
    answer(&state, move |store| analytics::services(store, &request)).await
}

async fn trace(
    State(state): State<AppState>,
    _caller: Caller,
    Path(trace_id): Path<String>,
    Query(pairs): Pairs,
) -> Result<Response, ApiError> {
    let request = analytics::TraceRequest::from_query(&trace_id, &pairs)?;
    answer(&state, move |store| analytics::trace(store, &request)).await
}

async fn visitor(
    State(state): State<AppState>,
    _caller: Caller,
    Query(pairs): Pairs,
) -> Result<Response, ApiError> {
    let request = analytics::VisitorRequest::from_query(&pairs)?;
    answer(&state, move |store| analytics::visitor(store, &request)).await
}

async fn schema(State(state): State<AppState>, _caller: Caller) -> Result<Response, ApiError> {
    answer(&state, analytics::schema).await
}

async fn visualize(
    State(state): State<AppState>,
    _caller: Caller,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let request: analytics::VisualizeRequest = json_body(
        &body,
        "{\"sql\": \"SELECT …\", \"chart\": {\"type\": \"bar\", \"x\": \"…\", \"y\": [\"…\"], \"series\": null}}",
    )?;
    answer(&state, move |store| analytics::visualize(store, &request)).await
}

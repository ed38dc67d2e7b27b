//! The funnel and retention routes: `POST /api/funnels`, `/api/funnels/actors`,
//! `/api/funnels/correlation` and `/api/retention`.
//!
//! Each handler authenticates, parses the typed JSON body (naming an example
//! on failure), loads the saved actions and cohorts the caller may see, and
//! runs `exos_analytics::funnels` off the async threads.

use axum::extract::State;
use axum::response::Response;
use axum::routing::post;
use axum::Router;
use exos_analytics::funnels;
use exos_analytics::{AnalyticsError, Library};
use exos_store::Store;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::api::{json_body, ApiError, Caller};
use crate::auth::Principal;
use crate::state::AppState;

/// An example funnel body, for error messages and the OpenAPI document.
pub const FUNNEL_EXAMPLE: &str = r#"{"actor": "order.id", "steps": [{"span_name": "Order Received"}, {"span_name": "Review Documents"}, {"span_name": "Approve"}], "kind": "sequential", "window_seconds": 1209600, "modes": [], "exclusions": [{"event": {"action": "Cancelled order"}, "from_step": 1, "to_step": 3}], "filters": ["ServiceName=order-api"], "cohort": null, "breakdown": "lob", "from": "2026-02-15T00:00:00Z", "to": "2026-03-01T00:00:00Z", "trend_period": "day"}"#;

/// An example body of `POST /api/funnels/actors`.
pub const ACTORS_EXAMPLE: &str = r#"{"funnel": {"actor": "order.id", "steps": [{"span_name": "Order Received"}, {"span_name": "Approve"}], "window_seconds": 1209600, "from": "2026-02-15T00:00:00Z", "to": "2026-03-01T00:00:00Z"}, "step": 2, "outcome": "dropped", "limit": 50}"#;

/// An example body of `POST /api/funnels/correlation`.
pub const CORRELATION_EXAMPLE: &str = r#"{"funnel": {"actor": "order.id", "steps": [{"span_name": "Order Received"}, {"span_name": "Approve"}], "window_seconds": 1209600, "from": "2026-02-15T00:00:00Z", "to": "2026-03-01T00:00:00Z"}, "properties": ["lob", "operator.id"], "events": true}"#;

/// An example body of `POST /api/retention`.
pub const RETENTION_EXAMPLE: &str = r#"{"actor": "user.id", "start_event": {"span_name": "documentLoad"}, "return_event": {"span_name": "documentLoad"}, "kind": "first_time", "period": "week", "periods": 8, "from": "2026-01-05T00:00:00Z", "breakdown": "lob", "filters": [], "cohort": null}"#;

/// Adds the funnel and retention routes.
pub fn routes(router: Router<AppState>) -> Router<AppState> {
    router
        .route("/api/funnels", post(funnel))
        .route("/api/funnels/actors", post(actors))
        .route("/api/funnels/correlation", post(correlation))
        .route("/api/retention", post(retention))
}

/// Parses the body, runs `work` with the caller's saved actions and cohorts on a
/// blocking thread and returns its result as JSON.
async fn answer<Q, T>(
    state: &AppState,
    caller: Principal,
    body: &[u8],
    example: &str,
    work: fn(&dyn Store, &Q, &Library) -> Result<T, AnalyticsError>,
) -> Result<Response, ApiError>
where
    Q: DeserializeOwned + Send + 'static,
    T: Serialize + Send + 'static,
{
    let request: Q = json_body(body, example)?;
    crate::paths_api::answer(state, caller, move |store, library| {
        work(store, &request, library)
    })
    .await
}

async fn funnel(
    State(state): State<AppState>,
    Caller(caller): Caller,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    answer(&state, caller, &body, FUNNEL_EXAMPLE, funnels::funnel).await
}

async fn actors(
    State(state): State<AppState>,
    Caller(caller): Caller,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    answer(
        &state,
        caller,
        &body,
        ACTORS_EXAMPLE,
        funnels::funnel_actors,
    )
    .await
}

async fn correlation(
    State(state): State<AppState>,
    Caller(caller): Caller,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    answer(
        &state,
        caller,
        &body,
        CORRELATION_EXAMPLE,
        funnels::funnel_correlation,
    )
    .await
}

async fn retention(
    State(state): State<AppState>,
    Caller(caller): Caller,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    answer(&state, caller, &body, RETENTION_EXAMPLE, funnels::retention).await
}

//! The HTTP API: `/api/*` (authenticated), `/health`, `/ready`, `/metrics`.
//!
//! Errors have one JSON shape, `{"error": {"kind": …, "message": …}}`, and
//! one mapping to HTTP status, in `ApiError`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use axum::extract::{FromRequestParts, MatchedPath, Path, Request, State};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use exos_store::{run_user_sql_cancellable, CredentialKind, QueryLimits, StoreError};
use serde::Deserialize;
use serde_json::json;

use crate::auth::{create_secret, AuthError, Principal};
use crate::state::AppState;
use crate::telemetry;

/// An API failure: what went wrong and the status it maps to.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error(transparent)]
    Unauthorized(#[from] AuthError),
    #[error("this action needs the admin role")]
    Forbidden,
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    NotFound(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, kind) = match &self {
            ApiError::Unauthorized(AuthError::Csrf) => (StatusCode::FORBIDDEN, "csrf"),
            ApiError::Unauthorized(_) => (StatusCode::UNAUTHORIZED, "unauthorized"),
            ApiError::Forbidden => (StatusCode::FORBIDDEN, "forbidden"),
            ApiError::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad_request"),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            ApiError::Store(StoreError::Rejected(_)) => (StatusCode::BAD_REQUEST, "sql_rejected"),
            ApiError::Store(StoreError::Query(_)) => (StatusCode::BAD_REQUEST, "sql_failed"),
            ApiError::Store(StoreError::Timeout(_)) => (StatusCode::REQUEST_TIMEOUT, "timeout"),
            // The client disconnected, so no one receives this response.
            ApiError::Store(StoreError::Cancelled) => (StatusCode::REQUEST_TIMEOUT, "cancelled"),
            ApiError::Store(_) => (StatusCode::INTERNAL_SERVER_ERROR, "store_failed"),
        };
        if status.is_server_error() {
            tracing::error!(error = %self, "api request failed");
        }
        // No `www-authenticate` challenge: browsers would answer it with their own password
        // box instead of the sign-in page, and API clients send Basic credentials unasked.
        (
            status,
            Json(json!({"error": {"kind": kind, "message": self.to_string()}})),
        )
            .into_response()
    }
}

/// The authenticated caller of a UI/API request (session cookie with CSRF check, Basic, or token).
pub struct Caller(pub Principal);

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        Ok(Caller(
            state.auth.authenticate(&parts.headers, &parts.method)?,
        ))
    }
}

/// An authenticated caller with the admin role.
pub struct Admin(pub Principal);

impl FromRequestParts<AppState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let Caller(principal) = Caller::from_request_parts(parts, state).await?;
        if !principal.is_admin() {
            return Err(ApiError::Forbidden);
        }
        Ok(Admin(principal))
    }
}

/// Runs store work off the async threads.
pub async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| ApiError::Store(StoreError::Other(format!("worker failed: {e}"))))?
}

/// Parses a JSON request body, whatever its Content-Type, naming the expected shape on failure.
pub fn json_body<T: serde::de::DeserializeOwned>(
    body: &[u8],
    expected: &str,
) -> Result<T, ApiError> {
    serde_json::from_slice(body)
        .map_err(|e| ApiError::BadRequest(format!("invalid request body: {e}; send {expected}")))
}

/// Builds the router of the UI/API port.
pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .route("/health", get(health))
        .route("/ready", get(ready))
        .route("/metrics", get(prometheus))
        .route("/api/sql", post(sql))
        .route("/api/tables", get(tables))
        .route("/api/keys", get(list_keys).post(create_key))
        .route("/api/keys/{id}", delete(revoke_key))
        .route("/api/openapi.json", get(crate::openapi::serve));
    let api = crate::admin::routes(api);
    let api = crate::workspaces::routes(api);
    let api = crate::docs::routes(api);
    let api = crate::replay_api::routes(api);
    let api = crate::analytics_api::routes(api);
    let api = crate::funnels_api::routes(api);
    let api = crate::paths_api::routes(api);
    let api = crate::process_api::routes(api);
    let api = crate::ocpm_api::routes(api);
    crate::web::routes(api)
        .fallback(not_found)
        .layer(axum::middleware::from_fn(count_requests))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::web::security_headers,
        ))
        .with_state(state)
}

/// Counts requests by route template (never the raw path) and status.
pub async fn count_requests(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |path| path.as_str().to_string());
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    metrics::counter!(telemetry::HTTP_REQUESTS, "route" => route, "status" => status).increment(1);
    response
}

async fn not_found(_caller: Caller) -> Result<Response, ApiError> {
    // Unknown paths need auth too, so their existence is not revealed.
    Err(ApiError::NotFound(
        "no such route; see /api/openapi.json".into(),
    ))
}

async fn health() -> &'static str {
    "ok"
}

async fn ready(State(state): State<AppState>) -> Response {
    let queue_full = state.queue.used_bytes() >= state.queue.capacity();
    let store = state.store.clone();
    let store_ok = tokio::task::spawn_blocking(move || {
        store.query("SELECT 1", &QueryLimits::default()).is_ok()
    })
    .await
    .unwrap_or(false);
    let body = json!({"store_open": store_ok, "queue_full": queue_full});
    let status = if store_ok && !queue_full {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(body)).into_response()
}

async fn prometheus(State(state): State<AppState>) -> Response {
    metrics::gauge!(telemetry::QUEUE_BYTES).set(state.queue.used_bytes() as f64);
    (
        [(http::header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
        .into_response()
}

/// The body of `POST /api/sql`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SqlRequest {
    pub sql: String,
    /// Rows returned at most; capped by the server's limit.
    pub max_rows: Option<usize>,
}

/// Runs one guarded query. The body is read as JSON whatever its Content-Type,
/// so `curl -d '{"sql": …}'` works without a header.
async fn sql(
    State(state): State<AppState>,
    _caller: Caller,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let request: SqlRequest = serde_json::from_slice(&body).map_err(|e| {
        ApiError::BadRequest(format!(
            "invalid request body: {e}; send {{\"sql\": \"SELECT …\"}}"
        ))
    })?;
    let mut limits = state.config.query_limits.clone();
    if let Some(max_rows) = request.max_rows {
        limits.max_rows = max_rows.min(limits.max_rows);
    }
    let store = state.store.clone();
    let started = Instant::now();
    // A client that disconnects drops this future, and with it the guard, which stops
    // the query instead of letting it run to its time limit.
    let cancel = Arc::new(AtomicBool::new(false));
    let _stop_when_dropped = CancelOnDrop(cancel.clone());
    let result = tokio::task::spawn_blocking(move || {
        run_user_sql_cancellable(store.as_ref(), &request.sql, &limits, &cancel)
    })
    .await
    .map_err(|e| ApiError::Store(StoreError::Other(e.to_string())))?;
    metrics::histogram!(telemetry::QUERY_SECONDS).record(started.elapsed().as_secs_f64());
    Ok(Json(result?).into_response())
}

/// Sets its flag when dropped.
struct CancelOnDrop(Arc<AtomicBool>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

async fn tables(_caller: Caller) -> Result<Response, ApiError> {
    let tables: Vec<_> = exos_store::schema::all_tables()
        .iter()
        .map(|t| json!({"name": t.name, "kind": "table", "columns": t.columns.iter().map(|c| c.name).collect::<Vec<_>>()}))
        .chain(exos_store::schema::views().iter().map(|v| json!({"name": v.name, "kind": "view", "about": v.about})))
        .collect();
    Ok(Json(json!({"tables": tables})).into_response())
}

async fn list_keys(State(state): State<AppState>, _admin: Admin) -> Result<Response, ApiError> {
    let store = state.store.clone();
    let keys: Vec<_> = tokio::task::spawn_blocking(move || store.credentials())
        .await
        .map_err(|e| ApiError::Store(StoreError::Other(e.to_string())))??
        .into_iter()
        .filter(|c| c.kind == CredentialKind::IngestKey)
        .map(|c| json!({"id": c.id, "name": c.name, "created_at": c.created_at, "revoked": c.revoked}))
        .collect();
    Ok(Json(json!({"keys": keys})).into_response())
}

/// Maximum length of an ingest key name, in characters.
const MAX_KEY_NAME_CHARS: usize = 100;

/// The body of `POST /api/keys`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateKey {
    pub name: String,
}

async fn create_key(
    State(state): State<AppState>,
    _admin: Admin,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let request: CreateKey = json_body(&body, "{\"name\": \"…\"}")?;
    let name = request.name.trim().to_string();
    if name.is_empty()
        || name.chars().count() > MAX_KEY_NAME_CHARS
        || name.chars().any(char::is_control)
    {
        return Err(ApiError::BadRequest(format!(
            "invalid key name {:?}: give 1 to {MAX_KEY_NAME_CHARS} characters without control characters, such as \"checkout-service\"",
            request.name
        )));
    }
    let store = state.store.clone();
    let (id, key) = tokio::task::spawn_blocking(move || {
        create_secret(store.as_ref(), CredentialKind::IngestKey, &name, "")
    })
    .await
    .map_err(|e| ApiError::Store(StoreError::Other(e.to_string())))??;
    Ok((StatusCode::CREATED, Json(json!({"id": id, "key": key}))).into_response())
}

async fn revoke_key(
    State(state): State<AppState>,
    _admin: Admin,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let store = state.store.clone();
    let lookup = id.clone();
    let revoked = tokio::task::spawn_blocking(move || {
        store.revoke_credential(CredentialKind::IngestKey, &lookup)
    })
    .await
    .map_err(|e| ApiError::Store(StoreError::Other(e.to_string())))??;
    state.auth.invalidate();
    if !revoked {
        return Err(ApiError::NotFound(format!(
            "no active ingest key with id {id:?}"
        )));
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

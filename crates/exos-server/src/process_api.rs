//! The process-mining routes: thin handlers over `exos-process`.
//!
//! Every route takes a JSON body whose `scope` contains the log definition, the
//! time range and the filters (an empty body means the defaults: orders by
//! `order.id` over the last 30 days), loads the log through the server's
//! log cache and answers JSON. Conformance streams its progress as JSON
//! lines, so a long alignment shows how far it got and still ends with a
//! (possibly partial) result.

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use exos_process as process;
use exos_process::{LogScope, ProcessError, ScopedLog};
use serde::de::DeserializeOwned;
use serde::Serialize;
use tokio_stream::wrappers::ReceiverStream;

use crate::api::{blocking, json_body, ApiError, Caller};
use crate::state::AppState;

impl From<ProcessError> for ApiError {
    fn from(error: ProcessError) -> Self {
        match error {
            ProcessError::BadRequest { .. } | ProcessError::TooLarge { .. } => {
                ApiError::BadRequest(error.to_string())
            }
            ProcessError::NotFound(message) => ApiError::NotFound(message),
            ProcessError::Store(store) => ApiError::Store(store),
            ProcessError::Result(message) => ApiError::Store(exos_store::StoreError::Other(
                format!("unexpected query result: {message}"),
            )),
        }
    }
}

/// Adds the process routes.
pub fn routes(router: Router<AppState>) -> Router<AppState> {
    router
        .route("/api/process/map", post(map))
        .route("/api/process/variants", post(variants))
        .route("/api/process/cases", post(cases))
        .route("/api/process/bottlenecks", post(bottlenecks))
        .route("/api/process/rework", post(rework))
        .route("/api/process/case/{id}", post(case))
        .route("/api/process/discovery", post(discovery))
        .route("/api/process/conformance", post(conformance))
}

const SCOPE_EXAMPLE: &str =
    r#"{"scope": {"log": {"case": "order.id"}, "from": "2026-03-01T00:00:00Z", "filters": {}}}"#;

/// Parses a request body; an empty body is the request's defaults.
fn request<T: DeserializeOwned + Default>(body: &Bytes) -> Result<T, ApiError> {
    match body.iter().find(|byte| !byte.is_ascii_whitespace()) {
        None => Ok(T::default()),
        // Serde would name the Rust type (or take `[]` as an empty object).
        Some(b'{') => json_body(body, SCOPE_EXAMPLE),
        Some(_) => Err(ApiError::BadRequest(format!(
            "invalid request body: expected a JSON object; send {SCOPE_EXAMPLE}"
        ))),
    }
}

/// Resolves the scope's log and runs `work` on it off the async threads.
async fn answer<T: Serialize + Send + 'static>(
    state: &AppState,
    scope: LogScope,
    work: impl FnOnce(&ScopedLog) -> Result<T, ProcessError> + Send + 'static,
) -> Result<Response, ApiError> {
    let store = state.store.clone();
    let cache = state.process_cache.clone();
    let result = blocking(move || {
        let scoped = scope.resolve(store.as_ref(), &cache)?;
        Ok(work(&scoped)?)
    })
    .await?;
    Ok(Json(result).into_response())
}

async fn map(
    State(state): State<AppState>,
    _caller: Caller,
    body: Bytes,
) -> Result<Response, ApiError> {
    let request: process::map::MapRequest = request(&body)?;
    let scope = request.scope.clone();
    answer(&state, scope, move |s| {
        process::map::process_map(&s.log, &request)
    })
    .await
}

async fn variants(
    State(state): State<AppState>,
    _caller: Caller,
    body: Bytes,
) -> Result<Response, ApiError> {
    let request: process::variants::VariantsRequest = request(&body)?;
    let scope = request.scope.clone();
    answer(&state, scope, move |s| {
        Ok(process::variants::variant_list(&s.log, &request))
    })
    .await
}

async fn cases(
    State(state): State<AppState>,
    _caller: Caller,
    body: Bytes,
) -> Result<Response, ApiError> {
    let request: process::cases::CasesRequest = request(&body)?;
    let scope = request.scope.clone();
    answer(&state, scope, move |s| {
        Ok(process::cases::case_charts(&s.log, &request))
    })
    .await
}

async fn bottlenecks(
    State(state): State<AppState>,
    _caller: Caller,
    body: Bytes,
) -> Result<Response, ApiError> {
    let request: process::bottlenecks::BottlenecksRequest = request(&body)?;
    let scope = request.scope.clone();
    answer(&state, scope, move |s| {
        Ok(process::bottlenecks::bottlenecks(
            &s.log,
            &request,
            s.loaded.range,
        ))
    })
    .await
}

async fn rework(
    State(state): State<AppState>,
    _caller: Caller,
    body: Bytes,
) -> Result<Response, ApiError> {
    let request: process::rework::ReworkRequest = request(&body)?;
    let scope = request.scope.clone();
    answer(&state, scope, move |s| {
        Ok(process::rework::rework(&s.log, &request))
    })
    .await
}

async fn case(
    State(state): State<AppState>,
    _caller: Caller,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let request: CaseRequest = request(&body)?;
    let store = state.store.clone();
    answer(&state, request.scope, move |s| {
        process::case_trace::case_trace(store.as_ref(), &s.loaded, &id)
    })
    .await
}

/// The body of a case timeline request.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
struct CaseRequest {
    scope: LogScope,
}

async fn discovery(
    State(state): State<AppState>,
    _caller: Caller,
    body: Bytes,
) -> Result<Response, ApiError> {
    let request: process::discovery::DiscoveryRequest = request(&body)?;
    let scope = request.scope.clone();
    answer(&state, scope, move |s| {
        process::discovery::discover(&s.log, &request)
    })
    .await
}

/// One line of the conformance stream.
#[derive(Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum ConformanceLine {
    Progress(process::conformance::Progress),
    Result(Box<process::conformance::ConformanceAnswer>),
    Error { message: String },
}

/// Streams `{"kind": "progress", …}` lines while aligning, then one
/// `{"kind": "result", …}` line (or `{"kind": "error", …}`). Bad requests
/// fail before the stream starts, with the usual error response.
async fn conformance(
    State(state): State<AppState>,
    _caller: Caller,
    body: Bytes,
) -> Result<Response, ApiError> {
    let request: process::conformance::ConformanceRequest = request(&body)?;
    request.validate()?;
    let store = state.store.clone();
    let cache = state.process_cache.clone();
    let scope = request.scope.clone();
    let scoped = blocking(move || Ok(scope.resolve(store.as_ref(), &cache)?)).await?;
    let (sender, receiver) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(64);
    tokio::task::spawn_blocking(move || {
        let send = |line: &ConformanceLine| {
            let mut text = serde_json::to_vec(line).unwrap_or_default();
            text.push(b'\n');
            // A closed channel means the client left; the work simply ends unread.
            let _ = sender.blocking_send(Ok(Bytes::from(text)));
        };
        let mut last_sent = std::time::Instant::now();
        let mut progress = |p: process::conformance::Progress| {
            if p.done == p.total || last_sent.elapsed().as_millis() >= 200 {
                send(&ConformanceLine::Progress(p));
                last_sent = std::time::Instant::now();
            }
        };
        let line = match process::conformance::conformance(&scoped.log, &request, &mut progress) {
            Ok(answer) => ConformanceLine::Result(Box::new(answer)),
            Err(error) => ConformanceLine::Error {
                message: error.to_string(),
            },
        };
        send(&line);
    });
    Ok((
        [(header::CONTENT_TYPE, "application/x-ndjson")],
        Body::from_stream(ReceiverStream::new(receiver)),
    )
        .into_response())
}

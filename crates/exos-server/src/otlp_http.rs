//! OTLP/HTTP receiver: `POST /v1/traces`, `/v1/logs`, `/v1/metrics`.
//!
//! Responses follow the OTLP/HTTP spec (<https://opentelemetry.io/docs/specs/otlp/#otlphttp>):
//! 200 with the `Export*ServiceResponse` in the request's encoding (with
//! `partial_success` when records were rejected), 400 with a `google.rpc.Status`
//! for malformed bodies, 413 over the size limit, 415 for other content types,
//! 429/503 with `Retry-After` when the queue is full or the store failed.
//! CORS is open so browser SDKs can post cross-origin; the ingest key, not the
//! origin, is what authorizes a request.

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use exos_ingest::{decode, decompress, encoding_of, BodyError, Encoding, Signal};
use http_body_util::BodyExt;
use prost::Message;
use serde_json::json;
use tower_http::cors::{AllowHeaders, AllowMethods, AllowOrigin, CorsLayer};

use crate::ingest::{submit, Accepted, SubmitError, RETRY_AFTER_SECONDS};
use crate::state::AppState;
use crate::telemetry;

/// The `google.rpc.Status` message OTLP uses for error bodies.
#[derive(Clone, PartialEq, prost::Message)]
pub struct RpcStatus {
    #[prost(int32, tag = "1")]
    pub code: i32,
    #[prost(string, tag = "2")]
    pub message: String,
}

/// Builds the receiver's router.
pub fn router(state: AppState) -> Router {
    let cors = CorsLayer::new()
        .allow_origin(AllowOrigin::mirror_request())
        .allow_methods(AllowMethods::list([
            http::Method::POST,
            http::Method::OPTIONS,
        ]))
        .allow_headers(AllowHeaders::mirror_request())
        .max_age(std::time::Duration::from_secs(3600));
    Router::new()
        .route("/v1/traces", post(traces))
        .route("/v1/logs", post(logs))
        .route("/v1/metrics", post(metrics_export))
        .layer(cors)
        .layer(axum::middleware::from_fn(crate::api::count_requests))
        .with_state(state)
}

async fn traces(State(state): State<AppState>, headers: HeaderMap, body: Body) -> Response {
    export(state, Signal::Traces, headers, body).await
}

async fn logs(State(state): State<AppState>, headers: HeaderMap, body: Body) -> Response {
    export(state, Signal::Logs, headers, body).await
}

async fn metrics_export(State(state): State<AppState>, headers: HeaderMap, body: Body) -> Response {
    export(state, Signal::Metrics, headers, body).await
}

/// A failed export: status, the message for the caller and the response encoding.
struct Failure {
    status: StatusCode,
    message: String,
    encoding: Encoding,
    retry_after: Option<u64>,
}

impl Failure {
    fn new(status: StatusCode, message: impl ToString, encoding: Encoding) -> Self {
        Self {
            status,
            message: message.to_string(),
            encoding,
            retry_after: None,
        }
    }
}

async fn export(state: AppState, signal: Signal, headers: HeaderMap, body: Body) -> Response {
    match try_export(&state, signal, &headers, body).await {
        Ok((accepted, encoding)) => success(signal, &accepted, encoding),
        Err(failure) => {
            if failure.status.is_server_error() || failure.status == StatusCode::TOO_MANY_REQUESTS {
                tracing::warn!(signal = signal.as_str(), status = failure.status.as_u16(), error = %failure.message, "export rejected, sender should retry");
            } else {
                tracing::debug!(signal = signal.as_str(), status = failure.status.as_u16(), error = %failure.message, "export rejected");
                metrics::counter!(telemetry::REQUESTS_REFUSED, "signal" => signal.as_str(), "reason" => reason_of(failure.status)).increment(1);
            }
            error_response(failure)
        }
    }
}

fn reason_of(status: StatusCode) -> &'static str {
    match status {
        StatusCode::UNAUTHORIZED => "unauthorized",
        StatusCode::PAYLOAD_TOO_LARGE => "too_large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        _ => "malformed",
    }
}

async fn try_export(
    state: &AppState,
    signal: Signal,
    headers: &HeaderMap,
    body: Body,
) -> Result<(Accepted, Encoding), Failure> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    // Authentication comes first, so an unauthenticated caller learns nothing else.
    // Until the encoding is known, error bodies are protobuf, the OTLP default.
    let guessed = encoding_of(content_type).unwrap_or(Encoding::Protobuf);
    state
        .auth
        .ingest(headers)
        .map_err(|e| Failure::new(StatusCode::UNAUTHORIZED, e, guessed))?;
    let encoding = encoding_of(content_type)
        .map_err(|e| Failure::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, e, Encoding::Protobuf))?;

    let limit = state.config.max_body_bytes;
    let raw = read_limited(body, limit)
        .await
        .map_err(|e| Failure::new(status_of(&e), e, encoding))?;
    let content_encoding = headers
        .get(header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok());
    let plain = decompress(&raw, content_encoding, limit)
        .map_err(|e| Failure::new(status_of(&e), e, encoding))?;
    if plain.is_empty() && encoding == Encoding::Json {
        return Err(Failure::new(
            StatusCode::BAD_REQUEST,
            "empty body: send an OTLP JSON object",
            encoding,
        ));
    }
    let limits = state.config.record_limits.clone();
    let size = plain.len();
    let mapped =
        tokio::task::spawn_blocking(move || decode(signal, encoding, &plain, &limits, now_ns()))
            .await
            .map_err(|e| Failure::new(StatusCode::INTERNAL_SERVER_ERROR, e, encoding))?
            .map_err(|e| Failure::new(status_of(&e), e, encoding))?;
    let accepted = submit(state, signal, mapped, size).await.map_err(|error| {
        let status = match error {
            SubmitError::QueueFull(_) => StatusCode::TOO_MANY_REQUESTS,
            SubmitError::ShuttingDown | SubmitError::Store(_) => StatusCode::SERVICE_UNAVAILABLE,
        };
        Failure {
            status,
            message: error.to_string(),
            encoding,
            retry_after: Some(RETRY_AFTER_SECONDS),
        }
    })?;
    Ok((accepted, encoding))
}

/// Returns the current time in nanoseconds since the Unix epoch.
pub fn now_ns() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as i64)
        .unwrap_or_default()
}

fn status_of(error: &BodyError) -> StatusCode {
    match error {
        BodyError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        BodyError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
        BodyError::UnsupportedEncoding(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        BodyError::Gzip(_) | BodyError::Protobuf { .. } | BodyError::Json(_) => {
            StatusCode::BAD_REQUEST
        }
    }
}

/// Reads a (possibly chunked) body, failing as soon as it passes `limit` bytes.
async fn read_limited(body: Body, limit: usize) -> Result<Bytes, BodyError> {
    let limited = http_body_util::Limited::new(body, limit);
    match limited.collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(error)
            if error
                .downcast_ref::<http_body_util::LengthLimitError>()
                .is_some() =>
        {
            Err(BodyError::TooLarge { limit })
        }
        Err(error) => Err(BodyError::Gzip(format!(
            "cannot read request body: {error}"
        ))),
    }
}

fn success(signal: Signal, accepted: &Accepted, encoding: Encoding) -> Response {
    use opentelemetry_proto::tonic::collector::{logs::v1 as l, metrics::v1 as m, trace::v1 as t};
    let partial = accepted.rejected > 0 || !accepted.message.is_empty();
    let message = accepted.message.clone();
    match encoding {
        Encoding::Protobuf => {
            let bytes = match signal {
                Signal::Traces => t::ExportTraceServiceResponse {
                    partial_success: partial.then_some(t::ExportTracePartialSuccess {
                        rejected_spans: accepted.rejected as i64,
                        error_message: message,
                    }),
                }
                .encode_to_vec(),
                Signal::Logs => l::ExportLogsServiceResponse {
                    partial_success: partial.then_some(l::ExportLogsPartialSuccess {
                        rejected_log_records: accepted.rejected as i64,
                        error_message: message,
                    }),
                }
                .encode_to_vec(),
                Signal::Metrics => m::ExportMetricsServiceResponse {
                    partial_success: partial.then_some(m::ExportMetricsPartialSuccess {
                        rejected_data_points: accepted.rejected as i64,
                        error_message: message,
                    }),
                }
                .encode_to_vec(),
            };
            ([(header::CONTENT_TYPE, "application/x-protobuf")], bytes).into_response()
        }
        Encoding::Json => {
            let field = match signal {
                Signal::Traces => "rejectedSpans",
                Signal::Logs => "rejectedLogRecords",
                Signal::Metrics => "rejectedDataPoints",
            };
            let body = if partial {
                json!({"partialSuccess": {field: accepted.rejected.to_string(), "errorMessage": message}})
            } else {
                json!({})
            };
            axum::Json(body).into_response()
        }
    }
}

/// gRPC status codes used in `google.rpc.Status` bodies.
fn grpc_code(status: StatusCode) -> i32 {
    match status {
        StatusCode::BAD_REQUEST => 3,            // INVALID_ARGUMENT
        StatusCode::UNAUTHORIZED => 16,          // UNAUTHENTICATED
        StatusCode::PAYLOAD_TOO_LARGE => 8,      // RESOURCE_EXHAUSTED
        StatusCode::TOO_MANY_REQUESTS => 8,      // RESOURCE_EXHAUSTED
        StatusCode::SERVICE_UNAVAILABLE => 14,   // UNAVAILABLE
        StatusCode::UNSUPPORTED_MEDIA_TYPE => 3, // INVALID_ARGUMENT
        _ => 13,                                 // INTERNAL
    }
}

fn error_response(failure: Failure) -> Response {
    let status = RpcStatus {
        code: grpc_code(failure.status),
        message: failure.message,
    };
    let mut response = match failure.encoding {
        Encoding::Protobuf => (
            failure.status,
            [(header::CONTENT_TYPE, "application/x-protobuf")],
            status.encode_to_vec(),
        )
            .into_response(),
        Encoding::Json => (
            failure.status,
            axum::Json(json!({"code": status.code, "message": status.message})),
        )
            .into_response(),
    };
    if let Some(seconds) = failure.retry_after {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    response
}

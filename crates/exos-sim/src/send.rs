//! Delivery of payloads to EXOS's OTLP receivers, with retries.
//!
//! Backend streams go in the chosen protocol: OTLP/HTTP protobuf, OTLP/HTTP
//! JSON or OTLP/gRPC. Browser spans always go as OTLP/HTTP JSON and replay
//! chunks as gzip OTLP/HTTP protobuf, because that is what the HyperDX browser
//! SDK sends. A 429 or 503 (gRPC `RESOURCE_EXHAUSTED` or `UNAVAILABLE`) is
//! retried after the server's `Retry-After`. A record counts as acknowledged
//! only when its request got a success response and the response's
//! `partial_success` did not reject it.

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use flate2::write::GzEncoder;
use flate2::Compression;
use prost::Message;
use serde::Serialize;

use crate::batch::{Payload, Request, Stream};

/// Protocol of backend telemetry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Protocol {
    HttpProtobuf,
    HttpJson,
    Grpc,
}

/// Destination and protocol of a run.
#[derive(Debug, Clone)]
pub struct Target {
    /// Base URL of the OTLP/HTTP receiver, e.g. `http://127.0.0.1:4318`.
    pub http_url: String,
    /// URL of the OTLP/gRPC receiver, e.g. `http://127.0.0.1:4317`.
    pub grpc_url: String,
    /// Ingest key, sent as the `authorization` header.
    pub key: String,
    pub protocol: Protocol,
    /// Maximum time one request is retried before its records count as failed.
    pub retry_budget: Duration,
}

/// Result of sending one payload.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Outcome {
    pub acknowledged: u64,
    pub rejected: u64,
    /// Records whose request never got a success response.
    pub failed: u64,
    pub retries: u64,
    pub bytes: u64,
}

/// A request body ready for OTLP/HTTP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpBody {
    pub path: &'static str,
    pub content_type: &'static str,
    pub gzip: bool,
    pub bytes: Vec<u8>,
}

/// Encodes a payload for OTLP/HTTP, in the encoding its stream travels in.
pub fn http_body(payload: &Payload, protocol: Protocol) -> HttpBody {
    let path = match payload.request {
        Request::Traces(_) => "/v1/traces",
        Request::Logs(_) => "/v1/logs",
        Request::Metrics(_) => "/v1/metrics",
    };
    let json = match payload.stream {
        Stream::BrowserSpans => true,
        Stream::Replay => false,
        _ => protocol == Protocol::HttpJson,
    };
    if json {
        return HttpBody {
            path,
            content_type: "application/json",
            gzip: false,
            bytes: crate::json::encode(&payload.request),
        };
    }
    let bytes = protobuf(&payload.request);
    let gzip = payload.stream == Stream::Replay;
    HttpBody {
        path,
        content_type: "application/x-protobuf",
        gzip,
        bytes: if gzip { gzip_bytes(&bytes) } else { bytes },
    }
}

/// Encodes a request as OTLP protobuf.
pub fn protobuf(request: &Request) -> Vec<u8> {
    match request {
        Request::Traces(request) => request.encode_to_vec(),
        Request::Logs(request) => request.encode_to_vec(),
        Request::Metrics(request) => request.encode_to_vec(),
    }
}

fn gzip_bytes(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::with_capacity(bytes.len() / 4), Compression::fast());
    // Writing into a Vec cannot fail.
    let _ = encoder.write_all(bytes);
    encoder.finish().unwrap_or_default()
}

/// Delivers payloads; one per worker thread, cheap to clone.
#[derive(Clone)]
pub struct Sender {
    target: Target,
    agent: ureq::Agent,
    grpc: Option<crate::grpc::GrpcClient>,
}

/// An error setting up a sender.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error("invalid gRPC URL {url:?}: {reason}; pass a URL such as http://127.0.0.1:4317")]
    GrpcUrl { url: String, reason: String },
    #[error("cannot start the gRPC runtime: {0}")]
    Runtime(#[from] std::io::Error),
}

/// Seconds waited before a retry when the response has no `Retry-After`.
const DEFAULT_RETRY_SECONDS: u64 = 1;

impl Sender {
    pub fn new(target: Target) -> Result<Self, SendError> {
        let agent = ureq::AgentBuilder::new()
            .timeout_connect(Duration::from_secs(10))
            .timeout(Duration::from_secs(120))
            .build();
        let grpc = match target.protocol {
            Protocol::Grpc => Some(crate::grpc::GrpcClient::connect(&target.grpc_url)?),
            _ => None,
        };
        Ok(Self {
            target,
            agent,
            grpc,
        })
    }

    /// Sends one payload, retrying on 429/503 and connection errors, and returns the outcome.
    pub fn send(&self, payload: &Payload) -> Outcome {
        let grpc_stream = matches!(
            payload.stream,
            Stream::Spans | Stream::Logs | Stream::Metrics
        );
        match &self.grpc {
            Some(client) if grpc_stream => {
                client.send(payload, &self.target.key, self.target.retry_budget)
            }
            _ => self.send_http(payload),
        }
    }

    fn send_http(&self, payload: &Payload) -> Outcome {
        let body = http_body(payload, self.target.protocol);
        let url = format!(
            "{}{}",
            self.target.http_url.trim_end_matches('/'),
            body.path
        );
        let deadline = Instant::now() + self.target.retry_budget;
        let mut outcome = Outcome {
            bytes: body.bytes.len() as u64,
            ..Outcome::default()
        };
        loop {
            match self.post(&url, &body) {
                Ok(answer) => {
                    let rejected = rejected_records(payload, &body, &answer).min(payload.records);
                    outcome.rejected = rejected;
                    outcome.acknowledged = payload.records - rejected;
                    return outcome;
                }
                Err(Retry::After(wait)) if Instant::now() + wait < deadline => {
                    outcome.retries += 1;
                    tracing::debug!(
                        url,
                        attempt = outcome.retries,
                        wait_ms = wait.as_millis() as u64,
                        "server busy, retrying"
                    );
                    std::thread::sleep(wait);
                }
                Err(error) => {
                    tracing::error!(url, records = payload.records, error = %error, "request failed; its records are counted as failed");
                    outcome.failed = payload.records;
                    return outcome;
                }
            }
        }
    }

    fn post(&self, url: &str, body: &HttpBody) -> Result<Vec<u8>, Retry> {
        let mut request = self
            .agent
            .post(url)
            .set("authorization", &self.target.key)
            .set("content-type", body.content_type);
        if body.gzip {
            request = request.set("content-encoding", "gzip");
        }
        match request.send_bytes(&body.bytes) {
            Ok(response) => {
                let mut answer = Vec::new();
                response
                    .into_reader()
                    .take(1 << 20)
                    .read_to_end(&mut answer)
                    .map_err(|error| Retry::Fatal(format!("cannot read the response: {error}")))?;
                Ok(answer)
            }
            Err(ureq::Error::Status(status @ (429 | 503), response)) => {
                let seconds = response
                    .header("retry-after")
                    .and_then(|value| value.trim().parse::<u64>().ok())
                    .unwrap_or(DEFAULT_RETRY_SECONDS);
                tracing::trace!(status, seconds, "retryable status");
                Err(Retry::After(Duration::from_secs(seconds.max(1))))
            }
            Err(ureq::Error::Status(status, response)) => {
                let text = response.into_string().unwrap_or_default();
                Err(Retry::Fatal(format!(
                    "HTTP {status}: {}",
                    text.chars().take(300).collect::<String>()
                )))
            }
            Err(ureq::Error::Transport(error)) => {
                tracing::debug!(url, error = %error, "transport error, retrying");
                Err(Retry::After(Duration::from_secs(DEFAULT_RETRY_SECONDS)))
            }
        }
    }
}

/// Failure of one request attempt.
#[derive(Debug)]
enum Retry {
    /// The server is busy or unreachable: try again after the wait.
    After(Duration),
    /// The request can never succeed as it is.
    Fatal(String),
}

impl std::fmt::Display for Retry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Retry::After(wait) => write!(
                f,
                "server still busy or unreachable after retrying (last wait {} s)",
                wait.as_secs()
            ),
            Retry::Fatal(message) => f.write_str(message),
        }
    }
}

/// Reads the number of rejected records from a success response's `partial_success`.
fn rejected_records(payload: &Payload, body: &HttpBody, answer: &[u8]) -> u64 {
    use opentelemetry_proto::tonic::collector::{logs::v1 as l, metrics::v1 as m, trace::v1 as t};
    if body.content_type == "application/json" {
        let value: serde_json::Value = serde_json::from_slice(answer).unwrap_or_default();
        let partial = &value["partialSuccess"];
        let field = ["rejectedSpans", "rejectedLogRecords", "rejectedDataPoints"]
            .iter()
            .find_map(|name| partial.get(*name))
            .cloned()
            .unwrap_or_default();
        return match field {
            serde_json::Value::String(text) => text.parse().unwrap_or(0),
            serde_json::Value::Number(number) => number.as_u64().unwrap_or(0),
            _ => 0,
        };
    }
    let rejected = match payload.request {
        Request::Traces(_) => t::ExportTraceServiceResponse::decode(answer)
            .ok()
            .and_then(|r| r.partial_success)
            .map(|p| p.rejected_spans),
        Request::Logs(_) => l::ExportLogsServiceResponse::decode(answer)
            .ok()
            .and_then(|r| r.partial_success)
            .map(|p| p.rejected_log_records),
        Request::Metrics(_) => m::ExportMetricsServiceResponse::decode(answer)
            .ok()
            .and_then(|r| r.partial_success)
            .map(|p| p.rejected_data_points),
    };
    rejected.unwrap_or(0).max(0) as u64
}

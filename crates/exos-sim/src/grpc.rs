//! OTLP/gRPC delivery through the generated tonic clients.
//!
//! The sender's worker threads are plain threads; each call blocks on a small
//! shared Tokio runtime. `RESOURCE_EXHAUSTED` and `UNAVAILABLE` are retried
//! with a growing delay, as the OTLP specification asks of clients.

use std::sync::Arc;
use std::time::{Duration, Instant};

use opentelemetry_proto::tonic::collector::logs::v1::logs_service_client::LogsServiceClient;
use opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_client::MetricsServiceClient;
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_client::TraceServiceClient;
use tonic::metadata::MetadataValue;
use tonic::transport::{Channel, Endpoint};
use tonic::Code;

use crate::batch::{Payload, Request};
use crate::send::{Outcome, SendError};

/// Largest gRPC message the clients send or accept, in bytes.
const MAX_MESSAGE_BYTES: usize = 64 * 1024 * 1024;

#[derive(Clone)]
pub struct GrpcClient {
    runtime: Arc<tokio::runtime::Runtime>,
    channel: Channel,
}

impl GrpcClient {
    /// Prepares a channel to `url`; the connection is made on first use.
    pub fn connect(url: &str) -> Result<Self, SendError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()?;
        let endpoint =
            Endpoint::from_shared(url.to_string()).map_err(|error| SendError::GrpcUrl {
                url: url.to_string(),
                reason: error.to_string(),
            })?;
        let channel = {
            let _guard = runtime.enter();
            endpoint
                .connect_timeout(Duration::from_secs(10))
                .connect_lazy()
        };
        Ok(Self {
            runtime: Arc::new(runtime),
            channel,
        })
    }

    /// Sends one payload, retrying while the server is busy or unreachable.
    pub fn send(&self, payload: &Payload, key: &str, budget: Duration) -> Outcome {
        let deadline = Instant::now() + budget;
        let mut outcome = Outcome {
            bytes: crate::send::protobuf(&payload.request).len() as u64,
            ..Outcome::default()
        };
        let mut wait = Duration::from_millis(250);
        loop {
            match self.runtime.block_on(self.export(&payload.request, key)) {
                Ok(rejected) => {
                    outcome.rejected = rejected.min(payload.records);
                    outcome.acknowledged = payload.records - outcome.rejected;
                    return outcome;
                }
                Err(status) if retryable(status.code()) && Instant::now() + wait < deadline => {
                    outcome.retries += 1;
                    tracing::debug!(code = ?status.code(), attempt = outcome.retries, wait_ms = wait.as_millis() as u64, "gRPC export retrying");
                    std::thread::sleep(wait);
                    wait = (wait * 2).min(Duration::from_secs(5));
                }
                Err(status) => {
                    tracing::error!(code = ?status.code(), message = status.message(), records = payload.records, "gRPC export failed; its records are counted as failed");
                    outcome.failed = payload.records;
                    return outcome;
                }
            }
        }
    }

    /// Exports one request and returns the number of records the server rejected.
    async fn export(&self, request: &Request, key: &str) -> Result<u64, tonic::Status> {
        let value: MetadataValue<_> = key.parse().map_err(|_| {
            tonic::Status::invalid_argument("ingest key is not a valid header value")
        })?;
        match request {
            Request::Traces(body) => {
                let mut call = tonic::Request::new(body.clone());
                call.metadata_mut().insert("authorization", value);
                let mut client = TraceServiceClient::new(self.channel.clone())
                    .max_encoding_message_size(MAX_MESSAGE_BYTES);
                let answer = client.export(call).await?.into_inner();
                Ok(answer
                    .partial_success
                    .map_or(0, |p| p.rejected_spans.max(0) as u64))
            }
            Request::Logs(body) => {
                let mut call = tonic::Request::new(body.clone());
                call.metadata_mut().insert("authorization", value);
                let mut client = LogsServiceClient::new(self.channel.clone())
                    .max_encoding_message_size(MAX_MESSAGE_BYTES);
                let answer = client.export(call).await?.into_inner();
                Ok(answer
                    .partial_success
                    .map_or(0, |p| p.rejected_log_records.max(0) as u64))
            }
            Request::Metrics(body) => {
                let mut call = tonic::Request::new(body.clone());
                call.metadata_mut().insert("authorization", value);
                let mut client = MetricsServiceClient::new(self.channel.clone())
                    .max_encoding_message_size(MAX_MESSAGE_BYTES);
                let answer = client.export(call).await?.into_inner();
                Ok(answer
                    .partial_success
                    .map_or(0, |p| p.rejected_data_points.max(0) as u64))
            }
        }
    }
}

fn retryable(code: Code) -> bool {
    matches!(code, Code::ResourceExhausted | Code::Unavailable)
}

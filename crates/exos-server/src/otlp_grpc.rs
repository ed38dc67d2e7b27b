//! OTLP/gRPC receiver: the trace, logs and metrics collector services on one port.
//!
//! Status codes follow the OTLP spec: UNAUTHENTICATED for a bad key,
//! RESOURCE_EXHAUSTED with `RetryInfo` when the queue is full (retryable, as
//! the spec allows when the server sends retry information), UNAVAILABLE with `RetryInfo`
//! when the store failed or the server is stopping.

use std::time::Duration;

use exos_ingest::{logs, metrics as metric_map, traces, Signal};
use opentelemetry_proto::tonic::collector::logs::v1::logs_service_server::{
    LogsService, LogsServiceServer,
};
use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsPartialSuccess, ExportLogsServiceRequest, ExportLogsServiceResponse,
};
use opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_server::{
    MetricsService, MetricsServiceServer,
};
use opentelemetry_proto::tonic::collector::metrics::v1::{
    ExportMetricsPartialSuccess, ExportMetricsServiceRequest, ExportMetricsServiceResponse,
};
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTracePartialSuccess, ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use prost::Message;
use tonic::codec::CompressionEncoding;
use tonic::{Request, Response, Status};
use tonic_types::{ErrorDetails, StatusExt};

use crate::ingest::{submit, Accepted, SubmitError, RETRY_AFTER_SECONDS};
use crate::otlp_http::now_ns;
use crate::state::AppState;

/// The three collector services sharing one state.
#[derive(Clone)]
pub struct Collector {
    state: AppState,
}

/// Builds the gRPC router with the three services, gzip accepted and the size limit set.
pub fn routes(state: AppState) -> tonic::service::Routes {
    let limit = state.config.max_body_bytes;
    let collector = Collector { state };
    tonic::service::Routes::new(
        TraceServiceServer::new(collector.clone())
            .accept_compressed(CompressionEncoding::Gzip)
            .max_decoding_message_size(limit),
    )
    .add_service(
        LogsServiceServer::new(collector.clone())
            .accept_compressed(CompressionEncoding::Gzip)
            .max_decoding_message_size(limit),
    )
    .add_service(
        MetricsServiceServer::new(collector)
            .accept_compressed(CompressionEncoding::Gzip)
            .max_decoding_message_size(limit),
    )
}

impl Collector {
    fn authorize<T>(&self, request: &Request<T>) -> Result<(), Status> {
        let headers = request.metadata().clone().into_headers();
        self.state
            .auth
            .ingest(&headers)
            .map_err(|error| Status::unauthenticated(error.to_string()))
    }

    async fn store(
        &self,
        signal: Signal,
        mapped: exos_ingest::Mapped,
        size: usize,
    ) -> Result<Accepted, Status> {
        submit(&self.state, signal, mapped, size)
            .await
            .map_err(|error| {
                let retry =
                    ErrorDetails::with_retry_info(Some(Duration::from_secs(RETRY_AFTER_SECONDS)));
                let code = match error {
                    SubmitError::QueueFull(_) => tonic::Code::ResourceExhausted,
                    SubmitError::ShuttingDown | SubmitError::Store(_) => tonic::Code::Unavailable,
                };
                Status::with_error_details(code, error.to_string(), retry)
            })
    }
}

#[tonic::async_trait]
impl TraceService for Collector {
    async fn export(
        &self,
        request: Request<ExportTraceServiceRequest>,
    ) -> Result<Response<ExportTraceServiceResponse>, Status> {
        self.authorize(&request)?;
        let message = request.into_inner();
        let size = message.encoded_len();
        let limits = self.state.config.record_limits.clone();
        let mapped = traces::map(message, &limits);
        let accepted = self.store(Signal::Traces, mapped, size).await?;
        let partial = accepted.rejected > 0 || !accepted.message.is_empty();
        Ok(Response::new(ExportTraceServiceResponse {
            partial_success: partial.then_some(ExportTracePartialSuccess {
                rejected_spans: accepted.rejected as i64,
                error_message: accepted.message,
            }),
        }))
    }
}

#[tonic::async_trait]
impl LogsService for Collector {
    async fn export(
        &self,
        request: Request<ExportLogsServiceRequest>,
    ) -> Result<Response<ExportLogsServiceResponse>, Status> {
        self.authorize(&request)?;
        let message = request.into_inner();
        let size = message.encoded_len();
        let limits = self.state.config.record_limits.clone();
        let mapped = logs::map(message, &limits, now_ns());
        let accepted = self.store(Signal::Logs, mapped, size).await?;
        let partial = accepted.rejected > 0 || !accepted.message.is_empty();
        Ok(Response::new(ExportLogsServiceResponse {
            partial_success: partial.then_some(ExportLogsPartialSuccess {
                rejected_log_records: accepted.rejected as i64,
                error_message: accepted.message,
            }),
        }))
    }
}

#[tonic::async_trait]
impl MetricsService for Collector {
    async fn export(
        &self,
        request: Request<ExportMetricsServiceRequest>,
    ) -> Result<Response<ExportMetricsServiceResponse>, Status> {
        self.authorize(&request)?;
        let message = request.into_inner();
        let size = message.encoded_len();
        let limits = self.state.config.record_limits.clone();
        let mapped = metric_map::map(message, &limits);
        let accepted = self.store(Signal::Metrics, mapped, size).await?;
        let partial = accepted.rejected > 0 || !accepted.message.is_empty();
        Ok(Response::new(ExportMetricsServiceResponse {
            partial_success: partial.then_some(ExportMetricsPartialSuccess {
                rejected_data_points: accepted.rejected as i64,
                error_message: accepted.message,
            }),
        }))
    }
}

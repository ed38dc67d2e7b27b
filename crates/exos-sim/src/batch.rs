//! Grouping of generated records into OTLP export requests.
//!
//! Records are grouped by resource and instrumentation scope, in the order
//! they first appear, so a request's content depends only on what was pushed
//! and never on hash order. A stream's batch is cut when it reaches its record
//! or byte limit; the finished payloads wait in `ready` for the caller.

use std::collections::HashMap;

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::InstrumentationScope;
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::metrics::v1::{Metric, ResourceMetrics, ScopeMetrics};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
use serde::Serialize;

/// Kind of payload, which sets its encoding and transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stream {
    /// Backend service spans, in the chosen protocol.
    Spans,
    /// Backend service logs, in the chosen protocol.
    Logs,
    /// Backend metric data points, in the chosen protocol.
    Metrics,
    /// Browser spans: OTLP/HTTP JSON, as the HyperDX browser SDK sends them.
    BrowserSpans,
    /// rrweb recording chunks: gzip OTLP/HTTP protobuf logs, as the SDK sends them.
    Replay,
}

impl Stream {
    pub const ALL: [Stream; 5] = [
        Stream::Spans,
        Stream::Logs,
        Stream::Metrics,
        Stream::BrowserSpans,
        Stream::Replay,
    ];
}

/// One OTLP export request.
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    Traces(ExportTraceServiceRequest),
    Logs(ExportLogsServiceRequest),
    Metrics(ExportMetricsServiceRequest),
}

/// A request ready to send, with the number of records (spans, log records or
/// metric data points) it carries.
#[derive(Debug, Clone, PartialEq)]
pub struct Payload {
    pub stream: Stream,
    pub request: Request,
    pub records: u64,
}

/// One resource's records, by scope in first-seen order.
type ResourceEntry<T> = (Resource, Vec<(InstrumentationScope, Vec<T>)>);

/// Records of one stream grouped by resource, then scope, in first-seen order.
struct Group<T> {
    resources: Vec<ResourceEntry<T>>,
    index: HashMap<String, usize>,
    records: u64,
    bytes: usize,
}

impl<T> Default for Group<T> {
    fn default() -> Self {
        Self {
            resources: Vec::new(),
            index: HashMap::new(),
            records: 0,
            bytes: 0,
        }
    }
}

impl<T> Group<T> {
    fn push(&mut self, key: &str, resource: impl FnOnce() -> Resource, scope: &str, item: T) {
        let slot = match self.index.get(key) {
            Some(&slot) => slot,
            None => {
                self.resources.push((resource(), Vec::new()));
                self.index.insert(key.to_string(), self.resources.len() - 1);
                self.resources.len() - 1
            }
        };
        let scopes = &mut self.resources[slot].1;
        match scopes
            .iter_mut()
            .find(|(existing, _)| existing.name == scope)
        {
            Some((_, items)) => items.push(item),
            None => scopes.push((scope_named(scope), vec![item])),
        }
    }

    fn take(&mut self) -> Vec<ResourceEntry<T>> {
        self.index.clear();
        self.records = 0;
        self.bytes = 0;
        std::mem::take(&mut self.resources)
    }
}

fn scope_named(name: &str) -> InstrumentationScope {
    InstrumentationScope {
        name: name.to_string(),
        version: "1.0.0".into(),
        attributes: Vec::new(),
        dropped_attributes_count: 0,
    }
}

/// Records per request at which a batch is cut (replay batches are also cut by size).
#[derive(Debug, Clone, Copy)]
pub struct BatchLimits {
    pub records: u64,
}

/// The batches of every stream, and the payloads finished so far.
pub struct Batcher {
    limits: BatchLimits,
    spans: Group<Span>,
    logs: Group<LogRecord>,
    metrics: Group<Metric>,
    browser: Group<Span>,
    replay: Group<LogRecord>,
    pub ready: Vec<Payload>,
}

/// Bytes of replay log bodies per request: a few rrweb chunks, well under the
/// receiver's 16 MiB body limit.
const REPLAY_REQUEST_BYTES: usize = 4 * 1024 * 1024;

impl Batcher {
    pub fn new(limits: BatchLimits) -> Self {
        Self {
            limits,
            spans: Group::default(),
            logs: Group::default(),
            metrics: Group::default(),
            browser: Group::default(),
            replay: Group::default(),
            ready: Vec::new(),
        }
    }

    pub fn span(&mut self, service: &str, scope: &str, span: Span) {
        self.spans.push(
            service,
            || crate::otlp::service_resource(service),
            scope,
            span,
        );
        self.spans.records += 1;
        if self.spans.records >= self.limits.records {
            self.flush(Stream::Spans);
        }
    }

    pub fn log(&mut self, service: &str, scope: &str, record: LogRecord) {
        self.logs.push(
            service,
            || crate::otlp::service_resource(service),
            scope,
            record,
        );
        self.logs.records += 1;
        if self.logs.records >= self.limits.records {
            self.flush(Stream::Logs);
        }
    }

    /// Adds a metric; `points` is its number of data points.
    pub fn metric(&mut self, service: &str, scope: &str, metric: Metric, points: u64) {
        self.metrics.push(
            service,
            || crate::otlp::service_resource(service),
            scope,
            metric,
        );
        self.metrics.records += points;
        if self.metrics.records >= self.limits.records {
            self.flush(Stream::Metrics);
        }
    }

    /// Adds a browser span under the page-load resource `resource`, keyed by `key`.
    pub fn browser_span(&mut self, key: &str, resource: &Resource, scope: &str, span: Span) {
        self.browser.push(key, || resource.clone(), scope, span);
        self.browser.records += 1;
        if self.browser.records >= self.limits.records {
            self.flush(Stream::BrowserSpans);
        }
    }

    /// Adds an rrweb chunk record under the page-load resource `resource`, keyed by `key`.
    pub fn replay(&mut self, key: &str, resource: &Resource, record: LogRecord, body_bytes: usize) {
        self.replay
            .push(key, || resource.clone(), "rum.rr-web", record);
        self.replay.records += 1;
        self.replay.bytes += body_bytes;
        if self.replay.bytes >= REPLAY_REQUEST_BYTES || self.replay.records >= self.limits.records {
            self.flush(Stream::Replay);
        }
    }

    /// Cuts every non-empty batch, for the end of a run or a live tick.
    pub fn flush_all(&mut self) {
        for stream in Stream::ALL {
            self.flush(stream);
        }
    }

    fn flush(&mut self, stream: Stream) {
        let payload = match stream {
            Stream::Spans => traces_payload(stream, &mut self.spans),
            Stream::BrowserSpans => traces_payload(stream, &mut self.browser),
            Stream::Logs => logs_payload(stream, &mut self.logs),
            Stream::Replay => logs_payload(stream, &mut self.replay),
            Stream::Metrics => metrics_payload(&mut self.metrics),
        };
        if let Some(payload) = payload {
            self.ready.push(payload);
        }
    }
}

fn traces_payload(stream: Stream, group: &mut Group<Span>) -> Option<Payload> {
    let records = group.records;
    if records == 0 {
        return None;
    }
    let resource_spans = group
        .take()
        .into_iter()
        .map(|(resource, scopes)| ResourceSpans {
            resource: Some(resource),
            scope_spans: scopes
                .into_iter()
                .map(|(scope, spans)| ScopeSpans {
                    scope: Some(scope),
                    spans,
                    schema_url: String::new(),
                })
                .collect(),
            schema_url: String::new(),
        })
        .collect();
    Some(Payload {
        stream,
        request: Request::Traces(ExportTraceServiceRequest { resource_spans }),
        records,
    })
}

fn logs_payload(stream: Stream, group: &mut Group<LogRecord>) -> Option<Payload> {
    let records = group.records;
    if records == 0 {
        return None;
    }
    let resource_logs = group
        .take()
        .into_iter()
        .map(|(resource, scopes)| ResourceLogs {
            resource: Some(resource),
            scope_logs: scopes
                .into_iter()
                .map(|(scope, log_records)| ScopeLogs {
                    scope: Some(scope),
                    log_records,
                    schema_url: String::new(),
                })
                .collect(),
            schema_url: String::new(),
        })
        .collect();
    Some(Payload {
        stream,
        request: Request::Logs(ExportLogsServiceRequest { resource_logs }),
        records,
    })
}

fn metrics_payload(group: &mut Group<Metric>) -> Option<Payload> {
    let records = group.records;
    if records == 0 {
        return None;
    }
    let resource_metrics = group
        .take()
        .into_iter()
        .map(|(resource, scopes)| ResourceMetrics {
            resource: Some(resource),
            scope_metrics: scopes
                .into_iter()
                .map(|(scope, metrics)| ScopeMetrics {
                    scope: Some(scope),
                    metrics,
                    schema_url: String::new(),
                })
                .collect(),
            schema_url: String::new(),
        })
        .collect();
    Some(Payload {
        stream: Stream::Metrics,
        request: Request::Metrics(ExportMetricsServiceRequest { resource_metrics }),
        records,
    })
}

//! Rows as the store writes them, one type per table family.
//!
//! Field meanings follow the OpenTelemetry Collector's ClickHouse exporter
//! (classic layout): times are nanoseconds since the Unix epoch, ids are
//! lowercase hex (`""` when absent), attribute values are text. Resource and
//! scope data are shared through `Arc` because every record of one resource
//! repeats them.

use std::sync::Arc;

use crate::attributes::{Attributes, BusinessKeys};

/// One span event (`Events.*` columns).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SpanEvent {
    pub timestamp_ns: i64,
    pub name: String,
    pub attributes: Attributes,
}

/// One span link (`Links.*` columns).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SpanLink {
    pub trace_id: String,
    pub span_id: String,
    pub trace_state: String,
    pub attributes: Attributes,
}

/// One row of `otel_traces`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SpanRow {
    pub timestamp_ns: i64,
    pub trace_id: String,
    pub span_id: String,
    pub parent_span_id: String,
    pub trace_state: String,
    pub span_name: String,
    /// `Unspecified`, `Internal`, `Server`, `Client`, `Producer` or `Consumer`.
    pub span_kind: &'static str,
    pub service_name: Arc<str>,
    pub resource_attributes: Arc<Attributes>,
    pub scope_name: Arc<str>,
    pub scope_version: Arc<str>,
    pub span_attributes: Attributes,
    pub duration_ns: u64,
    /// `Unset`, `Ok` or `Error`.
    pub status_code: &'static str,
    pub status_message: String,
    pub events: Vec<SpanEvent>,
    pub links: Vec<SpanLink>,
    pub keys: BusinessKeys,
}

/// One row of `otel_logs` or `hyperdx_sessions` (same layout).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LogRow {
    pub timestamp_ns: i64,
    pub trace_id: String,
    pub span_id: String,
    pub trace_flags: u32,
    pub severity_text: String,
    pub severity_number: i32,
    pub service_name: Arc<str>,
    pub body: String,
    pub resource_schema_url: Arc<str>,
    pub resource_attributes: Arc<Attributes>,
    pub scope_schema_url: Arc<str>,
    pub scope_name: Arc<str>,
    pub scope_version: Arc<str>,
    pub scope_attributes: Arc<Attributes>,
    pub log_attributes: Attributes,
    pub keys: BusinessKeys,
}

/// The columns every metric table shares: who emitted the metric and what it is.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MetricMeta {
    pub resource_attributes: Arc<Attributes>,
    pub resource_schema_url: Arc<str>,
    pub scope_name: Arc<str>,
    pub scope_version: Arc<str>,
    pub scope_attributes: Arc<Attributes>,
    pub scope_dropped_attr_count: u32,
    pub scope_schema_url: Arc<str>,
    pub service_name: Arc<str>,
    pub metric_name: String,
    pub metric_description: String,
    pub metric_unit: String,
}

/// An exemplar attached to a metric point (`Exemplars.*` columns).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Exemplar {
    pub filtered_attributes: Attributes,
    pub time_ns: i64,
    pub value: f64,
    pub span_id: String,
    pub trace_id: String,
}

/// The columns of one data point that every metric table shares.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PointCommon {
    pub meta: Arc<MetricMeta>,
    pub attributes: Attributes,
    pub start_time_ns: i64,
    pub time_ns: i64,
    pub flags: u32,
    pub exemplars: Vec<Exemplar>,
}

/// One row of `otel_metrics_gauge`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GaugeRow {
    pub point: PointCommon,
    pub value: f64,
}

/// One row of `otel_metrics_sum`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SumRow {
    pub point: PointCommon,
    pub value: f64,
    pub aggregation_temporality: i32,
    pub is_monotonic: bool,
}

/// One row of `otel_metrics_histogram`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HistogramRow {
    pub point: PointCommon,
    pub count: u64,
    pub sum: f64,
    pub bucket_counts: Vec<u64>,
    pub explicit_bounds: Vec<f64>,
    pub min: f64,
    pub max: f64,
    pub aggregation_temporality: i32,
}

/// One row of `otel_metrics_exponential_histogram`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExpHistogramRow {
    pub point: PointCommon,
    pub count: u64,
    pub sum: f64,
    pub scale: i32,
    pub zero_count: u64,
    pub positive_offset: i32,
    pub positive_bucket_counts: Vec<u64>,
    pub negative_offset: i32,
    pub negative_bucket_counts: Vec<u64>,
    pub min: f64,
    pub max: f64,
    pub aggregation_temporality: i32,
}

/// One row of `otel_metrics_summary`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SummaryRow {
    pub point: PointCommon,
    pub count: u64,
    pub sum: f64,
    pub quantiles: Vec<f64>,
    pub values: Vec<f64>,
}

/// One rrweb event of a recording: its session, page load and number within
/// the page load, as the browser sent them.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct ReplayEventKey {
    /// `rum.sessionId`.
    pub session: String,
    /// `rum.scriptInstance`: one page load.
    pub script_instance: String,
    /// `rr-web.event`, as sent.
    pub event: String,
}

/// Log attribute set on the rows of a chunked replay event rewritten with its
/// secret inputs masked. The store keeps these rows and deletes the earlier ones.
pub const REPLAY_REWRITTEN: &str = "exos.replay.rewritten";

/// Everything one request produced, grouped by destination table.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Batch {
    pub spans: Vec<SpanRow>,
    pub logs: Vec<LogRow>,
    /// Log records carrying `rr-web.event`, bound for `hyperdx_sessions`.
    pub sessions: Vec<LogRow>,
    pub gauges: Vec<GaugeRow>,
    pub sums: Vec<SumRow>,
    pub histograms: Vec<HistogramRow>,
    pub exp_histograms: Vec<ExpHistogramRow>,
    pub summaries: Vec<SummaryRow>,
    /// Chunked replay events whose chunks came over several requests and were
    /// rewritten in `sessions` (rows marked [`REPLAY_REWRITTEN`]) with their
    /// secret inputs masked: the store deletes their other, earlier rows.
    pub rewritten_replay_events: Vec<ReplayEventKey>,
}

impl Batch {
    /// Returns the number of rows across all tables.
    pub fn len(&self) -> usize {
        self.spans.len()
            + self.logs.len()
            + self.sessions.len()
            + self.gauges.len()
            + self.sums.len()
            + self.histograms.len()
            + self.exp_histograms.len()
            + self.summaries.len()
    }

    /// Returns true when the batch contains no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Moves every row of `other` into `self`.
    pub fn append(&mut self, other: &mut Batch) {
        self.spans.append(&mut other.spans);
        self.logs.append(&mut other.logs);
        self.sessions.append(&mut other.sessions);
        self.gauges.append(&mut other.gauges);
        self.sums.append(&mut other.sums);
        self.histograms.append(&mut other.histograms);
        self.exp_histograms.append(&mut other.exp_histograms);
        self.summaries.append(&mut other.summaries);
        self.rewritten_replay_events
            .append(&mut other.rewritten_replay_events);
    }
}

//! Rows to Arrow record batches in each table's column order, for the DuckDB appender.
//!
//! DuckDB's appender takes data chunks whose types equal the table's exactly
//! (no casts), so each builder here matches one DuckDB type of `schema::ddl`.

use std::sync::Arc;

use duckdb::arrow::array::{
    ArrayBuilder, ArrayRef, BooleanBuilder, Float64Builder, Int32Builder, Int64Builder,
    ListBuilder, MapBuilder, StringBuilder, TimestampMicrosecondBuilder,
    TimestampNanosecondBuilder, UInt32Builder, UInt64Builder, UInt8Builder,
};
use duckdb::arrow::datatypes::{Field, Schema};
use duckdb::arrow::error::ArrowError;
use duckdb::arrow::record_batch::RecordBatch;
use exos_core::attributes::lookup;
use exos_core::{
    Attributes, BusinessKeys, Exemplar, ExpHistogramRow, GaugeRow, HistogramRow, LogRow,
    PointCommon, SpanRow, SumRow, SummaryRow,
};

use crate::edges::EdgeKey;
use crate::entities::Summary;
use crate::errors::Staged;
use crate::rollup::{Counts, EndpointKey, OperatorKey, SpanKey};

type Map = MapBuilder<StringBuilder, StringBuilder>;

fn map_builder() -> Map {
    MapBuilder::new(None, StringBuilder::new(), StringBuilder::new())
}

fn push_map(builder: &mut Map, attributes: &Attributes) {
    for (key, value) in attributes {
        builder.keys().append_value(key);
        builder.values().append_value(value);
    }
    builder
        .append(true)
        .expect("keys and values are appended in pairs");
}

/// Column builders collected in table order, finished into one record batch.
struct Columns {
    names: Vec<&'static str>,
    arrays: Vec<ArrayRef>,
}

impl Columns {
    fn new() -> Self {
        Self {
            names: Vec::new(),
            arrays: Vec::new(),
        }
    }

    fn add(&mut self, name: &'static str, mut builder: impl ArrayBuilder) {
        self.names.push(name);
        self.arrays.push(builder.finish());
    }

    fn finish(self) -> Result<RecordBatch, ArrowError> {
        let fields: Vec<Field> = self
            .names
            .iter()
            .zip(&self.arrays)
            .map(|(name, array)| Field::new(*name, array.data_type().clone(), true))
            .collect();
        RecordBatch::try_new(Arc::new(Schema::new(fields)), self.arrays)
    }
}

fn strings<'a>(values: impl Iterator<Item = &'a str>) -> StringBuilder {
    let mut builder = StringBuilder::new();
    for value in values {
        builder.append_value(value);
    }
    builder
}

fn times(values: impl Iterator<Item = i64>) -> TimestampNanosecondBuilder {
    let mut builder = TimestampNanosecondBuilder::new();
    for value in values {
        builder.append_value(value);
    }
    builder
}

fn maps<'a>(values: impl Iterator<Item = &'a Attributes>) -> Map {
    let mut builder = map_builder();
    for value in values {
        push_map(&mut builder, value);
    }
    builder
}

fn add_business_keys<'a, I>(columns: &mut Columns, keys: impl Fn() -> I)
where
    I: Iterator<Item = &'a BusinessKeys>,
{
    columns.add("OrderId", strings(keys().map(|k| k.order_id.as_str())));
    columns.add(
        "OperatorId",
        strings(keys().map(|k| k.operator_id.as_str())),
    );
    columns.add("Lob", strings(keys().map(|k| k.lob.as_str())));
    columns.add(
        "RumSessionId",
        strings(keys().map(|k| k.rum_session_id.as_str())),
    );
    columns.add("UserId", strings(keys().map(|k| k.user_id.as_str())));
}

/// Builds the `otel_traces` batch.
pub fn spans(rows: &[SpanRow]) -> Result<RecordBatch, ArrowError> {
    let mut c = Columns::new();
    c.add("Timestamp", times(rows.iter().map(|r| r.timestamp_ns)));
    c.add("TraceId", strings(rows.iter().map(|r| r.trace_id.as_str())));
    c.add("SpanId", strings(rows.iter().map(|r| r.span_id.as_str())));
    c.add(
        "ParentSpanId",
        strings(rows.iter().map(|r| r.parent_span_id.as_str())),
    );
    c.add(
        "TraceState",
        strings(rows.iter().map(|r| r.trace_state.as_str())),
    );
    c.add(
        "SpanName",
        strings(rows.iter().map(|r| r.span_name.as_str())),
    );
    c.add("SpanKind", strings(rows.iter().map(|r| r.span_kind)));
    c.add(
        "ServiceName",
        strings(rows.iter().map(|r| &*r.service_name)),
    );
    c.add(
        "ResourceAttributes",
        maps(rows.iter().map(|r| &*r.resource_attributes)),
    );
    c.add("ScopeName", strings(rows.iter().map(|r| &*r.scope_name)));
    c.add(
        "ScopeVersion",
        strings(rows.iter().map(|r| &*r.scope_version)),
    );
    c.add(
        "SpanAttributes",
        maps(rows.iter().map(|r| &r.span_attributes)),
    );
    let mut duration = UInt64Builder::with_capacity(rows.len());
    rows.iter()
        .for_each(|r| duration.append_value(r.duration_ns));
    c.add("Duration", duration);
    c.add("StatusCode", strings(rows.iter().map(|r| r.status_code)));
    c.add(
        "StatusMessage",
        strings(rows.iter().map(|r| r.status_message.as_str())),
    );

    let mut event_times = ListBuilder::new(TimestampNanosecondBuilder::new());
    let mut event_names = ListBuilder::new(StringBuilder::new());
    let mut event_attributes = ListBuilder::new(map_builder());
    for row in rows {
        for event in &row.events {
            event_times.values().append_value(event.timestamp_ns);
            event_names.values().append_value(&event.name);
            push_map(event_attributes.values(), &event.attributes);
        }
        event_times.append(true);
        event_names.append(true);
        event_attributes.append(true);
    }
    c.add("Events.Timestamp", event_times);
    c.add("Events.Name", event_names);
    c.add("Events.Attributes", event_attributes);

    let mut link_traces = ListBuilder::new(StringBuilder::new());
    let mut link_spans = ListBuilder::new(StringBuilder::new());
    let mut link_states = ListBuilder::new(StringBuilder::new());
    let mut link_attributes = ListBuilder::new(map_builder());
    for row in rows {
        for link in &row.links {
            link_traces.values().append_value(&link.trace_id);
            link_spans.values().append_value(&link.span_id);
            link_states.values().append_value(&link.trace_state);
            push_map(link_attributes.values(), &link.attributes);
        }
        link_traces.append(true);
        link_spans.append(true);
        link_states.append(true);
        link_attributes.append(true);
    }
    c.add("Links.TraceId", link_traces);
    c.add("Links.SpanId", link_spans);
    c.add("Links.TraceState", link_states);
    c.add("Links.Attributes", link_attributes);
    add_business_keys(&mut c, || rows.iter().map(|r| &r.keys));
    c.add(
        crate::schema::ORDER_STATUS_COLUMN.0,
        strings(rows.iter().map(|r| {
            lookup(&r.span_attributes, crate::entities::ORDER_STATUS).unwrap_or_default()
        })),
    );
    c.finish()
}

/// Builds an `otel_logs` or `hyperdx_sessions` batch.
pub fn logs(rows: &[LogRow]) -> Result<RecordBatch, ArrowError> {
    let mut c = Columns::new();
    c.add("Timestamp", times(rows.iter().map(|r| r.timestamp_ns)));
    let mut seconds = TimestampMicrosecondBuilder::with_capacity(rows.len());
    rows.iter()
        .for_each(|r| seconds.append_value(r.timestamp_ns.div_euclid(1_000_000_000) * 1_000_000));
    c.add("TimestampTime", seconds);
    c.add("TraceId", strings(rows.iter().map(|r| r.trace_id.as_str())));
    c.add("SpanId", strings(rows.iter().map(|r| r.span_id.as_str())));
    let mut flags = UInt8Builder::with_capacity(rows.len());
    rows.iter()
        .for_each(|r| flags.append_value(r.trace_flags as u8));
    c.add("TraceFlags", flags);
    c.add(
        "SeverityText",
        strings(rows.iter().map(|r| r.severity_text.as_str())),
    );
    let mut severity = UInt8Builder::with_capacity(rows.len());
    rows.iter()
        .for_each(|r| severity.append_value(r.severity_number.clamp(0, u8::MAX as i32) as u8));
    c.add("SeverityNumber", severity);
    c.add(
        "ServiceName",
        strings(rows.iter().map(|r| &*r.service_name)),
    );
    c.add("Body", strings(rows.iter().map(|r| r.body.as_str())));
    c.add(
        "ResourceSchemaUrl",
        strings(rows.iter().map(|r| &*r.resource_schema_url)),
    );
    c.add(
        "ResourceAttributes",
        maps(rows.iter().map(|r| &*r.resource_attributes)),
    );
    c.add(
        "ScopeSchemaUrl",
        strings(rows.iter().map(|r| &*r.scope_schema_url)),
    );
    c.add("ScopeName", strings(rows.iter().map(|r| &*r.scope_name)));
    c.add(
        "ScopeVersion",
        strings(rows.iter().map(|r| &*r.scope_version)),
    );
    c.add(
        "ScopeAttributes",
        maps(rows.iter().map(|r| &*r.scope_attributes)),
    );
    c.add(
        "LogAttributes",
        maps(rows.iter().map(|r| &r.log_attributes)),
    );
    add_business_keys(&mut c, || rows.iter().map(|r| &r.keys));
    c.finish()
}

/// Adds the columns every metric table starts with.
fn metric_head(c: &mut Columns, points: &[&PointCommon]) {
    let metas = || points.iter().map(|p| &*p.meta);
    c.add(
        "ResourceAttributes",
        maps(metas().map(|m| &*m.resource_attributes)),
    );
    c.add(
        "ResourceSchemaUrl",
        strings(metas().map(|m| &*m.resource_schema_url)),
    );
    c.add("ScopeName", strings(metas().map(|m| &*m.scope_name)));
    c.add("ScopeVersion", strings(metas().map(|m| &*m.scope_version)));
    c.add(
        "ScopeAttributes",
        maps(metas().map(|m| &*m.scope_attributes)),
    );
    let mut dropped = UInt32Builder::new();
    metas().for_each(|m| dropped.append_value(m.scope_dropped_attr_count));
    c.add("ScopeDroppedAttrCount", dropped);
    c.add(
        "ScopeSchemaUrl",
        strings(metas().map(|m| &*m.scope_schema_url)),
    );
    c.add("ServiceName", strings(metas().map(|m| &*m.service_name)));
    c.add(
        "MetricName",
        strings(metas().map(|m| m.metric_name.as_str())),
    );
    c.add(
        "MetricDescription",
        strings(metas().map(|m| m.metric_description.as_str())),
    );
    c.add(
        "MetricUnit",
        strings(metas().map(|m| m.metric_unit.as_str())),
    );
    c.add("Attributes", maps(points.iter().map(|p| &p.attributes)));
    c.add(
        "StartTimeUnix",
        times(points.iter().map(|p| p.start_time_ns)),
    );
    c.add("TimeUnix", times(points.iter().map(|p| p.time_ns)));
}

fn add_exemplars(c: &mut Columns, points: &[&PointCommon]) {
    let mut attributes = ListBuilder::new(map_builder());
    let mut times = ListBuilder::new(TimestampNanosecondBuilder::new());
    let mut values = ListBuilder::new(Float64Builder::new());
    let mut span_ids = ListBuilder::new(StringBuilder::new());
    let mut trace_ids = ListBuilder::new(StringBuilder::new());
    for point in points {
        for Exemplar {
            filtered_attributes,
            time_ns,
            value,
            span_id,
            trace_id,
        } in &point.exemplars
        {
            push_map(attributes.values(), filtered_attributes);
            times.values().append_value(*time_ns);
            values.values().append_value(*value);
            span_ids.values().append_value(span_id);
            trace_ids.values().append_value(trace_id);
        }
        attributes.append(true);
        times.append(true);
        values.append(true);
        span_ids.append(true);
        trace_ids.append(true);
    }
    c.add("Exemplars.FilteredAttributes", attributes);
    c.add("Exemplars.TimeUnix", times);
    c.add("Exemplars.Value", values);
    c.add("Exemplars.SpanId", span_ids);
    c.add("Exemplars.TraceId", trace_ids);
}

fn f64s(values: impl Iterator<Item = f64>) -> Float64Builder {
    let mut builder = Float64Builder::new();
    values.for_each(|v| builder.append_value(v));
    builder
}

fn u64s(values: impl Iterator<Item = u64>) -> UInt64Builder {
    let mut builder = UInt64Builder::new();
    values.for_each(|v| builder.append_value(v));
    builder
}

fn u32s(values: impl Iterator<Item = u32>) -> UInt32Builder {
    let mut builder = UInt32Builder::new();
    values.for_each(|v| builder.append_value(v));
    builder
}

fn i64s(values: impl Iterator<Item = i64>) -> Int64Builder {
    let mut builder = Int64Builder::new();
    values.for_each(|v| builder.append_value(v));
    builder
}

fn i32s(values: impl Iterator<Item = i32>) -> Int32Builder {
    let mut builder = Int32Builder::new();
    values.for_each(|v| builder.append_value(v));
    builder
}

fn u64_lists<'a>(values: impl Iterator<Item = &'a Vec<u64>>) -> ListBuilder<UInt64Builder> {
    let mut builder = ListBuilder::new(UInt64Builder::new());
    for list in values {
        builder.values().append_slice(list);
        builder.append(true);
    }
    builder
}

fn f64_lists<'a>(values: impl Iterator<Item = &'a Vec<f64>>) -> ListBuilder<Float64Builder> {
    let mut builder = ListBuilder::new(Float64Builder::new());
    for list in values {
        builder.values().append_slice(list);
        builder.append(true);
    }
    builder
}

/// Builds the `otel_metrics_gauge` batch.
pub fn gauges(rows: &[GaugeRow]) -> Result<RecordBatch, ArrowError> {
    let points: Vec<&PointCommon> = rows.iter().map(|r| &r.point).collect();
    let mut c = Columns::new();
    metric_head(&mut c, &points);
    c.add("Value", f64s(rows.iter().map(|r| r.value)));
    c.add("Flags", u32s(points.iter().map(|p| p.flags)));
    add_exemplars(&mut c, &points);
    c.finish()
}

/// Builds the `otel_metrics_sum` batch.
pub fn sums(rows: &[SumRow]) -> Result<RecordBatch, ArrowError> {
    let points: Vec<&PointCommon> = rows.iter().map(|r| &r.point).collect();
    let mut c = Columns::new();
    metric_head(&mut c, &points);
    c.add("Value", f64s(rows.iter().map(|r| r.value)));
    c.add("Flags", u32s(points.iter().map(|p| p.flags)));
    add_exemplars(&mut c, &points);
    c.add(
        "AggregationTemporality",
        i32s(rows.iter().map(|r| r.aggregation_temporality)),
    );
    let mut monotonic = BooleanBuilder::new();
    rows.iter()
        .for_each(|r| monotonic.append_value(r.is_monotonic));
    c.add("IsMonotonic", monotonic);
    c.finish()
}

/// Builds the `otel_metrics_histogram` batch.
pub fn histograms(rows: &[HistogramRow]) -> Result<RecordBatch, ArrowError> {
    let points: Vec<&PointCommon> = rows.iter().map(|r| &r.point).collect();
    let mut c = Columns::new();
    metric_head(&mut c, &points);
    c.add("Count", u64s(rows.iter().map(|r| r.count)));
    c.add("Sum", f64s(rows.iter().map(|r| r.sum)));
    c.add(
        "BucketCounts",
        u64_lists(rows.iter().map(|r| &r.bucket_counts)),
    );
    c.add(
        "ExplicitBounds",
        f64_lists(rows.iter().map(|r| &r.explicit_bounds)),
    );
    add_exemplars(&mut c, &points);
    c.add("Flags", u32s(points.iter().map(|p| p.flags)));
    c.add("Min", f64s(rows.iter().map(|r| r.min)));
    c.add("Max", f64s(rows.iter().map(|r| r.max)));
    c.add(
        "AggregationTemporality",
        i32s(rows.iter().map(|r| r.aggregation_temporality)),
    );
    c.finish()
}

/// Builds the `otel_metrics_exponential_histogram` batch.
pub fn exp_histograms(rows: &[ExpHistogramRow]) -> Result<RecordBatch, ArrowError> {
    let points: Vec<&PointCommon> = rows.iter().map(|r| &r.point).collect();
    let mut c = Columns::new();
    metric_head(&mut c, &points);
    c.add("Count", u64s(rows.iter().map(|r| r.count)));
    c.add("Sum", f64s(rows.iter().map(|r| r.sum)));
    c.add("Scale", i32s(rows.iter().map(|r| r.scale)));
    c.add("ZeroCount", u64s(rows.iter().map(|r| r.zero_count)));
    c.add(
        "PositiveOffset",
        i32s(rows.iter().map(|r| r.positive_offset)),
    );
    c.add(
        "PositiveBucketCounts",
        u64_lists(rows.iter().map(|r| &r.positive_bucket_counts)),
    );
    c.add(
        "NegativeOffset",
        i32s(rows.iter().map(|r| r.negative_offset)),
    );
    c.add(
        "NegativeBucketCounts",
        u64_lists(rows.iter().map(|r| &r.negative_bucket_counts)),
    );
    add_exemplars(&mut c, &points);
    c.add("Flags", u32s(points.iter().map(|p| p.flags)));
    c.add("Min", f64s(rows.iter().map(|r| r.min)));
    c.add("Max", f64s(rows.iter().map(|r| r.max)));
    c.add(
        "AggregationTemporality",
        i32s(rows.iter().map(|r| r.aggregation_temporality)),
    );
    c.finish()
}

/// Builds the `otel_metrics_summary` batch.
pub fn summaries(rows: &[SummaryRow]) -> Result<RecordBatch, ArrowError> {
    let points: Vec<&PointCommon> = rows.iter().map(|r| &r.point).collect();
    let mut c = Columns::new();
    metric_head(&mut c, &points);
    c.add("Count", u64s(rows.iter().map(|r| r.count)));
    c.add("Sum", f64s(rows.iter().map(|r| r.sum)));
    c.add(
        "ValueAtQuantiles.Quantile",
        f64_lists(rows.iter().map(|r| &r.quantiles)),
    );
    c.add(
        "ValueAtQuantiles.Value",
        f64_lists(rows.iter().map(|r| &r.values)),
    );
    c.add("Flags", u32s(points.iter().map(|p| p.flags)));
    c.finish()
}

fn slot_and_counts<'a, K: 'a>(
    c: &mut Columns,
    rows: &'a [(K, Counts)],
    slot: impl Fn(&K) -> i64,
) -> impl Iterator<Item = &'a Counts> + Clone {
    let mut slots = Int64Builder::new();
    for (key, _) in rows {
        slots.append_value(slot(key));
    }
    c.add("Slot", slots);
    rows.iter().map(|(_, counts)| counts)
}

fn add_counts<'a>(c: &mut Columns, counts: impl Iterator<Item = &'a Counts> + Clone, roots: bool) {
    let rows = counts.clone().count();
    c.add("Spans", u64s(counts.clone().map(|n| n.spans)));
    c.add("Errors", u64s(counts.clone().map(|n| n.errors)));
    if roots {
        c.add("Roots", u64s(counts.clone().map(|n| n.roots)));
    }
    c.add("MinDuration", u64s(counts.clone().map(|n| n.min_duration)));
    c.add("MaxDuration", u64s(counts.map(|n| n.max_duration)));
    c.add("Merged", unmerged(rows));
}

/// Builds a `Merged` column of `rows` partial rows.
fn unmerged(rows: usize) -> BooleanBuilder {
    let mut merged = BooleanBuilder::new();
    for _ in 0..rows {
        merged.append_value(false);
    }
    merged
}

/// Partial rows of `exos_span_rollup`.
pub fn span_rollup(rows: &[(SpanKey, Counts)]) -> Result<RecordBatch, ArrowError> {
    let mut c = Columns::new();
    let counts = slot_and_counts(&mut c, rows, |key| key.0);
    c.add("ServiceName", strings(rows.iter().map(|(k, _)| &*k.1)));
    let mut bins = Int64Builder::new();
    let mut buckets = UInt8Builder::new();
    for (key, _) in rows {
        bins.append_value(key.2);
        buckets.append_value(key.3);
    }
    c.add("Bin", bins);
    c.add("Bucket", buckets);
    add_counts(&mut c, counts, true);
    c.finish()
}

/// Partial rows of `exos_endpoint_rollup`.
pub fn endpoint_rollup(rows: &[(EndpointKey, Counts)]) -> Result<RecordBatch, ArrowError> {
    let mut c = Columns::new();
    let counts = slot_and_counts(&mut c, rows, |key| key.0);
    c.add("ServiceName", strings(rows.iter().map(|(k, _)| &*k.1)));
    c.add("SpanName", strings(rows.iter().map(|(k, _)| k.2.as_str())));
    c.add("SpanKind", strings(rows.iter().map(|(k, _)| k.3)));
    let mut bins = Int64Builder::new();
    for (key, _) in rows {
        bins.append_value(key.4);
    }
    c.add("Bin", bins);
    add_counts(&mut c, counts, false);
    c.finish()
}

/// Partial rows of `exos_operator_rollup`.
pub fn operator_rollup(rows: &[(OperatorKey, Counts)]) -> Result<RecordBatch, ArrowError> {
    let mut c = Columns::new();
    let counts = slot_and_counts(&mut c, rows, |key| key.0);
    c.add(
        "OperatorId",
        strings(rows.iter().map(|(k, _)| k.1.as_str())),
    );
    add_counts(&mut c, counts, false);
    c.finish()
}

/// Partial rows of `exos_edge_rollup`.
pub fn edge_rollup(rows: &[(EdgeKey, Counts)]) -> Result<RecordBatch, ArrowError> {
    let mut c = Columns::new();
    let counts = slot_and_counts(&mut c, rows, |key| key.0);
    c.add("Source", strings(rows.iter().map(|(k, _)| &*k.1)));
    c.add("Target", strings(rows.iter().map(|(k, _)| &*k.2)));
    c.add("Bin", i64s(rows.iter().map(|(k, _)| k.3)));
    add_counts(&mut c, counts, false);
    c.finish()
}

/// Partial rows of `exos_orders` or `exos_sessions`.
pub fn entities(rows: &[(String, Summary)]) -> Result<RecordBatch, ArrowError> {
    let mut c = Columns::new();
    c.add("Id", strings(rows.iter().map(|(id, _)| id.as_str())));
    c.add("Lob", strings(rows.iter().map(|(_, s)| s.lob.as_str())));
    c.add(
        "Status",
        strings(rows.iter().map(|(_, s)| s.status.as_str())),
    );
    c.add("StatusTime", i64s(rows.iter().map(|(_, s)| s.status_time)));
    c.add("FirstSeen", i64s(rows.iter().map(|(_, s)| s.first_seen)));
    c.add("LastSeen", i64s(rows.iter().map(|(_, s)| s.last_seen)));
    c.add("Spans", u64s(rows.iter().map(|(_, s)| s.spans)));
    c.add("Merged", unmerged(rows.len()));
    c.finish()
}

/// Rows of `exos_error_staging`.
pub fn error_staging(rows: &[Staged]) -> Result<RecordBatch, ArrowError> {
    let mut c = Columns::new();
    // The span's time, ids and key columns, then what the write took from its events.
    c.add("Timestamp", times(rows.iter().map(|r| r.span.timestamp_ns)));
    c.add(
        "TraceId",
        strings(rows.iter().map(|r| r.span.trace_id.as_str())),
    );
    c.add(
        "SpanId",
        strings(rows.iter().map(|r| r.span.span_id.as_str())),
    );
    c.add(
        "ServiceName",
        strings(rows.iter().map(|r| &*r.span.service_name)),
    );
    c.add(
        "UserId",
        strings(rows.iter().map(|r| r.span.keys.user_id.as_str())),
    );
    c.add(
        "RumSessionId",
        strings(rows.iter().map(|r| r.span.keys.rum_session_id.as_str())),
    );
    c.add(
        "OrderId",
        strings(rows.iter().map(|r| r.span.keys.order_id.as_str())),
    );

    c.add("Kind", strings(rows.iter().map(|r| r.kind)));
    c.add("Message", strings(rows.iter().map(|r| r.message)));
    c.add("Stack", strings(rows.iter().map(|r| r.stack)));
    c.finish()
}

//! Insert rows for ClickHouse, borrowing from EXOS rows, in RowBinary column order.
//!
//! Field names are the exporter's column names. Materialized business-key
//! columns are left out: ClickHouse computes them. `DateTime64(9)` values are
//! nanoseconds as `Int64`, `DateTime` values seconds as `UInt32`, and maps are
//! written as RowBinary maps (a LEB128 length, then key-value pairs).

use clickhouse::Row;
use exos_core::{
    Attributes, ExpHistogramRow, GaugeRow, HistogramRow, LogRow, SpanRow, SumRow, SummaryRow,
};
use serde::ser::{Serialize, SerializeMap, Serializer};

/// An attribute map serialized as a ClickHouse `Map(String, String)`.
pub struct MapRef<'a>(pub &'a Attributes);

impl Serialize for MapRef<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (key, value) in self.0 {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

/// One `otel_traces` row.
#[derive(Row, serde::Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SpanInsert<'a> {
    pub timestamp: i64,
    pub trace_id: &'a str,
    pub span_id: &'a str,
    pub parent_span_id: &'a str,
    pub trace_state: &'a str,
    pub span_name: &'a str,
    pub span_kind: &'a str,
    pub service_name: &'a str,
    pub resource_attributes: MapRef<'a>,
    pub scope_name: &'a str,
    pub scope_version: &'a str,
    pub span_attributes: MapRef<'a>,
    pub duration: u64,
    pub status_code: &'a str,
    pub status_message: &'a str,
    #[serde(rename = "Events.Timestamp")]
    pub events_timestamp: Vec<i64>,
    #[serde(rename = "Events.Name")]
    pub events_name: Vec<&'a str>,
    #[serde(rename = "Events.Attributes")]
    pub events_attributes: Vec<MapRef<'a>>,
    #[serde(rename = "Links.TraceId")]
    pub links_trace_id: Vec<&'a str>,
    #[serde(rename = "Links.SpanId")]
    pub links_span_id: Vec<&'a str>,
    #[serde(rename = "Links.TraceState")]
    pub links_trace_state: Vec<&'a str>,
    #[serde(rename = "Links.Attributes")]
    pub links_attributes: Vec<MapRef<'a>>,
}

impl<'a> From<&'a SpanRow> for SpanInsert<'a> {
    fn from(row: &'a SpanRow) -> Self {
        Self {
            timestamp: row.timestamp_ns,
            trace_id: &row.trace_id,
            span_id: &row.span_id,
            parent_span_id: &row.parent_span_id,
            trace_state: &row.trace_state,
            span_name: &row.span_name,
            span_kind: row.span_kind,
            service_name: &row.service_name,
            resource_attributes: MapRef(&row.resource_attributes),
            scope_name: &row.scope_name,
            scope_version: &row.scope_version,
            span_attributes: MapRef(&row.span_attributes),
            duration: row.duration_ns,
            status_code: row.status_code,
            status_message: &row.status_message,
            events_timestamp: row.events.iter().map(|e| e.timestamp_ns).collect(),
            events_name: row.events.iter().map(|e| e.name.as_str()).collect(),
            events_attributes: row.events.iter().map(|e| MapRef(&e.attributes)).collect(),
            links_trace_id: row.links.iter().map(|l| l.trace_id.as_str()).collect(),
            links_span_id: row.links.iter().map(|l| l.span_id.as_str()).collect(),
            links_trace_state: row.links.iter().map(|l| l.trace_state.as_str()).collect(),
            links_attributes: row.links.iter().map(|l| MapRef(&l.attributes)).collect(),
        }
    }
}

/// One `otel_logs` or `hyperdx_sessions` row.
#[derive(Row, serde::Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct LogInsert<'a> {
    pub timestamp: i64,
    pub timestamp_time: u32,
    pub trace_id: &'a str,
    pub span_id: &'a str,
    pub trace_flags: u8,
    pub severity_text: &'a str,
    pub severity_number: u8,
    pub service_name: &'a str,
    pub body: &'a str,
    pub resource_schema_url: &'a str,
    pub resource_attributes: MapRef<'a>,
    pub scope_schema_url: &'a str,
    pub scope_name: &'a str,
    pub scope_version: &'a str,
    pub scope_attributes: MapRef<'a>,
    pub log_attributes: MapRef<'a>,
}

impl<'a> From<&'a LogRow> for LogInsert<'a> {
    fn from(row: &'a LogRow) -> Self {
        Self {
            timestamp: row.timestamp_ns,
            timestamp_time: row
                .timestamp_ns
                .div_euclid(1_000_000_000)
                .clamp(0, u32::MAX as i64) as u32,
            trace_id: &row.trace_id,
            span_id: &row.span_id,
            trace_flags: row.trace_flags as u8,
            severity_text: &row.severity_text,
            severity_number: row.severity_number.clamp(0, u8::MAX as i32) as u8,
            service_name: &row.service_name,
            body: &row.body,
            resource_schema_url: &row.resource_schema_url,
            resource_attributes: MapRef(&row.resource_attributes),
            scope_schema_url: &row.scope_schema_url,
            scope_name: &row.scope_name,
            scope_version: &row.scope_version,
            scope_attributes: MapRef(&row.scope_attributes),
            log_attributes: MapRef(&row.log_attributes),
        }
    }
}

/// One `otel_metrics_gauge` row.
#[derive(Row, serde::Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GaugeInsert<'a> {
    pub resource_attributes: MapRef<'a>,
    pub resource_schema_url: &'a str,
    pub scope_name: &'a str,
    pub scope_version: &'a str,
    pub scope_attributes: MapRef<'a>,
    pub scope_dropped_attr_count: u32,
    pub scope_schema_url: &'a str,
    pub service_name: &'a str,
    pub metric_name: &'a str,
    pub metric_description: &'a str,
    pub metric_unit: &'a str,
    pub attributes: MapRef<'a>,
    pub start_time_unix: i64,
    pub time_unix: i64,
    pub value: f64,
    pub flags: u32,
    #[serde(rename = "Exemplars.FilteredAttributes")]
    pub exemplars_filtered_attributes: Vec<MapRef<'a>>,
    #[serde(rename = "Exemplars.TimeUnix")]
    pub exemplars_time_unix: Vec<i64>,
    #[serde(rename = "Exemplars.Value")]
    pub exemplars_value: Vec<f64>,
    #[serde(rename = "Exemplars.SpanId")]
    pub exemplars_span_id: Vec<&'a str>,
    #[serde(rename = "Exemplars.TraceId")]
    pub exemplars_trace_id: Vec<&'a str>,
}

impl<'a> From<&'a GaugeRow> for GaugeInsert<'a> {
    fn from(row: &'a GaugeRow) -> Self {
        let meta = &*row.point.meta;
        let exemplars = &row.point.exemplars;
        Self {
            resource_attributes: MapRef(&meta.resource_attributes),
            resource_schema_url: &meta.resource_schema_url,
            scope_name: &meta.scope_name,
            scope_version: &meta.scope_version,
            scope_attributes: MapRef(&meta.scope_attributes),
            scope_dropped_attr_count: meta.scope_dropped_attr_count,
            scope_schema_url: &meta.scope_schema_url,
            service_name: &meta.service_name,
            metric_name: &meta.metric_name,
            metric_description: &meta.metric_description,
            metric_unit: &meta.metric_unit,
            attributes: MapRef(&row.point.attributes),
            start_time_unix: row.point.start_time_ns,
            time_unix: row.point.time_ns,
            value: row.value,
            flags: row.point.flags,
            exemplars_filtered_attributes: exemplars
                .iter()
                .map(|e| MapRef(&e.filtered_attributes))
                .collect(),
            exemplars_time_unix: exemplars.iter().map(|e| e.time_ns).collect(),
            exemplars_value: exemplars.iter().map(|e| e.value).collect(),
            exemplars_span_id: exemplars.iter().map(|e| e.span_id.as_str()).collect(),
            exemplars_trace_id: exemplars.iter().map(|e| e.trace_id.as_str()).collect(),
        }
    }
}

/// One `otel_metrics_sum` row.
#[derive(Row, serde::Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SumInsert<'a> {
    pub resource_attributes: MapRef<'a>,
    pub resource_schema_url: &'a str,
    pub scope_name: &'a str,
    pub scope_version: &'a str,
    pub scope_attributes: MapRef<'a>,
    pub scope_dropped_attr_count: u32,
    pub scope_schema_url: &'a str,
    pub service_name: &'a str,
    pub metric_name: &'a str,
    pub metric_description: &'a str,
    pub metric_unit: &'a str,
    pub attributes: MapRef<'a>,
    pub start_time_unix: i64,
    pub time_unix: i64,
    pub value: f64,
    pub flags: u32,
    #[serde(rename = "Exemplars.FilteredAttributes")]
    pub exemplars_filtered_attributes: Vec<MapRef<'a>>,
    #[serde(rename = "Exemplars.TimeUnix")]
    pub exemplars_time_unix: Vec<i64>,
    #[serde(rename = "Exemplars.Value")]
    pub exemplars_value: Vec<f64>,
    #[serde(rename = "Exemplars.SpanId")]
    pub exemplars_span_id: Vec<&'a str>,
    #[serde(rename = "Exemplars.TraceId")]
    pub exemplars_trace_id: Vec<&'a str>,
    pub aggregation_temporality: i32,
    pub is_monotonic: bool,
}

impl<'a> From<&'a SumRow> for SumInsert<'a> {
    fn from(row: &'a SumRow) -> Self {
        let meta = &*row.point.meta;
        let exemplars = &row.point.exemplars;
        Self {
            resource_attributes: MapRef(&meta.resource_attributes),
            resource_schema_url: &meta.resource_schema_url,
            scope_name: &meta.scope_name,
            scope_version: &meta.scope_version,
            scope_attributes: MapRef(&meta.scope_attributes),
            scope_dropped_attr_count: meta.scope_dropped_attr_count,
            scope_schema_url: &meta.scope_schema_url,
            service_name: &meta.service_name,
            metric_name: &meta.metric_name,
            metric_description: &meta.metric_description,
            metric_unit: &meta.metric_unit,
            attributes: MapRef(&row.point.attributes),
            start_time_unix: row.point.start_time_ns,
            time_unix: row.point.time_ns,
            value: row.value,
            flags: row.point.flags,
            exemplars_filtered_attributes: exemplars
                .iter()
                .map(|e| MapRef(&e.filtered_attributes))
                .collect(),
            exemplars_time_unix: exemplars.iter().map(|e| e.time_ns).collect(),
            exemplars_value: exemplars.iter().map(|e| e.value).collect(),
            exemplars_span_id: exemplars.iter().map(|e| e.span_id.as_str()).collect(),
            exemplars_trace_id: exemplars.iter().map(|e| e.trace_id.as_str()).collect(),
            aggregation_temporality: row.aggregation_temporality,
            is_monotonic: row.is_monotonic,
        }
    }
}

/// One `otel_metrics_histogram` row.
#[derive(Row, serde::Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct HistogramInsert<'a> {
    pub resource_attributes: MapRef<'a>,
    pub resource_schema_url: &'a str,
    pub scope_name: &'a str,
    pub scope_version: &'a str,
    pub scope_attributes: MapRef<'a>,
    pub scope_dropped_attr_count: u32,
    pub scope_schema_url: &'a str,
    pub service_name: &'a str,
    pub metric_name: &'a str,
    pub metric_description: &'a str,
    pub metric_unit: &'a str,
    pub attributes: MapRef<'a>,
    pub start_time_unix: i64,
    pub time_unix: i64,
    pub count: u64,
    pub sum: f64,
    pub bucket_counts: &'a [u64],
    pub explicit_bounds: &'a [f64],
    #[serde(rename = "Exemplars.FilteredAttributes")]
    pub exemplars_filtered_attributes: Vec<MapRef<'a>>,
    #[serde(rename = "Exemplars.TimeUnix")]
    pub exemplars_time_unix: Vec<i64>,
    #[serde(rename = "Exemplars.Value")]
    pub exemplars_value: Vec<f64>,
    #[serde(rename = "Exemplars.SpanId")]
    pub exemplars_span_id: Vec<&'a str>,
    #[serde(rename = "Exemplars.TraceId")]
    pub exemplars_trace_id: Vec<&'a str>,
    pub flags: u32,
    pub min: f64,
    pub max: f64,
    pub aggregation_temporality: i32,
}

impl<'a> From<&'a HistogramRow> for HistogramInsert<'a> {
    fn from(row: &'a HistogramRow) -> Self {
        let meta = &*row.point.meta;
        let exemplars = &row.point.exemplars;
        Self {
            resource_attributes: MapRef(&meta.resource_attributes),
            resource_schema_url: &meta.resource_schema_url,
            scope_name: &meta.scope_name,
            scope_version: &meta.scope_version,
            scope_attributes: MapRef(&meta.scope_attributes),
            scope_dropped_attr_count: meta.scope_dropped_attr_count,
            scope_schema_url: &meta.scope_schema_url,
            service_name: &meta.service_name,
            metric_name: &meta.metric_name,
            metric_description: &meta.metric_description,
            metric_unit: &meta.metric_unit,
            attributes: MapRef(&row.point.attributes),
            start_time_unix: row.point.start_time_ns,
            time_unix: row.point.time_ns,
            count: row.count,
            sum: row.sum,
            bucket_counts: &row.bucket_counts,
            explicit_bounds: &row.explicit_bounds,
            exemplars_filtered_attributes: exemplars
                .iter()
                .map(|e| MapRef(&e.filtered_attributes))
                .collect(),
            exemplars_time_unix: exemplars.iter().map(|e| e.time_ns).collect(),
            exemplars_value: exemplars.iter().map(|e| e.value).collect(),
            exemplars_span_id: exemplars.iter().map(|e| e.span_id.as_str()).collect(),
            exemplars_trace_id: exemplars.iter().map(|e| e.trace_id.as_str()).collect(),
            flags: row.point.flags,
            min: row.min,
            max: row.max,
            aggregation_temporality: row.aggregation_temporality,
        }
    }
}

/// One `otel_metrics_exponential_histogram` row.
#[derive(Row, serde::Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ExpHistogramInsert<'a> {
    pub resource_attributes: MapRef<'a>,
    pub resource_schema_url: &'a str,
    pub scope_name: &'a str,
    pub scope_version: &'a str,
    pub scope_attributes: MapRef<'a>,
    pub scope_dropped_attr_count: u32,
    pub scope_schema_url: &'a str,
    pub service_name: &'a str,
    pub metric_name: &'a str,
    pub metric_description: &'a str,
    pub metric_unit: &'a str,
    pub attributes: MapRef<'a>,
    pub start_time_unix: i64,
    pub time_unix: i64,
    pub count: u64,
    pub sum: f64,
    pub scale: i32,
    pub zero_count: u64,
    pub positive_offset: i32,
    pub positive_bucket_counts: &'a [u64],
    pub negative_offset: i32,
    pub negative_bucket_counts: &'a [u64],
    #[serde(rename = "Exemplars.FilteredAttributes")]
    pub exemplars_filtered_attributes: Vec<MapRef<'a>>,
    #[serde(rename = "Exemplars.TimeUnix")]
    pub exemplars_time_unix: Vec<i64>,
    #[serde(rename = "Exemplars.Value")]
    pub exemplars_value: Vec<f64>,
    #[serde(rename = "Exemplars.SpanId")]
    pub exemplars_span_id: Vec<&'a str>,
    #[serde(rename = "Exemplars.TraceId")]
    pub exemplars_trace_id: Vec<&'a str>,
    pub flags: u32,
    pub min: f64,
    pub max: f64,
    pub aggregation_temporality: i32,
}

impl<'a> From<&'a ExpHistogramRow> for ExpHistogramInsert<'a> {
    fn from(row: &'a ExpHistogramRow) -> Self {
        let meta = &*row.point.meta;
        let exemplars = &row.point.exemplars;
        Self {
            resource_attributes: MapRef(&meta.resource_attributes),
            resource_schema_url: &meta.resource_schema_url,
            scope_name: &meta.scope_name,
            scope_version: &meta.scope_version,
            scope_attributes: MapRef(&meta.scope_attributes),
            scope_dropped_attr_count: meta.scope_dropped_attr_count,
            scope_schema_url: &meta.scope_schema_url,
            service_name: &meta.service_name,
            metric_name: &meta.metric_name,
            metric_description: &meta.metric_description,
            metric_unit: &meta.metric_unit,
            attributes: MapRef(&row.point.attributes),
            start_time_unix: row.point.start_time_ns,
            time_unix: row.point.time_ns,
            count: row.count,
            sum: row.sum,
            scale: row.scale,
            zero_count: row.zero_count,
            positive_offset: row.positive_offset,
            positive_bucket_counts: &row.positive_bucket_counts,
            negative_offset: row.negative_offset,
            negative_bucket_counts: &row.negative_bucket_counts,
            exemplars_filtered_attributes: exemplars
                .iter()
                .map(|e| MapRef(&e.filtered_attributes))
                .collect(),
            exemplars_time_unix: exemplars.iter().map(|e| e.time_ns).collect(),
            exemplars_value: exemplars.iter().map(|e| e.value).collect(),
            exemplars_span_id: exemplars.iter().map(|e| e.span_id.as_str()).collect(),
            exemplars_trace_id: exemplars.iter().map(|e| e.trace_id.as_str()).collect(),
            flags: row.point.flags,
            min: row.min,
            max: row.max,
            aggregation_temporality: row.aggregation_temporality,
        }
    }
}

/// One `otel_metrics_summary` row.
#[derive(Row, serde::Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SummaryInsert<'a> {
    pub resource_attributes: MapRef<'a>,
    pub resource_schema_url: &'a str,
    pub scope_name: &'a str,
    pub scope_version: &'a str,
    pub scope_attributes: MapRef<'a>,
    pub scope_dropped_attr_count: u32,
    pub scope_schema_url: &'a str,
    pub service_name: &'a str,
    pub metric_name: &'a str,
    pub metric_description: &'a str,
    pub metric_unit: &'a str,
    pub attributes: MapRef<'a>,
    pub start_time_unix: i64,
    pub time_unix: i64,
    pub count: u64,
    pub sum: f64,
    #[serde(rename = "ValueAtQuantiles.Quantile")]
    pub quantiles: &'a [f64],
    #[serde(rename = "ValueAtQuantiles.Value")]
    pub values: &'a [f64],
    pub flags: u32,
}

impl<'a> From<&'a SummaryRow> for SummaryInsert<'a> {
    fn from(row: &'a SummaryRow) -> Self {
        let meta = &*row.point.meta;
        Self {
            resource_attributes: MapRef(&meta.resource_attributes),
            resource_schema_url: &meta.resource_schema_url,
            scope_name: &meta.scope_name,
            scope_version: &meta.scope_version,
            scope_attributes: MapRef(&meta.scope_attributes),
            scope_dropped_attr_count: meta.scope_dropped_attr_count,
            scope_schema_url: &meta.scope_schema_url,
            service_name: &meta.service_name,
            metric_name: &meta.metric_name,
            metric_description: &meta.metric_description,
            metric_unit: &meta.metric_unit,
            attributes: MapRef(&row.point.attributes),
            start_time_unix: row.point.start_time_ns,
            time_unix: row.point.time_ns,
            count: row.count,
            sum: row.sum,
            quantiles: &row.quantiles,
            values: &row.values,
            flags: row.point.flags,
        }
    }
}

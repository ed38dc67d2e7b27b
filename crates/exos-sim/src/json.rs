//! OTLP/JSON encoding of export requests.
//!
//! Follows the OTLP specification's JSON mapping
//! (<https://opentelemetry.io/docs/specs/otlp/#json-protobuf-encoding>): field
//! names in lowerCamelCase, trace and span ids as lowercase hex, 64-bit integers
//! as decimal strings, enums as numbers. Empty and zero fields are left out, as
//! the protobuf JSON mapping does and as the browser SDK's exporter sends them.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, InstrumentationScope, KeyValue};
use opentelemetry_proto::tonic::logs::v1::LogRecord;
use opentelemetry_proto::tonic::metrics::v1::{
    metric, number_data_point, HistogramDataPoint, Metric, NumberDataPoint,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::Span;
use serde_json::{json, Map, Value};

use crate::batch::Request;

/// Encodes a request as OTLP/JSON bytes.
pub fn encode(request: &Request) -> Vec<u8> {
    let value = match request {
        Request::Traces(request) => traces(request),
        Request::Logs(request) => logs(request),
        Request::Metrics(request) => metrics(request),
    };
    value.to_string().into_bytes()
}

fn traces(request: &ExportTraceServiceRequest) -> Value {
    let resource_spans: Vec<Value> = request
        .resource_spans
        .iter()
        .map(|resource| {
            let scopes: Vec<Value> = resource
                .scope_spans
                .iter()
                .map(|scope| json!({"scope": scope_json(scope.scope.as_ref()), "spans": scope.spans.iter().map(span).collect::<Vec<_>>()}))
                .collect();
            json!({"resource": resource_json(resource.resource.as_ref()), "scopeSpans": scopes})
        })
        .collect();
    json!({ "resourceSpans": resource_spans })
}

fn span(span: &Span) -> Value {
    let mut object = Map::new();
    object.insert("traceId".into(), json!(hex::encode(&span.trace_id)));
    object.insert("spanId".into(), json!(hex::encode(&span.span_id)));
    if !span.parent_span_id.is_empty() {
        object.insert(
            "parentSpanId".into(),
            json!(hex::encode(&span.parent_span_id)),
        );
    }
    object.insert("name".into(), json!(span.name));
    object.insert("kind".into(), json!(span.kind));
    object.insert(
        "startTimeUnixNano".into(),
        json!(span.start_time_unix_nano.to_string()),
    );
    object.insert(
        "endTimeUnixNano".into(),
        json!(span.end_time_unix_nano.to_string()),
    );
    object.insert("attributes".into(), attributes(&span.attributes));
    if !span.events.is_empty() {
        let events: Vec<Value> = span
            .events
            .iter()
            .map(|event| json!({"timeUnixNano": event.time_unix_nano.to_string(), "name": event.name, "attributes": attributes(&event.attributes)}))
            .collect();
        object.insert("events".into(), json!(events));
    }
    if let Some(status) = &span.status {
        let mut status_object = Map::new();
        if !status.message.is_empty() {
            status_object.insert("message".into(), json!(status.message));
        }
        status_object.insert("code".into(), json!(status.code));
        object.insert("status".into(), Value::Object(status_object));
    }
    Value::Object(object)
}

fn logs(request: &ExportLogsServiceRequest) -> Value {
    let resource_logs: Vec<Value> = request
        .resource_logs
        .iter()
        .map(|resource| {
            let scopes: Vec<Value> = resource
                .scope_logs
                .iter()
                .map(|scope| json!({"scope": scope_json(scope.scope.as_ref()), "logRecords": scope.log_records.iter().map(log_record).collect::<Vec<_>>()}))
                .collect();
            json!({"resource": resource_json(resource.resource.as_ref()), "scopeLogs": scopes})
        })
        .collect();
    json!({ "resourceLogs": resource_logs })
}

fn log_record(record: &LogRecord) -> Value {
    let mut object = Map::new();
    object.insert(
        "timeUnixNano".into(),
        json!(record.time_unix_nano.to_string()),
    );
    object.insert(
        "observedTimeUnixNano".into(),
        json!(record.observed_time_unix_nano.to_string()),
    );
    if record.severity_number != 0 {
        object.insert("severityNumber".into(), json!(record.severity_number));
    }
    if !record.severity_text.is_empty() {
        object.insert("severityText".into(), json!(record.severity_text));
    }
    if let Some(body) = &record.body {
        object.insert("body".into(), any_value_json(body));
    }
    object.insert("attributes".into(), attributes(&record.attributes));
    if record.flags != 0 {
        object.insert("flags".into(), json!(record.flags));
    }
    if !record.trace_id.is_empty() {
        object.insert("traceId".into(), json!(hex::encode(&record.trace_id)));
        object.insert("spanId".into(), json!(hex::encode(&record.span_id)));
    }
    Value::Object(object)
}

fn metrics(request: &ExportMetricsServiceRequest) -> Value {
    let resource_metrics: Vec<Value> = request
        .resource_metrics
        .iter()
        .map(|resource| {
            let scopes: Vec<Value> = resource
                .scope_metrics
                .iter()
                .map(|scope| json!({"scope": scope_json(scope.scope.as_ref()), "metrics": scope.metrics.iter().map(metric_json).collect::<Vec<_>>()}))
                .collect();
            json!({"resource": resource_json(resource.resource.as_ref()), "scopeMetrics": scopes})
        })
        .collect();
    json!({ "resourceMetrics": resource_metrics })
}

fn metric_json(metric: &Metric) -> Value {
    let mut object = Map::new();
    object.insert("name".into(), json!(metric.name));
    object.insert("description".into(), json!(metric.description));
    object.insert("unit".into(), json!(metric.unit));
    match &metric.data {
        Some(metric::Data::Gauge(gauge)) => {
            object.insert("gauge".into(), json!({"dataPoints": gauge.data_points.iter().map(number_point).collect::<Vec<_>>()}));
        }
        Some(metric::Data::Sum(sum)) => {
            object.insert(
                "sum".into(),
                json!({
                    "dataPoints": sum.data_points.iter().map(number_point).collect::<Vec<_>>(),
                    "aggregationTemporality": sum.aggregation_temporality,
                    "isMonotonic": sum.is_monotonic,
                }),
            );
        }
        Some(metric::Data::Histogram(histogram)) => {
            object.insert(
                "histogram".into(),
                json!({
                    "dataPoints": histogram.data_points.iter().map(histogram_point).collect::<Vec<_>>(),
                    "aggregationTemporality": histogram.aggregation_temporality,
                }),
            );
        }
        // The simulator writes no exponential histograms or summaries.
        _ => {}
    }
    Value::Object(object)
}

fn number_point(point: &NumberDataPoint) -> Value {
    let mut object = Map::new();
    object.insert("attributes".into(), attributes(&point.attributes));
    if point.start_time_unix_nano != 0 {
        object.insert(
            "startTimeUnixNano".into(),
            json!(point.start_time_unix_nano.to_string()),
        );
    }
    object.insert(
        "timeUnixNano".into(),
        json!(point.time_unix_nano.to_string()),
    );
    match point.value {
        Some(number_data_point::Value::AsInt(value)) => {
            object.insert("asInt".into(), json!(value.to_string()));
        }
        Some(number_data_point::Value::AsDouble(value)) => {
            object.insert("asDouble".into(), json!(value));
        }
        None => {}
    }
    Value::Object(object)
}

fn histogram_point(point: &HistogramDataPoint) -> Value {
    let mut object = Map::new();
    object.insert("attributes".into(), attributes(&point.attributes));
    object.insert(
        "startTimeUnixNano".into(),
        json!(point.start_time_unix_nano.to_string()),
    );
    object.insert(
        "timeUnixNano".into(),
        json!(point.time_unix_nano.to_string()),
    );
    object.insert("count".into(), json!(point.count.to_string()));
    if let Some(sum) = point.sum {
        object.insert("sum".into(), json!(sum));
    }
    let counts: Vec<String> = point.bucket_counts.iter().map(u64::to_string).collect();
    object.insert("bucketCounts".into(), json!(counts));
    object.insert("explicitBounds".into(), json!(point.explicit_bounds));
    if let Some(min) = point.min {
        object.insert("min".into(), json!(min));
    }
    if let Some(max) = point.max {
        object.insert("max".into(), json!(max));
    }
    Value::Object(object)
}

fn resource_json(resource: Option<&Resource>) -> Value {
    let attributes_list = resource
        .map(|r| r.attributes.as_slice())
        .unwrap_or_default();
    json!({ "attributes": attributes(attributes_list) })
}

fn scope_json(scope: Option<&InstrumentationScope>) -> Value {
    match scope {
        Some(scope) => json!({"name": scope.name, "version": scope.version}),
        None => json!({}),
    }
}

fn attributes(list: &[KeyValue]) -> Value {
    let items: Vec<Value> = list
        .iter()
        .map(|kv| {
            let value = kv
                .value
                .as_ref()
                .map(any_value_json)
                .unwrap_or_else(|| json!({}));
            json!({"key": kv.key, "value": value})
        })
        .collect();
    Value::Array(items)
}

fn any_value_json(value: &AnyValue) -> Value {
    match &value.value {
        Some(any_value::Value::StringValue(text)) => json!({ "stringValue": text }),
        Some(any_value::Value::BoolValue(flag)) => json!({ "boolValue": flag }),
        Some(any_value::Value::IntValue(number)) => json!({ "intValue": number.to_string() }),
        Some(any_value::Value::DoubleValue(number)) => json!({ "doubleValue": number }),
        Some(any_value::Value::ArrayValue(array)) => {
            json!({"arrayValue": {"values": array.values.iter().map(any_value_json).collect::<Vec<_>>()}})
        }
        Some(any_value::Value::KvlistValue(list)) => {
            json!({"kvlistValue": {"values": attributes(&list.values)}})
        }
        Some(any_value::Value::BytesValue(bytes)) => json!({ "bytesValue": BASE64.encode(bytes) }),
        Some(any_value::Value::StringValueStrindex(index)) => {
            json!({ "stringValueStrindex": index })
        }
        None => json!({}),
    }
}

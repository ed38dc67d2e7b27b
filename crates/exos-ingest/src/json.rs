//! OTLP/JSON to the protobuf message types.
//!
//! The OTLP JSON encoding is the protobuf JSON mapping with OTLP's own
//! exceptions (<https://opentelemetry.io/docs/specs/otlp/#json-protobuf-encoding>):
//! trace and span ids are hex strings, not base64; enums may be given as
//! numbers or as names; 64-bit integers as strings or numbers; field names in
//! lowerCamelCase (the original snake_case names are accepted too); unknown
//! fields are ignored. Decoding goes through `serde_json::Value` so that every
//! one of those variations is handled in one place with a precise error path.

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{
    any_value, AnyValue, ArrayValue, InstrumentationScope, KeyValue, KeyValueList,
};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::metrics::v1 as pm;
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{span, ResourceSpans, ScopeSpans, Span, Status};
use serde_json::{Map, Value};

/// Maximum nesting of AnyValue arrays and key-value lists accepted in JSON.
const MAX_ANY_VALUE_DEPTH: usize = 32;

/// A JSON body that is not valid OTLP JSON, with the path of the offending field.
#[derive(Debug, thiserror::Error)]
#[error("invalid OTLP JSON at {path}: {reason}")]
pub struct JsonError {
    pub path: String,
    pub reason: String,
}

type Result<T> = std::result::Result<T, JsonError>;

/// A JSON object together with its path, for error messages.
struct Obj<'a> {
    map: &'a Map<String, Value>,
    path: String,
}

fn fail<T>(path: &str, reason: impl Into<String>) -> Result<T> {
    Err(JsonError {
        path: path.to_string(),
        reason: reason.into(),
    })
}

fn as_obj<'a>(value: &'a Value, path: String) -> Result<Obj<'a>> {
    match value {
        Value::Object(map) => Ok(Obj { map, path }),
        other => fail(&path, format!("expected an object, got {}", kind(other))),
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

impl<'a> Obj<'a> {
    /// Looks a field up by its lowerCamelCase name, then by its snake_case name.
    fn get(&self, camel: &str, snake: &str) -> Option<&'a Value> {
        self.map
            .get(camel)
            .or_else(|| self.map.get(snake))
            .filter(|value| !value.is_null())
    }

    fn sub(&self, name: &str) -> String {
        format!("{}.{}", self.path, name)
    }

    fn string(&self, camel: &str, snake: &str) -> Result<String> {
        match self.get(camel, snake) {
            None => Ok(String::new()),
            Some(Value::String(text)) => Ok(text.clone()),
            Some(other) => fail(
                &self.sub(camel),
                format!("expected a string, got {}", kind(other)),
            ),
        }
    }

    fn u64(&self, camel: &str, snake: &str) -> Result<u64> {
        match self.get(camel, snake) {
            None => Ok(0),
            Some(value) => parse_u64(value, &self.sub(camel)),
        }
    }

    fn i64(&self, camel: &str, snake: &str) -> Result<i64> {
        match self.get(camel, snake) {
            None => Ok(0),
            Some(value) => parse_i64(value, &self.sub(camel)),
        }
    }

    fn u32(&self, camel: &str, snake: &str) -> Result<u32> {
        let value = self.u64(camel, snake)?;
        u32::try_from(value)
            .or_else(|_| fail(&self.sub(camel), format!("{value} does not fit in 32 bits")))
    }

    fn i32(&self, camel: &str, snake: &str) -> Result<i32> {
        let value = self.i64(camel, snake)?;
        i32::try_from(value)
            .or_else(|_| fail(&self.sub(camel), format!("{value} does not fit in 32 bits")))
    }

    fn f64(&self, camel: &str, snake: &str) -> Result<Option<f64>> {
        self.get(camel, snake)
            .map(|value| parse_f64(value, &self.sub(camel)))
            .transpose()
    }

    fn bool(&self, camel: &str, snake: &str) -> Result<bool> {
        match self.get(camel, snake) {
            None => Ok(false),
            Some(Value::Bool(flag)) => Ok(*flag),
            Some(other) => fail(
                &self.sub(camel),
                format!("expected a boolean, got {}", kind(other)),
            ),
        }
    }

    /// Decodes a hex-encoded id (trace or span id); OTLP JSON never uses base64 here.
    fn hex_id(&self, camel: &str, snake: &str) -> Result<Vec<u8>> {
        let text = self.string(camel, snake)?;
        hex::decode(&text).or_else(|_| {
            fail(
                &self.sub(camel),
                format!("{text:?} is not a hex string; OTLP JSON encodes ids as hex"),
            )
        })
    }

    fn enum_value(&self, camel: &str, snake: &str, names: &[&str]) -> Result<i32> {
        match self.get(camel, snake) {
            None => Ok(0),
            Some(Value::String(name)) => match names.iter().position(|known| known == name) {
                Some(index) => Ok(index as i32),
                None => fail(
                    &self.sub(camel),
                    format!("unknown enum name {name:?}; expected one of {names:?} or its number"),
                ),
            },
            Some(value) => parse_i64(value, &self.sub(camel)).map(|number| number as i32),
        }
    }

    fn array(&self, camel: &str, snake: &str) -> Result<Vec<(&'a Value, String)>> {
        match self.get(camel, snake) {
            None => Ok(Vec::new()),
            Some(Value::Array(items)) => Ok(items
                .iter()
                .enumerate()
                .map(|(index, item)| (item, format!("{}[{index}]", self.sub(camel))))
                .collect()),
            Some(other) => fail(
                &self.sub(camel),
                format!("expected an array, got {}", kind(other)),
            ),
        }
    }

    fn objects<T>(
        &self,
        camel: &str,
        snake: &str,
        each: impl Fn(&Obj) -> Result<T>,
    ) -> Result<Vec<T>> {
        self.array(camel, snake)?
            .into_iter()
            .map(|(value, path)| as_obj(value, path).and_then(|obj| each(&obj)))
            .collect()
    }

    fn object<T>(
        &self,
        camel: &str,
        snake: &str,
        each: impl Fn(&Obj) -> Result<T>,
    ) -> Result<Option<T>> {
        self.get(camel, snake)
            .map(|value| as_obj(value, self.sub(camel)).and_then(|obj| each(&obj)))
            .transpose()
    }
}

fn parse_u64(value: &Value, path: &str) -> Result<u64> {
    match value {
        Value::Number(number) => number.as_u64().map_or_else(
            || fail(path, format!("{number} is not an unsigned 64-bit integer")),
            Ok,
        ),
        Value::String(text) => text
            .parse()
            .or_else(|_| fail(path, format!("{text:?} is not an unsigned 64-bit integer"))),
        other => fail(path, format!("expected an integer, got {}", kind(other))),
    }
}

fn parse_i64(value: &Value, path: &str) -> Result<i64> {
    match value {
        Value::Number(number) => number.as_i64().map_or_else(
            || fail(path, format!("{number} is not a 64-bit integer")),
            Ok,
        ),
        Value::String(text) => text
            .parse()
            .or_else(|_| fail(path, format!("{text:?} is not a 64-bit integer"))),
        other => fail(path, format!("expected an integer, got {}", kind(other))),
    }
}

/// Parses a double, accepting the JSON mapping's `"NaN"`, `"Infinity"` and `"-Infinity"`.
fn parse_f64(value: &Value, path: &str) -> Result<f64> {
    match value {
        Value::Number(number) => number
            .as_f64()
            .map_or_else(|| fail(path, format!("{number} is not a number")), Ok),
        Value::String(text) => match text.as_str() {
            "NaN" => Ok(f64::NAN),
            "Infinity" => Ok(f64::INFINITY),
            "-Infinity" => Ok(f64::NEG_INFINITY),
            _ => text
                .parse()
                .or_else(|_| fail(path, format!("{text:?} is not a number"))),
        },
        other => fail(path, format!("expected a number, got {}", kind(other))),
    }
}

fn parse_root(body: &[u8]) -> Result<Value> {
    serde_json::from_slice(body).map_err(|error| JsonError {
        path: "$".into(),
        reason: error.to_string(),
    })
}

fn any_value(value: &Value, path: String, depth: usize) -> Result<AnyValue> {
    if depth > MAX_ANY_VALUE_DEPTH {
        return fail(
            &path,
            format!("AnyValue nested deeper than {MAX_ANY_VALUE_DEPTH} levels"),
        );
    }
    let obj = as_obj(value, path)?;
    let inner = if let Some(text) = obj.get("stringValue", "string_value") {
        let Value::String(text) = text else {
            return fail(&obj.sub("stringValue"), "expected a string");
        };
        Some(any_value::Value::StringValue(text.clone()))
    } else if obj.get("boolValue", "bool_value").is_some() {
        Some(any_value::Value::BoolValue(
            obj.bool("boolValue", "bool_value")?,
        ))
    } else if obj.get("intValue", "int_value").is_some() {
        Some(any_value::Value::IntValue(
            obj.i64("intValue", "int_value")?,
        ))
    } else if obj.get("doubleValue", "double_value").is_some() {
        Some(any_value::Value::DoubleValue(
            obj.f64("doubleValue", "double_value")?.unwrap_or_default(),
        ))
    } else if let Some(bytes) = obj.get("bytesValue", "bytes_value") {
        Some(any_value::Value::BytesValue(base64_field(
            bytes,
            &obj.sub("bytesValue"),
        )?))
    } else if obj.get("arrayValue", "array_value").is_some() {
        let values = obj
            .object("arrayValue", "array_value", |array| {
                array
                    .array("values", "values")?
                    .into_iter()
                    .map(|(item, path)| any_value(item, path, depth + 1))
                    .collect::<Result<Vec<_>>>()
            })?
            .unwrap_or_default();
        Some(any_value::Value::ArrayValue(ArrayValue { values }))
    } else if obj.get("kvlistValue", "kvlist_value").is_some() {
        let values = obj
            .object("kvlistValue", "kvlist_value", |list| {
                list.objects("values", "values", |kv| key_value(kv, depth + 1))
            })?
            .unwrap_or_default();
        Some(any_value::Value::KvlistValue(KeyValueList { values }))
    } else {
        None
    };
    Ok(AnyValue { value: inner })
}

fn base64_field(value: &Value, path: &str) -> Result<Vec<u8>> {
    use base64::Engine;
    let Value::String(text) = value else {
        return fail(path, "expected a base64 string");
    };
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .or_else(|_| fail(path, "invalid base64"))
}

fn key_value(obj: &Obj, depth: usize) -> Result<KeyValue> {
    let value = obj
        .get("value", "value")
        .map(|value| any_value(value, obj.sub("value"), depth))
        .transpose()?;
    Ok(KeyValue {
        key: obj.string("key", "key")?,
        value,
        key_strindex: 0,
    })
}

fn attributes(obj: &Obj, camel: &str, snake: &str) -> Result<Vec<KeyValue>> {
    obj.objects(camel, snake, |kv| key_value(kv, 0))
}

fn resource(obj: &Obj) -> Result<Resource> {
    Ok(Resource {
        attributes: attributes(obj, "attributes", "attributes")?,
        dropped_attributes_count: obj.u32("droppedAttributesCount", "dropped_attributes_count")?,
        ..Default::default()
    })
}

fn scope(obj: &Obj) -> Result<InstrumentationScope> {
    Ok(InstrumentationScope {
        name: obj.string("name", "name")?,
        version: obj.string("version", "version")?,
        attributes: attributes(obj, "attributes", "attributes")?,
        dropped_attributes_count: obj.u32("droppedAttributesCount", "dropped_attributes_count")?,
    })
}

const SPAN_KINDS: &[&str] = &[
    "SPAN_KIND_UNSPECIFIED",
    "SPAN_KIND_INTERNAL",
    "SPAN_KIND_SERVER",
    "SPAN_KIND_CLIENT",
    "SPAN_KIND_PRODUCER",
    "SPAN_KIND_CONSUMER",
];
const STATUS_CODES: &[&str] = &["STATUS_CODE_UNSET", "STATUS_CODE_OK", "STATUS_CODE_ERROR"];
const TEMPORALITIES: &[&str] = &[
    "AGGREGATION_TEMPORALITY_UNSPECIFIED",
    "AGGREGATION_TEMPORALITY_DELTA",
    "AGGREGATION_TEMPORALITY_CUMULATIVE",
];

/// Decodes an OTLP/JSON `ExportTraceServiceRequest`.
pub fn traces(body: &[u8]) -> Result<ExportTraceServiceRequest> {
    let root = parse_root(body)?;
    let root = as_obj(&root, "$".into())?;
    let resource_spans = root.objects("resourceSpans", "resource_spans", |rs| {
        Ok(ResourceSpans {
            resource: rs.object("resource", "resource", resource)?,
            scope_spans: rs.objects("scopeSpans", "scope_spans", |ss| {
                Ok(ScopeSpans {
                    scope: ss.object("scope", "scope", scope)?,
                    spans: ss.objects("spans", "spans", span_message)?,
                    schema_url: ss.string("schemaUrl", "schema_url")?,
                })
            })?,
            schema_url: rs.string("schemaUrl", "schema_url")?,
        })
    })?;
    Ok(ExportTraceServiceRequest { resource_spans })
}

fn span_message(obj: &Obj) -> Result<Span> {
    Ok(Span {
        trace_id: obj.hex_id("traceId", "trace_id")?,
        span_id: obj.hex_id("spanId", "span_id")?,
        trace_state: obj.string("traceState", "trace_state")?,
        parent_span_id: obj.hex_id("parentSpanId", "parent_span_id")?,
        flags: obj.u32("flags", "flags")?,
        name: obj.string("name", "name")?,
        kind: obj.enum_value("kind", "kind", SPAN_KINDS)?,
        start_time_unix_nano: obj.u64("startTimeUnixNano", "start_time_unix_nano")?,
        end_time_unix_nano: obj.u64("endTimeUnixNano", "end_time_unix_nano")?,
        attributes: attributes(obj, "attributes", "attributes")?,
        dropped_attributes_count: obj.u32("droppedAttributesCount", "dropped_attributes_count")?,
        events: obj.objects("events", "events", |event| {
            Ok(span::Event {
                time_unix_nano: event.u64("timeUnixNano", "time_unix_nano")?,
                name: event.string("name", "name")?,
                attributes: attributes(event, "attributes", "attributes")?,
                dropped_attributes_count: event
                    .u32("droppedAttributesCount", "dropped_attributes_count")?,
            })
        })?,
        dropped_events_count: obj.u32("droppedEventsCount", "dropped_events_count")?,
        links: obj.objects("links", "links", |link| {
            Ok(span::Link {
                trace_id: link.hex_id("traceId", "trace_id")?,
                span_id: link.hex_id("spanId", "span_id")?,
                trace_state: link.string("traceState", "trace_state")?,
                attributes: attributes(link, "attributes", "attributes")?,
                dropped_attributes_count: link
                    .u32("droppedAttributesCount", "dropped_attributes_count")?,
                flags: link.u32("flags", "flags")?,
            })
        })?,
        dropped_links_count: obj.u32("droppedLinksCount", "dropped_links_count")?,
        status: obj.object("status", "status", |status| {
            Ok(Status {
                message: status.string("message", "message")?,
                code: status.enum_value("code", "code", STATUS_CODES)?,
            })
        })?,
    })
}

/// Decodes an OTLP/JSON `ExportLogsServiceRequest`.
pub fn logs(body: &[u8]) -> Result<ExportLogsServiceRequest> {
    let root = parse_root(body)?;
    let root = as_obj(&root, "$".into())?;
    let resource_logs = root.objects("resourceLogs", "resource_logs", |rl| {
        Ok(ResourceLogs {
            resource: rl.object("resource", "resource", resource)?,
            scope_logs: rl.objects("scopeLogs", "scope_logs", |sl| {
                Ok(ScopeLogs {
                    scope: sl.object("scope", "scope", scope)?,
                    log_records: sl.objects("logRecords", "log_records", log_record)?,
                    schema_url: sl.string("schemaUrl", "schema_url")?,
                })
            })?,
            schema_url: rl.string("schemaUrl", "schema_url")?,
        })
    })?;
    Ok(ExportLogsServiceRequest { resource_logs })
}

fn log_record(obj: &Obj) -> Result<LogRecord> {
    let body = obj
        .get("body", "body")
        .map(|value| any_value(value, obj.sub("body"), 0))
        .transpose()?;
    Ok(LogRecord {
        time_unix_nano: obj.u64("timeUnixNano", "time_unix_nano")?,
        observed_time_unix_nano: obj.u64("observedTimeUnixNano", "observed_time_unix_nano")?,
        severity_number: obj.enum_value("severityNumber", "severity_number", SEVERITY_NUMBERS)?,
        severity_text: obj.string("severityText", "severity_text")?,
        body,
        attributes: attributes(obj, "attributes", "attributes")?,
        dropped_attributes_count: obj.u32("droppedAttributesCount", "dropped_attributes_count")?,
        flags: obj.u32("flags", "flags")?,
        trace_id: obj.hex_id("traceId", "trace_id")?,
        span_id: obj.hex_id("spanId", "span_id")?,
        event_name: obj.string("eventName", "event_name")?,
    })
}

const SEVERITY_NUMBERS: &[&str] = &[
    "SEVERITY_NUMBER_UNSPECIFIED",
    "SEVERITY_NUMBER_TRACE",
    "SEVERITY_NUMBER_TRACE2",
    "SEVERITY_NUMBER_TRACE3",
    "SEVERITY_NUMBER_TRACE4",
    "SEVERITY_NUMBER_DEBUG",
    "SEVERITY_NUMBER_DEBUG2",
    "SEVERITY_NUMBER_DEBUG3",
    "SEVERITY_NUMBER_DEBUG4",
    "SEVERITY_NUMBER_INFO",
    "SEVERITY_NUMBER_INFO2",
    "SEVERITY_NUMBER_INFO3",
    "SEVERITY_NUMBER_INFO4",
    "SEVERITY_NUMBER_WARN",
    "SEVERITY_NUMBER_WARN2",
    "SEVERITY_NUMBER_WARN3",
    "SEVERITY_NUMBER_WARN4",
    "SEVERITY_NUMBER_ERROR",
    "SEVERITY_NUMBER_ERROR2",
    "SEVERITY_NUMBER_ERROR3",
    "SEVERITY_NUMBER_ERROR4",
    "SEVERITY_NUMBER_FATAL",
    "SEVERITY_NUMBER_FATAL2",
    "SEVERITY_NUMBER_FATAL3",
    "SEVERITY_NUMBER_FATAL4",
];

/// Decodes an OTLP/JSON `ExportMetricsServiceRequest`.
pub fn metrics(body: &[u8]) -> Result<ExportMetricsServiceRequest> {
    let root = parse_root(body)?;
    let root = as_obj(&root, "$".into())?;
    let resource_metrics = root.objects("resourceMetrics", "resource_metrics", |rm| {
        Ok(pm::ResourceMetrics {
            resource: rm.object("resource", "resource", resource)?,
            scope_metrics: rm.objects("scopeMetrics", "scope_metrics", |sm| {
                Ok(pm::ScopeMetrics {
                    scope: sm.object("scope", "scope", scope)?,
                    metrics: sm.objects("metrics", "metrics", metric)?,
                    schema_url: sm.string("schemaUrl", "schema_url")?,
                })
            })?,
            schema_url: rm.string("schemaUrl", "schema_url")?,
        })
    })?;
    Ok(ExportMetricsServiceRequest { resource_metrics })
}

fn metric(obj: &Obj) -> Result<pm::Metric> {
    use pm::metric::Data;
    let data = if let Some(gauge) = obj.object("gauge", "gauge", |g| {
        Ok(pm::Gauge {
            data_points: g.objects("dataPoints", "data_points", number_point)?,
        })
    })? {
        Some(Data::Gauge(gauge))
    } else if let Some(sum) = obj.object("sum", "sum", |s| {
        Ok(pm::Sum {
            data_points: s.objects("dataPoints", "data_points", number_point)?,
            aggregation_temporality: temporality(s)?,
            is_monotonic: s.bool("isMonotonic", "is_monotonic")?,
        })
    })? {
        Some(Data::Sum(sum))
    } else if let Some(histogram) = obj.object("histogram", "histogram", |h| {
        Ok(pm::Histogram {
            data_points: h.objects("dataPoints", "data_points", histogram_point)?,
            aggregation_temporality: temporality(h)?,
        })
    })? {
        Some(Data::Histogram(histogram))
    } else if let Some(exponential) =
        obj.object("exponentialHistogram", "exponential_histogram", |h| {
            Ok(pm::ExponentialHistogram {
                data_points: h.objects("dataPoints", "data_points", exponential_point)?,
                aggregation_temporality: temporality(h)?,
            })
        })?
    {
        Some(Data::ExponentialHistogram(exponential))
    } else {
        obj.object("summary", "summary", |s| {
            Ok(pm::Summary {
                data_points: s.objects("dataPoints", "data_points", summary_point)?,
            })
        })?
        .map(Data::Summary)
    };
    Ok(pm::Metric {
        name: obj.string("name", "name")?,
        description: obj.string("description", "description")?,
        unit: obj.string("unit", "unit")?,
        metadata: attributes(obj, "metadata", "metadata")?,
        data,
    })
}

fn temporality(obj: &Obj) -> Result<i32> {
    obj.enum_value(
        "aggregationTemporality",
        "aggregation_temporality",
        TEMPORALITIES,
    )
}

fn exemplars(obj: &Obj) -> Result<Vec<pm::Exemplar>> {
    obj.objects("exemplars", "exemplars", |ex| {
        let value = if ex.get("asInt", "as_int").is_some() {
            Some(pm::exemplar::Value::AsInt(ex.i64("asInt", "as_int")?))
        } else {
            ex.f64("asDouble", "as_double")?
                .map(pm::exemplar::Value::AsDouble)
        };
        Ok(pm::Exemplar {
            filtered_attributes: attributes(ex, "filteredAttributes", "filtered_attributes")?,
            time_unix_nano: ex.u64("timeUnixNano", "time_unix_nano")?,
            span_id: ex.hex_id("spanId", "span_id")?,
            trace_id: ex.hex_id("traceId", "trace_id")?,
            value,
        })
    })
}

fn number_point(obj: &Obj) -> Result<pm::NumberDataPoint> {
    let value = if obj.get("asInt", "as_int").is_some() {
        Some(pm::number_data_point::Value::AsInt(
            obj.i64("asInt", "as_int")?,
        ))
    } else {
        obj.f64("asDouble", "as_double")?
            .map(pm::number_data_point::Value::AsDouble)
    };
    Ok(pm::NumberDataPoint {
        attributes: attributes(obj, "attributes", "attributes")?,
        start_time_unix_nano: obj.u64("startTimeUnixNano", "start_time_unix_nano")?,
        time_unix_nano: obj.u64("timeUnixNano", "time_unix_nano")?,
        exemplars: exemplars(obj)?,
        flags: obj.u32("flags", "flags")?,
        value,
    })
}

fn u64_list(obj: &Obj, camel: &str, snake: &str) -> Result<Vec<u64>> {
    obj.array(camel, snake)?
        .into_iter()
        .map(|(value, path)| parse_u64(value, &path))
        .collect()
}

fn f64_list(obj: &Obj, camel: &str, snake: &str) -> Result<Vec<f64>> {
    obj.array(camel, snake)?
        .into_iter()
        .map(|(value, path)| parse_f64(value, &path))
        .collect()
}

fn histogram_point(obj: &Obj) -> Result<pm::HistogramDataPoint> {
    Ok(pm::HistogramDataPoint {
        attributes: attributes(obj, "attributes", "attributes")?,
        start_time_unix_nano: obj.u64("startTimeUnixNano", "start_time_unix_nano")?,
        time_unix_nano: obj.u64("timeUnixNano", "time_unix_nano")?,
        count: obj.u64("count", "count")?,
        sum: obj.f64("sum", "sum")?,
        bucket_counts: u64_list(obj, "bucketCounts", "bucket_counts")?,
        explicit_bounds: f64_list(obj, "explicitBounds", "explicit_bounds")?,
        exemplars: exemplars(obj)?,
        flags: obj.u32("flags", "flags")?,
        min: obj.f64("min", "min")?,
        max: obj.f64("max", "max")?,
    })
}

fn buckets(obj: &Obj) -> Result<pm::exponential_histogram_data_point::Buckets> {
    Ok(pm::exponential_histogram_data_point::Buckets {
        offset: obj.i32("offset", "offset")?,
        bucket_counts: u64_list(obj, "bucketCounts", "bucket_counts")?,
    })
}

fn exponential_point(obj: &Obj) -> Result<pm::ExponentialHistogramDataPoint> {
    Ok(pm::ExponentialHistogramDataPoint {
        attributes: attributes(obj, "attributes", "attributes")?,
        start_time_unix_nano: obj.u64("startTimeUnixNano", "start_time_unix_nano")?,
        time_unix_nano: obj.u64("timeUnixNano", "time_unix_nano")?,
        count: obj.u64("count", "count")?,
        sum: obj.f64("sum", "sum")?,
        scale: obj.i32("scale", "scale")?,
        zero_count: obj.u64("zeroCount", "zero_count")?,
        positive: obj.object("positive", "positive", buckets)?,
        negative: obj.object("negative", "negative", buckets)?,
        flags: obj.u32("flags", "flags")?,
        exemplars: exemplars(obj)?,
        min: obj.f64("min", "min")?,
        max: obj.f64("max", "max")?,
        zero_threshold: obj
            .f64("zeroThreshold", "zero_threshold")?
            .unwrap_or_default(),
    })
}

fn summary_point(obj: &Obj) -> Result<pm::SummaryDataPoint> {
    Ok(pm::SummaryDataPoint {
        attributes: attributes(obj, "attributes", "attributes")?,
        start_time_unix_nano: obj.u64("startTimeUnixNano", "start_time_unix_nano")?,
        time_unix_nano: obj.u64("timeUnixNano", "time_unix_nano")?,
        count: obj.u64("count", "count")?,
        sum: obj.f64("sum", "sum")?.unwrap_or_default(),
        quantile_values: obj.objects("quantileValues", "quantile_values", |q| {
            Ok(pm::summary_data_point::ValueAtQuantile {
                quantile: q.f64("quantile", "quantile")?.unwrap_or_default(),
                value: q.f64("value", "value")?.unwrap_or_default(),
            })
        })?,
        flags: obj.u32("flags", "flags")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traces_accept_enum_names_and_string_integers() {
        let body = br#"{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"api"}}]},
            "scopeSpans":[{"scope":{"name":"s"},"spans":[{"traceId":"5B8EFFF798038103D269B633813FC60C","spanId":"EEE19B7EC3C1B174",
            "name":"GET /","kind":"SPAN_KIND_SERVER","startTimeUnixNano":"1700000000000000000","endTimeUnixNano":1700000000000001000,
            "status":{"code":2},"unknownField":{"x":1}}]}]}]}"#;
        let request = traces(body).unwrap();
        let span = &request.resource_spans[0].scope_spans[0].spans[0];
        assert_eq!(span.kind, 2);
        assert_eq!(span.start_time_unix_nano, 1_700_000_000_000_000_000);
        assert_eq!(span.end_time_unix_nano, 1_700_000_000_000_001_000);
        assert_eq!(span.trace_id.len(), 16);
        assert_eq!(span.status.as_ref().unwrap().code, 2);
    }

    #[test]
    fn traces_reject_base64_ids_with_path() {
        let body = br#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"W47/95gDgQPSabYzgT/GDA=="}]}]}]}"#;
        let error = traces(body).unwrap_err();
        assert_eq!(
            error.path,
            "$.resourceSpans[0].scopeSpans[0].spans[0].traceId"
        );
    }

    #[test]
    fn any_value_depth_is_limited() {
        let mut value = String::from(r#"{"stringValue":"x"}"#);
        for _ in 0..36 {
            value = format!(r#"{{"arrayValue":{{"values":[{value}]}}}}"#);
        }
        let body = format!(
            r#"{{"resourceLogs":[{{"scopeLogs":[{{"logRecords":[{{"body":{value}}}]}}]}}]}}"#
        );
        let error = logs(body.as_bytes()).unwrap_err();
        assert!(error.reason.contains("nested deeper"), "{error}");
    }

    #[test]
    fn metrics_decode_histogram_and_double_specials() {
        let body = br#"{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"name":"latency","histogram":{
            "aggregationTemporality":"AGGREGATION_TEMPORALITY_CUMULATIVE","dataPoints":[{"count":"3","sum":"NaN",
            "bucketCounts":["1",2],"explicitBounds":[0.5]}]}}]}]}]}"#;
        let request = metrics(body).unwrap();
        let metric = &request.resource_metrics[0].scope_metrics[0].metrics[0];
        let Some(pm::metric::Data::Histogram(histogram)) = &metric.data else {
            panic!("expected a histogram");
        };
        assert_eq!(histogram.aggregation_temporality, 2);
        assert_eq!(histogram.data_points[0].bucket_counts, vec![1, 2]);
        assert!(histogram.data_points[0].sum.unwrap().is_nan());
    }
}

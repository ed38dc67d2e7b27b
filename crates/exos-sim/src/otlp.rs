//! Small constructors for OTLP protobuf messages, so generators read as data.

use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, ArrayValue, KeyValue};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::span::Event;
use opentelemetry_proto::tonic::trace::v1::{status, Status};

/// A string attribute.
pub fn text(key: &str, value: impl Into<String>) -> KeyValue {
    attribute(key, any_value::Value::StringValue(value.into()))
}

/// An integer attribute.
pub fn int(key: &str, value: i64) -> KeyValue {
    attribute(key, any_value::Value::IntValue(value))
}

/// A double attribute.
pub fn double(key: &str, value: f64) -> KeyValue {
    attribute(key, any_value::Value::DoubleValue(value))
}

/// A boolean attribute.
pub fn boolean(key: &str, value: bool) -> KeyValue {
    attribute(key, any_value::Value::BoolValue(value))
}

/// A string-array attribute (stored as a JSON array).
pub fn texts(key: &str, values: &[String]) -> KeyValue {
    let values = values
        .iter()
        .map(|value| AnyValue {
            value: Some(any_value::Value::StringValue(value.clone())),
        })
        .collect();
    attribute(key, any_value::Value::ArrayValue(ArrayValue { values }))
}

fn attribute(key: &str, value: any_value::Value) -> KeyValue {
    KeyValue {
        key: key.to_string(),
        value: Some(AnyValue { value: Some(value) }),
        key_strindex: 0,
    }
}

/// A string log body.
pub fn body(value: impl Into<String>) -> AnyValue {
    AnyValue {
        value: Some(any_value::Value::StringValue(value.into())),
    }
}

/// The resource of a backend service.
pub fn service_resource(service: &str) -> Resource {
    Resource {
        attributes: vec![
            text("service.name", service),
            text("service.namespace", "ops"),
            text("service.version", "2026.3.1"),
            text("deployment.environment.name", "production"),
            text("telemetry.sdk.language", "rust"),
        ],
        dropped_attributes_count: 0,
        entity_refs: Vec::new(),
    }
}

/// An error status with a message.
pub fn error_status(message: impl Into<String>) -> Option<Status> {
    Some(Status {
        message: message.into(),
        code: status::StatusCode::Error as i32,
    })
}

/// The `exception` span event of the OpenTelemetry semantic conventions.
pub fn exception_event(time_ns: i64, kind: &str, message: &str, stacktrace: &str) -> Event {
    Event {
        time_unix_nano: time_ns as u64,
        name: "exception".into(),
        attributes: vec![
            text("exception.type", kind),
            text("exception.message", message),
            text("exception.stacktrace", stacktrace),
        ],
        dropped_attributes_count: 0,
    }
}

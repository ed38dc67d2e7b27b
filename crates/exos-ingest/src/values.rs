//! AnyValue and attribute conversion to the store's text conventions.
//!
//! The ClickHouse exporter stores every attribute value as a string: ints as
//! decimal text, booleans as `true`/`false`, doubles in shortest round-trip
//! form, bytes as base64, arrays and key-value lists as JSON.

use base64::Engine;
use opentelemetry_proto::tonic::common::v1::{any_value::Value, AnyValue, KeyValue};
use serde_json::{Map, Number, Value as Json};

use crate::limits::Limits;
use exos_core::Attributes;

/// Renders an AnyValue as the text stored for it.
pub fn to_text(value: &AnyValue, limits: &Limits) -> String {
    match &value.value {
        None => String::new(),
        Some(Value::StringValue(text)) => text.clone(),
        Some(Value::BoolValue(flag)) => flag.to_string(),
        Some(Value::IntValue(number)) => number.to_string(),
        Some(Value::DoubleValue(number)) => double_text(*number),
        Some(Value::BytesValue(bytes)) => base64::engine::general_purpose::STANDARD.encode(bytes),
        Some(Value::ArrayValue(_)) | Some(Value::KvlistValue(_)) => {
            to_json(value, limits.max_value_depth).to_string()
        }
        // String-table indexes exist only in the profiles signal, which EXOS does not ingest.
        Some(Value::StringValueStrindex(index)) => index.to_string(),
    }
}

/// Formats a double the way Go's `strconv.FormatFloat(v, 'f', -1, 64)` would for
/// ordinary values, and spells the non-finite ones `NaN`, `+Inf`, `-Inf`.
fn double_text(number: f64) -> String {
    if number.is_nan() {
        "NaN".into()
    } else if number.is_infinite() {
        if number > 0.0 { "+Inf" } else { "-Inf" }.into()
    } else {
        number.to_string()
    }
}

fn to_json(value: &AnyValue, depth_left: usize) -> Json {
    match &value.value {
        None => Json::Null,
        Some(Value::StringValue(text)) => Json::String(text.clone()),
        Some(Value::BoolValue(flag)) => Json::Bool(*flag),
        Some(Value::IntValue(number)) => Json::Number((*number).into()),
        Some(Value::DoubleValue(number)) => Number::from_f64(*number)
            .map(Json::Number)
            .unwrap_or_else(|| Json::String(double_text(*number))),
        Some(Value::BytesValue(bytes)) => {
            Json::String(base64::engine::general_purpose::STANDARD.encode(bytes))
        }
        Some(Value::StringValueStrindex(index)) => Json::Number((*index).into()),
        Some(_) if depth_left == 0 => Json::String("[nested too deep]".into()),
        Some(Value::ArrayValue(array)) => Json::Array(
            array
                .values
                .iter()
                .map(|item| to_json(item, depth_left - 1))
                .collect(),
        ),
        Some(Value::KvlistValue(list)) => {
            let mut map = Map::new();
            for kv in &list.values {
                let item = kv
                    .value
                    .as_ref()
                    .map_or(Json::Null, |item| to_json(item, depth_left - 1));
                map.insert(kv.key.clone(), item);
            }
            Json::Object(map)
        }
    }
}

/// Converts OTLP key-values to the stored map, applying the limits.
///
/// Returns the attributes and, when something was cut, a description of it.
/// A repeated key keeps its last value, as a map insert would.
pub fn attributes(pairs: &[KeyValue], limits: &Limits) -> (Attributes, Option<String>) {
    let mut out: Attributes = Vec::with_capacity(pairs.len().min(limits.max_attributes));
    let mut problem = None;
    for kv in pairs {
        let mut text = kv
            .value
            .as_ref()
            .map(|v| to_text(v, limits))
            .unwrap_or_default();
        if text.len() > limits.max_attribute_value_bytes {
            problem = Some(format!(
                "attribute {:?} value of {} bytes cut to {} bytes",
                kv.key,
                text.len(),
                limits.max_attribute_value_bytes
            ));
            truncate_utf8(&mut text, limits.max_attribute_value_bytes);
        }
        if let Some(slot) = out.iter_mut().find(|(key, _)| *key == kv.key) {
            slot.1 = text;
            continue;
        }
        if out.len() == limits.max_attributes {
            problem = Some(format!(
                "{} attributes given, only the first {} kept",
                pairs.len(),
                limits.max_attributes
            ));
            break;
        }
        out.push((kv.key.clone(), text));
    }
    (out, problem)
}

/// Cuts `text` to at most `max` bytes without splitting a character.
pub fn truncate_utf8(text: &mut String, max: usize) {
    if text.len() <= max {
        return;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.truncate(end);
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry_proto::tonic::common::v1::{ArrayValue, KeyValueList};

    fn any(value: Value) -> AnyValue {
        AnyValue { value: Some(value) }
    }

    #[test]
    fn scalars_render_as_exporter_text() {
        let limits = Limits::default();
        assert_eq!(to_text(&any(Value::IntValue(-42)), &limits), "-42");
        assert_eq!(to_text(&any(Value::BoolValue(true)), &limits), "true");
        assert_eq!(to_text(&any(Value::DoubleValue(0.25)), &limits), "0.25");
        assert_eq!(to_text(&any(Value::DoubleValue(f64::NAN)), &limits), "NaN");
        assert_eq!(
            to_text(&any(Value::DoubleValue(f64::NEG_INFINITY)), &limits),
            "-Inf"
        );
    }

    #[test]
    fn arrays_and_kvlists_render_as_json() {
        let limits = Limits::default();
        let array = any(Value::ArrayValue(ArrayValue {
            values: vec![any(Value::IntValue(1)), any(Value::StringValue("a".into()))],
        }));
        assert_eq!(to_text(&array, &limits), r#"[1,"a"]"#);
        let list = any(Value::KvlistValue(KeyValueList {
            values: vec![KeyValue {
                key: "k".into(),
                value: Some(any(Value::BoolValue(false))),
                key_strindex: 0,
            }],
        }));
        assert_eq!(to_text(&list, &limits), r#"{"k":false}"#);
    }

    #[test]
    fn attribute_count_and_size_are_capped() {
        let limits = Limits {
            max_attributes: 2,
            max_attribute_value_bytes: 3,
            ..Limits::default()
        };
        let pairs: Vec<KeyValue> = (0..5)
            .map(|i| KeyValue {
                key: format!("k{i}"),
                value: Some(any(Value::StringValue("é€x".into()))),
                key_strindex: 0,
            })
            .collect();
        let (attrs, problem) = attributes(&pairs, &limits);
        assert_eq!(attrs.len(), 2);
        assert_eq!(attrs[0].1, "é");
        assert!(problem.unwrap().contains("only the first 2 kept"));
    }
}

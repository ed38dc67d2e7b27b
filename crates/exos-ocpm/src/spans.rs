//! Business spans read from `otel_traces`, and the object-centric log they form.
//!
//! A business span is one step of an order's work: it carries both
//! `order.id` and `operator.id` and no browser session id (browser spans
//! repeat the order and operator of the page, and HTTP spans carry the
//! order only). Its span name is the activity, its start and duration the
//! step's time. For object-centric mining each chosen attribute key is an
//! object type and each distinct non-empty value an object: a span is
//! linked to the order, the operator, and so on, with the key as qualifier.
//! An array attribute (stored as JSON text, such as `document.id` =
//! `["D1","D2"]`) links the span to each of its elements.

use exos_analytics::rows::query;
use exos_analytics::sql::Sql;
use exos_analytics::TimeRange;
use exos_mining::ocel::{EventObjectLink, Ocel, OcelEvent, OcelObject};
use exos_store::Store;
use rustc_hash::FxHashMap;

use crate::OcpmError;

/// The condition that selects business spans.
pub const BUSINESS_SPANS: &str = "OrderId != '' AND OperatorId != '' AND RumSessionId = ''";

/// Business spans read at most per request; beyond it the response sets `truncated`.
pub const MAX_SPANS: usize = 500_000;

/// Object types read from spans when the request names none.
pub const DEFAULT_OBJECT_KEYS: [&str; 3] = ["order.id", "document.id", "operator.id"];

/// Object-type keys accepted at most in one request.
pub const MAX_OBJECT_KEYS: usize = 6;

/// One business span.
#[derive(Debug, Clone, PartialEq)]
pub struct StepSpan {
    pub order: String,
    pub operator: String,
    pub lob: String,
    pub activity: String,
    pub start_ns: i64,
    pub duration_ns: i64,
    pub trace_id: String,
    /// Values of the object-type keys passed to [`read_step_spans`], in their order.
    pub objects: Vec<String>,
}

/// Renders one attribute key: its business-key column when there is one, else the span map.
fn key_expression(sql: &Sql, key: &str) -> String {
    match key {
        "order.id" => "OrderId".into(),
        "operator.id" => "OperatorId".into(),
        "lob" => "Lob".into(),
        "user.id" => "UserId".into(),
        _ => sql.map_value("SpanAttributes", key),
    }
}

/// Reads business spans in `range`, ordered by order then start, with the values of `keys`.
/// Returns the spans and whether more existed than [`MAX_SPANS`].
pub fn read_step_spans(
    store: &dyn Store,
    range: TimeRange,
    keys: &[String],
) -> Result<(Vec<StepSpan>, bool), OcpmError> {
    let sql = Sql::new(store.dialect());
    let in_range = sql.time_range("Timestamp", range.from_ns, range.to_ns);
    read_spans(store, &sql, &in_range, keys)
}

/// Reads every business span of the orders that have one in `range`, also the spans
/// before and after it, ordered by order then start. Returns the spans and whether
/// more existed than [`MAX_SPANS`].
pub fn read_case_spans(
    store: &dyn Store,
    range: TimeRange,
) -> Result<(Vec<StepSpan>, bool), OcpmError> {
    let sql = Sql::new(store.dialect());
    let cases = format!(
        "OrderId IN (SELECT OrderId FROM otel_traces WHERE {} AND {BUSINESS_SPANS})",
        sql.time_range("Timestamp", range.from_ns, range.to_ns),
    );
    read_spans(store, &sql, &cases, &[])
}

fn read_spans(
    store: &dyn Store,
    sql: &Sql,
    condition: &str,
    keys: &[String],
) -> Result<(Vec<StepSpan>, bool), OcpmError> {
    let extra: String = keys
        .iter()
        .map(|key| format!(", {}", key_expression(sql, key)))
        .collect();
    let statement = format!(
        "SELECT OrderId, OperatorId, Lob, SpanName, {}, Duration, TraceId{extra} \
         FROM otel_traces WHERE {condition} AND {BUSINESS_SPANS} \
         ORDER BY OrderId, Timestamp, SpanId LIMIT {}",
        sql.epoch_ns("Timestamp"),
        MAX_SPANS + 1
    );
    let rows = query(store, &statement, MAX_SPANS + 1)?;
    let truncated = rows.len() > MAX_SPANS;
    let mut spans = Vec::with_capacity(rows.len().min(MAX_SPANS));
    for row in rows.into_iter().take(MAX_SPANS) {
        spans.push(StepSpan {
            order: row.text(0),
            operator: row.text(1),
            lob: row.text(2),
            activity: row.text(3),
            start_ns: row.int(4)?,
            duration_ns: row.int(5)?,
            trace_id: row.text(6),
            objects: (0..keys.len()).map(|i| row.text(7 + i)).collect(),
        });
    }
    Ok((spans, truncated))
}

/// Checks and completes the object-type keys of a request.
pub fn object_keys(requested: &[String]) -> Result<Vec<String>, OcpmError> {
    let keys: Vec<String> = if requested.is_empty() {
        DEFAULT_OBJECT_KEYS.map(String::from).to_vec()
    } else {
        requested.to_vec()
    };
    if keys.len() > MAX_OBJECT_KEYS {
        return Err(OcpmError::BadInput(format!(
            "too many object types ({}); pass at most {MAX_OBJECT_KEYS} `objects` keys",
            keys.len()
        )));
    }
    for key in &keys {
        let valid = !key.is_empty()
            && key.len() <= 128
            && key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
        if !valid {
            return Err(OcpmError::BadInput(format!(
                "invalid object key {key:?}: use an attribute key such as order.id"
            )));
        }
    }
    Ok(keys)
}

/// Builds an OCEL log from business spans: one event per span, one object per
/// distinct value of each key (its type is the key), linked with the key as
/// qualifier. A key that no span carries declares no object type.
pub fn spans_to_ocel(spans: &[StepSpan], keys: &[String]) -> Ocel {
    let mut ocel = Ocel::default();
    let mut objects: FxHashMap<(usize, String), usize> = FxHashMap::default();
    for (index, span) in spans.iter().enumerate() {
        let event_type = ocel.event_type_index(&span.activity);
        ocel.events.push(OcelEvent {
            id: format!("s{}", index + 1),
            event_type,
            time: span.start_ns.div_euclid(1000),
            attributes: Vec::new(),
        });
        for (position, key) in keys.iter().enumerate() {
            for value in object_values(&span.objects[position]) {
                let next = ocel.objects.len();
                let object = *objects.entry((position, value.clone())).or_insert(next);
                if object == next {
                    // Types are declared by their first object, so a key no span carries lists no type.
                    let object_type = ocel.object_type_index(key);
                    ocel.objects.push(OcelObject {
                        id: value,
                        object_type,
                        attributes: Vec::new(),
                    });
                }
                ocel.event_object.push(EventObjectLink {
                    event: index,
                    object,
                    qualifier: key.clone(),
                });
            }
        }
    }
    ocel
}

/// Splits a stored attribute value into object ids: the distinct non-empty
/// elements of a JSON array, else the value itself when it is not empty.
fn object_values(value: &str) -> Vec<String> {
    if value.starts_with('[') {
        if let Ok(serde_json::Value::Array(items)) = serde_json::from_str(value) {
            let mut ids: Vec<String> = Vec::with_capacity(items.len());
            for item in items {
                let id = match item {
                    serde_json::Value::String(text) => text,
                    serde_json::Value::Null => continue,
                    other => other.to_string(),
                };
                if !id.is_empty() && !ids.contains(&id) {
                    ids.push(id);
                }
            }
            return ids;
        }
    }
    if value.is_empty() {
        Vec::new()
    } else {
        vec![value.to_string()]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(order: &str, operator: &str, activity: &str, start_ns: i64) -> StepSpan {
        StepSpan {
            order: order.into(),
            operator: operator.into(),
            lob: "Title".into(),
            activity: activity.into(),
            start_ns,
            duration_ns: 10,
            trace_id: String::new(),
            objects: vec![order.into(), operator.into()],
        }
    }

    #[test]
    fn spans_link_to_each_object_type() {
        let mut spans = vec![span("o1", "op-1", "A", 1000), span("o1", "op-2", "B", 2000)];
        for span in &mut spans {
            // The default keys are order, document, operator.
            span.objects.insert(1, String::new());
        }
        let keys = object_keys(&[]).unwrap();
        let ocel = spans_to_ocel(&spans, &keys);
        assert_eq!(ocel.events.len(), 2);
        assert_eq!(ocel.objects.len(), 3);
        assert_eq!(ocel.event_object.len(), 4);
        // No span carries a document: the type is not declared.
        let types: Vec<&str> = ocel.object_types.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(types, ["order.id", "operator.id"]);
        assert!(ocel
            .objects
            .iter()
            .any(|o| o.id == "op-2" && ocel.object_types[o.object_type].name == "operator.id"));
    }

    #[test]
    fn array_values_link_each_element_once() {
        let mut first = span("o1", "op-1", "Review", 1000);
        first.objects.push(r#"["o1-D1","o1-D2","o1-D1",""]"#.into());
        let mut second = span("o1", "op-1", "Approve", 2000);
        second.objects.push("o1-D2".into());
        let mut third = span("o1", "op-1", "Note", 3000);
        third.objects.push("[not json".into());
        let keys: Vec<String> = ["order.id", "operator.id", "document.id"]
            .map(String::from)
            .to_vec();
        let ocel = spans_to_ocel(&[first, second, third], &keys);
        let documents: Vec<&str> = ocel
            .objects
            .iter()
            .filter(|object| ocel.object_types[object.object_type].name == "document.id")
            .map(|object| object.id.as_str())
            .collect();
        assert_eq!(documents, ["o1-D1", "o1-D2", "[not json"]);
        let links = ocel
            .event_object
            .iter()
            .filter(|link| link.qualifier == "document.id")
            .count();
        assert_eq!(links, 4);
    }

    #[test]
    fn object_keys_reject_sql_text() {
        assert!(object_keys(&["order.id' OR 1=1".to_string()]).is_err());
    }
}

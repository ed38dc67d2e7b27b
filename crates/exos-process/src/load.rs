//! Span → event log: runs the definition's query on a store and builds a
//! columnar [`EventLog`].
//!
//! This is the reusable entry point for anything that mines spans:
//! [`load_span_log`] takes a store, a [`LogDefinition`] and a time range and
//! returns a [`SpanLog`]. A case is loaded whole when any of its events
//! starts inside the range, so the time-frame filters (contained, started,
//! completed) can judge the case by all of its events.
//!
//! Events are ordered by span start (ties by end, then span id): an order's
//! steps follow each other, so start order is the order of work. Timestamps
//! are kept in microseconds, the log's unit: `start` is the span start and
//! `timestamp` the span end. Every event carries its `trace_id` and
//! `span_id` as attributes, so answers can link to the spans behind them.

use exos_analytics::sql::Sql;
use exos_analytics::TimeRange;
use exos_mining::log::{AttrValue, Attribute as LogAttribute, EventFields, LogBuilder, NO_SYM};
use exos_mining::EventLog;
use exos_store::{QueryLimits, Store};
use serde_json::Value;

use crate::definition::{Attribute, LogDefinition};
use crate::error::ProcessError;

/// Most events one log may hold; more asks the user to narrow the range.
pub const MAX_EVENTS: usize = 1_000_000;
/// Wall time after which loading a log is interrupted.
pub const LOAD_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

/// Key names of the per-event attributes a span log carries.
pub const TRACE_ID: &str = "trace_id";
/// See [`TRACE_ID`].
pub const SPAN_ID: &str = "span_id";

/// An event log built from spans, with what it was built from.
#[derive(Debug, Clone)]
pub struct SpanLog {
    pub log: EventLog,
    pub definition: LogDefinition,
    pub range: TimeRange,
}

/// Builds the event log of `definition` over the cases active in `range`.
pub fn load_span_log(
    store: &dyn Store,
    definition: &LogDefinition,
    range: TimeRange,
) -> Result<SpanLog, ProcessError> {
    definition.validate()?;
    let sql = Sql::new(store.dialect());
    let text = log_sql(&sql, definition, range)?;
    let limits = QueryLimits {
        max_rows: MAX_EVENTS,
        timeout: LOAD_TIMEOUT,
    };
    let result = store.query(&text, &limits)?;
    if result.truncated {
        return Err(ProcessError::TooLarge { limit: MAX_EVENTS });
    }
    let log = build_log(&result.rows, &definition.case_attributes)?;
    Ok(SpanLog {
        log,
        definition: definition.clone(),
        range,
    })
}

/// The query of a log: one row per event span, ordered by case and start.
fn log_sql(
    sql: &Sql,
    definition: &LogDefinition,
    range: TimeRange,
) -> Result<String, ProcessError> {
    let case = Attribute::parse("log.case", &definition.case)?.expr(sql);
    let activity = Attribute::parse("log.activity", &definition.activity)?.expr(sql);
    let resource = Attribute::parse("log.resource", &definition.resource)?.expr(sql);
    let mut attributes = String::new();
    for name in &definition.case_attributes {
        let expr = Attribute::parse("log.case_attributes", name)?.expr(sql);
        attributes.push_str(&format!(", {expr}"));
    }
    let spans = definition.span_condition(sql);
    let start = sql.epoch_ns("Timestamp");
    let in_range = sql.time_range("Timestamp", range.from_ns, range.to_ns);
    Ok(format!(
        "SELECT {case} AS case_id, {activity} AS activity_name, {start} AS start_ns, \
         CAST(Duration AS BIGINT) AS duration_ns, {resource} AS resource_name, TraceId, SpanId{attributes} \
         FROM otel_traces \
         WHERE {spans} AND {activity} != '' AND {case} IN \
         (SELECT {case} FROM otel_traces WHERE {spans} AND {in_range} AND {case} != '') \
         ORDER BY case_id, start_ns, duration_ns, SpanId"
    ))
}

/// Reads a column as text; numbers in their JSON form, NULL as ''.
fn text(row: &[Value], index: usize) -> &str {
    match row.get(index) {
        Some(Value::String(text)) => text,
        _ => "",
    }
}

/// Reads a column as a signed integer (ClickHouse may quote 64-bit integers).
fn int(row: &[Value], index: usize) -> Result<i64, ProcessError> {
    match row.get(index) {
        Some(Value::Number(number)) => number
            .as_i64()
            .or_else(|| number.as_u64().map(|n| n as i64))
            .ok_or_else(|| ProcessError::Result(format!("{number} is not an integer"))),
        Some(Value::String(text)) => text
            .parse()
            .map_err(|_| ProcessError::Result(format!("{text:?} is not an integer"))),
        other => Err(ProcessError::Result(format!("{other:?} is not an integer"))),
    }
}

/// Builds the log from rows sorted by case, then start.
fn build_log(rows: &[Vec<Value>], case_attributes: &[String]) -> Result<EventLog, ProcessError> {
    let mut builder = LogBuilder::default();
    builder.sort_by_time = false;
    let trace_key = builder.log_mut().keys.intern(TRACE_ID);
    let span_key = builder.log_mut().keys.intern(SPAN_ID);
    let attribute_keys: Vec<u32> = case_attributes
        .iter()
        .map(|name| builder.log_mut().keys.intern(name))
        .collect();
    let mut current: Option<&str> = None;
    for row in rows {
        let case = text(row, 0);
        if current != Some(case) {
            let attributes = attribute_keys
                .iter()
                .enumerate()
                .map(|(i, &key)| string_attribute(&mut builder, key, text(row, 7 + i)))
                .collect();
            builder.begin_case(case.to_string(), attributes);
            current = Some(case);
        }
        push_span_event(&mut builder, row, trace_key, span_key)?;
    }
    Ok(builder.finish())
}

fn string_attribute(builder: &mut LogBuilder, key: u32, value: &str) -> LogAttribute {
    LogAttribute {
        key,
        value: AttrValue::Str(builder.log_mut().values.intern(value)),
        nested: Vec::new(),
    }
}

fn push_span_event(
    builder: &mut LogBuilder,
    row: &[Value],
    trace_key: u32,
    span_key: u32,
) -> Result<(), ProcessError> {
    let start_ns = int(row, 2)?;
    let duration_ns = int(row, 3)?.max(0);
    let resource = match text(row, 4) {
        "" => NO_SYM,
        name => builder.log_mut().resources.intern(name),
    };
    let fields = EventFields {
        activity: builder.intern_activity(text(row, 1)),
        timestamp: (start_ns + duration_ns).div_euclid(1000),
        start: start_ns.div_euclid(1000),
        resource,
        lifecycle: NO_SYM,
    };
    let mut attributes = vec![
        string_attribute(builder, trace_key, text(row, 5)),
        string_attribute(builder, span_key, text(row, 6)),
    ];
    builder.push_event(&fields, &mut attributes);
    Ok(())
}

/// The text of a string attribute `key` among `attributes`, '' when absent.
pub fn attribute_text<'a>(log: &'a EventLog, attributes: &[LogAttribute], key: &str) -> &'a str {
    let Some(key) = log.keys.get(key) else {
        return "";
    };
    attributes
        .iter()
        .find(|a| a.key == key)
        .and_then(|a| match a.value {
            AttrValue::Str(value) | AttrValue::Id(value) => Some(log.values.name(value)),
            _ => None,
        })
        .unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rows_group_into_cases_with_attributes_and_span_ids() {
        let rows = vec![
            json!(["A", "Receive", 1_000_000, 500_000, "op-1", "t1", "s1", "Title"]),
            json!(["A", "Close", 3_000_000, 0, "", "t2", "s2", "Title"]),
            json!(["B", "Receive", "2000000", "1000", "op-2", "t3", "s3", "Flood"]),
        ];
        let rows: Vec<Vec<Value>> = rows
            .into_iter()
            .map(|r| r.as_array().unwrap().clone())
            .collect();
        let log = build_log(&rows, &["lob".to_string()]).unwrap();
        assert_eq!(log.case_ids, ["A", "B"]);
        assert_eq!(log.trace(0).len(), 2);
        assert_eq!(log.start[0], 1_000);
        assert_eq!(log.timestamp[0], 1_500);
        assert_eq!(log.resource[1], NO_SYM);
        assert_eq!(
            attribute_text(&log, &log.case_attributes[1], "lob"),
            "Flood"
        );
        assert_eq!(attribute_text(&log, log.attributes_of(2), SPAN_ID), "s3");
    }
}

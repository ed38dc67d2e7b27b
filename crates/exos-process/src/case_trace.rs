//! One case's timeline: its activities with their spans, the logs written
//! in those traces, and the browser sessions of its operators at the time.
//!
//! A session is listed when it has spans of the case (browser spans carry
//! the case attribute too) or of one of the case's operators while the case
//! ran, from an hour before its first activity to an hour after its last.

use std::collections::BTreeMap;

use exos_analytics::sql::Sql;
use exos_mining::log::NO_SYM;
use exos_mining::EventLog;
use exos_store::{QueryLimits, Store};
use serde::Serialize;
use serde_json::Value;

use crate::definition::Attribute;
use crate::error::ProcessError;
use crate::load::{attribute_text, SpanLog, SPAN_ID, TRACE_ID};
use crate::stats::{event_duration, wait_before};

/// Sessions looked for this long before the case's first and after its last event.
const SESSION_MARGIN_NS: i64 = 3600 * 1_000_000_000;
/// Sessions listed at most.
const MAX_SESSIONS: usize = 50;

/// One activity of the case.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TraceEvent {
    pub activity: String,
    pub start_ms: i64,
    pub end_ms: i64,
    pub duration_seconds: f64,
    /// Waiting since the previous activity ended; null for the first.
    pub wait_seconds: Option<f64>,
    pub resource: String,
    pub trace_id: String,
    pub span_id: String,
    /// Log records written in the activity's trace.
    pub logs: u64,
}

/// A browser session linked to the case.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SessionLink {
    pub session_id: String,
    pub operator: String,
    pub start_ms: i64,
    pub end_ms: i64,
    /// True when the session's spans carry the case id.
    pub on_case: bool,
    /// The largest case id the session's spans carry (the case itself when
    /// `on_case`, another case or `""` otherwise).
    pub case: String,
}

/// The case timeline answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CaseTrace {
    pub case: String,
    pub attributes: BTreeMap<String, String>,
    pub duration_seconds: f64,
    pub events: Vec<TraceEvent>,
    /// At most 50: those that carry the case id first, then by start.
    pub sessions: Vec<SessionLink>,
    /// Linked sessions in all, listed or not.
    pub sessions_total: u64,
}

/// Builds the timeline of case `case` of `loaded`, reading logs and sessions from `store`.
pub fn case_trace(
    store: &dyn Store,
    loaded: &SpanLog,
    case: &str,
) -> Result<CaseTrace, ProcessError> {
    let log = &loaded.log;
    let index = log.case_ids.iter().position(|c| c == case).ok_or_else(|| {
        ProcessError::NotFound(format!(
            "case {case:?} has no events in the range; widen the range or check the case attribute"
        ))
    })?;
    let mut events = timeline(log, index);
    let sql = Sql::new(store.dialect());
    let counts = log_counts(store, &sql, &events)?;
    for event in &mut events {
        event.logs = counts.get(&event.trace_id).copied().unwrap_or(0);
    }
    let (sessions, sessions_total) = sessions(store, &sql, loaded, case, &events)?;
    let attributes = loaded
        .definition
        .case_attributes
        .iter()
        .map(|key| {
            let value = attribute_text(log, &log.case_attributes[index], key);
            (key.clone(), value.to_string())
        })
        .collect();
    let first = events.iter().map(|e| e.start_ms).min().unwrap_or(0);
    let last = events.iter().map(|e| e.end_ms).max().unwrap_or(0);
    Ok(CaseTrace {
        case: case.to_string(),
        attributes,
        duration_seconds: (last - first) as f64 / 1000.0,
        events,
        sessions,
        sessions_total,
    })
}

fn timeline(log: &EventLog, case: usize) -> Vec<TraceEvent> {
    let range = log.case_range(case);
    range
        .clone()
        .map(|event| {
            let attributes = log.attributes_of(event);
            TraceEvent {
                activity: log.activity_name(log.activity[event]).into(),
                start_ms: log.start[event].div_euclid(1000),
                end_ms: log.timestamp[event].div_euclid(1000),
                duration_seconds: event_duration(log, event).unwrap_or(0.0),
                wait_seconds: wait_before(log, range.start, event),
                resource: match log.resource[event] {
                    NO_SYM => String::new(),
                    r => log.resources.name(r).into(),
                },
                trace_id: attribute_text(log, attributes, TRACE_ID).into(),
                span_id: attribute_text(log, attributes, SPAN_ID).into(),
                logs: 0,
            }
        })
        .collect()
}

fn rows(store: &dyn Store, text: &str, max_rows: usize) -> Result<Vec<Vec<Value>>, ProcessError> {
    let limits = QueryLimits {
        max_rows,
        timeout: crate::load::LOAD_TIMEOUT,
    };
    Ok(store.query(text, &limits)?.rows)
}

fn int(value: &Value) -> i64 {
    match value {
        Value::Number(n) => n.as_i64().unwrap_or_default(),
        Value::String(s) => s.parse().unwrap_or_default(),
        _ => 0,
    }
}

fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        _ => String::new(),
    }
}

/// Time window around the case, nanoseconds.
fn window(events: &[TraceEvent]) -> (i64, i64) {
    let first = events.iter().map(|e| e.start_ms).min().unwrap_or(0) * 1_000_000;
    let last = events.iter().map(|e| e.end_ms).max().unwrap_or(0) * 1_000_000;
    (first - SESSION_MARGIN_NS, last + SESSION_MARGIN_NS)
}

fn log_counts(
    store: &dyn Store,
    sql: &Sql,
    events: &[TraceEvent],
) -> Result<BTreeMap<String, u64>, ProcessError> {
    let traces: Vec<&str> = events
        .iter()
        .map(|e| e.trace_id.as_str())
        .filter(|t| !t.is_empty())
        .collect();
    if traces.is_empty() {
        return Ok(BTreeMap::new());
    }
    let (from, to) = window(events);
    let text = format!(
        "SELECT TraceId, count(*) FROM otel_logs WHERE {} AND TraceId IN {} GROUP BY TraceId",
        sql.log_time_range(from, to),
        sql.text_list(&traces)
    );
    Ok(rows(store, &text, traces.len())?
        .iter()
        .map(|row| (text_at(row, 0), int_at(row, 1).max(0) as u64))
        .collect())
}

fn text_at(row: &[Value], index: usize) -> String {
    row.get(index).map(text).unwrap_or_default()
}

fn int_at(row: &[Value], index: usize) -> i64 {
    row.get(index).map(int).unwrap_or_default()
}

fn sessions(
    store: &dyn Store,
    sql: &Sql,
    loaded: &SpanLog,
    case: &str,
    events: &[TraceEvent],
) -> Result<(Vec<SessionLink>, u64), ProcessError> {
    let case_expr = Attribute::parse("log.case", &loaded.definition.case)?.expr(sql);
    let operator_expr = Attribute::parse("log.resource", &loaded.definition.resource)?.expr(sql);
    let mut operators: Vec<&str> = events
        .iter()
        .map(|e| e.resource.as_str())
        .filter(|r| !r.is_empty())
        .collect();
    operators.sort_unstable();
    operators.dedup();
    let (from, to) = window(events);
    let start = sql.epoch_ns("Timestamp");
    let on_case = format!("{case_expr} = {}", sql.text(case));
    let text = format!(
        "SELECT RumSessionId, max({operator_expr}), min({start}), max({start}), \
         max(CASE WHEN {on_case} THEN 1 ELSE 0 END) AS carries, count(*) OVER (), max({case_expr}) \
         FROM otel_traces WHERE {} AND RumSessionId != '' AND ({on_case} OR {operator_expr} IN {}) \
         GROUP BY RumSessionId ORDER BY carries DESC, 3, RumSessionId LIMIT {MAX_SESSIONS}",
        sql.time_range("Timestamp", from, to),
        sql.text_list(&operators)
    );
    let found = rows(store, &text, MAX_SESSIONS)?;
    let total = found.first().map_or(0, |row| int_at(row, 5).max(0) as u64);
    let links = found
        .iter()
        .map(|row| SessionLink {
            session_id: text_at(row, 0),
            operator: text_at(row, 1),
            start_ms: int_at(row, 2).div_euclid(1_000_000),
            end_ms: int_at(row, 3).div_euclid(1_000_000),
            on_case: int_at(row, 4) > 0,
            case: text_at(row, 6),
        })
        .collect();
    Ok((links, total))
}

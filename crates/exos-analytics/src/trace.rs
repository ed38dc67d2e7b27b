//! `GET /api/trace/{trace_id}`: every span and log record of one trace.
//!
//! Spans come back in start order with their depth in the call tree and their
//! start offset from the trace's first span, both computed here. A span whose
//! parent is not in the trace (a parent still in flight, or dropped) counts as
//! a root. Span events are unpacked from the `Events.*` list columns.

use std::collections::{BTreeMap, HashMap};

use exos_store::Store;
use serde::Serialize;
use serde_json::Value;

use crate::error::AnalyticsError;
use crate::params::Params;
use crate::rows::{query_all, Row};
use crate::sql::Sql;
use crate::time::{format_ns, now_ns, ns_to_ms, TimeRange};

/// Spans returned at most; a larger trace is cut and `truncated` is set.
pub const MAX_SPANS: usize = 10_000;
/// Log records returned at most.
pub const MAX_LOGS: usize = 1_000;

/// The parameters of `/api/trace/{trace_id}`.
#[derive(Debug, Clone, PartialEq)]
pub struct TraceRequest {
    /// 32 lowercase hex digits.
    pub trace_id: String,
    /// Limits the search to a range when given; without one the whole store is searched.
    pub range: Option<TimeRange>,
}

impl TraceRequest {
    /// Reads the path's trace id and optional `from` and `to`.
    pub fn from_query(trace_id: &str, pairs: &[(String, String)]) -> Result<Self, AnalyticsError> {
        let params = Params::new(pairs, &["from", "to"])?;
        let (from, to) = (params.one("from")?, params.one("to")?);
        let range = if from.is_none() && to.is_none() {
            None
        } else {
            Some(TimeRange::parse(from, to, now_ns())?)
        };
        Ok(Self {
            trace_id: parse_trace_id(trace_id)?,
            range,
        })
    }
}

/// Checks a trace id's form and returns it in lowercase, as the store keeps ids.
pub fn parse_trace_id(text: &str) -> Result<String, AnalyticsError> {
    if text.len() == 32 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(text.to_ascii_lowercase());
    }
    Err(AnalyticsError::bad(
        "trace_id",
        format!("{text:?} is not a trace id; use 32 hex digits"),
    ))
}

/// The response body of `/api/trace/{trace_id}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Trace {
    pub trace_id: String,
    pub spans: Vec<TraceSpan>,
    pub logs: Vec<TraceLog>,
    /// True when the trace has more than `MAX_SPANS` spans or `MAX_LOGS` logs.
    pub truncated: bool,
}

/// One span of a trace, named as the store's columns are.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TraceSpan {
    #[serde(rename = "Timestamp")]
    pub timestamp: String,
    #[serde(rename = "SpanId")]
    pub span_id: String,
    #[serde(rename = "ParentSpanId")]
    pub parent_span_id: String,
    #[serde(rename = "ServiceName")]
    pub service_name: String,
    #[serde(rename = "SpanName")]
    pub span_name: String,
    #[serde(rename = "SpanKind")]
    pub span_kind: String,
    /// Milliseconds.
    #[serde(rename = "Duration")]
    pub duration: f64,
    #[serde(rename = "StatusCode")]
    pub status_code: String,
    #[serde(rename = "StatusMessage")]
    pub status_message: String,
    #[serde(rename = "SpanAttributes")]
    pub span_attributes: BTreeMap<String, String>,
    #[serde(rename = "ResourceAttributes")]
    pub resource_attributes: BTreeMap<String, String>,
    #[serde(rename = "Events")]
    pub events: Vec<SpanEvent>,
    /// Milliseconds from the trace's first span start.
    pub start_offset_ms: f64,
    /// 0 for roots, 1 for their children, and so on.
    pub depth: usize,
    #[serde(skip)]
    start_ns: i64,
}

/// One event of a span.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SpanEvent {
    pub time: String,
    pub name: String,
    pub attributes: BTreeMap<String, String>,
}

/// One log record of a trace.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TraceLog {
    #[serde(rename = "Timestamp")]
    pub timestamp: String,
    #[serde(rename = "SeverityText")]
    pub severity_text: String,
    #[serde(rename = "Body")]
    pub body: String,
    #[serde(rename = "SpanId")]
    pub span_id: String,
    #[serde(rename = "LogAttributes")]
    pub log_attributes: BTreeMap<String, String>,
}

/// Returns the trace's spans and logs; `NotFound` when the store has neither.
pub fn trace(store: &dyn Store, request: &TraceRequest) -> Result<Trace, AnalyticsError> {
    let sql = Sql::new(store.dialect());
    let trace_id = parse_trace_id(&request.trace_id)?;
    let id = sql.text(&trace_id);
    let (span_range, log_range) = match request.range {
        Some(range) => (
            format!(
                " AND {}",
                sql.time_range("Timestamp", range.from_ns, range.to_ns)
            ),
            format!(" AND {}", sql.log_time_range(range.from_ns, range.to_ns)),
        ),
        // NOTE: without a range ClickHouse relies on the TraceId bloom filter index
        // alone; the exporter's otel_traces_trace_id_ts lookup table is not used yet.
        None => (String::new(), String::new()),
    };
    let spans_sql = format!(
        "SELECT {time}, SpanId, ParentSpanId, ServiceName, SpanName, SpanKind, Duration, StatusCode, \
         StatusMessage, SpanAttributes, ResourceAttributes, {event_times}, {event_names}, {event_attributes} \
         FROM otel_traces WHERE TraceId = {id}{span_range} ORDER BY Timestamp, SpanId {limit}",
        time = sql.epoch_ns("Timestamp"),
        event_times = sql.epoch_ns_list(&sql.column("Events.Timestamp")),
        event_names = sql.column("Events.Name"),
        event_attributes = sql.column("Events.Attributes"),
        limit = sql.limit(MAX_SPANS + 1),
    );
    let logs_sql = format!(
        "SELECT {time}, {severity}, Body, SpanId, LogAttributes FROM otel_logs \
         WHERE TraceId = {id}{log_range} ORDER BY Timestamp, SpanId, Body {limit}",
        time = sql.epoch_ns("Timestamp"),
        severity = sql.severity_text(),
        limit = sql.limit(MAX_LOGS + 1),
    );
    let [span_rows, log_rows] = <[Vec<Row>; 2]>::try_from(query_all(
        store,
        &[(spans_sql, MAX_SPANS + 1), (logs_sql, MAX_LOGS + 1)],
    )?)
    .expect("one result per query");
    if span_rows.is_empty() && log_rows.is_empty() {
        return Err(AnalyticsError::NotFound(format!(
            "no spans or logs with trace id {trace_id}; check the id, or widen the range"
        )));
    }
    let truncated = span_rows.len() > MAX_SPANS || log_rows.len() > MAX_LOGS;
    let mut spans = span_rows
        .iter()
        .take(MAX_SPANS)
        .map(read_span)
        .collect::<Result<Vec<_>, _>>()?;
    place_spans(&mut spans);
    let logs = log_rows
        .iter()
        .take(MAX_LOGS)
        .map(|row| {
            Ok(TraceLog {
                timestamp: format_ns(row.int(0)?),
                severity_text: row.text(1),
                body: row.text(2),
                span_id: row.text(3),
                log_attributes: row.map(4),
            })
        })
        .collect::<Result<Vec<_>, AnalyticsError>>()?;
    Ok(Trace {
        trace_id,
        spans,
        logs,
        truncated,
    })
}

fn read_span(row: &Row) -> Result<TraceSpan, AnalyticsError> {
    let start_ns = row.int(0)?;
    Ok(TraceSpan {
        timestamp: format_ns(start_ns),
        span_id: row.text(1),
        parent_span_id: row.text(2),
        service_name: row.text(3),
        span_name: row.text(4),
        span_kind: row.text(5),
        duration: ns_to_ms(row.float(6)),
        status_code: row.text(7),
        status_message: row.text(8),
        span_attributes: row.map(9),
        resource_attributes: row.map(10),
        events: read_events(row)?,
        start_offset_ms: 0.0,
        depth: 0,
        start_ns,
    })
}

/// Zips the `Events.Timestamp`, `Events.Name` and `Events.Attributes` lists of a span row.
fn read_events(row: &Row) -> Result<Vec<SpanEvent>, AnalyticsError> {
    let times = row.list(11);
    let names = row.list(12);
    let attributes = row.list(13);
    let mut events = Vec::with_capacity(times.len());
    for (index, time) in times.iter().enumerate() {
        let time = time.as_i64().ok_or_else(|| {
            AnalyticsError::Result(format!("event time {time} is not an integer"))
        })?;
        let name = names.get(index).and_then(Value::as_str).unwrap_or_default();
        let attributes = attributes.get(index).cloned().unwrap_or(Value::Null);
        events.push(SpanEvent {
            time: format_ns(time),
            name: name.to_string(),
            attributes: Row::new(vec![attributes]).map(0),
        });
    }
    Ok(events)
}

/// Sets each span's depth and start offset.
fn place_spans(spans: &mut [TraceSpan]) {
    let Some(first) = spans.iter().map(|s| s.start_ns).min() else {
        return;
    };
    let index: HashMap<&str, usize> = spans
        .iter()
        .enumerate()
        .map(|(i, s)| (s.span_id.as_str(), i))
        .collect();
    let parents: Vec<Option<usize>> = spans
        .iter()
        .map(|s| index.get(s.parent_span_id.as_str()).copied())
        .collect();
    let depths: Vec<usize> = (0..spans.len())
        .map(|start| {
            // Walk up to a root; a cycle in bad data stops after as many steps as there are spans.
            let (mut depth, mut at) = (0, start);
            while let Some(parent) = parents[at] {
                if depth >= spans.len() || parent == at {
                    break;
                }
                depth += 1;
                at = parent;
            }
            depth
        })
        .collect();
    for (span, depth) in spans.iter_mut().zip(depths) {
        span.depth = depth;
        span.start_offset_ms = ns_to_ms((span.start_ns - first) as f64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(id: &str, parent: &str, start_ns: i64) -> TraceSpan {
        TraceSpan {
            timestamp: String::new(),
            span_id: id.into(),
            parent_span_id: parent.into(),
            service_name: String::new(),
            span_name: String::new(),
            span_kind: String::new(),
            duration: 0.0,
            status_code: String::new(),
            status_message: String::new(),
            span_attributes: BTreeMap::new(),
            resource_attributes: BTreeMap::new(),
            events: Vec::new(),
            start_offset_ms: 0.0,
            depth: 0,
            start_ns,
        }
    }

    #[test]
    fn depth_follows_parents() {
        let mut spans = vec![
            span("a", "", 1_000_000),
            span("b", "a", 2_500_000),
            span("c", "b", 3_000_000),
            span("d", "missing", 4_000_000),
        ];
        place_spans(&mut spans);
        let depths: Vec<usize> = spans.iter().map(|s| s.depth).collect();
        assert_eq!(depths, vec![0, 1, 2, 0]);
        assert_eq!(spans[1].start_offset_ms, 1.5);
    }

    #[test]
    fn cycles_end() {
        let mut spans = vec![span("a", "b", 0), span("b", "a", 0)];
        place_spans(&mut spans);
        assert!(spans.iter().all(|s| s.depth <= 2));
    }

    #[test]
    fn trace_ids_are_checked() {
        assert_eq!(
            parse_trace_id("0AF7651916CD43DD8448EB211C80319C").unwrap(),
            "0af7651916cd43dd8448eb211c80319c"
        );
        let error = parse_trace_id("xyz").unwrap_err().to_string();
        assert!(error.contains("32 hex digits"), "{error}");
    }
}

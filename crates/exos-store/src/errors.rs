//! Error summaries on DuckDB: one row per error span with its fingerprint, so the
//! errors page groups a few narrow rows instead of normalising every error
//! message of the range with regular expressions.
//!
//! A fingerprint is the first 16 hex digits of the MD5 of three lines: the
//! exception type, the message with variable parts replaced by placeholders,
//! and the top stack frame. Type, message and stack trace come from the span's
//! first event that carries each `exception.*` attribute; the message falls back
//! to the span's status message. `exos_analytics::errors` renders the same
//! expressions for both stores; a test there checks that its DuckDB text equals
//! the text here.
//!
//! Each store write stages its error spans' type, message and stack in
//! `exos_error_staging`, and one statement in the same transaction fingerprints
//! them into `exos_errors` with the DuckDB expressions, then empties the stage.
//! A store whose summaries do not count its error spans rebuilds them when it
//! opens. ClickHouse keeps no such table: the page reads its spans.

use exos_core::attributes::lookup;
use exos_core::SpanRow;

use crate::rollup::IS_ERROR_SQL;

/// Replacements applied to an error message, in order, before fingerprinting.
///
/// Quoted values go first, so ids inside quotes become one `<str>`. Hex ids are
/// `0x…` numbers and runs of at least 12 hex digits (trace and span ids, hashes).
pub const NORMALISATIONS: [(&str, &str); 5] = [
    (r#""[^"]*""#, "<str>"),
    (r"'[^']*'", "<str>"),
    (
        r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}",
        "<uuid>",
    ),
    (r"\b(?:0[xX][0-9a-fA-F]+|[0-9a-fA-F]{12,})\b", "<hex>"),
    (r"\d+(?:\.\d+)?", "<n>"),
];

/// The top stack frame: the first line that starts (after indentation) with
/// `at ` (JavaScript, Java, .NET) or `File "` (Python).
pub const TOP_FRAME: &str = r#"(?m)^[ \t]*((?:at |File ")[^\r\n]*)"#;

/// The table of fingerprinted error spans.
pub const TABLE: &str = "exos_errors";
/// The table a write stages its error spans in.
pub const STAGING: &str = "exos_error_staging";

/// The DuckDB tables.
pub const DUCKDB_TABLES: &str = "\
CREATE TABLE IF NOT EXISTS exos_errors (Timestamp TIMESTAMP_NS NOT NULL, TraceId VARCHAR NOT NULL, \
SpanId VARCHAR NOT NULL, ServiceName VARCHAR NOT NULL, UserId VARCHAR NOT NULL, \
RumSessionId VARCHAR NOT NULL, OrderId VARCHAR NOT NULL, Kind VARCHAR NOT NULL, \
Normalised VARCHAR NOT NULL, Frame VARCHAR NOT NULL, Fingerprint VARCHAR NOT NULL);
CREATE TABLE IF NOT EXISTS exos_error_staging (Timestamp TIMESTAMP_NS NOT NULL, \
TraceId VARCHAR NOT NULL, SpanId VARCHAR NOT NULL, ServiceName VARCHAR NOT NULL, \
UserId VARCHAR NOT NULL, RumSessionId VARCHAR NOT NULL, OrderId VARCHAR NOT NULL, \
Kind VARCHAR NOT NULL, Message VARCHAR NOT NULL, Stack VARCHAR NOT NULL);
";

/// Renders a constant as a DuckDB string literal (DuckDB keeps backslashes as they are).
fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// Renders the normalised form of a message expression, in DuckDB SQL.
pub fn duckdb_normalised(message: &str) -> String {
    NORMALISATIONS
        .iter()
        .fold(message.to_string(), |expr, (pattern, placeholder)| {
            format!(
                "regexp_replace({expr}, {}, {}, 'g')",
                literal(pattern),
                literal(placeholder)
            )
        })
}

/// Renders the top frame of a stack trace expression, in DuckDB SQL.
pub fn duckdb_frame(stack: &str) -> String {
    format!("regexp_extract({stack}, {}, 1)", literal(TOP_FRAME))
}

/// Renders the fingerprint of a type, a normalised message and a top frame, in DuckDB SQL.
pub fn duckdb_fingerprint(kind: &str, normalised: &str, frame: &str) -> String {
    format!("left(md5({kind} || chr(10) || {normalised} || chr(10) || {frame}), 16)")
}

/// Renders the `INSERT` that fingerprints the rows of `source` into `exos_errors`.
/// `source` has the staging table's columns.
fn insert_from(source: &str) -> String {
    let normalised = duckdb_normalised("Message");
    let frame = duckdb_frame("Stack");
    let fingerprint = duckdb_fingerprint("Kind", "normalised", "frame");
    format!(
        "INSERT INTO {TABLE} SELECT Timestamp, TraceId, SpanId, ServiceName, UserId, RumSessionId, \
         OrderId, Kind, normalised, frame, {fingerprint} FROM (\
           SELECT *, {normalised} AS normalised, {frame} AS frame FROM ({source}) AS staged) AS error"
    )
}

/// DuckDB statements, run in a write's transaction after its rows were staged, that
/// fingerprint them into `exos_errors` and empty the stage.
pub fn duckdb_from_staging() -> [String; 2] {
    [
        insert_from(&format!("SELECT * FROM {STAGING}")),
        format!("DELETE FROM {STAGING}"),
    ]
}

/// Renders the first non-empty value of an exception attribute among the events of
/// an `otel_traces` row, in DuckDB SQL.
pub fn duckdb_first_event_attribute(key: &str) -> String {
    format!(
        "coalesce(list_filter(list_transform(\"Events.Attributes\", a -> a['{key}']), \
         x -> x IS NOT NULL AND x != '')[1], '')"
    )
}

/// DuckDB statements that empty `exos_errors` and fingerprint every stored error span into it.
pub fn duckdb_rebuild() -> Vec<String> {
    let message = duckdb_first_event_attribute("exception.message");
    let source = format!(
        "SELECT Timestamp, TraceId, SpanId, ServiceName, UserId, RumSessionId, OrderId, \
         {kind} AS Kind, (CASE WHEN {message} != '' THEN {message} ELSE StatusMessage END) AS Message, \
         {stack} AS Stack FROM otel_traces WHERE {IS_ERROR_SQL}",
        kind = duckdb_first_event_attribute("exception.type"),
        stack = duckdb_first_event_attribute("exception.stacktrace"),
    );
    vec![format!("DELETE FROM {TABLE}"), insert_from(&source)]
}

/// Renders a DuckDB query whose one row gives the error spans of `otel_traces` and the rows
/// of `exos_errors`.
pub fn duckdb_counts() -> String {
    format!(
        "SELECT (SELECT count(*) FROM otel_traces WHERE {IS_ERROR_SQL}), (SELECT count(*) FROM {TABLE})"
    )
}

/// One error span as the write stages it.
#[derive(Debug, Clone)]
pub struct Staged<'a> {
    pub span: &'a SpanRow,
    pub kind: &'a str,
    pub message: &'a str,
    pub stack: &'a str,
}

/// Returns the error spans of `spans` with their exception type, message and stack.
pub fn staged(spans: &[SpanRow]) -> Vec<Staged<'_>> {
    spans
        .iter()
        .filter(|span| crate::rollup::is_error(span.status_code))
        .map(|span| {
            let first = |key: &str| {
                span.events
                    .iter()
                    .find_map(|event| lookup(&event.attributes, key).filter(|v| !v.is_empty()))
                    .unwrap_or_default()
            };
            let message = match first("exception.message") {
                "" => span.status_message.as_str(),
                text => text,
            };
            Staged {
                span,
                kind: first("exception.type"),
                message,
                stack: first("exception.stacktrace"),
            }
        })
        .collect()
}

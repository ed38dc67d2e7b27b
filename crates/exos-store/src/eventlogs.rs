//! Imported event logs: tables modelled on the OCEL 2.0 SQLite layout.
//!
//! A log imported from a file (XES, CSV, Parquet or OCEL 2.0) is kept as
//! events, objects, qualified event-object and object-object links, event
//! attributes and object attribute values over time. Every row is keyed by
//! the log's id, and the catalogue has one row per log. A classic (case-centric) log becomes an
//! object-centric one with one object type, `case`. OCEL's SQLite layout has
//! one table per event and object type; a fixed schema cannot, so attributes
//! are rows of (owner, name, type, value text) instead.
//!
//! This module owns the row types, the DDL of both dialects and the reads
//! that are the same on both stores. Writing is `Store::put_event_log`, one
//! batched write per log. It holds no conversion from or to files: that is
//! `exos-ocpm`'s job.

use serde::Serialize;

use crate::{Dialect, QueryLimits, Store, StoreError};

/// Tables of imported logs, in the order they are written.
pub const TABLES: [&str; 7] = [
    "exos_event_logs",
    "exos_log_events",
    "exos_log_objects",
    "exos_log_event_objects",
    "exos_log_object_objects",
    "exos_log_event_attributes",
    "exos_log_object_attributes",
];

/// Longest accepted log id.
pub const MAX_LOG_ID_CHARS: usize = 64;

/// One row of the catalogue: what was imported, from where and when.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EventLogEntry {
    /// Letters, digits, `.`, `_` and `-`; see [`check_log_id`].
    pub log_id: String,
    pub name: String,
    /// File name the log came from (no folder).
    pub source_file: String,
    /// `xes`, `csv`, `parquet`, `ocel-json`, `ocel-xml` or `ocel-sqlite`.
    pub format: String,
    /// Milliseconds since the Unix epoch.
    pub imported_ms: i64,
    pub events: u64,
    pub objects: u64,
    pub event_object_links: u64,
    pub object_object_links: u64,
    /// Problems the importer reported (skipped or repaired records).
    pub issues: u64,
}

/// One event.
#[derive(Debug, Clone, PartialEq)]
pub struct LogEventRow {
    pub event_id: String,
    pub event_type: String,
    /// Microseconds since the Unix epoch; `None` when the file had no valid time.
    pub time_us: Option<i64>,
}

/// One object.
#[derive(Debug, Clone, PartialEq)]
pub struct LogObjectRow {
    pub object_id: String,
    pub object_type: String,
}

/// A qualified link: event to object, or object to object.
#[derive(Debug, Clone, PartialEq)]
pub struct LogLinkRow {
    pub source_id: String,
    pub target_id: String,
    pub qualifier: String,
}

/// One attribute value of an event or object.
#[derive(Debug, Clone, PartialEq)]
pub struct LogAttributeRow {
    pub owner_id: String,
    pub name: String,
    /// For object attributes, the time from which the value applies (microseconds).
    pub time_us: Option<i64>,
    /// `string`, `integer`, `float`, `boolean` or `time` (OCEL 2.0 type names).
    pub value_type: String,
    /// The value as text; times in RFC 3339.
    pub value: String,
}

/// Every row of one log; the order of each list is the file's order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EventLogRows {
    pub events: Vec<LogEventRow>,
    pub objects: Vec<LogObjectRow>,
    pub event_objects: Vec<LogLinkRow>,
    pub object_objects: Vec<LogLinkRow>,
    pub event_attributes: Vec<LogAttributeRow>,
    pub object_attributes: Vec<LogAttributeRow>,
}

/// Checks a log id: 1 to 64 letters, digits, `.`, `_` or `-`.
pub fn check_log_id(log_id: &str) -> Result<(), String> {
    let valid = !log_id.is_empty()
        && log_id.chars().count() <= MAX_LOG_ID_CHARS
        && log_id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if valid {
        Ok(())
    } else {
        Err(format!(
            "invalid log name {log_id:?}: use 1 to {MAX_LOG_ID_CHARS} letters, digits, '.', '_' or '-'"
        ))
    }
}

/// DuckDB tables of imported logs.
pub const DUCKDB_TABLES: &str = "CREATE TABLE IF NOT EXISTS exos_event_logs (\n    \
     LogId VARCHAR PRIMARY KEY,\n    Name VARCHAR NOT NULL,\n    SourceFile VARCHAR NOT NULL,\n    \
     Format VARCHAR NOT NULL,\n    ImportedAt TIMESTAMP_MS NOT NULL,\n    Events UBIGINT NOT NULL,\n    \
     Objects UBIGINT NOT NULL,\n    EventObjectLinks UBIGINT NOT NULL,\n    ObjectObjectLinks UBIGINT NOT NULL,\n    \
     Issues UBIGINT NOT NULL\n);\n\
     CREATE TABLE IF NOT EXISTS exos_log_events (\n    LogId VARCHAR NOT NULL,\n    EventId VARCHAR NOT NULL,\n    \
     EventType VARCHAR NOT NULL,\n    Time TIMESTAMP,\n    Ordinal UBIGINT NOT NULL\n);\n\
     CREATE TABLE IF NOT EXISTS exos_log_objects (\n    LogId VARCHAR NOT NULL,\n    ObjectId VARCHAR NOT NULL,\n    \
     ObjectType VARCHAR NOT NULL,\n    Ordinal UBIGINT NOT NULL\n);\n\
     CREATE TABLE IF NOT EXISTS exos_log_event_objects (\n    LogId VARCHAR NOT NULL,\n    EventId VARCHAR NOT NULL,\n    \
     ObjectId VARCHAR NOT NULL,\n    Qualifier VARCHAR NOT NULL,\n    Ordinal UBIGINT NOT NULL\n);\n\
     CREATE TABLE IF NOT EXISTS exos_log_object_objects (\n    LogId VARCHAR NOT NULL,\n    SourceId VARCHAR NOT NULL,\n    \
     TargetId VARCHAR NOT NULL,\n    Qualifier VARCHAR NOT NULL,\n    Ordinal UBIGINT NOT NULL\n);\n\
     CREATE TABLE IF NOT EXISTS exos_log_event_attributes (\n    LogId VARCHAR NOT NULL,\n    EventId VARCHAR NOT NULL,\n    \
     Name VARCHAR NOT NULL,\n    Type VARCHAR NOT NULL,\n    Value VARCHAR NOT NULL,\n    Ordinal UBIGINT NOT NULL\n);\n\
     CREATE TABLE IF NOT EXISTS exos_log_object_attributes (\n    LogId VARCHAR NOT NULL,\n    ObjectId VARCHAR NOT NULL,\n    \
     Name VARCHAR NOT NULL,\n    Time TIMESTAMP,\n    Type VARCHAR NOT NULL,\n    Value VARCHAR NOT NULL,\n    \
     Ordinal UBIGINT NOT NULL\n);\n";

/// ClickHouse tables of imported logs; ordered by log so one log reads as a range.
pub const CLICKHOUSE_TABLES: [&str; 7] = [
    "CREATE TABLE IF NOT EXISTS exos_event_logs (LogId String, Name String, SourceFile String, \
     Format LowCardinality(String), ImportedAt DateTime64(3), Events UInt64, Objects UInt64, \
     EventObjectLinks UInt64, ObjectObjectLinks UInt64, Issues UInt64) \
     ENGINE = ReplacingMergeTree(ImportedAt) ORDER BY LogId",
    "CREATE TABLE IF NOT EXISTS exos_log_events (LogId String, EventId String, \
     EventType LowCardinality(String), Time Nullable(DateTime64(6)), Ordinal UInt64) \
     ENGINE = MergeTree ORDER BY (LogId, Ordinal)",
    "CREATE TABLE IF NOT EXISTS exos_log_objects (LogId String, ObjectId String, \
     ObjectType LowCardinality(String), Ordinal UInt64) ENGINE = MergeTree ORDER BY (LogId, Ordinal)",
    "CREATE TABLE IF NOT EXISTS exos_log_event_objects (LogId String, EventId String, ObjectId String, \
     Qualifier LowCardinality(String), Ordinal UInt64) ENGINE = MergeTree ORDER BY (LogId, Ordinal)",
    "CREATE TABLE IF NOT EXISTS exos_log_object_objects (LogId String, SourceId String, TargetId String, \
     Qualifier LowCardinality(String), Ordinal UInt64) ENGINE = MergeTree ORDER BY (LogId, Ordinal)",
    "CREATE TABLE IF NOT EXISTS exos_log_event_attributes (LogId String, EventId String, \
     Name LowCardinality(String), Type LowCardinality(String), Value String, Ordinal UInt64) \
     ENGINE = MergeTree ORDER BY (LogId, Ordinal)",
    "CREATE TABLE IF NOT EXISTS exos_log_object_attributes (LogId String, ObjectId String, \
     Name LowCardinality(String), Time Nullable(DateTime64(6)), Type LowCardinality(String), \
     Value String, Ordinal UInt64) ENGINE = MergeTree ORDER BY (LogId, Ordinal)",
];

/// Rows read back at most per table; a log larger than this is refused, not cut.
pub const MAX_READ_ROWS: usize = 50_000_000;

fn read_limits() -> QueryLimits {
    QueryLimits {
        max_rows: MAX_READ_ROWS,
        timeout: std::time::Duration::from_secs(600),
    }
}

/// Renders a time column as microseconds since the epoch (NULL stays NULL).
fn epoch_us(dialect: Dialect, column: &str) -> String {
    match dialect {
        Dialect::DuckDb => format!("epoch_us({column})"),
        Dialect::ClickHouse => format!("toUnixTimestamp64Micro({column})"),
    }
}

fn epoch_ms(dialect: Dialect, column: &str) -> String {
    match dialect {
        Dialect::DuckDb => format!("epoch_ms({column})"),
        Dialect::ClickHouse => format!("toUnixTimestamp64Milli({column})"),
    }
}

fn text(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(text) => text.clone(),
        serde_json::Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn number(value: &serde_json::Value) -> Option<i64> {
    match value {
        serde_json::Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        serde_json::Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

fn rows(store: &dyn Store, sql: &str) -> Result<Vec<Vec<serde_json::Value>>, StoreError> {
    let result = store.query(sql, &read_limits())?;
    if result.truncated {
        return Err(StoreError::Other(format!(
            "the log has more than {MAX_READ_ROWS} rows in one table; export it in parts with SQL"
        )));
    }
    Ok(result.rows)
}

/// Lists the catalogue, newest import first.
pub fn list_event_logs(store: &dyn Store) -> Result<Vec<EventLogEntry>, StoreError> {
    let dialect = store.dialect();
    let final_clause = if dialect == Dialect::ClickHouse {
        " FINAL"
    } else {
        ""
    };
    let sql = format!(
        "SELECT LogId, Name, SourceFile, Format, {}, Events, Objects, EventObjectLinks, \
         ObjectObjectLinks, Issues FROM exos_event_logs{final_clause} ORDER BY ImportedAt DESC, LogId",
        epoch_ms(dialect, "ImportedAt")
    );
    Ok(rows(store, &sql)?
        .iter()
        .map(|row| EventLogEntry {
            log_id: text(&row[0]),
            name: text(&row[1]),
            source_file: text(&row[2]),
            format: text(&row[3]),
            imported_ms: number(&row[4]).unwrap_or(0),
            events: number(&row[5]).unwrap_or(0) as u64,
            objects: number(&row[6]).unwrap_or(0) as u64,
            event_object_links: number(&row[7]).unwrap_or(0) as u64,
            object_object_links: number(&row[8]).unwrap_or(0) as u64,
            issues: number(&row[9]).unwrap_or(0) as u64,
        })
        .collect())
}

/// Returns the catalogue row of one log, if it exists.
pub fn find_event_log(
    store: &dyn Store,
    log_id: &str,
) -> Result<Option<EventLogEntry>, StoreError> {
    check_log_id(log_id).map_err(StoreError::Query)?;
    Ok(list_event_logs(store)?
        .into_iter()
        .find(|entry| entry.log_id == log_id))
}

/// Reads every row of one log back, each table in file order.
pub fn read_event_log(store: &dyn Store, log_id: &str) -> Result<EventLogRows, StoreError> {
    check_log_id(log_id).map_err(StoreError::Query)?;
    let dialect = store.dialect();
    // The id passed the check above: it contains no quote or backslash.
    let of_log = format!("LogId = '{log_id}'");
    let events = rows(
        store,
        &format!(
            "SELECT EventId, EventType, {} FROM exos_log_events WHERE {of_log} ORDER BY Ordinal",
            epoch_us(dialect, "Time")
        ),
    )?;
    let objects = rows(
        store,
        &format!(
            "SELECT ObjectId, ObjectType FROM exos_log_objects WHERE {of_log} ORDER BY Ordinal"
        ),
    )?;
    let links = |table: &str, source: &str, target: &str| -> Result<Vec<LogLinkRow>, StoreError> {
        Ok(rows(
            store,
            &format!(
                "SELECT {source}, {target}, Qualifier FROM {table} WHERE {of_log} ORDER BY Ordinal"
            ),
        )?
        .iter()
        .map(|row| LogLinkRow {
            source_id: text(&row[0]),
            target_id: text(&row[1]),
            qualifier: text(&row[2]),
        })
        .collect())
    };
    let event_attributes = rows(
        store,
        &format!(
            "SELECT EventId, Name, NULL, Type, Value FROM exos_log_event_attributes WHERE {of_log} ORDER BY Ordinal"
        ),
    )?;
    let object_attributes = rows(
        store,
        &format!(
            "SELECT ObjectId, Name, {}, Type, Value FROM exos_log_object_attributes WHERE {of_log} ORDER BY Ordinal",
            epoch_us(dialect, "Time")
        ),
    )?;
    let attribute = |row: &Vec<serde_json::Value>| LogAttributeRow {
        owner_id: text(&row[0]),
        name: text(&row[1]),
        time_us: number(&row[2]),
        value_type: text(&row[3]),
        value: text(&row[4]),
    };
    Ok(EventLogRows {
        events: events
            .iter()
            .map(|row| LogEventRow {
                event_id: text(&row[0]),
                event_type: text(&row[1]),
                time_us: number(&row[2]),
            })
            .collect(),
        objects: objects
            .iter()
            .map(|row| LogObjectRow {
                object_id: text(&row[0]),
                object_type: text(&row[1]),
            })
            .collect(),
        event_objects: links("exos_log_event_objects", "EventId", "ObjectId")?,
        object_objects: links("exos_log_object_objects", "SourceId", "TargetId")?,
        event_attributes: event_attributes.iter().map(attribute).collect(),
        object_attributes: object_attributes.iter().map(attribute).collect(),
    })
}

/// Builds the statements that delete one log's rows from every table (catalogue last).
pub fn delete_statements(log_id: &str) -> Vec<String> {
    TABLES
        .iter()
        .rev()
        .map(|table| format!("DELETE FROM {table} WHERE LogId = '{log_id}'"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_id_check_accepts_plain_names() {
        assert!(check_log_id("bpic-2012_v1.0").is_ok());
    }

    #[test]
    fn log_id_check_rejects_quotes_and_spaces() {
        for bad in ["", "a b", "x'y", "a\\b", &"n".repeat(65)] {
            assert!(check_log_id(bad).is_err(), "{bad:?} passed");
        }
    }
}

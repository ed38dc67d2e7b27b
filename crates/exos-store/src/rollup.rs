//! Span rollups: span counts per time slot, service and latency bin, kept beside
//! `otel_traces`, so the overview and engineering pages read thousands of rows
//! instead of every span of a day.
//!
//! - `exos_span_rollup`: per 5-minute slot, service, latency bin and latency
//!   histogram bucket: spans, errors, roots, shortest and longest duration.
//! - `exos_endpoint_rollup`: per hour, service, span name, span kind and latency
//!   bin: spans, errors, shortest and longest duration.
//! - `exos_operator_rollup`: per 5-minute slot and `OperatorId` (empty for spans
//!   without one): spans, errors, shortest and longest duration.
//!
//! A slot is the epoch nanosecond of its start. Readers always `sum` the counts
//! and take `min` and `max` of the durations, because a key may have several rows.
//!
//! On DuckDB, each store write adds the rollup rows of its spans in its own
//! transaction, so the rollups count exactly the committed spans. Writes append
//! partial rows (`Merged = false`); `merge` folds them into merged rows now
//! and then. A store whose rollups disagree with `otel_traces` (spans written
//! by other means) rebuilds them when it opens. On ClickHouse, materialized
//! views fill the rollups on every insert into `otel_traces`, including the
//! inserts of a stock OpenTelemetry Collector.

use std::collections::HashMap;
use std::sync::Arc;

use exos_core::SpanRow;

use crate::Dialect;

/// Width of an `exos_span_rollup` slot: 5 minutes. Chart buckets of 5 minutes
/// and more are whole multiples of it.
pub const SPAN_SLOT_NS: i64 = 300_000_000_000;
/// Width of an `exos_endpoint_rollup` slot: one hour.
pub const ENDPOINT_SLOT_NS: i64 = 3_600_000_000_000;

/// Latency bins per doubling of the duration (the OpenTelemetry exponential
/// histogram at scale 3).
pub const BINS_PER_DOUBLING: i64 = 8;

/// Upper bounds of the latency histogram's buckets, in ms; a last bucket takes the rest.
pub const HISTOGRAM_LE_MS: [f64; 13] = [
    1.0, 2.0, 5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1000.0, 2500.0, 5000.0, 10000.0,
];

/// The span rollup table.
pub const SPAN_TABLE: &str = "exos_span_rollup";
/// The endpoint rollup table.
pub const ENDPOINT_TABLE: &str = "exos_endpoint_rollup";
/// The per-hour operator rollup's table.
pub const OPERATOR_TABLE: &str = "exos_operator_rollup";
/// Every rollup table.
pub const TABLES: [&str; 3] = [SPAN_TABLE, ENDPOINT_TABLE, OPERATOR_TABLE];

/// Returns the latency bin of a duration, as `duration_bin_sql` computes it.
pub fn duration_bin(duration_ns: u64) -> i64 {
    ((duration_ns.max(1) as f64).log2() * BINS_PER_DOUBLING as f64 + 1e-7).floor() as i64
}

/// Returns the index of the first histogram bound the duration is at most;
/// `HISTOGRAM_LE_MS.len()` when it exceeds them all.
pub fn histogram_bucket(duration_ns: u64) -> u8 {
    HISTOGRAM_LE_MS
        .iter()
        .filter(|le| duration_ns > le_ns(**le))
        .count() as u8
}

/// Returns a histogram bound in nanoseconds.
pub fn le_ns(le_ms: f64) -> u64 {
    (le_ms * 1e6) as u64
}

/// Renders the latency bin of a duration column in `dialect`.
pub fn duration_bin_sql(dialect: Dialect, column: &str) -> String {
    match dialect {
        Dialect::DuckDb => format!(
            "CAST(floor(log2(greatest({column}, 1)) * {BINS_PER_DOUBLING} + 1e-7) AS BIGINT)"
        ),
        Dialect::ClickHouse => {
            format!("toInt64(floor(log2(greatest({column}, 1)) * {BINS_PER_DOUBLING} + 1e-7))")
        }
    }
}

/// Renders the histogram bucket of a duration column in `dialect`.
fn histogram_bucket_sql(dialect: Dialect, column: &str) -> String {
    let terms: Vec<String> = HISTOGRAM_LE_MS
        .iter()
        .map(|le| match dialect {
            Dialect::DuckDb => format!("CAST({column} > {} AS UTINYINT)", le_ns(*le)),
            Dialect::ClickHouse => format!("toUInt8({column} > {})", le_ns(*le)),
        })
        .collect();
    match dialect {
        Dialect::DuckDb => format!("CAST({} AS UTINYINT)", terms.join(" + ")),
        Dialect::ClickHouse => format!("toUInt8({})", terms.join(" + ")),
    }
}

/// True for a status code in either spelling of error.
pub(crate) fn is_error(status_code: &str) -> bool {
    status_code == "Error" || status_code == "STATUS_CODE_ERROR"
}

/// The condition that marks an error span, in both spellings of the status code.
pub const IS_ERROR_SQL: &str = "StatusCode IN ('Error', 'STATUS_CODE_ERROR')";

/// Counts of one rollup row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    pub spans: u64,
    pub errors: u64,
    pub roots: u64,
    pub min_duration: u64,
    pub max_duration: u64,
}

impl Counts {
    fn new(span: &SpanRow) -> Self {
        Self::starting(span.duration_ns)
    }

    /// Creates empty counts whose shortest and longest duration start at `duration_ns`.
    pub(crate) fn starting(duration_ns: u64) -> Self {
        Self {
            spans: 0,
            errors: 0,
            roots: 0,
            min_duration: duration_ns,
            max_duration: duration_ns,
        }
    }

    fn add(&mut self, span: &SpanRow) {
        self.count(span.duration_ns, is_error(span.status_code));
        self.roots += u64::from(span.parent_span_id.is_empty());
    }

    /// Counts one span (or call) of `duration_ns`, an error when `failed`.
    pub(crate) fn count(&mut self, duration_ns: u64, failed: bool) {
        self.spans += 1;
        self.errors += u64::from(failed);
        self.min_duration = self.min_duration.min(duration_ns);
        self.max_duration = self.max_duration.max(duration_ns);
    }
}

/// The key of an `exos_span_rollup` row: slot, service, bin, histogram bucket.
pub type SpanKey = (i64, Arc<str>, i64, u8);
/// The key of an `exos_endpoint_rollup` row: slot, service, span name, span kind, bin.
pub type EndpointKey = (i64, Arc<str>, String, &'static str, i64);
/// The key of an `exos_operator_rollup` row: slot, operator.
pub type OperatorKey = (i64, String);

/// The rollup rows of a batch of spans.
#[derive(Debug, Default)]
pub struct RollupRows {
    pub spans: Vec<(SpanKey, Counts)>,
    pub endpoints: Vec<(EndpointKey, Counts)>,
    pub operators: Vec<(OperatorKey, Counts)>,
}

/// Counts `spans` into the rows of every rollup.
pub fn rollup_rows(spans: &[SpanRow]) -> RollupRows {
    let mut per_span: HashMap<SpanKey, Counts> = HashMap::new();
    let mut per_endpoint: HashMap<EndpointKey, Counts> = HashMap::new();
    let mut per_operator: HashMap<OperatorKey, Counts> = HashMap::new();
    for span in spans {
        let bin = duration_bin(span.duration_ns);
        let slot = span.timestamp_ns.div_euclid(SPAN_SLOT_NS) * SPAN_SLOT_NS;
        let span_key = (
            slot,
            span.service_name.clone(),
            bin,
            histogram_bucket(span.duration_ns),
        );
        per_span
            .entry(span_key)
            .or_insert_with(|| Counts::new(span))
            .add(span);
        let endpoint_key = (
            span.timestamp_ns.div_euclid(ENDPOINT_SLOT_NS) * ENDPOINT_SLOT_NS,
            span.service_name.clone(),
            span.span_name.clone(),
            span.span_kind,
            bin,
        );
        per_endpoint
            .entry(endpoint_key)
            .or_insert_with(|| Counts::new(span))
            .add(span);
        per_operator
            .entry((slot, span.keys.operator_id.clone()))
            .or_insert_with(|| Counts::new(span))
            .add(span);
    }
    RollupRows {
        spans: per_span.into_iter().collect(),
        endpoints: per_endpoint.into_iter().collect(),
        operators: per_operator.into_iter().collect(),
    }
}

/// The DuckDB tables. `Merged` marks the rows `merge` wrote.
pub const DUCKDB_TABLES: &str = "\
CREATE TABLE IF NOT EXISTS exos_span_rollup (Slot BIGINT NOT NULL, ServiceName VARCHAR NOT NULL, \
Bin BIGINT NOT NULL, Bucket UTINYINT NOT NULL, Spans UBIGINT NOT NULL, Errors UBIGINT NOT NULL, \
Roots UBIGINT NOT NULL, MinDuration UBIGINT NOT NULL, MaxDuration UBIGINT NOT NULL, Merged BOOLEAN NOT NULL);
CREATE TABLE IF NOT EXISTS exos_endpoint_rollup (Slot BIGINT NOT NULL, ServiceName VARCHAR NOT NULL, \
SpanName VARCHAR NOT NULL, SpanKind VARCHAR NOT NULL, Bin BIGINT NOT NULL, Spans UBIGINT NOT NULL, \
Errors UBIGINT NOT NULL, MinDuration UBIGINT NOT NULL, MaxDuration UBIGINT NOT NULL, Merged BOOLEAN NOT NULL);
CREATE TABLE IF NOT EXISTS exos_operator_rollup (Slot BIGINT NOT NULL, OperatorId VARCHAR NOT NULL, \
Spans UBIGINT NOT NULL, Errors UBIGINT NOT NULL, MinDuration UBIGINT NOT NULL, \
MaxDuration UBIGINT NOT NULL, Merged BOOLEAN NOT NULL);
";

/// One rollup's key columns and how each is computed from an `otel_traces` row.
struct Shape {
    table: &'static str,
    slot_ns: i64,
    /// The key columns after the slot, each with its expression in the dialect.
    keys: fn(Dialect) -> Vec<(&'static str, String)>,
    roots: bool,
}

const SHAPES: [Shape; 3] = [
    Shape {
        table: SPAN_TABLE,
        slot_ns: SPAN_SLOT_NS,
        keys: |dialect| {
            vec![
                ("ServiceName", "ServiceName".into()),
                ("Bin", duration_bin_sql(dialect, "Duration")),
                ("Bucket", histogram_bucket_sql(dialect, "Duration")),
            ]
        },
        roots: true,
    },
    Shape {
        table: ENDPOINT_TABLE,
        slot_ns: ENDPOINT_SLOT_NS,
        keys: |dialect| {
            vec![
                ("ServiceName", "ServiceName".into()),
                ("SpanName", "SpanName".into()),
                ("SpanKind", "SpanKind".into()),
                ("Bin", duration_bin_sql(dialect, "Duration")),
            ]
        },
        roots: false,
    },
    Shape {
        table: OPERATOR_TABLE,
        slot_ns: SPAN_SLOT_NS,
        keys: |_| vec![("OperatorId", "OperatorId".into())],
        roots: false,
    },
];

/// Renders the `SELECT` that computes a rollup's rows from `otel_traces`.
fn select_from_spans(shape: &Shape, dialect: Dialect) -> String {
    let slot = match dialect {
        Dialect::DuckDb => format!("(epoch_ns(Timestamp) // {0}) * {0}", shape.slot_ns),
        Dialect::ClickHouse => format!(
            "intDiv(toUnixTimestamp64Nano(Timestamp), {0}) * {0}",
            shape.slot_ns
        ),
    };

    let keys = (shape.keys)(dialect);
    let mut columns = vec![format!("{slot} AS Slot")];
    columns.extend(keys.iter().map(|(name, expr)| format!("{expr} AS {name}")));
    let (count, errors, roots) = match dialect {
        Dialect::DuckDb => (
            "CAST(count(*) AS UBIGINT)".to_string(),
            format!("CAST(count(*) FILTER (WHERE {IS_ERROR_SQL}) AS UBIGINT)"),
            "CAST(count(*) FILTER (WHERE ParentSpanId = '') AS UBIGINT)".to_string(),
        ),
        Dialect::ClickHouse => (
            "count()".to_string(),
            format!("countIf({IS_ERROR_SQL})"),
            "countIf(ParentSpanId = '')".to_string(),
        ),
    };

    columns.push(format!("{count} AS Spans"));
    columns.push(format!("{errors} AS Errors"));
    if shape.roots {
        columns.push(format!("{roots} AS Roots"));
    }
    columns.push("min(Duration) AS MinDuration".into());
    columns.push("max(Duration) AS MaxDuration".into());

    let mut group = vec!["Slot"];
    group.extend(keys.iter().map(|(name, _)| *name));
    format!(
        "SELECT {} FROM otel_traces GROUP BY {}",
        columns.join(", "),
        group.join(", ")
    )
}

/// Returns the counted columns of a rollup, which follow its keys.
fn counted(shape: &Shape) -> Vec<&'static str> {
    let mut columns = vec!["Spans", "Errors"];
    if shape.roots {
        columns.push("Roots");
    }
    columns
}

fn key_columns(shape: &Shape) -> Vec<&'static str> {
    let mut columns = vec!["Slot"];
    columns.extend((shape.keys)(Dialect::DuckDb).iter().map(|(name, _)| *name));
    columns
}

/// DuckDB statements that empty every rollup and count every stored span into them.
pub fn duckdb_rebuild() -> Vec<String> {
    let mut statements = Vec::new();
    for shape in &SHAPES {
        statements.push(format!("DELETE FROM {}", shape.table));
        statements.push(format!(
            "INSERT INTO {} SELECT *, true FROM ({})",
            shape.table,
            select_from_spans(shape, Dialect::DuckDb)
        ));
    }
    statements
}

/// DuckDB statements that fold every row of the slots that have partial rows into
/// one merged row per key, so a slot keeps one row per key however often it is written.
///
/// Run in one transaction. Rows that other writers append meanwhile are not
/// visible to it, so the `DELETE` leaves them for the next merge.
pub fn duckdb_merge() -> Vec<String> {
    let mut statements = Vec::new();
    for shape in &SHAPES {
        statements.extend(merge_statements(
            shape.table,
            &key_columns(shape),
            &counted(shape),
        ));
    }
    statements.extend(merge_statements(
        crate::edges::TABLE,
        &crate::edges::KEYS,
        &crate::edges::COUNTED,
    ));
    statements
}

/// DuckDB statements that merge the partial rows of one rollup `table`, whose key
/// columns are `keys` and whose summed columns are `counted` (then `MinDuration`,
/// `MaxDuration` and `Merged` follow).
fn merge_statements(table: &str, keys: &[&str], counted: &[&str]) -> Vec<String> {
    let mut aggregates: Vec<String> = counted
        .iter()
        .map(|c| format!("CAST(sum({c}) AS UBIGINT) AS {c}"))
        .collect();
    aggregates.push("min(MinDuration) AS MinDuration".into());
    aggregates.push("max(MaxDuration) AS MaxDuration".into());
    vec![
        format!(
            "CREATE OR REPLACE TEMP TABLE exos_rollup_merge AS \
             SELECT {keys}, {aggregates}, true AS Merged FROM {table} \
             WHERE Slot IN (SELECT DISTINCT Slot FROM {table} WHERE NOT Merged) GROUP BY {keys}",
            keys = keys.join(", "),
            aggregates = aggregates.join(", "),
        ),
        format!("DELETE FROM {table} WHERE Slot IN (SELECT DISTINCT Slot FROM exos_rollup_merge)"),
        format!("INSERT INTO {table} SELECT * FROM exos_rollup_merge"),
        "DROP TABLE exos_rollup_merge".into(),
    ]
}

/// A DuckDB query whose one row gives, for each rollup in turn, the spans of
/// `otel_traces` and the spans the rollup counts.
pub const DUCKDB_COUNTS: &str =
    "SELECT n, (SELECT coalesce(sum(Spans), 0) FROM exos_span_rollup), \
     n, (SELECT coalesce(sum(Spans), 0) FROM exos_endpoint_rollup), \
     n, (SELECT coalesce(sum(Spans), 0) FROM exos_operator_rollup) \
     FROM (SELECT count(*) AS n FROM otel_traces) AS spans";

/// ClickHouse statements that create the rollups and the materialized views that
/// fill them; `retention_days` > 0 adds the spans' time to live.
pub fn clickhouse_tables(retention_days: u32) -> Vec<String> {
    let mut statements = Vec::new();
    for shape in &SHAPES {
        let types: HashMap<&str, &str> = [
            ("ServiceName", "LowCardinality(String)"),
            ("SpanName", "LowCardinality(String)"),
            ("SpanKind", "LowCardinality(String)"),
            ("Bin", "Int64"),
            ("Bucket", "UInt8"),
            ("OperatorId", "String"),
        ]
        .into_iter()
        .collect();
        let keys = key_columns(shape);
        let mut columns: Vec<String> = vec!["Slot Int64".into()];
        columns.extend(keys[1..].iter().map(|k| format!("{k} {}", types[k])));
        columns.extend(
            counted(shape)
                .iter()
                .map(|c| format!("{c} SimpleAggregateFunction(sum, UInt64)")),
        );
        columns.push("MinDuration SimpleAggregateFunction(min, UInt64)".into());
        columns.push("MaxDuration SimpleAggregateFunction(max, UInt64)".into());
        let ttl = if retention_days > 0 {
            format!(" TTL toDateTime(intDiv(Slot, 1000000000)) + toIntervalDay({retention_days})")
        } else {
            String::new()
        };
        statements.push(format!(
            "CREATE TABLE IF NOT EXISTS {table} ({columns}) ENGINE = AggregatingMergeTree \
             PARTITION BY intDiv(Slot, 86400000000000) ORDER BY ({keys}){ttl}",
            table = shape.table,
            columns = columns.join(", "),
            keys = keys.join(", "),
        ));
    }
    statements
}

/// ClickHouse: the materialized view that fills each rollup, and the statement that
/// counts the spans stored before the view existed. The caller runs the backfill
/// only when it created the view.
pub fn clickhouse_views() -> Vec<(String, String)> {
    SHAPES
        .iter()
        .map(|shape| {
            let select = select_from_spans(shape, Dialect::ClickHouse);
            (
                format!(
                    "CREATE MATERIALIZED VIEW IF NOT EXISTS {table}_mv TO {table} AS {select}",
                    table = shape.table
                ),
                format!("INSERT INTO {} {select}", shape.table),
            )
        })
        .collect()
}

/// Returns the name of each rollup's materialized view on ClickHouse.
pub fn clickhouse_view_names() -> [String; 3] {
    TABLES.map(|table| format!("{table}_mv"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_follow_the_bounds() {
        assert_eq!(histogram_bucket(0), 0);
        assert_eq!(histogram_bucket(1_000_000), 0);
        assert_eq!(histogram_bucket(1_000_001), 1);
        assert_eq!(histogram_bucket(10_000_000_000), 12);
        assert_eq!(histogram_bucket(10_000_000_001), 13);
    }

    #[test]
    fn bins_double_every_eight() {
        assert_eq!(duration_bin(0), 0);
        assert_eq!(duration_bin(1), 0);
        assert_eq!(duration_bin(2), 8);
        assert_eq!(duration_bin(1 << 20), 160);
        assert_eq!(duration_bin((1 << 20) - 1), 159);
    }

    #[test]
    fn partial_rows_of_one_key_add_up() {
        let span = |ts: i64, duration: u64, status: &'static str, parent: &str| SpanRow {
            timestamp_ns: ts,
            service_name: "api".into(),
            span_name: "GET /".into(),
            span_kind: "Server",
            duration_ns: duration,
            status_code: status,
            parent_span_id: parent.into(),
            ..SpanRow::default()
        };
        let rows = rollup_rows(&[
            span(10, 1_000, "Error", ""),
            span(20, 1_001, "Ok", "ab"),
            span(SPAN_SLOT_NS + 5, 1_000, "Unset", ""),
        ]);
        assert_eq!(rows.spans.len(), 2);
        let first = rows
            .spans
            .iter()
            .find(|(key, _)| key.0 == 0)
            .expect("the first slot")
            .1;
        assert_eq!(
            first,
            Counts {
                spans: 2,
                errors: 1,
                roots: 1,
                min_duration: 1_000,
                max_duration: 1_001
            }
        );
        assert_eq!(rows.endpoints.len(), 1);
        assert_eq!(rows.endpoints[0].1.spans, 3);
        assert_eq!(rows.operators.len(), 2, "one row per slot");
        let first = rows
            .operators
            .iter()
            .find(|(key, _)| key.0 == 0)
            .expect("slot 0");
        assert_eq!((first.1.spans, first.1.errors), (2, 1));
    }
}

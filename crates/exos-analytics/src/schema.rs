//! `GET /api/schema`: every table and view users may query, with column types
//! and the most frequent keys of each attribute map.
//!
//! Column types are the store's own names (DuckDB's `MAP(VARCHAR, VARCHAR)`,
//! ClickHouse's `Map(LowCardinality(String), String)`), read from its catalog.
//! Map keys come from about the latest `MAP_KEY_SAMPLE_ROWS` rows of each table.

use std::collections::BTreeMap;

use exos_store::{schema as store_schema, Dialect, Store};
use serde::Serialize;

use crate::error::AnalyticsError;
use crate::rows::{query_all, Row};
use crate::sql::Sql;

/// Rows sampled per table to list attribute keys.
pub const MAP_KEY_SAMPLE_ROWS: usize = 10_000;
/// Keys listed per map at most.
pub const MAX_MAP_KEYS: usize = 50;

/// The tables whose attribute maps the schema samples.
const KEYED_TABLES: [&str; 3] = ["otel_traces", "otel_logs", "hyperdx_sessions"];

/// The attribute maps whose keys the schema lists, per table.
const KEYED_MAPS: [(&str, &str); 5] = [
    ("otel_traces", "SpanAttributes"),
    ("otel_traces", "ResourceAttributes"),
    ("otel_logs", "LogAttributes"),
    ("otel_logs", "ResourceAttributes"),
    ("hyperdx_sessions", "LogAttributes"),
];

/// The response body of `/api/schema`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Schema {
    /// `duckdb` or `clickhouse`.
    pub dialect: &'static str,
    pub tables: Vec<Relation>,
}

/// One table or view.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Relation {
    pub name: String,
    /// `table` or `view`.
    pub kind: &'static str,
    pub about: String,
    pub columns: Vec<ColumnType>,
    /// The most frequent keys of each attribute map, the most frequent first.
    pub map_keys: BTreeMap<String, Vec<String>>,
}

/// A column and its store type.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ColumnType {
    pub name: String,
    #[serde(rename = "type")]
    pub type_name: String,
}

/// Describes a table for users and the AI.
fn table_about(name: &str) -> &'static str {
    match name {
        "otel_traces" => "One row per span (OTel ClickHouse exporter layout) with the business keys \
                          OrderId, OperatorId, Lob, RumSessionId and UserId as columns, and the span's \
                          order.status as OrderStatus; Duration in ns.",
        "otel_logs" => "One row per application log record, with the business keys as columns.",
        "hyperdx_sessions" => "Browser session replay (rrweb) events, in the logs layout.",
        "otel_metrics_gauge" => "Gauge data points.",
        "otel_metrics_sum" => "Sum (counter) data points with temporality and monotonicity.",
        "otel_metrics_histogram" => "Explicit-bucket histogram data points.",
        "otel_metrics_exponential_histogram" => "Exponential histogram data points.",
        "otel_metrics_summary" => "Summary data points with quantile values.",
        "exos_span_rollup" => "Span counts per 5-minute slot, service and latency bin (Slot in epoch ns); \
                               sum the counts, since a key may have several rows.",
        "exos_endpoint_rollup" => "Span counts per hour, service, span name, kind and latency bin; \
                                   sum the counts.",
        "exos_operator_rollup" => "Span counts per 5-minute slot and operator; sum the counts.",
        "exos_edge_rollup" => "Embedded store: calls from a client span of one service (Source) to a \
                               server span of another (Target) per 5-minute slot and latency bin; \
                               sum the counts.",
        "exos_orders" => "Embedded store: one summary per order (first and last span time in epoch ns, \
                          LOB, last order.status); rows with Merged = false are partial.",
        "exos_sessions" => "Embedded store: one summary per browser session (first and last span time); \
                            rows with Merged = false are partial.",
        "exos_errors" => "Embedded store: one row per error span with its type, normalised message, \
                          top frame and fingerprint.",
        _ => "",
    }
}

/// Lists the readable tables and views with their columns and frequent map keys.
pub fn schema(store: &dyn Store) -> Result<Schema, AnalyticsError> {
    let sql = Sql::new(store.dialect());
    let cutoffs: Vec<(String, usize)> = KEYED_TABLES
        .iter()
        .map(|table| {
            let text = format!(
                "SELECT {} FROM {table} ORDER BY Timestamp DESC LIMIT 1 OFFSET {}",
                sql.epoch_ns("Timestamp"),
                MAP_KEY_SAMPLE_ROWS - 1
            );
            (text, 1)
        })
        .collect();
    let cutoffs = query_all(store, &cutoffs)?;
    let mut queries = vec![(columns_sql(store.dialect()), 10_000)];
    for (table, map) in KEYED_MAPS {
        let position = KEYED_TABLES
            .iter()
            .position(|t| *t == table)
            .expect("listed table");
        let condition = match cutoffs[position].first() {
            Some(row) => format!("Timestamp >= {}", sql.time(row.int(0)?)),
            None => "1 = 1".to_string(),
        };
        let sample = format!("SELECT {map} FROM {table} WHERE {condition}");
        queries.push((
            sql.count_list_items(&sql.map_keys(map), &sample, MAX_MAP_KEYS),
            MAX_MAP_KEYS,
        ));
    }
    let mut results = query_all(store, &queries)?.into_iter();
    let column_rows = results.next().unwrap_or_default();
    let mut columns: BTreeMap<String, Vec<ColumnType>> = BTreeMap::new();
    for row in &column_rows {
        columns.entry(row.text(0)).or_default().push(ColumnType {
            name: row.text(1),
            type_name: row.text(2),
        });
    }
    let mut map_keys: BTreeMap<&str, BTreeMap<String, Vec<String>>> = BTreeMap::new();
    for ((table, map), rows) in KEYED_MAPS.iter().zip(results) {
        let keys = rows.iter().map(|row: &Row| row.text(0)).collect();
        map_keys
            .entry(table)
            .or_default()
            .insert(map.to_string(), keys);
    }

    let views = store_schema::views();
    // Tables this store does not keep (the embedded store's summaries on ClickHouse) are left out.
    let present: Vec<String> = exos_store::readable_relations()
        .into_iter()
        .filter(|name| columns.contains_key(name))
        .collect();
    let tables = present
        .into_iter()
        .map(|name| {
            let view = views.iter().find(|v| v.name == name);
            Relation {
                kind: if view.is_some() { "view" } else { "table" },
                about: view.map_or_else(|| table_about(&name).to_string(), |v| v.about.to_string()),
                columns: columns.remove(&name).unwrap_or_default(),
                map_keys: map_keys.remove(name.as_str()).unwrap_or_default(),
                name,
            }
        })
        .collect();
    Ok(Schema {
        dialect: match store.dialect() {
            Dialect::DuckDb => "duckdb",
            Dialect::ClickHouse => "clickhouse",
        },
        tables,
    })
}

fn columns_sql(dialect: Dialect) -> String {
    match dialect {
        Dialect::DuckDb => {
            "SELECT table_name, column_name, data_type FROM information_schema.columns \
                            WHERE table_schema = 'main' ORDER BY table_name, ordinal_position"
                .into()
        }
        Dialect::ClickHouse => "SELECT table, name, type FROM system.columns \
                                WHERE database = currentDatabase() ORDER BY table, position"
            .into(),
    }
}

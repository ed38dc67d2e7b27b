//! DDL for DuckDB and ClickHouse, rendered from the one set of table definitions.

use super::{Column, Fill, Table, Type};

/// Settings that shape the ClickHouse DDL.
#[derive(Debug, Clone)]
pub struct ClickHouseOptions {
    /// Days of data kept; 0 keeps data forever (no TTL clause).
    pub retention_days: u32,
    /// Table engine, `MergeTree()` on one server or `ReplicatedMergeTree(…)` on a cluster.
    pub engine: String,
    /// Days of session replay kept (`hyperdx_sessions`), when set apart from other data.
    pub replay_retention_days: Option<u32>,
}

impl Default for ClickHouseOptions {
    fn default() -> Self {
        Self {
            retention_days: 0,
            engine: "MergeTree()".into(),
            replay_retention_days: None,
        }
    }
}

fn duckdb_type(ty: Type) -> &'static str {
    match ty {
        Type::Time9 => "TIMESTAMP_NS",
        Type::DateTime => "TIMESTAMP",
        Type::Text | Type::LowText => "VARCHAR",
        Type::U8 => "UTINYINT",
        Type::U32 => "UINTEGER",
        Type::U64 => "UBIGINT",
        Type::I32 => "INTEGER",
        Type::F64 => "DOUBLE",
        Type::Bool => "BOOLEAN",
        Type::Map => "MAP(VARCHAR, VARCHAR)",
        Type::ListTime9 => "TIMESTAMP_NS[]",
        Type::ListText | Type::ListLowText => "VARCHAR[]",
        Type::ListMap => "MAP(VARCHAR, VARCHAR)[]",
        Type::ListU64 => "UBIGINT[]",
        Type::ListF64 => "DOUBLE[]",
    }
}

fn clickhouse_type(ty: Type) -> &'static str {
    match ty {
        Type::Time9 | Type::ListTime9 => "DateTime64(9)",
        Type::DateTime => "DateTime",
        Type::Text | Type::ListText => "String",
        Type::LowText | Type::ListLowText => "LowCardinality(String)",
        Type::U8 => "UInt8",
        Type::U32 => "UInt32",
        Type::U64 | Type::ListU64 => "UInt64",
        Type::I32 => "Int32",
        Type::F64 | Type::ListF64 => "Float64",
        Type::Bool => "Bool",
        Type::Map | Type::ListMap => "Map(LowCardinality(String), String)",
    }
}

/// Returns true for list types, which ClickHouse declares as `Nested` fields or arrays.
fn is_list(ty: Type) -> bool {
    matches!(
        ty,
        Type::ListTime9
            | Type::ListText
            | Type::ListLowText
            | Type::ListMap
            | Type::ListU64
            | Type::ListF64
    )
}

/// Renders `CREATE TABLE IF NOT EXISTS` for DuckDB.
pub fn duckdb_ddl(table: &Table) -> String {
    let columns: Vec<String> = table
        .columns
        .iter()
        .filter(|column| !matches!(column.fill, Fill::Alias { .. }))
        .map(|column| {
            let default = match column.ty {
                Type::Text | Type::LowText => " NOT NULL DEFAULT ''",
                _ => "",
            };
            let compression = if table.duckdb_zstd_columns.contains(&column.name) {
                " USING COMPRESSION zstd"
            } else {
                ""
            };
            format!(
                "    \"{}\" {}{compression}{default}",
                column.name,
                duckdb_type(column.ty)
            )
        })
        .collect();
    let mut sql = format!(
        "CREATE TABLE IF NOT EXISTS {} (\n{}\n);\n",
        table.name,
        columns.join(",\n")
    );
    for (name, expr) in &table.duckdb_indexes {
        sql.push_str(&format!(
            "CREATE INDEX IF NOT EXISTS {name} ON {} ({expr});\n",
            table.name
        ));
    }
    sql
}

/// Renders `CREATE TABLE IF NOT EXISTS` for ClickHouse, as the exporter creates it.
pub fn clickhouse_ddl(table: &Table, options: &ClickHouseOptions) -> String {
    let mut lines = clickhouse_columns(&table.columns);
    lines.extend(
        table
            .clickhouse_indexes
            .iter()
            .map(|index| format!("    INDEX {index}")),
    );
    let mut sql = format!(
        "CREATE TABLE IF NOT EXISTS {} (\n{}\n) ENGINE = {}\nPARTITION BY {}\n",
        table.name,
        lines.join(",\n"),
        options.engine,
        table.clickhouse_partition_by
    );
    if let Some(primary_key) = table.clickhouse_primary_key {
        sql.push_str(&format!("PRIMARY KEY {primary_key}\n"));
    }
    sql.push_str(&format!("ORDER BY {}\n", table.clickhouse_order_by));
    let days = match options.replay_retention_days {
        Some(days) if table.name == "hyperdx_sessions" => days,
        _ => options.retention_days,
    };
    if days > 0 {
        sql.push_str(&format!(
            "TTL {} + toIntervalDay({days})\n",
            table.clickhouse_ttl_column
        ));
    }
    sql.push_str("SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1");
    sql
}

/// Renders the exporter's trace-id lookup table and the materialized view that fills it.
///
/// Finding a trace by id scans little: the lookup gives the trace's time range,
/// which then prunes `otel_traces` partitions.
pub fn clickhouse_trace_lookup(options: &ClickHouseOptions) -> Vec<String> {
    let ttl = if options.retention_days > 0 {
        format!(
            "TTL toDateTime(Start) + toIntervalDay({})\n",
            options.retention_days
        )
    } else {
        String::new()
    };
    vec![
        format!(
            "CREATE TABLE IF NOT EXISTS otel_traces_trace_id_ts (\n    TraceId String CODEC(ZSTD(1)),\n    \
             Start SimpleAggregateFunction(min, DateTime) CODEC(ZSTD(1)),\n    \
             End SimpleAggregateFunction(max, DateTime) CODEC(ZSTD(1))\n) ENGINE = AggregatingMergeTree()\n\
             PARTITION BY toStartOfWeek(Start)\nORDER BY (TraceId)\n{ttl}\
             SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1"
        ),
        "CREATE MATERIALIZED VIEW IF NOT EXISTS otel_traces_trace_id_ts_mv TO otel_traces_trace_id_ts AS \
         SELECT TraceId, min(Timestamp) AS Start, max(Timestamp) AS End FROM otel_traces \
         WHERE TraceId != '' GROUP BY TraceId"
            .to_string(),
    ]
}

/// Renders column lines, folding `Group.Field` list columns into one `Group Nested(…)`.
fn clickhouse_columns(columns: &[Column]) -> Vec<String> {
    let mut lines = Vec::new();
    let mut index = 0;
    while index < columns.len() {
        let column = &columns[index];
        if let Some((group, _)) = column.name.split_once('.') {
            let fields: Vec<&Column> = columns[index..]
                .iter()
                .take_while(|c| c.name.split_once('.').map(|(g, _)| g) == Some(group))
                .collect();
            let inner: Vec<String> = fields
                .iter()
                .map(|c| format!("{} {}", &c.name[group.len() + 1..], clickhouse_type(c.ty)))
                .collect();
            lines.push(format!(
                "    {group} Nested ({}) CODEC(ZSTD(1))",
                inner.join(", ")
            ));
            index += fields.len();
            continue;
        }
        lines.push(clickhouse_column(column));
        index += 1;
    }
    lines
}

/// Renders `ALTER TABLE … ADD COLUMN IF NOT EXISTS` for the columns added to tables
/// after a store first made them. ClickHouse computes a materialized column for the
/// parts written before it when they are read.
pub fn clickhouse_added_columns() -> Vec<String> {
    let (column, _) = super::ORDER_STATUS_COLUMN;
    let traces = super::table("otel_traces");
    traces
        .columns
        .iter()
        .filter(|c| c.name == column)
        .map(|c| {
            format!(
                "ALTER TABLE {} ADD COLUMN IF NOT EXISTS {}",
                traces.name,
                clickhouse_column(c).trim_start()
            )
        })
        .collect()
}

fn clickhouse_column(column: &Column) -> String {
    let ty = if is_list(column.ty) {
        format!("Array({})", clickhouse_type(column.ty))
    } else {
        clickhouse_type(column.ty).to_string()
    };
    let mut line = format!("    {} {ty}", column.name);
    if column.name == "TimestampTime" {
        line.push_str(" DEFAULT toDateTime(Timestamp)");
    }
    match column.fill {
        Fill::Derived { clickhouse } => line.push_str(&format!(" MATERIALIZED {clickhouse}")),
        Fill::Alias { clickhouse } => line.push_str(&format!(" ALIAS {clickhouse}")),
        Fill::Written => {}
    }
    if let Some(codec) = column.codec {
        line.push_str(&format!(" CODEC({codec})"));
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::table;

    #[test]
    fn clickhouse_folds_nested_groups() {
        let ddl = clickhouse_ddl(table("otel_traces"), &ClickHouseOptions::default());
        assert!(ddl.contains("Events Nested (Timestamp DateTime64(9), Name LowCardinality(String), Attributes Map(LowCardinality(String), String))"), "{ddl}");
        assert!(
            ddl.contains("OrderId LowCardinality(String) MATERIALIZED"),
            "{ddl}"
        );
        assert!(!ddl.contains("TTL"));
    }

    #[test]
    fn clickhouse_ttl_follows_retention() {
        let options = ClickHouseOptions {
            retention_days: 30,
            ..Default::default()
        };
        let ddl = clickhouse_ddl(table("otel_logs"), &options);
        assert!(
            ddl.contains("TTL TimestampTime + toIntervalDay(30)"),
            "{ddl}"
        );
        assert!(ddl.contains("PRIMARY KEY (ServiceName, TimestampTime)"));
    }

    #[test]
    fn replay_has_its_own_retention() {
        let options = ClickHouseOptions {
            retention_days: 30,
            replay_retention_days: Some(7),
            ..Default::default()
        };
        let replay = clickhouse_ddl(table("hyperdx_sessions"), &options);
        assert!(
            replay.contains("TTL TimestampTime + toIntervalDay(7)"),
            "{replay}"
        );
        let logs = clickhouse_ddl(table("otel_logs"), &options);
        assert!(logs.contains("toIntervalDay(30)"), "{logs}");
        let forever = ClickHouseOptions {
            retention_days: 30,
            replay_retention_days: Some(0),
            ..Default::default()
        };
        assert!(!clickhouse_ddl(table("hyperdx_sessions"), &forever).contains("TTL"));
    }

    #[test]
    fn duckdb_quotes_dotted_columns() {
        let ddl = duckdb_ddl(table("otel_traces"));
        assert!(ddl.contains("\"Events.Timestamp\" TIMESTAMP_NS[]"), "{ddl}");
        assert!(ddl.contains("\"SpanAttributes\" MAP(VARCHAR, VARCHAR)"));
    }
}

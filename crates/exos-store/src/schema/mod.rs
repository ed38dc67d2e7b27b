//! Table definitions, written once and rendered as DDL for each store.
//!
//! The tables follow the OpenTelemetry Collector's ClickHouse exporter (classic
//! layout) column for column, so SQL written for ClickStack runs here and rows
//! written by a stock collector mix with EXOS's. Column order is the append
//! order of the DuckDB backend. Columns named `Group.Field` are ClickHouse
//! `Nested` fields; DuckDB stores them as list columns of the same name.

mod ddl;
mod tables;
mod views;

pub use ddl::{clickhouse_added_columns, clickhouse_ddl, duckdb_ddl, ClickHouseOptions};
pub use tables::{all_tables, table, BUSINESS_COLUMNS, ORDER_STATUS_COLUMN};
pub use views::{view_names, views, View};

/// Returns the DDL of every table and view for `dialect`, one statement per item.
pub fn all_ddl(dialect: crate::Dialect, options: &ClickHouseOptions) -> Vec<String> {
    let mut statements: Vec<String> = all_tables()
        .iter()
        .map(|table| match dialect {
            crate::Dialect::DuckDb => duckdb_ddl(table)
                .trim_end()
                .trim_end_matches(';')
                .to_string(),
            crate::Dialect::ClickHouse => clickhouse_ddl(table, options),
        })
        .collect();
    if dialect == crate::Dialect::ClickHouse {
        statements.extend(ddl::clickhouse_trace_lookup(options));
    }
    for view in views() {
        let body = match dialect {
            crate::Dialect::DuckDb => view.duckdb,
            crate::Dialect::ClickHouse => view.clickhouse,
        };
        statements.push(format!("CREATE OR REPLACE VIEW {} AS {body}", view.name));
    }
    statements
}

/// A column type, named by what it stores.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Type {
    /// Nanosecond timestamp: ClickHouse `DateTime64(9)`, DuckDB `TIMESTAMP_NS`.
    Time9,
    /// Second-resolution timestamp: ClickHouse `DateTime`, DuckDB `TIMESTAMP`.
    DateTime,
    Text,
    /// Text with few distinct values: ClickHouse `LowCardinality(String)`.
    LowText,
    U8,
    U32,
    U64,
    I32,
    F64,
    Bool,
    /// String-to-string attribute map.
    Map,
    ListTime9,
    ListText,
    ListLowText,
    ListMap,
    ListU64,
    ListF64,
}

/// The source of a column's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fill {
    /// Written by ingest.
    Written,
    /// Derived by the database from other columns; `expr` is ClickHouse SQL.
    /// DuckDB has no materialized columns, so EXOS writes the same value there.
    Derived { clickhouse: &'static str },
    /// A ClickHouse `ALIAS` column, computed at read time; DuckDB has no such column.
    Alias { clickhouse: &'static str },
}

/// One column of a table.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    pub name: &'static str,
    pub ty: Type,
    /// ClickHouse compression codec, as the exporter declares it.
    pub codec: Option<&'static str>,
    pub fill: Fill,
}

/// One table: its columns and its ClickHouse physical layout.
#[derive(Debug, Clone)]
pub struct Table {
    pub name: &'static str,
    pub columns: Vec<Column>,
    /// ClickHouse skip indexes, as `INDEX …` clauses without the keyword.
    pub clickhouse_indexes: Vec<&'static str>,
    pub clickhouse_partition_by: &'static str,
    pub clickhouse_primary_key: Option<&'static str>,
    pub clickhouse_order_by: &'static str,
    /// The time expression the retention TTL counts from.
    pub clickhouse_ttl_column: &'static str,
    /// DuckDB indexes (ART) worth having for point lookups.
    pub duckdb_indexes: Vec<(&'static str, &'static str)>,
    /// Columns DuckDB stores with ZSTD: large, repetitive text that its own
    /// choice (FSST, dictionary) leaves uncompressed, such as rrweb events.
    pub duckdb_zstd_columns: Vec<&'static str>,
}

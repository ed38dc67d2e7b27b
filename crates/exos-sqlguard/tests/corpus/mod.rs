//! The shared corpus: escape attempts and ordinary queries.
//!
//! The cases live in `escapes.tsv` and `allowed.tsv` beside this file, one per line
//! (`dialect <TAB> expectation <TAB> sql`, `\n` for a line break, `#` for comments), so
//! the same text can be replayed on DuckDB or ClickHouse without going through Rust.

// Each test binary that includes this module uses a different part of it.
#![allow(dead_code)]

use exos_sqlguard::{Dialect, Policy, StatementKind};

/// The EXOS tables and views the tests allow.
pub const TABLES: &[&str] = &[
    "otel_traces",
    "otel_logs",
    "otel_metrics_gauge",
    "otel_metrics_sum",
    "otel_metrics_histogram",
    "otel_metrics_exponential_histogram",
    "otel_metrics_summary",
    "hyperdx_sessions",
    "sessions",
    "traces",
    "errors",
    "logs",
    "page_views",
    "user_actions",
    "services",
];

pub fn policy(dialect: Dialect) -> Policy {
    Policy::new(dialect, TABLES.iter().copied())
}

/// One line of a corpus file.
#[derive(Debug, Clone)]
pub struct Case {
    pub line: usize,
    pub dialect: Dialect,
    /// For escapes, a substring of the error; for allowed queries, the kind.
    pub expected: String,
    pub sql: String,
}

pub fn escapes() -> Vec<Case> {
    read(include_str!("escapes.tsv"))
}

pub fn allowed() -> Vec<Case> {
    read(include_str!("allowed.tsv"))
}

pub fn kind(name: &str) -> StatementKind {
    match name {
        "query" => StatementKind::Query,
        "explain" => StatementKind::Explain,
        "describe" => StatementKind::Describe,
        "show" => StatementKind::Show,
        other => panic!("unknown statement kind `{other}` in the corpus"),
    }
}

fn read(text: &str) -> Vec<Case> {
    let lines = text.lines().enumerate().map(|(i, l)| (i + 1, l));
    let cases = lines.filter(|(_, l)| !l.trim().is_empty() && !l.starts_with('#'));
    cases.map(|(line, l)| case(line, l)).collect()
}

fn case(line: usize, text: &str) -> Case {
    let fields: Vec<&str> = text.splitn(3, '\t').collect();
    let [dialect, expected, sql] = fields[..] else {
        panic!("corpus line {line} needs three tab-separated fields: {text}");
    };
    Case {
        line,
        dialect: dialect_named(dialect),
        expected: expected.to_owned(),
        sql: sql.replace("\\n", "\n"),
    }
}

fn dialect_named(name: &str) -> Dialect {
    match name {
        "duckdb" => Dialect::DuckDb,
        "clickhouse" => Dialect::ClickHouse,
        other => panic!("unknown dialect `{other}` in the corpus"),
    }
}

//! Where `sqlparser` 0.64 and the engines disagree, asserted as they are today.
//!
//! Legitimate syntax that `sqlparser` cannot parse is rejected with a parse error, so
//! the guard fails closed. Syntax it misreads as an alias is accepted, and the engine
//! then runs the original text. That is safe only because each misread word is a join
//! or table modifier that reads nothing new. Each case here is a gap to close when
//! `sqlparser` supports the syntax.

mod corpus;

use exos_sqlguard::{check, Dialect, GuardError};

/// Valid DuckDB or ClickHouse SQL that the guard rejects because it cannot parse it.
const UNPARSABLE: &[(Dialect, &str)] = &[
    // DuckDB's ASOF JOIN takes ON, but sqlparser expects Snowflake's MATCH_CONDITION.
    (
        Dialect::DuckDb,
        "SELECT * FROM otel_traces t ASOF JOIN otel_logs l \
         ON t.TraceId = l.TraceId AND t.Timestamp >= l.Timestamp",
    ),
    (Dialect::DuckDb, "TABLE otel_traces"),
    // ClickHouse's WITH <expression> AS <alias>.
    (Dialect::ClickHouse, "WITH 1 AS x SELECT x"),
    (
        Dialect::ClickHouse,
        "WITH (SELECT max(Duration) FROM otel_traces) AS m SELECT m",
    ),
    (
        Dialect::ClickHouse,
        "SELECT a FROM otel_traces ARRAY JOIN [1, 2] AS a",
    ),
    (Dialect::ClickHouse, "EXPLAIN PIPELINE SELECT 1"),
    (
        Dialect::ClickHouse,
        "SELECT * FROM otel_traces GLOBAL ANY LEFT JOIN otel_logs USING (TraceId)",
    ),
];

/// Valid SQL that `sqlparser` misreads, harmlessly, and the guard accepts.
const MISREAD: &[(Dialect, &str)] = &[
    // `POSITIONAL` becomes an alias of `otel_traces`.
    (
        Dialect::DuckDb,
        "SELECT * FROM otel_traces POSITIONAL JOIN otel_logs",
    ),
    // `FINAL` and `ANY` become aliases.
    (Dialect::ClickHouse, "SELECT * FROM otel_traces FINAL"),
    (
        Dialect::ClickHouse,
        "SELECT * FROM otel_traces ANY LEFT JOIN otel_logs USING (TraceId)",
    ),
];

#[test]
fn unparsable_sql_rejected_as_parse_error() {
    for (dialect, sql) in UNPARSABLE {
        let err = check(sql, &corpus::policy(*dialect)).unwrap_err();
        assert!(matches!(err, GuardError::Parse { .. }), "{sql}: {err}");
    }
}

#[test]
fn misread_valid_sql_is_accepted() {
    for (dialect, sql) in MISREAD {
        let outcome = check(sql, &corpus::policy(*dialect));
        assert!(outcome.is_ok(), "{sql}: {outcome:?}");
    }
}

#[test]
fn typed_literal_error_shows_cast() {
    let sql =
        "SELECT count(*) FROM otel_traces WHERE Timestamp > TIMESTAMP_NS '2026-12-05 10:00:00'";
    let err = check(sql, &corpus::policy(Dialect::DuckDb)).unwrap_err();
    assert!(matches!(err, GuardError::Parse { .. }), "{err}");
    let text = err.to_string();
    assert!(
        text.contains("write '2026-12-05 10:00:00'::TIMESTAMP_NS"),
        "{text}"
    );
    let cast =
        "SELECT count(*) FROM otel_traces WHERE Timestamp > '2026-12-05 10:00:00'::TIMESTAMP_NS";
    assert!(check(cast, &corpus::policy(Dialect::DuckDb)).is_ok());
}

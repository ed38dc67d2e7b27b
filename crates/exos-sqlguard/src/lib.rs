//! Read-only guard for user SQL.
//!
//! SQL typed by a user (`POST /api/sql`, the CLI, later an AI) passes here before any
//! engine runs it. The guard parses the text with `sqlparser`, walks the whole syntax
//! tree and accepts one statement only when every part of it is on an allow-list.
//! The statement must be a query, `EXPLAIN`, `DESCRIBE`, `SHOW TABLES` or
//! `SHOW COLUMNS`. Relations must be EXOS tables, CTEs, subqueries or a few pure table
//! functions. Functions must compute and never reach files, the network, settings,
//! the catalog or other SQL text.
//!
//! It is the first of two layers. The store runs what passes on a DuckDB connection
//! with external access disabled and configuration locked (on ClickHouse: readonly
//! settings), with time, memory and row limits. The guard exists because that second
//! layer does not stop DDL, `ATTACH ':memory:'`, `SET VARIABLE`, catalog leaks or, on
//! ClickHouse, `file()`, `INTO OUTFILE`, `KILL` and `system.*`.
//!
//! Invariants:
//! - allow-lists only: a node kind, table, schema or function the guard does not know
//!   is rejected, never passed through;
//! - the text handed back is the caller's own text (trimmed); the guard never rewrites
//!   SQL, so what it checked is what runs, up to parser differences between
//!   `sqlparser` and the engine, which the second layer exists to absorb;
//! - no input makes [`check`] panic: a bug inside the walk becomes
//!   [`GuardError::Internal`], which rejects the query.

mod error;
mod functions;
mod parse;
mod policy;
mod statement;
mod walk;

use std::panic::{self, AssertUnwindSafe};

pub use error::GuardError;
pub use policy::{Dialect, Policy};
pub use statement::{CheckedSql, StatementKind};

/// Checks one piece of user SQL against `policy`.
///
/// On success the returned [`CheckedSql`] carries the statement kind and the caller's
/// text, trimmed of surrounding whitespace and trailing `;`. On failure the error
/// message names the offending part and what is allowed instead.
pub fn check(sql: &str, policy: &Policy) -> Result<CheckedSql, GuardError> {
    let stack = stack_needed(sql.len().min(policy.max_sql_bytes));
    stacker::maybe_grow(stack, stack, || {
        // sqlparser is third-party code fed with hostile input. Should it ever panic,
        // the guard must still return, and the only safe result is a rejection.
        panic::catch_unwind(AssertUnwindSafe(|| check_inner(sql, policy)))
            .unwrap_or(Err(GuardError::Internal))
    })
}

/// Computes the stack for checking `len` bytes of SQL. `sqlparser` guards its own
/// recursion, but dropping a tree recurses once per level, and a chain like
/// `1 + 1 + …` builds one level per two bytes. In a debug build, dropping 8,000 such
/// levels fits in 512 KiB and 16,000 do not (about 32 to 64 bytes per level), so 128
/// bytes per input byte leaves a wide margin. When the caller's stack has that much
/// room left, nothing is allocated.
fn stack_needed(len: usize) -> usize {
    const BASE: usize = 256 * 1024;
    const PER_BYTE: usize = 128;
    BASE + len * PER_BYTE
}

fn check_inner(sql: &str, policy: &Policy) -> Result<CheckedSql, GuardError> {
    let text = parse::trimmed(sql, policy)?;
    let statement = parse::single_statement(text, policy)?;
    let kind = statement::classify(&statement)?;
    walk::walk(&statement, policy)?;
    Ok(CheckedSql {
        kind,
        sql: text.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn duck() -> Policy {
        Policy::new(Dialect::DuckDb, ["otel_traces", "sessions"])
    }

    fn clickhouse() -> Policy {
        Policy::new(Dialect::ClickHouse, ["otel_traces"])
    }

    #[test]
    fn accepted_sql_is_the_callers_text_trimmed() {
        let checked = check("\n  select  1 -- one\n ;; ", &duck()).unwrap();
        assert_eq!(checked.sql, "select  1 -- one");
        assert_eq!(checked.kind, StatementKind::Query);
    }

    #[test]
    fn cte_names_are_visible_only_inside_their_query() {
        assert!(check("WITH a AS (SELECT 1) SELECT * FROM a", &duck()).is_ok());
        let outside = "SELECT * FROM (WITH a AS (SELECT 1) SELECT * FROM a) x, a";
        assert!(matches!(
            check(outside, &duck()),
            Err(GuardError::Table { .. })
        ));
    }

    #[test]
    fn cte_names_cannot_be_qualified() {
        let err = check("WITH a AS (SELECT 1) SELECT * FROM main.a", &duck()).unwrap_err();
        assert!(matches!(err, GuardError::Table { .. }), "{err}");
    }

    #[test]
    fn table_rejections_list_the_allowed_tables() {
        let err = check("SELECT * FROM users", &duck()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "table `users` is not allowed: only EXOS tables and views may be read \
             (otel_traces, sessions)"
        );
    }

    #[test]
    fn each_dialect_accepts_only_its_own_default_schema() {
        assert!(check("SELECT * FROM main.otel_traces", &duck()).is_ok());
        assert!(check("SELECT * FROM default.otel_traces", &duck()).is_err());
        assert!(check("SELECT * FROM default.otel_traces", &clickhouse()).is_ok());
        assert!(check("SELECT * FROM main.otel_traces", &clickhouse()).is_err());
    }

    #[test]
    fn clickhouse_in_name_checked_as_table() {
        assert!(check("SELECT 1 IN otel_traces", &clickhouse()).is_ok());
        let err = check("SELECT 1 FROM otel_traces WHERE 1 IN (x)", &clickhouse()).unwrap_err();
        assert!(matches!(err, GuardError::Table { .. }), "{err}");
        // DuckDB has no such reading: there it is a column.
        assert!(check("SELECT 1 FROM otel_traces WHERE 1 IN (x)", &duck()).is_ok());
    }

    #[test]
    fn allowed_table_functions_work_in_from() {
        assert!(check(
            "SELECT * FROM range(3) r JOIN unnest([1]) u ON true",
            &duck()
        )
        .is_ok());
        assert!(check("SELECT * FROM numbers_mt(3)", &clickhouse()).is_ok());
    }

    #[test]
    fn settings_on_a_table_function_are_rejected() {
        let err = check("SELECT * FROM numbers(3) SETTINGS x = 1", &clickhouse()).unwrap_err();
        assert!(err.to_string().contains("SETTINGS"), "{err}");
    }

    #[test]
    fn clickhouse_quoted_settings_column_allowed() {
        assert!(check(
            "SELECT `settings`, \"format\" FROM otel_traces",
            &clickhouse()
        )
        .is_ok());
    }

    #[test]
    fn explain_analyze_and_describe_report_their_kinds() {
        let kind = |sql| check(sql, &duck()).unwrap().kind;
        assert_eq!(kind("EXPLAIN ANALYZE SELECT 1"), StatementKind::Explain);
        assert_eq!(kind("DESCRIBE otel_traces"), StatementKind::Describe);
        assert_eq!(kind("SHOW TABLES"), StatementKind::Show);
    }
}

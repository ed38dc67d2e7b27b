//! The allow-lists of functions user SQL may call, per dialect, and their lookups.
//!
//! A name is allowed only when it is on the list of its dialect, so there is no
//! block-list to slip past. The lists contain functions that compute on their
//! arguments alone. None of them reads files, urls, environment variables, settings,
//! variables or the catalog, sleeps, writes, or runs or plans SQL given as text.
//! Names compare ASCII-case-insensitively because DuckDB ignores case and ClickHouse
//! accepts `SUM` or `CountIf`. That is safe because, in `system.functions` of chdb
//! (ClickHouse 26), names that differ only by case are aliases of one function.

mod clickhouse;
mod duckdb;

use crate::policy::Dialect;

/// Tells whether `name` (bare, as written) may be called as a scalar, aggregate or
/// window function.
pub(crate) fn is_allowed_function(dialect: Dialect, name: &str) -> bool {
    match dialect {
        Dialect::DuckDb => duckdb::is_allowed(name),
        Dialect::ClickHouse => clickhouse::is_allowed(name),
    }
}

/// Tells whether `name` may be used as a relation in FROM.
pub(crate) fn is_allowed_table_function(dialect: Dialect, name: &str) -> bool {
    contains(table_functions(dialect), name)
}

/// Lists what FROM accepts, for error messages.
pub(crate) fn table_function_list(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::DuckDb => "EXOS tables, subqueries, range, generate_series and unnest",
        Dialect::ClickHouse => "EXOS tables, subqueries, numbers, numbers_mt and zeros",
    }
}

/// Table functions that produce rows from their arguments alone.
fn table_functions(dialect: Dialect) -> &'static [&'static str] {
    match dialect {
        Dialect::DuckDb => &["range", "generate_series", "unnest"],
        Dialect::ClickHouse => &["numbers", "numbers_mt", "zeros"],
    }
}

fn contains(list: &[&str], name: &str) -> bool {
    list.iter().any(|f| f.eq_ignore_ascii_case(name))
}

/// Explains in a few words why a function is rejected, for the error message. The
/// allow-list made the decision, and this is only a hint.
pub(crate) fn rejection_reason(name: &str) -> &'static str {
    let name = name.to_ascii_lowercase();
    if reads_outside(&name) {
        "it reads files, urls or other databases"
    } else if reads_internals(&name) {
        "it reads settings, variables or the catalog"
    } else if runs_text(&name) {
        "it runs sql text or calls functions by name, which the guard cannot check"
    } else if has_side_effects(&name) {
        "it sleeps, fails on purpose or changes state"
    } else {
        "it is not on the allow-list of analytical functions"
    }
}

fn reads_outside(name: &str) -> bool {
    const NAMES: &[&str] = &[
        "glob",
        "file",
        "url",
        "urlcluster",
        "s3",
        "s3cluster",
        "gcs",
        "hdfs",
        "hdfscluster",
        "azureblobstorage",
        "remote",
        "remotesecure",
        "cluster",
        "clusterallreplicas",
        "mysql",
        "postgresql",
        "sqlite",
        "jdbc",
        "odbc",
        "mongodb",
        "redis",
        "executable",
        "input",
        "sniff_csv",
        "iceberg",
        "deltalake",
        "hudi",
        "filesystem",
        "ytsaurus",
        "arrowflight",
    ];
    name.starts_with("read_")
        || name.ends_with("_scan")
        || name.starts_with("parquet_")
        || name.starts_with("filesystem")
        || NAMES.contains(&name)
}

fn reads_internals(name: &str) -> bool {
    const NAMES: &[&str] = &[
        "getenv",
        "current_setting",
        "getvariable",
        "set_variable",
        "getsetting",
        "getsettingordefault",
        "getmacro",
        "getserverport",
        "hostname",
        "fqdn",
        "currentuser",
        "current_user",
        "currentprofiles",
        "currentroles",
        "enabledroles",
        "defaultroles",
        "current_database",
        "current_schema",
        "current_schemas",
        "current_catalog",
        "current_query",
        "hascolumnintable",
        "dictionary",
        "merge",
        "which_secret",
        "joinget",
        "getserversetting",
        "uptime",
        "serveruuid",
        "displayname",
        "buildid",
        "tcpport",
    ];
    name.starts_with("duckdb_")
        || name.starts_with("pragma_")
        || name.starts_with("dictget")
        || name.starts_with("pg_")
        || NAMES.contains(&name)
}

fn runs_text(name: &str) -> bool {
    const NAMES: &[&str] = &[
        "query",
        "query_table",
        "json_execute_serialized_sql",
        "json_serialize_sql",
        "json_deserialize_sql",
        "json_serialize_plan",
        "list_aggregate",
        "list_aggr",
        "array_aggregate",
        "array_aggr",
        "aggregate",
        "arrayreduce",
        "arrayreduceinranges",
        "formatquery",
        "invoke",
    ];
    NAMES.contains(&name)
}

fn has_side_effects(name: &str) -> bool {
    const NAMES: &[&str] = &[
        "sleep",
        "sleepeachrow",
        "pg_sleep",
        "sleep_ms",
        "throwif",
        "error",
        "write_log",
        "nextval",
        "currval",
        "setval",
        "setseed",
    ];
    NAMES.contains(&name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_functions_rejected_in_both_dialects() {
        for dialect in [Dialect::DuckDb, Dialect::ClickHouse] {
            for name in [
                "read_csv",
                "read_text",
                "glob",
                "getenv",
                "current_setting",
                "getvariable",
                "query",
                "query_table",
                "file",
                "url",
                "sleep",
                "throwIf",
                "dictGet",
                "duckdb_settings",
                "getSetting",
                "json_execute_serialized_sql",
            ] {
                assert!(!is_allowed_function(dialect, name), "{dialect:?} {name}");
            }
        }
    }

    #[test]
    fn table_functions_are_a_short_list() {
        assert!(is_allowed_table_function(Dialect::DuckDb, "RANGE"));
        assert!(!is_allowed_table_function(Dialect::DuckDb, "read_csv"));
        assert!(is_allowed_table_function(Dialect::ClickHouse, "numbers"));
        assert!(!is_allowed_table_function(Dialect::ClickHouse, "url"));
    }

    #[test]
    fn reasons_name_what_the_function_reaches() {
        assert!(rejection_reason("read_parquet").contains("files"));
        assert!(rejection_reason("duckdb_settings").contains("settings"));
        assert!(rejection_reason("query").contains("sql text"));
        assert!(rejection_reason("sleepEachRow").contains("sleeps"));
    }
}

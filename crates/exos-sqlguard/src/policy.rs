//! The caller's policy: the engine dialect and the EXOS tables user SQL may read.
//!
//! The policy is plain data built by the store or the server, and the guard only
//! reads it.
//! Table names compare ASCII-case-insensitively, never with Unicode case folding, so a
//! look-alike letter (Cyrillic `о`, the Kelvin sign) can never match an allowed name.

use std::collections::BTreeSet;

use sqlparser::dialect::{ClickHouseDialect, DuckDbDialect};

/// The engine that will run the checked SQL; it picks the parser and the allow-lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dialect {
    DuckDb,
    ClickHouse,
}

impl Dialect {
    /// Names the one schema user SQL may write before a table (`main.otel_traces`,
    /// `default.otel_traces`). The guard rejects every other schema or catalog.
    pub(crate) fn default_schema(self) -> &'static str {
        match self {
            Dialect::DuckDb => "main",
            Dialect::ClickHouse => "default",
        }
    }

    pub(crate) fn parser(self) -> &'static dyn sqlparser::dialect::Dialect {
        match self {
            Dialect::DuckDb => &DuckDbDialect {},
            Dialect::ClickHouse => &ClickHouseDialect {},
        }
    }
}

/// The rules one call of [`crate::check`] applies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    pub dialect: Dialect,
    /// Tables and views user SQL may read, by bare name.
    pub tables: BTreeSet<String>,
    /// Longer SQL is rejected before parsing, which bounds parse time and memory.
    pub max_sql_bytes: usize,
}

impl Policy {
    /// The default for [`Policy::max_sql_bytes`]: far above any hand-written query.
    pub const DEFAULT_MAX_SQL_BYTES: usize = 100_000;

    pub fn new(dialect: Dialect, tables: impl IntoIterator<Item = impl Into<String>>) -> Self {
        Policy {
            dialect,
            tables: tables.into_iter().map(Into::into).collect(),
            max_sql_bytes: Self::DEFAULT_MAX_SQL_BYTES,
        }
    }

    pub(crate) fn allows_table(&self, name: &str) -> bool {
        self.tables.iter().any(|t| t.eq_ignore_ascii_case(name))
    }

    /// Lists the allowed tables, comma-separated, for error messages.
    pub(crate) fn table_list(&self) -> String {
        let names: Vec<&str> = self.tables.iter().map(String::as_str).collect();
        names.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_names_match_ascii_case_only() {
        let policy = Policy::new(Dialect::DuckDb, ["otel_traces"]);
        assert!(policy.allows_table("OTEL_Traces"));
        // Cyrillic `о` looks like `o` but must not match.
        assert!(!policy.allows_table("\u{43e}tel_traces"));
        assert!(!policy.allows_table("otel_traces "));
    }

    #[test]
    fn new_sets_the_default_size_limit() {
        let policy = Policy::new(Dialect::ClickHouse, Vec::<String>::new());
        assert_eq!(policy.max_sql_bytes, 100_000);
    }
}

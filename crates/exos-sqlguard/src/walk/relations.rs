//! Relations: what a query may read rows from.
//!
//! A query may read from a policy table (bare, or qualified by the default schema
//! only), a CTE name in scope, a subquery, UNNEST of an expression, a join or pivot
//! of those, and a few table functions that produce rows from their arguments alone.
//! A string literal as a table (`FROM 'x.csv'`, DuckDB's replacement scan), a
//! quoted name that looks like a path, any other schema or catalog (`system.*`,
//! `information_schema.*`, `pg_catalog.*`, `temp.*`, `db.main.t`) and every other
//! table function are rejected.

use sqlparser::ast::{
    Expr, Ident, ObjectName, ObjectNamePart, TableFactor, TableFunctionArgs, TableVersion,
};

use super::Walker;
use crate::error::GuardError;
use crate::functions;
use crate::parse;

impl Walker<'_> {
    /// Checks every name the visitor reports as a relation, wherever it appears: FROM,
    /// JOIN, `IN table`, `DESCRIBE table`, `SHOW COLUMNS FROM table`.
    pub(super) fn relation(&self, name: &ObjectName) -> Result<(), GuardError> {
        if self.is_vetted(name) {
            return Ok(());
        }
        self.table_name(name)
    }

    pub(super) fn table_factor(&mut self, factor: &TableFactor) -> Result<(), GuardError> {
        match factor {
            TableFactor::Table {
                name,
                alias: _,
                args,
                with_hints,
                version,
                with_ordinality: _,
                partitions,
                json_path,
                sample: _,
                index_directives,
                inheritance: _,
            } => {
                if self.is_vetted(name) {
                    return Ok(());
                }
                let options = TableOptions {
                    hints: !with_hints.is_empty(),
                    version: version.as_ref(),
                    partitions: !partitions.is_empty(),
                    json_path: json_path.is_some(),
                    index: !index_directives.is_empty(),
                };
                options.check()?;
                match args {
                    Some(args) => self.table_function(name, args),
                    None => Ok(()),
                }
            }
            TableFactor::Derived { .. }
            | TableFactor::UNNEST { .. }
            | TableFactor::NestedJoin { .. }
            | TableFactor::Pivot { .. }
            | TableFactor::Unpivot { .. } => Ok(()),
            TableFactor::Function { name, .. } => self.table_function_name(name),
            TableFactor::TableFunction { .. } => Err(unsupported("TABLE(...)")),
            TableFactor::JsonTable { .. } => Err(unsupported("JSON_TABLE")),
            TableFactor::OpenJsonTable { .. } => Err(unsupported("OPENJSON")),
            TableFactor::UnpivotExpr { .. } => Err(unsupported("UNPIVOT (expression)")),
            TableFactor::MatchRecognize { .. } => Err(unsupported("MATCH_RECOGNIZE")),
            TableFactor::XmlTable { .. } => Err(unsupported("XMLTABLE")),
            TableFactor::SemanticView { .. } => Err(unsupported("SEMANTIC_VIEW")),
        }
    }

    /// Checks the array of a ClickHouse `ARRAY JOIN arr` or `ARRAY JOIN f(arr)`.
    /// `sqlparser` reads the array as a table, but it is a column or a function call
    /// over columns, so it is checked as such and exempted from the table checks.
    pub(super) fn array_join(&mut self, relation: &TableFactor) -> Result<(), GuardError> {
        let TableFactor::Table { name, args, .. } = relation else {
            return Err(GuardError::clause(
                "ARRAY JOIN",
                "ARRAY JOIN takes array columns or function calls over them",
            ));
        };
        if let Some(args) = args {
            reject_settings(args)?;
            self.scalar_function_name(name)?;
        }
        self.vet(name);
        Ok(())
    }

    /// Checks a table function in FROM (`range(10)`, `numbers(10)`).
    fn table_function(
        &mut self,
        name: &ObjectName,
        args: &TableFunctionArgs,
    ) -> Result<(), GuardError> {
        reject_settings(args)?;
        self.table_function_name(name)?;
        self.vet(name);
        Ok(())
    }

    /// Checks a table function's name, in FROM or in `x IN f(...)`.
    pub(super) fn table_function_name(&self, name: &ObjectName) -> Result<(), GuardError> {
        let dialect = self.policy.dialect;
        let ident = bare_ident(name)?;
        if ident.quote_style != Some('\'')
            && functions::is_allowed_table_function(dialect, &ident.value)
        {
            return Ok(());
        }
        Err(GuardError::TableFunction {
            name: name.to_string(),
            reason: functions::rejection_reason(&ident.value),
            allowed: functions::table_function_list(dialect),
        })
    }

    /// Checks a table named by the user against the CTEs in scope and the policy.
    pub(super) fn table_name(&self, name: &ObjectName) -> Result<(), GuardError> {
        let parts = idents(name)?;
        if parts.iter().any(|p| looks_like_file(p)) {
            return Err(GuardError::FileReference {
                literal: name.to_string(),
            });
        }
        let schema = self.policy.dialect.default_schema();
        let allowed = match parts.as_slice() {
            [table] => self.in_cte_scope(&table.value) || self.policy.allows_table(&table.value),
            [prefix, table] if prefix.value.eq_ignore_ascii_case(schema) => {
                self.policy.allows_table(&table.value)
            }
            _ => {
                return Err(GuardError::Schema {
                    name: name.to_string(),
                    schema,
                })
            }
        };
        if allowed {
            return Ok(());
        }
        Err(GuardError::Table {
            name: name.to_string(),
            allowed: self.policy.table_list(),
        })
    }

    /// Checks a lone name on the right of ClickHouse's IN as a table. ClickHouse reads
    /// `x IN t` and `x IN db.t` as `x IN (SELECT * FROM t)`, and on chdb
    /// `1 IN (system.one)` does read `system.one`. A lone column on the right of IN is
    /// rejected with it, and `x = col` expresses the same comparison.
    pub(super) fn clickhouse_in_name(&self, items: &[Expr]) -> Result<(), GuardError> {
        let [item] = items else { return Ok(()) };
        match strip_nesting(item) {
            Expr::Identifier(ident) => self.table_name(&ObjectName::from(vec![ident.clone()])),
            Expr::CompoundIdentifier(parts) => self.table_name(&ObjectName::from(parts.clone())),
            _ => Ok(()),
        }
    }

    fn in_cte_scope(&self, name: &str) -> bool {
        let mut names = self.scopes.iter().flatten();
        names.any(|cte| cte.eq_ignore_ascii_case(name))
    }
}

/// Table options that only other engines use or that reach past the current data.
struct TableOptions<'a> {
    hints: bool,
    version: Option<&'a TableVersion>,
    partitions: bool,
    json_path: bool,
    index: bool,
}

impl TableOptions<'_> {
    fn check(&self) -> Result<(), GuardError> {
        let rejected = [
            (self.hints, "WITH (table hints)"),
            (
                self.version.is_some(),
                "time travel (AT, FOR SYSTEM_TIME AS OF)",
            ),
            (self.partitions, "PARTITION (...)"),
            (self.json_path, "table JSON path"),
            (self.index, "USE / FORCE / IGNORE INDEX"),
        ];
        match rejected.iter().find(|(present, _)| *present) {
            Some((_, form)) => Err(unsupported(form)),
            None => Ok(()),
        }
    }
}

fn reject_settings(args: &TableFunctionArgs) -> Result<(), GuardError> {
    match args.settings {
        Some(_) => Err(parse::settings_clause()),
        None => Ok(()),
    }
}

fn unsupported(form: &'static str) -> GuardError {
    GuardError::Expression { form }
}

/// Splits a name into its identifiers. Names computed by a function
/// (`IDENTIFIER('t')`) are rejected because they hide the name from the guard.
fn idents(name: &ObjectName) -> Result<Vec<&Ident>, GuardError> {
    let parts = name.0.iter().map(|part| match part {
        ObjectNamePart::Identifier(ident) => Ok(ident),
        ObjectNamePart::Function(_) => Err(unsupported("IDENTIFIER(...)")),
    });
    parts.collect()
}

/// Returns the one identifier of an unqualified function name.
pub(super) fn bare_ident(name: &ObjectName) -> Result<&Ident, GuardError> {
    match idents(name)?.as_slice() {
        [ident] => Ok(ident),
        _ => Err(GuardError::QualifiedFunction {
            name: name.to_string(),
        }),
    }
}

/// Tells whether DuckDB would read a file for this name part. It does for a string
/// (`FROM 'x.csv'`) and, through replacement scans, for a quoted name that looks like
/// a path, even after a schema (`FROM "x.csv"`, `FROM main."x.csv"`, seen on 1.5.6).
fn looks_like_file(ident: &Ident) -> bool {
    ident.quote_style == Some('\'') || ident.value.contains(['.', '/', '\\', ':'])
}

fn strip_nesting(mut expr: &Expr) -> &Expr {
    while let Expr::Nested(inner) = expr {
        expr = inner;
    }
    expr
}

//! Why a piece of SQL was rejected.
//!
//! One variant per kind of rejection. Messages are lowercase apart from quoted SQL.
//! Each names the offending part as the user wrote it and what is allowed instead,
//! because its reader must rewrite the query without knowing the guard's rules.

/// A rejection of user SQL by [`crate::check`].
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
pub enum GuardError {
    #[error(
        "the sql is empty: write one SELECT, WITH, VALUES, EXPLAIN, DESCRIBE or SHOW statement"
    )]
    Empty,

    #[error("the sql is {len} bytes, over the limit of {max} bytes: shorten the query")]
    TooLong { len: usize, max: usize },

    #[error("the sql could not be parsed: {message}")]
    Parse { message: String },

    #[error("the query nests too deeply: flatten it with CTEs or simpler expressions")]
    TooDeep,

    #[error(
        "found {count} statements: send exactly one statement, with no `;` between statements"
    )]
    MultipleStatements { count: usize },

    #[error(
        "statement `{name}` is not allowed: only SELECT, WITH, VALUES, EXPLAIN, DESCRIBE and \
         SHOW TABLES/COLUMNS may run"
    )]
    Statement { name: String },

    #[error("`{clause}` is not allowed: {fix}")]
    Clause { clause: String, fix: &'static str },

    #[error("table `{name}` is not allowed: only EXOS tables and views may be read ({allowed})")]
    Table { name: String, allowed: String },

    #[error(
        "`{name}` is outside the default schema `{schema}`: only EXOS tables and views may be \
         read, by bare name or as `{schema}.name`"
    )]
    Schema { name: String, schema: &'static str },

    #[error(
        "`{literal}` reads a file or url: only EXOS tables and views may be read, by name \
         without quotes"
    )]
    FileReference { literal: String },

    #[error(
        "table function `{name}` is not allowed ({reason}): only {allowed} may be used in FROM"
    )]
    TableFunction {
        name: String,
        reason: &'static str,
        allowed: &'static str,
    },

    #[error(
        "function `{name}` is not allowed ({reason}): only math, text, date, aggregate, window, \
         list, map, struct and json functions may be called"
    )]
    Function { name: String, reason: &'static str },

    #[error("`{call}` is not allowed: {fix}")]
    Size { call: String, fix: &'static str },

    #[error("qualified function name `{name}` is not allowed: call the function by its bare name")]
    QualifiedFunction { name: String },

    #[error("`{form}` is not supported by the guard: rewrite the query without it")]
    Expression { form: &'static str },

    #[error(
        "the guard failed on this input and rejected it: rewrite the query and report the bug"
    )]
    Internal,
}

impl GuardError {
    /// Builds a [`GuardError::Clause`] for a clause named as the user would write it.
    pub(crate) fn clause(clause: impl Into<String>, fix: &'static str) -> Self {
        GuardError::Clause {
            clause: clause.into(),
            fix,
        }
    }
}

//! Expressions, function calls and literals.
//!
//! Every expression kind of `sqlparser` is listed here with its verdict. A function
//! call must name an allowed function by its bare name wherever it appears (select
//! list, WHERE, GROUP BY, HAVING, QUALIFY, ORDER BY, window specs, LIMIT, JOIN ON,
//! CASE, lambda bodies, method-call chains). The children of an expression need no
//! handling here, because the visitor passes each of them to [`Walker::expr`] too.

use sqlparser::ast::{
    Expr, Function, FunctionArg, FunctionArgExpr, FunctionArguments, InTarget, ObjectName, Value,
    ValueWithSpan,
};

use super::relations::bare_ident;
use super::Walker;
use crate::error::GuardError;
use crate::functions;
use crate::policy::Dialect;

impl Walker<'_> {
    pub(super) fn expr(&mut self, expr: &Expr) -> Result<(), GuardError> {
        match expr {
            Expr::Function(function) => self.function(function),
            Expr::In { target, .. } => self.in_target(target),
            Expr::MatchAgainst { .. } => Err(unsupported("MATCH … AGAINST")),
            Expr::OuterJoin(_) => Err(unsupported("(+)")),
            Expr::Prior(_) => Err(unsupported("PRIOR")),
            Expr::Identifier(_)
            | Expr::CompoundIdentifier(_)
            | Expr::CompoundFieldAccess { .. }
            | Expr::JsonAccess { .. }
            | Expr::IsFalse(_)
            | Expr::IsNotFalse(_)
            | Expr::IsTrue(_)
            | Expr::IsNotTrue(_)
            | Expr::IsNull(_)
            | Expr::IsNotNull(_)
            | Expr::IsUnknown(_)
            | Expr::IsNotUnknown(_)
            | Expr::IsDistinctFrom(..)
            | Expr::IsNotDistinctFrom(..)
            | Expr::IsJson { .. }
            | Expr::IsNormalized { .. }
            | Expr::Between { .. }
            | Expr::BinaryOp { .. }
            | Expr::Like { .. }
            | Expr::ILike { .. }
            | Expr::SimilarTo { .. }
            | Expr::RLike { .. }
            | Expr::AnyOp { .. }
            | Expr::AllOp { .. }
            | Expr::UnaryOp { .. }
            | Expr::Convert { .. }
            | Expr::Cast { .. }
            | Expr::AtTimeZone { .. }
            | Expr::Extract { .. }
            | Expr::Ceil { .. }
            | Expr::Floor { .. }
            | Expr::Position { .. }
            | Expr::Substring { .. }
            | Expr::Trim { .. }
            | Expr::Overlay { .. }
            | Expr::Collate { .. }
            | Expr::Nested(_)
            | Expr::Value(_)
            | Expr::Prefixed { .. }
            | Expr::TypedString(_)
            | Expr::Case { .. }
            | Expr::Exists { .. }
            | Expr::Subquery(_)
            | Expr::GroupingSets(_)
            | Expr::Cube(_)
            | Expr::Rollup(_)
            | Expr::Tuple(_)
            | Expr::Struct { .. }
            | Expr::Named { .. }
            | Expr::Dictionary(_)
            | Expr::Map(_)
            | Expr::Array(_)
            | Expr::Interval(_)
            | Expr::Wildcard(_)
            | Expr::QualifiedWildcard(..)
            | Expr::Lambda(_)
            | Expr::MemberOf(_) => Ok(()),
        }
    }

    /// Checks a scalar, aggregate or window call by name. The visitor passes its
    /// arguments, FILTER, OVER and ClickHouse parameters (`quantile(0.95)(x)`) on
    /// their own.
    fn function(&self, function: &Function) -> Result<(), GuardError> {
        self.scalar_function_name(&function.name)?;
        if self.policy.dialect == Dialect::DuckDb {
            check_built_size(function)?;
        }
        Ok(())
    }

    /// Checks a function name, also for ClickHouse's `ARRAY JOIN f(arr)`, which
    /// `sqlparser` reads as a table.
    pub(super) fn scalar_function_name(&self, name: &ObjectName) -> Result<(), GuardError> {
        let ident = bare_ident(name)?;
        if ident.quote_style != Some('\'')
            && functions::is_allowed_function(self.policy.dialect, &ident.value)
        {
            return Ok(());
        }
        Err(GuardError::Function {
            name: name.to_string(),
            reason: functions::rejection_reason(&ident.value),
        })
    }

    fn in_target(&mut self, target: &InTarget) -> Result<(), GuardError> {
        match target {
            // In `x IN f(...)` the visitor will report `f` as a relation next, so it is
            // checked here as the table function it is and exempted there.
            InTarget::Table {
                name,
                args: Some(_),
            } => {
                self.table_function_name(name)?;
                self.vet(name);
                Ok(())
            }
            InTarget::List(items) if self.policy.dialect == Dialect::ClickHouse => {
                self.clickhouse_in_name(items)
            }
            InTarget::Table { args: None, .. }
            | InTarget::List(_)
            | InTarget::Subquery(_)
            | InTarget::Unnest(_) => Ok(()),
        }
    }
}

/// Rejects placeholders, which only a prepared statement can fill. Other literals
/// are data.
/// DuckDB functions that build a list in memory from a range, outside DuckDB's memory
/// limit: `range(1000000000)` took more than 20 GB. The table functions of the same
/// names, in FROM, stream their rows instead.
const LIST_BUILDERS: &[&str] = &["range", "generate_series"];
/// DuckDB functions whose second argument sets the length of the text or list they
/// build in memory, outside DuckDB's memory limit.
const SIZED_BUILDERS: &[&str] = &["repeat", "lpad", "rpad", "list_resize", "array_resize"];
/// Largest length a sized builder may be given.
const MAX_BUILT_LENGTH: u64 = 1_000_000;

/// Rejects the calls that could build one value larger than the server's memory: list
/// ranges, and sized builders whose length is not a number literal up to
/// [`MAX_BUILT_LENGTH`].
fn check_built_size(function: &Function) -> Result<(), GuardError> {
    let Some(name) = function.name.0.last().map(|part| part.to_string()) else {
        return Ok(());
    };
    let name = name.trim_matches('"').to_ascii_lowercase();
    let call = || function.to_string();
    if LIST_BUILDERS.contains(&name.as_str()) {
        return Err(GuardError::Size {
            call: call(),
            fix: "a list range is built whole in memory; generate rows with the table \
                  function instead, as in SELECT range FROM range(10)",
        });
    }
    if !SIZED_BUILDERS.contains(&name.as_str()) {
        return Ok(());
    }
    let length = match &function.args {
        FunctionArguments::List(list) => list.args.get(1),
        _ => None,
    };
    let literal = match length {
        Some(FunctionArg::Unnamed(FunctionArgExpr::Expr(Expr::Value(value)))) => match &value.value
        {
            Value::Number(digits, _) => digits.parse::<u64>().ok(),
            _ => None,
        },
        _ => None,
    };
    match literal {
        Some(length) if length <= MAX_BUILT_LENGTH => Ok(()),
        _ => Err(GuardError::Size {
            call: call(),
            fix: "the length must be a whole number up to 1,000,000 written in the query, \
                  because the function builds its result in memory",
        }),
    }
}

pub(super) fn value(value: &ValueWithSpan) -> Result<(), GuardError> {
    match &value.value {
        Value::Placeholder(text) => Err(GuardError::clause(
            text.clone(),
            "query parameters cannot be bound here; write the value into the query",
        )),
        _ => Ok(()),
    }
}

fn unsupported(form: &'static str) -> GuardError {
    GuardError::Expression { form }
}

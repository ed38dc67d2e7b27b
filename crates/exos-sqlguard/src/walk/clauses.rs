//! Statement, query and SELECT clauses.
//!
//! A query body is made of SELECTs, VALUES and set operations. Every clause of a
//! query and of a SELECT is named here, and the ones that write (`SELECT … INTO`),
//! lock, never end (`WITH RECURSIVE`, `CONNECT BY`) or change engine behaviour
//! (`SETTINGS`, `FORMAT`) are rejected wherever they nest.

use sqlparser::ast::{
    JoinOperator, ObjectName, Query, Select, SetExpr, ShowStatementOptions, Statement,
};

use super::Walker;
use crate::error::GuardError;
use crate::parse;
use crate::statement;

impl Walker<'_> {
    /// Checks a statement met by the walk. The top statement was classified already,
    /// and a statement nested inside it (under `EXPLAIN`, or in a set operation) must
    /// be a query.
    pub(super) fn statement(&mut self, statement: &Statement) -> Result<(), GuardError> {
        self.statements += 1;
        let top = self.statements == 1;
        match statement {
            Statement::Query(_) => Ok(()),
            Statement::Explain { .. }
            | Statement::ExplainTable { .. }
            | Statement::ShowColumns { .. }
                if top =>
            {
                Ok(())
            }
            Statement::ShowTables { show_options, .. } if top => self.show_tables(show_options),
            _ => Err(statement::rejected(statement)),
        }
    }

    /// Checks that `SHOW TABLES FROM x` names the default schema, because ClickHouse's
    /// `SHOW TABLES FROM system` lists the server's internals.
    fn show_tables(&mut self, options: &ShowStatementOptions) -> Result<(), GuardError> {
        let Some(name) = options
            .show_in
            .as_ref()
            .and_then(|i| i.parent_name.as_ref())
        else {
            return Ok(());
        };
        if self.is_default_schema(name) {
            self.vet(name);
            return Ok(());
        }
        Err(GuardError::Schema {
            name: name.to_string(),
            schema: self.policy.dialect.default_schema(),
        })
    }

    fn is_default_schema(&self, name: &ObjectName) -> bool {
        let schema = self.policy.dialect.default_schema();
        match name.0.as_slice() {
            [part] => part
                .as_ident()
                .is_some_and(|i| i.value.eq_ignore_ascii_case(schema)),
            _ => false,
        }
    }

    /// Opens the query's CTE scope, then checks its clauses and body.
    pub(super) fn enter_query(&mut self, query: &Query) -> Result<(), GuardError> {
        self.scopes.push(cte_names(query));
        query_clauses(query)?;
        body(&query.body)
    }

    pub(super) fn select(&mut self, select: &Select) -> Result<(), GuardError> {
        select_clauses(select)?;
        let joins = select.from.iter().flat_map(|t| &t.joins);
        for join in joins.filter(|j| is_array_join(&j.join_operator)) {
            self.array_join(&join.relation)?;
        }
        Ok(())
    }
}

fn cte_names(query: &Query) -> Vec<String> {
    let ctes = query.with.iter().flat_map(|w| &w.cte_tables);
    ctes.map(|cte| cte.alias.name.value.to_ascii_lowercase())
        .collect()
}

/// Rejects the query clauses that never end, change engine behaviour or lock. Every
/// field is named, so a clause added by a `sqlparser` upgrade fails to compile here
/// until someone decides about it.
fn query_clauses(query: &Query) -> Result<(), GuardError> {
    let Query {
        with,
        body: _,
        order_by: _,
        limit_clause: _,
        fetch: _,
        locks,
        for_clause,
        settings,
        format_clause,
        pipe_operators,
    } = query;
    if with.as_ref().is_some_and(|w| w.recursive) {
        return Err(GuardError::clause(
            "WITH RECURSIVE",
            "a recursive query can run without end; use joins, window functions or range()",
        ));
    }
    if settings.is_some() {
        return Err(parse::settings_clause());
    }
    if format_clause.is_some() {
        return Err(parse::format_clause());
    }
    if !locks.is_empty() {
        return Err(GuardError::clause(
            "FOR UPDATE/SHARE",
            "queries only read; remove the locking clause",
        ));
    }
    if for_clause.is_some() {
        return Err(GuardError::clause(
            "FOR XML/JSON",
            "EXOS chooses the output format; remove the FOR clause",
        ));
    }
    if !pipe_operators.is_empty() {
        return Err(GuardError::clause(
            "|> pipe syntax",
            "write the query as SELECT … FROM …",
        ));
    }
    Ok(())
}

/// Checks that a query body is made of SELECTs, VALUES and set operations. A nested
/// `SetExpr::Query` is a query of its own and gets its own visit. The loop replaces
/// recursion because a long `UNION` chain nests one level per branch.
fn body(body: &SetExpr) -> Result<(), GuardError> {
    let mut pending = vec![body];
    while let Some(expr) = pending.pop() {
        match expr {
            SetExpr::Select(_) | SetExpr::Query(_) | SetExpr::Values(_) => {}
            SetExpr::SetOperation { left, right, .. } => pending.extend([&**left, &**right]),
            SetExpr::Insert(s) | SetExpr::Update(s) | SetExpr::Delete(s) | SetExpr::Merge(s) => {
                return Err(statement::rejected(s))
            }
            SetExpr::Table(_) => {
                return Err(GuardError::clause(
                    "TABLE name",
                    "write SELECT * FROM name instead",
                ))
            }
        }
    }
    Ok(())
}

/// Rejects the SELECT clauses that write or never end. Every field is named for the
/// same reason as in [`query_clauses`].
fn select_clauses(select: &Select) -> Result<(), GuardError> {
    let Select {
        select_token: _,
        optimizer_hints: _,
        distinct: _,
        select_modifiers: _,
        top: _,
        top_before_distinct: _,
        projection: _,
        exclude: _,
        into,
        from: _,
        lateral_views,
        prewhere: _,
        selection: _,
        connect_by,
        group_by: _,
        cluster_by: _,
        distribute_by: _,
        sort_by: _,
        having: _,
        named_window: _,
        qualify: _,
        window_before_qualify: _,
        value_table_mode: _,
        flavor: _,
    } = select;
    if into.is_some() {
        return Err(GuardError::clause(
            "SELECT … INTO",
            "queries only read; remove the INTO clause",
        ));
    }
    if !connect_by.is_empty() {
        return Err(GuardError::clause(
            "CONNECT BY",
            "a hierarchical query can run without end; use joins or window functions",
        ));
    }
    if !lateral_views.is_empty() {
        return Err(GuardError::clause(
            "LATERAL VIEW",
            "use UNNEST(...) or a LATERAL subquery instead",
        ));
    }
    Ok(())
}

fn is_array_join(operator: &JoinOperator) -> bool {
    matches!(
        operator,
        JoinOperator::ArrayJoin | JoinOperator::LeftArrayJoin | JoinOperator::InnerArrayJoin
    )
}

//! The walk over the whole syntax tree of one statement.
//!
//! `sqlparser`'s derived `Visit` reaches every node, however deep: subqueries in
//! WHERE inside CTEs, lambda bodies, window specs, JOIN conditions, set operation
//! branches, the statement inside `EXPLAIN`. This module owns the [`Walker`] that
//! receives those visits and the state it needs (CTE scopes, names already checked).
//! The checks live in the submodules, one per kind of node.
//!
//! Invariants: every relation, table factor, expression and literal of the tree is
//! checked, and the first rejection stops the walk. The matches over expression,
//! table factor and query body kinds, and the destructuring of query and SELECT
//! clauses, name every case, so a `sqlparser` upgrade that adds one fails to compile
//! until someone decides about it.

mod clauses;
mod exprs;
mod relations;

use std::ops::ControlFlow;

use sqlparser::ast::{Expr, ObjectName, Query, Select, Statement, TableFactor, ValueWithSpan};
use sqlparser::ast::{Visit, Visitor};

use crate::error::GuardError;
use crate::policy::Policy;

/// Walks `statement`, which [`crate::statement::classify`] already accepted at the top.
pub(crate) fn walk(statement: &Statement, policy: &Policy) -> Result<(), GuardError> {
    let mut walker = Walker {
        policy,
        scopes: Vec::new(),
        vetted: Vec::new(),
        statements: 0,
        depth: 0,
    };
    match statement.visit(&mut walker) {
        ControlFlow::Continue(()) => Ok(()),
        ControlFlow::Break(err) => Err(*err),
    }
}

pub(crate) struct Walker<'p> {
    policy: &'p Policy,
    /// CTE names visible at the current point, one frame per enclosing query,
    /// ASCII-lowercased.
    scopes: Vec<Vec<String>>,
    /// Names the visitor will report as relations but that were already checked as
    /// something else: a table function's name, an ARRAY JOIN column, the schema of
    /// `SHOW TABLES FROM`. They compare by address, so only that very node is exempt.
    vetted: Vec<*const ObjectName>,
    /// Number of statements seen so far. Only the first may be other than a query.
    statements: usize,
    /// Number of expressions open around the current one.
    depth: usize,
}

/// Deeper expressions are rejected. DuckDB (`max_expression_depth`) and ClickHouse
/// (`max_ast_depth`) stop at 1000 by default too, so nothing that would run is lost.
const MAX_EXPR_DEPTH: usize = 1000;

impl Walker<'_> {
    fn vet(&mut self, name: &ObjectName) {
        self.vetted.push(name as *const ObjectName);
    }

    fn is_vetted(&self, name: &ObjectName) -> bool {
        self.vetted.iter().any(|&p| std::ptr::eq(p, name))
    }
}

/// The visitor's break value is boxed, as `sqlparser` advises, to keep the recursion's
/// stack frames small.
type Step = ControlFlow<Box<GuardError>>;

fn step(result: Result<(), GuardError>) -> Step {
    match result {
        Ok(()) => ControlFlow::Continue(()),
        Err(err) => ControlFlow::Break(Box::new(err)),
    }
}

impl Visitor for Walker<'_> {
    type Break = Box<GuardError>;

    fn pre_visit_statement(&mut self, statement: &Statement) -> Step {
        step(self.statement(statement))
    }

    fn pre_visit_query(&mut self, query: &Query) -> Step {
        step(self.enter_query(query))
    }

    fn post_visit_query(&mut self, _query: &Query) -> Step {
        self.scopes.pop();
        ControlFlow::Continue(())
    }

    fn pre_visit_select(&mut self, select: &Select) -> Step {
        step(self.select(select))
    }

    fn pre_visit_table_factor(&mut self, factor: &TableFactor) -> Step {
        step(self.table_factor(factor))
    }

    fn pre_visit_relation(&mut self, name: &ObjectName) -> Step {
        step(self.relation(name))
    }

    fn pre_visit_expr(&mut self, expr: &Expr) -> Step {
        self.depth += 1;
        if self.depth > MAX_EXPR_DEPTH {
            return step(Err(GuardError::TooDeep));
        }
        step(self.expr(expr))
    }

    fn post_visit_expr(&mut self, _expr: &Expr) -> Step {
        self.depth -= 1;
        ControlFlow::Continue(())
    }

    fn pre_visit_value(&mut self, value: &ValueWithSpan) -> Step {
        step(exprs::value(value))
    }
}

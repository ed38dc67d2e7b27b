//! The top-level statement allow-list and the value returned to the caller.
//!
//! Allowed statements are a query, `EXPLAIN [ANALYZE]` or `DESCRIBE` of a query,
//! `DESCRIBE` of a table, `SHOW TABLES` and `SHOW COLUMNS`. This module judges the
//! statement's shape only, and the walk judges the tables, functions and clauses.

use sqlparser::ast::{DescribeAlias, Statement};
use sqlparser::keywords::ALL_KEYWORDS;

use crate::error::GuardError;

/// Kind of a statement that passed the guard, so the caller can run each kind its
/// own way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StatementKind {
    Query,
    Explain,
    Describe,
    Show,
}

/// SQL that passed the guard.
///
/// `sql` is the caller's own text, trimmed of surrounding whitespace and trailing `;`.
/// It may end in a `--` comment, so code that embeds it in a larger statement must
/// put a line break after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedSql {
    pub kind: StatementKind,
    pub sql: String,
}

/// Classifies an allowed top-level statement, or rejects it by name.
pub(crate) fn classify(statement: &Statement) -> Result<StatementKind, GuardError> {
    match statement {
        Statement::Query(_) => Ok(StatementKind::Query),
        // `EXPLAIN ANALYZE` runs its statement, so the inner one must be a query too;
        // the walk then checks that query like any other.
        Statement::Explain {
            describe_alias,
            statement: inner,
            ..
        } => match **inner {
            Statement::Query(_) => Ok(explain_kind(*describe_alias)),
            _ => Err(rejected(inner)),
        },
        Statement::ExplainTable { .. } => Ok(StatementKind::Describe),
        Statement::ShowTables { .. } | Statement::ShowColumns { .. } => Ok(StatementKind::Show),
        _ => Err(rejected(statement)),
    }
}

fn explain_kind(alias: DescribeAlias) -> StatementKind {
    match alias {
        DescribeAlias::Explain => StatementKind::Explain,
        DescribeAlias::Describe | DescribeAlias::Desc => StatementKind::Describe,
    }
}

pub(crate) fn rejected(statement: &Statement) -> GuardError {
    GuardError::Statement {
        name: statement_name(statement),
    }
}

/// Names the statement as a user would (`COPY`, `CREATE MACRO`, `SET`), from the
/// first keywords `sqlparser` prints for it, at most two. `SHOW` keeps its object
/// (`SHOW DATABASES`) because `SHOW TABLES` is allowed and the others are not.
pub(crate) fn statement_name(statement: &Statement) -> String {
    let text = statement.to_string();
    let mut words = text.split_whitespace();
    let first = words.next().unwrap_or_default().to_owned();
    if first == "SHOW" {
        return words
            .next()
            .map_or(first.clone(), |w| format!("{first} {w}"));
    }
    let second = words.next().filter(|w| is_keyword(w));
    match second {
        Some(w) => format!("{first} {w}"),
        None => first,
    }
}

fn is_keyword(word: &str) -> bool {
    ALL_KEYWORDS.binary_search(&word).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlparser::dialect::DuckDbDialect;
    use sqlparser::parser::Parser;

    fn parse(sql: &str) -> Statement {
        Parser::parse_sql(&DuckDbDialect {}, sql).unwrap().remove(0)
    }

    #[test]
    fn names_statements_by_their_leading_keywords() {
        assert_eq!(
            statement_name(&parse("CREATE MACRO m(a) AS a")),
            "CREATE MACRO"
        );
        assert_eq!(statement_name(&parse("COPY t TO 'x.csv'")), "COPY");
        assert_eq!(statement_name(&parse("DROP TABLE X")), "DROP TABLE");
        assert_eq!(statement_name(&parse("SHOW databases")), "SHOW DATABASES");
    }

    #[test]
    fn explain_of_a_statement_names_the_inner_statement() {
        let err = classify(&parse("EXPLAIN ANALYZE COPY t TO 'x.csv'")).unwrap_err();
        assert_eq!(
            err,
            GuardError::Statement {
                name: "COPY".into()
            }
        );
    }

    #[test]
    fn describe_of_a_query_is_a_describe() {
        assert_eq!(
            classify(&parse("DESCRIBE SELECT 1")),
            Ok(StatementKind::Describe)
        );
    }
}

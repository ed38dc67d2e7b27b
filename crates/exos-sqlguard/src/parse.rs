//! From raw text to exactly one parsed statement.
//!
//! Owns the checks that run on text and tokens before any tree exists: size limit,
//! emptiness, statement count, and the ClickHouse clauses that must never reach the
//! server (`SETTINGS`, `INTO OUTFILE`, `FORMAT`), which `sqlparser` does not always
//! parse. When parsing fails it still tries to name the statement the user wrote, so
//! `SUMMARIZE` or `CHECKPOINT` is rejected as a statement, not as a syntax error.
//! It never accepts anything: acceptance is the walk's job.

use sqlparser::ast::Statement;
use sqlparser::keywords::Keyword;
use sqlparser::parser::{Parser, ParserError};
use sqlparser::tokenizer::{Token, Tokenizer, Word};

use crate::error::GuardError;
use crate::functions;
use crate::policy::{Dialect, Policy};

/// Words a statement the guard can accept starts with (after `EXPLAIN`/`DESCRIBE`).
const ACCEPTED_STARTS: &[&str] = &["SELECT", "WITH", "VALUES", "FROM", "SHOW", "TABLE"];

/// Words that only prefix the real statement, skipped when naming it.
const PREFIX_WORDS: &[&str] = &["EXPLAIN", "DESCRIBE", "DESC", "ANALYZE", "VERBOSE"];

/// DuckDB statements whose first word `sqlparser` has no keyword for.
const UNPARSED_STATEMENTS: &[&str] = &["SUMMARIZE", "CHECKPOINT", "FORCE"];

/// Checks the size limit and trims whitespace and trailing `;`, leaving the text the
/// caller will run, which must not be empty.
pub(crate) fn trimmed<'a>(sql: &'a str, policy: &Policy) -> Result<&'a str, GuardError> {
    if sql.len() > policy.max_sql_bytes {
        return Err(GuardError::TooLong {
            len: sql.len(),
            max: policy.max_sql_bytes,
        });
    }
    let text = sql
        .trim()
        .trim_end_matches(|c: char| c == ';' || c.is_whitespace());
    if text.is_empty() {
        return Err(GuardError::Empty);
    }
    Ok(text)
}

/// Parses `text` into its one statement, or returns why it cannot be accepted.
pub(crate) fn single_statement(text: &str, policy: &Policy) -> Result<Statement, GuardError> {
    let dialect = policy.dialect.parser();
    let tokens = Tokenizer::new(dialect, text)
        .tokenize()
        .map_err(|e| parse_error(e.to_string()))?;
    let words: Vec<Token> = tokens.into_iter().filter(is_significant).collect();
    count_statements(&words)?;
    if policy.dialect == Dialect::ClickHouse {
        reject_clickhouse_clauses(&words)?;
    }
    match Parser::parse_sql(dialect, text) {
        Ok(mut statements) if statements.len() == 1 => Ok(statements.remove(0)),
        Ok(statements) if statements.is_empty() => Err(GuardError::Empty),
        Ok(statements) => Err(GuardError::MultipleStatements {
            count: statements.len(),
        }),
        Err(err) => Err(unparsed_rejection(&words, policy.dialect, err)),
    }
}

fn is_significant(token: &Token) -> bool {
    !matches!(token, Token::Whitespace(_) | Token::EOF)
}

/// Rejects more than one statement before parsing, so `SELECT 1; CHECKPOINT` is
/// reported as two statements rather than as a syntax error in the second.
fn count_statements(words: &[Token]) -> Result<(), GuardError> {
    let count = words
        .split(|t| matches!(t, Token::SemiColon))
        .filter(|part| !part.is_empty())
        .count();
    match count {
        0 => Err(GuardError::Empty),
        1 => Ok(()),
        _ => Err(GuardError::MultipleStatements { count }),
    }
}

/// Rejects `SETTINGS`, `INTO OUTFILE` and `FORMAT` on the token stream. ClickHouse's
/// `readonly = 1` lets `INTO OUTFILE` write and a `SETTINGS` clause that repeats a
/// current value pass, and `sqlparser` misreads some of these words as aliases, so
/// the check cannot wait for the tree. A column named `settings` or `format` must be
/// quoted.
fn reject_clickhouse_clauses(words: &[Token]) -> Result<(), GuardError> {
    for (i, token) in words.iter().enumerate() {
        let Token::Word(word) = token else { continue };
        if word.quote_style.is_some() {
            continue;
        }
        match word.value.to_ascii_uppercase().as_str() {
            "SETTINGS" => return Err(settings_clause()),
            "OUTFILE" => return Err(outfile_clause()),
            "FORMAT" if !matches!(words.get(i + 1), Some(Token::LParen)) => {
                return Err(format_clause())
            }
            _ => {}
        }
    }
    Ok(())
}

pub(crate) fn settings_clause() -> GuardError {
    GuardError::clause(
        "SETTINGS",
        "engine settings are fixed by EXOS; remove the SETTINGS clause",
    )
}

pub(crate) fn outfile_clause() -> GuardError {
    GuardError::clause(
        "INTO OUTFILE",
        "results are only returned to the caller; remove the INTO OUTFILE clause",
    )
}

pub(crate) fn format_clause() -> GuardError {
    GuardError::clause(
        "FORMAT",
        "EXOS chooses the output format; remove the FORMAT clause",
    )
}

/// Names what the user wrote when it is something the guard rejects anyway, so the
/// user learns it is forbidden rather than misspelt: a statement (`SUMMARIZE t`,
/// `CHECKPOINT`) or a table function behind `DESCRIBE` (`DESCRIBE read_csv('x')`,
/// ClickHouse `DESCRIBE file('x')`). Otherwise reports the parse error.
fn unparsed_rejection(words: &[Token], dialect: Dialect, err: ParserError) -> GuardError {
    let leading = words.iter().take_while(|t| !is_statement_start(t)).count();
    let start: Vec<&Token> = words[leading..].iter().collect();
    let prefixed = words[..leading].iter().any(|t| matches!(t, Token::Word(_)));
    match (start.first(), start.get(1)) {
        (Some(Token::Word(w)), Some(Token::LParen))
            if prefixed && !is_one_of(&w.value, ACCEPTED_STARTS) =>
        {
            described_function(&w.value, dialect).unwrap_or_else(|| parser_rejection(err))
        }
        (Some(Token::Word(w)), _)
            if !is_one_of(&w.value, ACCEPTED_STARTS) && (!prefixed || names_statement(w)) =>
        {
            GuardError::Statement {
                name: statement_words(&start),
            }
        }
        _ => with_literal_hint(parser_rejection(err), words),
    }
}

/// Adds a hint to a parse error when the SQL gives a string literal a type the
/// parser does not know by writing the type first (`TIMESTAMP_NS '2026-01-01'`,
/// which DuckDB reads): the cast form `'2026-01-01'::TIMESTAMP_NS` parses.
fn with_literal_hint(error: GuardError, words: &[Token]) -> GuardError {
    let GuardError::Parse { message } = error else {
        return error;
    };
    let typed = words.windows(2).find_map(|pair| match pair {
        [Token::Word(word), Token::SingleQuotedString(text)]
            if word.quote_style.is_none() && word.keyword == Keyword::NoKeyword =>
        {
            Some((word.value.clone(), text.clone()))
        }
        _ => None,
    });
    let message = match typed {
        Some((kind, text)) => format!(
            "{message}; to give a literal a type, write '{text}'::{kind} instead of {kind} '{text}'"
        ),
        None => message,
    };
    GuardError::Parse { message }
}

/// False for the words and parentheses that only lead into a statement:
/// `EXPLAIN ANALYZE`, `DESCRIBE`, `(`.
fn is_statement_start(token: &Token) -> bool {
    match token {
        Token::LParen => false,
        Token::Word(w) => !is_one_of(&w.value, PREFIX_WORDS),
        _ => true,
    }
}

fn names_statement(word: &Word) -> bool {
    is_keyword(word) || is_one_of(&word.value, UNPARSED_STATEMENTS)
}

fn is_keyword(word: &Word) -> bool {
    word.quote_style.is_none() && word.keyword != Keyword::NoKeyword
}

/// Builds the rejection for `DESCRIBE name(...)`, unless `name` is an allowed table
/// function.
fn described_function(name: &str, dialect: Dialect) -> Option<GuardError> {
    if functions::is_allowed_table_function(dialect, name) {
        return None;
    }
    Some(GuardError::TableFunction {
        name: name.to_owned(),
        reason: functions::rejection_reason(name),
        allowed: functions::table_function_list(dialect),
    })
}

fn is_one_of(word: &str, list: &[&str]) -> bool {
    list.iter().any(|w| w.eq_ignore_ascii_case(word))
}

/// Joins the leading keywords of a statement, at most two (`SET VARIABLE`,
/// `KILL QUERY`). A name such as `read_csv` in `PIVOT read_csv` ends the keywords.
fn statement_words(start: &[&Token]) -> String {
    let keywords = start.iter().map_while(|t| match t {
        Token::Word(w) if is_keyword(w) => Some(w.value.to_ascii_uppercase()),
        _ => None,
    });
    let words: Vec<String> = keywords.take(2).collect();
    if words.is_empty() {
        start.first().map(|t| t.to_string()).unwrap_or_default()
    } else {
        words.join(" ")
    }
}

fn parser_rejection(err: ParserError) -> GuardError {
    match err {
        ParserError::RecursionLimitExceeded => GuardError::TooDeep,
        ParserError::ParserError(m) | ParserError::TokenizerError(m) => parse_error(m),
    }
}

fn parse_error(message: String) -> GuardError {
    let message = message
        .strip_prefix("sql parser error: ")
        .unwrap_or(&message)
        .to_owned();
    GuardError::Parse {
        message: lowercase_first(&message),
    }
}

fn lowercase_first(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn duck() -> Policy {
        Policy::new(Dialect::DuckDb, ["t"])
    }

    #[test]
    fn trims_whitespace_and_trailing_semicolons() {
        assert_eq!(trimmed("  SELECT 1 ;; \n", &duck()), Ok("SELECT 1"));
    }

    #[test]
    fn rejects_text_over_the_limit_before_parsing() {
        let mut policy = duck();
        policy.max_sql_bytes = 8;
        let err = trimmed("SELECT 1234", &policy).unwrap_err();
        assert_eq!(err, GuardError::TooLong { len: 11, max: 8 });
    }

    #[test]
    fn comment_only_text_is_empty() {
        let err = single_statement("-- nothing here", &duck()).unwrap_err();
        assert_eq!(err, GuardError::Empty);
    }

    #[test]
    fn semicolons_inside_strings_and_comments_do_not_split() {
        assert!(single_statement("SELECT ';' /* ; */ -- ;\n", &duck()).is_ok());
    }

    #[test]
    fn unparsable_forbidden_statement_is_named() {
        let err = single_statement("SUMMARIZE t", &duck()).unwrap_err();
        assert_eq!(
            err,
            GuardError::Statement {
                name: "SUMMARIZE".into()
            }
        );
    }

    #[test]
    fn parse_error_keeps_the_position() {
        let err = single_statement("SELECT FROM WHERE", &duck()).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("Line: 1"), "{text}");
    }
}

//! The corpus end to end through `check`: every escape attempt is rejected with a
//! message naming its offending part, every ordinary query passes with its kind.

mod corpus;

use exos_sqlguard::{check, Dialect};

#[test]
fn escape_attempts_rejected_naming_the_part() {
    let failures: Vec<String> = corpus::escapes()
        .iter()
        .filter_map(|case| {
            let outcome = check(&case.sql, &corpus::policy(case.dialect));
            match outcome {
                Ok(_) => Some(format!("line {}: accepted `{}`", case.line, case.sql)),
                Err(err) if !err.to_string().contains(&case.expected) => Some(format!(
                    "line {}: `{}` was rejected with `{err}`, expected it to mention `{}`",
                    case.line, case.sql, case.expected
                )),
                Err(_) => None,
            }
        })
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn ordinary_queries_pass_with_their_kind() {
    let failures: Vec<String> = corpus::allowed()
        .iter()
        .filter_map(|case| {
            let outcome = check(&case.sql, &corpus::policy(case.dialect));
            match outcome {
                Ok(checked) if checked.kind == corpus::kind(&case.expected) => None,
                Ok(checked) => Some(format!(
                    "line {}: `{}` passed as {:?}",
                    case.line, case.sql, checked.kind
                )),
                Err(err) => Some(format!(
                    "line {}: `{}` rejected: {err}",
                    case.line, case.sql
                )),
            }
        })
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn corpus_covers_both_dialects() {
    let count =
        |cases: &[corpus::Case], dialect| cases.iter().filter(|c| c.dialect == dialect).count();
    let escapes = corpus::escapes();
    let allowed = corpus::allowed();
    assert!(escapes.len() >= 60, "{} escape attempts", escapes.len());
    assert!(count(&escapes, Dialect::ClickHouse) >= 20);
    assert!(count(&allowed, Dialect::DuckDb) >= 25);
    assert!(count(&allowed, Dialect::ClickHouse) >= 10);
}

#[test]
fn rejection_messages_start_in_lowercase() {
    for case in corpus::escapes() {
        let err = check(&case.sql, &corpus::policy(case.dialect)).unwrap_err();
        let first = err.to_string().chars().next().unwrap();
        assert!(
            first.is_lowercase() || first == '`',
            "line {}: {err}",
            case.line
        );
    }
}

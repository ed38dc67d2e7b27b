//! Free-text search over span attributes: the fast DuckDB test must find
//! exactly the spans the plain test finds, for any text and any needle.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::*;
use exos_analytics::events::EventsRequest;
use exos_analytics::rows::query;
use exos_analytics::sql::{case_insensitive_literal, Sql};
use exos_analytics::*;
use exos_core::Batch;
use exos_store::{Dialect, Store};

/// Attribute values with case, folding and punctuation traps.
const VALUES: &[&str] = &[
    "İSTANBUL branch",
    "Kelvin \u{212A} scale",
    "Request TimeOut after 30s",
    "a.b*c (literal)",
    "ΣΊΣΥΦΟΣ",
    "Straße 5",
    "ﬃ ligature",
    "tab\tand\nnewline",
    "ıi dotless",
    "quote ' and backslash \\",
    "control \u{1} inside",
    "",
];

/// Needles as the request gives them; the search lower-cases them.
const NEEDLES: &[&str] = &[
    "istanbul",
    "İstanbul",
    "İSTANBUL",
    "k scale",
    "timeout",
    "a.b*",
    "(literal)",
    "σίσυφος",
    "ς",
    "STRASSE",
    "straße",
    "ffi",
    "\n",
    "' and",
    "\\",
    "\u{1}",
    "l \u{1} i",
    "branch\u{1}kelvin",
    "not there",
    "  timeout  ",
    "I DOTLESS",
];

fn spans() -> Batch {
    let names: Vec<String> = (0..VALUES.len()).map(|i| format!("{i:016x}")).collect();
    let spans = VALUES
        .iter()
        .enumerate()
        .map(|(i, value)| {
            let next = VALUES[(i + 1) % VALUES.len()];
            span(SpanSpec {
                id: &names[i],
                start_ns: T0 + i as i64 * SECOND,
                attributes: &[("note", value), ("other", next), ("plain", "x")],
                ..Default::default()
            })
        })
        .collect();
    Batch {
        spans,
        ..Batch::default()
    }
}

/// Returns the spans whose attribute values contain `needle`, by the plain test of each store.
fn plain_matches(store: &dyn Store, needle: &str) -> BTreeSet<String> {
    let sql = Sql::new(store.dialect());
    // The search ignores spaces around the text, and blank text matches every span.
    // The store lower-cases the needle itself, as it does the values.
    let needle = sql.text(needle.trim());
    let test = match store.dialect() {
        Dialect::DuckDb => format!(
            "({needle} = '' OR len(list_filter(map_values(SpanAttributes), v -> contains(lower(v), lower({needle})))) > 0)"
        ),
        Dialect::ClickHouse => format!(
            "({needle} = '' OR arrayExists(v -> positionUTF8(lowerUTF8(v), lowerUTF8({needle})) > 0, mapValues(SpanAttributes)))"
        ),
    };
    query(
        store,
        &format!("SELECT SpanId FROM otel_traces WHERE {test}"),
        100,
    )
    .unwrap()
    .iter()
    .map(|row| row.text(0))
    .collect()
}

#[test]
fn search_equals_the_plain_test() {
    let store = TestStore::empty();
    store.get().write(&spans()).unwrap();
    let mut found_some = 0;
    for needle in NEEDLES {
        let request = EventsRequest::from_query(&pairs(&[("q", needle)])).unwrap();
        let found: BTreeSet<String> = events(store.get(), &request)
            .unwrap()
            .rows
            .iter()
            .map(|row| row["SpanId"].as_str().unwrap().to_string())
            .collect();
        let expected = plain_matches(store.get(), needle);
        assert_eq!(found, expected, "needle {needle:?}");
        found_some += usize::from(!found.is_empty());
    }
    assert!(found_some >= 10, "only {found_some} needles found a span");
}

#[test]
fn same_lower_case_matches_patterns() {
    let store = TestStore::empty();
    if store.get().dialect() != Dialect::DuckDb {
        return;
    }
    let sql = Sql::new(Dialect::DuckDb);

    // Every character that DuckDB lower-cases, with its lower-case form.
    let rows = query(
        store.get(),
        "SELECT c, lower(c) FROM (SELECT chr(i::INTEGER) AS c FROM range(1, 55296) t(i) \
         UNION ALL SELECT chr(i::INTEGER) AS c FROM range(57344, 196608) t(i)) \
         WHERE lower(c) != c",
        10_000,
    )
    .unwrap();
    assert!(rows.len() > 1000, "{} characters lower-case", rows.len());

    // Characters with the same lower-case form, the form included.
    let mut groups: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for row in &rows {
        let group = groups.entry(row.text(1)).or_default();
        group.insert(row.text(0));
        group.insert(row.text(1));
    }

    // A text character must match the pattern of any needle character in its group.
    let mut pairs = Vec::new();
    for group in groups.values() {
        for text in group {
            for needle in group {
                let pattern = case_insensitive_literal(needle);
                pairs.push(format!("({}, {})", sql.text(text), sql.text(&pattern)));
            }
        }
    }
    let misses = query(
        store.get(),
        &format!(
            "SELECT c, p FROM (VALUES {}) t(c, p) WHERE NOT regexp_matches(c, p)",
            pairs.join(", ")
        ),
        10_000,
    )
    .unwrap();
    let misses: Vec<(String, String)> = misses
        .iter()
        .map(|row| (row.text(0), row.text(1)))
        .collect();
    assert!(misses.is_empty(), "patterns miss {misses:?}");
}

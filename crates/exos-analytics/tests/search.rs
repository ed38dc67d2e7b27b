//! Free-text search over span attributes: the fast DuckDB test must find
//! exactly the spans the plain test finds, for any text and any needle.

mod common;

use std::collections::BTreeSet;

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
    "quote ' and backslash \\",
    "control \u{1} inside",
    "",
];

/// Needles as the request gives them; the search lower-cases them.
const NEEDLES: &[&str] = &[
    "istanbul",
    "İstanbul",
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
    let needle = sql.text(&needle.to_lowercase());
    let test = match store.dialect() {
        Dialect::DuckDb => {
            format!("len(list_filter(map_values(SpanAttributes), v -> contains(lower(v), {needle}))) > 0")
        }
        Dialect::ClickHouse => format!(
            "arrayExists(v -> positionUTF8(lowerUTF8(v), {needle}) > 0, mapValues(SpanAttributes))"
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
fn lowered_characters_match_patterns() {
    let store = TestStore::empty();
    if store.get().dialect() != Dialect::DuckDb {
        return;
    }
    let sql = Sql::new(Dialect::DuckDb);
    let rows = query(
        store.get(),
        "SELECT c, lower(c) FROM (SELECT chr(i::INTEGER) AS c FROM range(1, 55296) t(i) \
         UNION ALL SELECT chr(i::INTEGER) AS c FROM range(57344, 196608) t(i)) \
         WHERE lower(c) != c",
        10_000,
    )
    .unwrap();
    assert!(rows.len() > 1000, "{} characters lower-case", rows.len());
    let pairs: Vec<String> = rows
        .iter()
        .map(|row| {
            let pattern = case_insensitive_literal(&row.text(1));
            format!("({}, {})", sql.text(&row.text(0)), sql.text(&pattern))
        })
        .collect();
    let misses = query(
        store.get(),
        &format!(
            "SELECT c FROM (VALUES {}) t(c, p) WHERE NOT regexp_matches(c, p)",
            pairs.join(", ")
        ),
        10_000,
    )
    .unwrap();
    let misses: Vec<String> = misses.iter().map(|row| row.text(0)).collect();
    assert!(misses.is_empty(), "patterns miss {misses:?}");
}

//! The error groups read from the error summaries (`exos_errors`, fingerprinted at
//! ingest) equal the groups fingerprinted from the spans at query time, over random
//! error spans and ranges. A store whose summaries fall short rebuilds them at open.
//!
//! On ClickHouse, with `EXOS_TEST_STORE=clickhouse`, both readings scan the spans.

mod common;

use common::{on_clickhouse, TestStore};
use exos_analytics::errors::{error_group, errors_from, ErrorGroupRequest, ErrorsRequest};
use exos_analytics::rollups::Read;
use exos_analytics::{Filter, Scope, TimeRange};
use exos_core::{BusinessKeys, SpanEvent, SpanRow};
use exos_store::{DuckOptions, DuckStore, Store};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// 2026-11-30 00:00:00 UTC: the spans fill the day after it.
const START: i64 = 1_796_083_200_000_000_000;
const HOUR: i64 = 3_600_000_000_000;

const KINDS: [&str; 3] = ["TimeoutError", "ValueError", ""];
const MESSAGES: [&str; 6] = [
    "timed out after 30 ms",
    "timed out after 2.5 ms",
    "invalid order 'o-17' id 42",
    "no row for \"user-9\" at 0x1f3a",
    "lookup 3f2a9c1d-1b2c-4d5e-8f90-123456789abc failed",
    "trace 4bf92f3577b34da6a3ce929d0e0e4736 lost",
];
const STACKS: [&str; 3] = [
    "Error: boom\n    at fetchOrder (app.js:10:5)\n    at main (app.js:1:1)",
    "Traceback (most recent call last):\n  File \"app.py\", line 10, in handler\n    raise",
    "",
];

fn random_error(rng: &mut StdRng, index: usize) -> SpanRow {
    let mut attributes = Vec::new();
    let pick = |rng: &mut StdRng, list: &[&str]| list[rng.gen_range(0..list.len())].to_string();
    let kind = pick(rng, &KINDS);
    if !kind.is_empty() {
        attributes.push(("exception.type".to_string(), kind));
    }
    // Some messages come from the exception event, the rest from the status message.
    if rng.gen_bool(0.6) {
        attributes.push(("exception.message".to_string(), pick(rng, &MESSAGES)));
    }

    let stack = pick(rng, &STACKS);
    if !stack.is_empty() {
        attributes.push(("exception.stacktrace".to_string(), stack));
    }
    let mut events = vec![SpanEvent {
        timestamp_ns: 0,
        name: "log".into(),
        attributes: vec![("level".to_string(), "info".to_string())],
    }];
    events.push(SpanEvent {
        timestamp_ns: 0,
        name: "exception".into(),
        attributes,
    });

    let id = |rng: &mut StdRng, prefix: &str, count: u32| {
        if rng.gen_bool(0.7) {
            format!("{prefix}{}", rng.gen_range(0..count))
        } else {
            String::new()
        }
    };
    SpanRow {
        timestamp_ns: START + rng.gen_range(0..24 * HOUR),
        trace_id: format!("{:032x}", rng.gen::<u128>()),
        span_id: format!("{index:016x}"),
        span_name: "handle".into(),
        span_kind: "Server",
        service_name: ["order-api", "billing"][rng.gen_range(0..2)].into(),
        status_code: if rng.gen_bool(0.8) { "Error" } else { "Ok" },
        status_message: pick(rng, &MESSAGES),
        events,
        keys: BusinessKeys {
            order_id: id(rng, "o", 50),
            user_id: id(rng, "u", 20),
            rum_session_id: id(rng, "s", 30),
            ..BusinessKeys::default()
        },
        ..SpanRow::default()
    }
}

fn write_errors(store: &dyn Store, rng: &mut StdRng, batches: usize, first: usize) {
    common::write_random_spans(store, rng, batches, first, 200, random_error);
}

/// Compares both readings of the error groups over random ranges, and one group's detail.
fn assert_same_groups(store: &dyn Store, rng: &mut StdRng, ranges: usize) {
    for _ in 0..ranges {
        let from = START - HOUR + rng.gen_range(0..20 * HOUR);
        let range = TimeRange::new(from, from + rng.gen_range(HOUR..30 * HOUR)).unwrap();
        let request = ErrorsRequest {
            scope: Scope::new(range),
        };
        let summarised = errors_from(store, &request, Read::Rollups, 100_000).unwrap();
        let scanned = errors_from(store, &request, Read::Spans, 100_000).unwrap();
        assert!(scanned.groups.len() > 3, "the range {range:?} holds groups");
        assert_eq!(summarised, scanned, "errors over {range:?}");
        // An always-true filter makes the detail read the spans alone.
        let fingerprint = scanned.groups[0].fingerprint.clone();
        let all = Filter::parse("ServiceName!=none").unwrap();
        let detail = |filters: Vec<Filter>| {
            let scope = Scope {
                filters,
                ..Scope::new(range)
            };
            error_group(
                store,
                &ErrorGroupRequest {
                    fingerprint: fingerprint.clone(),
                    scope,
                },
            )
            .unwrap()
        };
        let from_summaries = detail(Vec::new());
        let from_spans = detail(vec![all]);
        assert_eq!(from_summaries.group, scanned.groups[0]);
        assert!(!from_spans.occurrences.is_empty());
        assert_eq!(from_summaries, from_spans, "detail over {range:?}");
    }
}

#[test]
fn summaries_group_errors_as_the_spans_do() {
    let test = TestStore::empty();
    let mut rng = StdRng::seed_from_u64(5);
    write_errors(test.get(), &mut rng, 30, 0);
    assert_same_groups(test.get(), &mut rng, 8);
}

#[test]
fn summaries_short_of_the_spans_are_rebuilt() {
    if on_clickhouse() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut rng = StdRng::seed_from_u64(9);
    {
        let store = DuckStore::open(dir.path(), &DuckOptions::default()).unwrap();
        write_errors(&store, &mut rng, 20, 0);
        let connection = store.duckdb_connection().unwrap().unwrap();
        let (staged, errors): (i64, i64) = connection
            .query_row(
                "SELECT (SELECT count(*) FROM exos_error_staging), (SELECT count(*) FROM exos_errors)",
                [],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .unwrap();
        assert_eq!(staged, 0, "every write empties its stage");
        assert!(errors > 0);
        connection
            .execute_batch("DELETE FROM exos_errors WHERE SpanId LIKE '%3'")
            .unwrap();
    }
    let store = DuckStore::open(dir.path(), &DuckOptions::default()).unwrap();
    assert_same_groups(&store, &mut rng, 4);
}

//! The overview and engineering figures read from the span rollups equal the
//! same figures read from every span, over random spans and random ranges.
//!
//! Runs on DuckDB, or on ClickHouse with `EXOS_TEST_STORE=clickhouse`, where
//! materialized views fill the rollups.

mod common;

use common::{on_clickhouse, TestStore};
use exos_analytics::rollups::Read;
use exos_analytics::services::{services_from, ServicesRequest};
use exos_analytics::stats::{stats_from, StatsRequest};
use exos_analytics::{Scope, TimeRange};
use exos_core::{BusinessKeys, SpanRow};
use exos_store::{DuckOptions, DuckStore, Store};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

/// 2026-11-30 00:00:00 UTC: the spans fill the two days after it.
const START: i64 = 1_796_083_200_000_000_000;
const HOUR: i64 = 3_600_000_000_000;
const SERVICES: [&str; 4] = ["order-api", "billing", "auth", "gateway"];
const NAMES: [&str; 5] = ["GET /orders", "POST /pay", "login", "db.query", "send"];
const LOBS: [&str; 3] = ["Title", "Escrow", "Mortgage"];
const ORDER_STATUSES: [&str; 3] = ["open", "approved", "closed"];
const KINDS: [&str; 5] = [
    "Server",
    "Client",
    "Internal",
    "Consumer",
    "SPAN_KIND_SERVER",
];

/// Durations that sit on the histogram bounds and bin edges, and random ones.
fn duration(rng: &mut StdRng) -> u64 {
    match rng.gen_range(0..6) {
        0 => [
            0,
            1,
            2,
            1_000_000,
            1_000_001,
            10_000_000_000,
            10_000_000_001,
        ][rng.gen_range(0..7)],
        1 => 1 << rng.gen_range(0..34),
        _ => rng.gen_range(0..3_000_000_000),
    }
}

fn random_span(rng: &mut StdRng, index: usize) -> SpanRow {
    // Some spans start exactly on slot starts, the rest anywhere in the two days.
    let timestamp_ns = if rng.gen_bool(0.1) {
        START + rng.gen_range(0..576) * 300_000_000_000
    } else {
        START + rng.gen_range(0..48 * HOUR)
    };
    let status_code = ["Ok", "Unset", "Error", "STATUS_CODE_ERROR"][rng.gen_range(0..4)];
    let order = rng.gen_range(0..400);
    let (operator, session) = (rng.gen_range(0..12), rng.gen_range(0..300));
    // The keys go into the attributes as instrumentation sends them; ClickHouse
    // computes its key columns from the attributes.
    // An order keeps one LOB, on every span.
    let mut span_attributes = vec![("lob".to_string(), LOBS[order % LOBS.len()].to_string())];
    let mut add = |key: &str, value: String| {
        if rng.gen_bool(0.8) {
            span_attributes.push((key.to_string(), value));
        }
    };
    add("order.id", format!("o{order}"));
    add("operator.id", format!("op{operator}"));
    add("rum.session_id", format!("s{session}"));
    if rng.gen_bool(0.3) {
        let status = ORDER_STATUSES[rng.gen_range(0..ORDER_STATUSES.len())];
        span_attributes.push(("order.status".to_string(), status.to_string()));
    }
    let keys = BusinessKeys::extract(&span_attributes, &Default::default());
    SpanRow {
        keys,
        span_attributes,
        timestamp_ns,
        trace_id: format!("{:032x}", rng.gen::<u128>()),
        span_id: format!("{index:016x}"),
        parent_span_id: if rng.gen_bool(0.6) {
            format!("{:016x}", rng.gen::<u64>())
        } else {
            String::new()
        },
        span_name: NAMES[rng.gen_range(0..NAMES.len())].into(),
        span_kind: KINDS[rng.gen_range(0..KINDS.len())],
        service_name: SERVICES[rng.gen_range(0..SERVICES.len())].into(),
        duration_ns: duration(rng),
        status_code,
        ..SpanRow::default()
    }
}

/// Writes `batches` batches of random spans, then random calls between services.
fn write_spans(store: &dyn Store, rng: &mut StdRng, batches: usize, first: usize) {
    common::write_random_spans(store, rng, batches, first, 400, random_span);
    let calls: Vec<(SpanRow, SpanRow)> = (0..batches * 20)
        .map(|index| random_call(rng, first + index))
        .collect();
    write_calls(store, rng, calls);
}

/// Returns the client and the server span of one call. Both start in the same
/// 5-minute slot, so a range contains both or neither of a call in its whole slots.
fn random_call(rng: &mut StdRng, index: usize) -> (SpanRow, SpanRow) {
    const SLOT: i64 = 300_000_000_000;
    let caller_start = START + rng.gen_range(0..576) * SLOT + rng.gen_range(0..SLOT / 2);
    let trace_id = format!("{:032x}", rng.gen::<u128>());
    let caller = SpanRow {
        timestamp_ns: caller_start,
        trace_id: trace_id.clone(),
        span_id: format!("c{index:015x}"),
        span_name: "call".into(),
        span_kind: ["Client", "Producer", "SPAN_KIND_CLIENT"][rng.gen_range(0..3)],
        service_name: SERVICES[rng.gen_range(0..SERVICES.len())].into(),
        duration_ns: duration(rng),
        status_code: "Ok",
        ..SpanRow::default()
    };
    let callee = SpanRow {
        timestamp_ns: caller_start + rng.gen_range(0..SLOT / 2),
        trace_id,
        span_id: format!("d{index:015x}"),
        parent_span_id: caller.span_id.clone(),
        span_name: NAMES[rng.gen_range(0..NAMES.len())].into(),
        span_kind: ["Server", "Consumer", "SPAN_KIND_SERVER"][rng.gen_range(0..3)],
        service_name: SERVICES[rng.gen_range(0..SERVICES.len())].into(),
        duration_ns: duration(rng),
        status_code: ["Ok", "Error"][rng.gen_range(0..2)],
        ..SpanRow::default()
    };
    (caller, callee)
}

/// Writes the spans of `calls` shuffled into batches of 1 to 40, so a server span
/// often reaches the store before its client span.
fn write_calls(store: &dyn Store, rng: &mut StdRng, calls: Vec<(SpanRow, SpanRow)>) {
    let mut spans: Vec<SpanRow> = calls.into_iter().flat_map(|(a, b)| [a, b]).collect();
    spans.shuffle(rng);
    while !spans.is_empty() {
        let size = rng.gen_range(1..=40).min(spans.len());
        let batch = exos_core::Batch {
            spans: spans.drain(..size).collect(),
            ..exos_core::Batch::default()
        };
        store.write(&batch).expect("calls written");
    }
}

/// Returns a random range inside or overlapping the two days, sometimes aligned on
/// the hour. It is at least 3 hours long, so chart buckets are whole rollup slots.
fn random_range(rng: &mut StdRng) -> TimeRange {
    let length = rng.gen_range(3 * HOUR..50 * HOUR);
    let mut from = START - HOUR + rng.gen_range(0..48 * HOUR);
    if rng.gen_bool(0.3) {
        from -= from.rem_euclid(HOUR);
    }
    TimeRange::new(from, from + length).expect("a valid range")
}

/// Compares both readings of the overview and engineering figures over `ranges` ranges.
fn assert_same_figures(store: &dyn Store, rng: &mut StdRng, ranges: usize) {
    for _ in 0..ranges {
        let range = random_range(rng);
        let stats_request = StatsRequest::new(Scope::new(range));
        let from_rollups = stats_from(store, &stats_request, Read::Rollups).unwrap();
        let from_spans = stats_from(store, &stats_request, Read::Spans).unwrap();
        assert!(
            from_spans.totals.spans > 0,
            "the range {range:?} holds spans"
        );
        assert!(from_spans.totals.orders > 0, "the range holds orders");
        assert!(from_spans.totals.sessions > 0, "the range holds sessions");
        assert!(!from_spans.busiest_operators.is_empty());
        assert_eq!(from_rollups, from_spans, "overview over {range:?}");
        for service in [None, Some("billing".to_string())] {
            let request = ServicesRequest {
                scope: Scope::new(range),
                service,
            };
            let from_rollups = services_from(store, &request, Read::Rollups).unwrap();
            let from_spans = services_from(store, &request, Read::Spans).unwrap();
            assert!(!from_spans.endpoints.is_empty());
            assert!(!from_spans.edges.is_empty(), "the range holds calls");
            assert_eq!(from_rollups, from_spans, "engineering over {range:?}");
        }
    }
}

#[test]
fn rollups_give_the_figures_of_every_span() {
    let test = TestStore::empty();
    let mut rng = StdRng::seed_from_u64(7);
    write_spans(test.get(), &mut rng, 40, 0);
    assert_same_figures(test.get(), &mut rng, 12);
    // Later writes land in slots that already have rows.
    write_spans(test.get(), &mut rng, 20, 100_000);
    assert_same_figures(test.get(), &mut rng, 6);
    // A restarted ClickHouse instance finds the views and counts nothing twice.
    if let Some(again) = test.reopen() {
        write_spans(again.as_ref(), &mut rng, 5, 200_000);
        assert_same_figures(again.as_ref(), &mut rng, 4);
    }
    // A ClickHouse database from before the rollups gets them filled from its spans.
    if test.clickhouse_statement("DROP VIEW exos_span_rollup_mv")
        && test.clickhouse_statement("DROP TABLE exos_span_rollup")
    {
        let again = test.reopen().expect("a ClickHouse store");
        assert_same_figures(again.as_ref(), &mut rng, 4);
    }
}

#[test]
fn merged_and_rebuilt_rollups_keep_the_figures() {
    if on_clickhouse() {
        // ClickHouse merges the rollups' parts itself; the other test covers it.
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut rng = StdRng::seed_from_u64(11);
    let count_rows = |store: &DuckStore, merged: bool| -> i64 {
        let connection = store.duckdb_connection().unwrap().unwrap();
        connection
            .query_row(
                "SELECT count(*) FROM exos_span_rollup WHERE Merged = ?",
                [merged],
                |row| row.get::<_, i64>(0),
            )
            .unwrap()
    };
    {
        let store = DuckStore::open(dir.path(), &DuckOptions::default()).unwrap();
        // 100 writes: one merge on the 64th, and partial rows after it.
        write_spans(&store, &mut rng, 100, 0);
        assert!(count_rows(&store, true) > 0, "a merge ran");
        assert!(
            count_rows(&store, false) > 0,
            "later writes left partial rows"
        );
        assert_same_figures(&store, &mut rng, 6);
        // More writes into the same slots, each followed by a merge, then one more merge:
        // every key keeps one row.
        for _ in 0..3 {
            write_spans(&store, &mut rng, 5, 500_000);
            store.merge_rollups().unwrap();
        }
        assert_eq!(count_rows(&store, false), 0);
        let connection = store.duckdb_connection().unwrap().unwrap();
        let (rows, keys): (i64, i64) = connection
            .query_row(
                "SELECT count(*), count(DISTINCT (Slot, ServiceName, Bin, Bucket)) FROM exos_span_rollup",
                [],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .unwrap();
        assert_eq!(rows, keys, "one merged row per key");
        for table in ["exos_orders", "exos_sessions"] {
            let (rows, keys, partial): (i64, i64, i64) = connection
                .query_row(
                    &format!(
                        "SELECT count(*), count(DISTINCT Id), count(*) FILTER (WHERE NOT Merged) \
                         FROM {table}"
                    ),
                    [],
                    |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
                )
                .unwrap();
            assert_eq!((rows, partial), (keys, 0), "one merged row per entity");
        }
        assert_same_figures(&store, &mut rng, 6);
        // Spans written behind the store's back, as a bulk load would.
        let connection = store.duckdb_connection().unwrap().unwrap();
        connection
            .execute_batch(
                "INSERT INTO otel_traces SELECT * FROM otel_traces LIMIT 500; \
                 DELETE FROM exos_endpoint_rollup WHERE Slot % 7200000000000 = 0; \
                 DELETE FROM exos_orders WHERE Id LIKE '%7'; \
                 DELETE FROM exos_sessions WHERE Id LIKE '%7'",
            )
            .unwrap();
    }
    // Opening again finds the rollups and entity summaries short of otel_traces and
    // rebuilds them.
    let store = DuckStore::open(dir.path(), &DuckOptions::default()).unwrap();
    assert_eq!(count_rows(&store, false), 0);
    assert_same_figures(&store, &mut rng, 6);
}

#[test]
fn orders_total_counts_unlisted_pairs() {
    let test = TestStore::empty();
    let spans = (0..250)
        .map(|order| {
            let span_attributes = vec![
                ("order.id".to_string(), format!("o{order}")),
                ("lob".to_string(), "Title".to_string()),
                ("order.status".to_string(), format!("status-{order:03}")),
            ];
            SpanRow {
                timestamp_ns: START + order * 1_000_000,
                trace_id: format!("{order:032x}"),
                span_id: format!("{order:016x}"),
                span_name: "step".into(),
                service_name: "order-api".into(),
                keys: BusinessKeys::extract(&span_attributes, &Default::default()),
                span_attributes,
                ..SpanRow::default()
            }
        })
        .collect();
    test.get()
        .write(&exos_core::Batch {
            spans,
            ..exos_core::Batch::default()
        })
        .unwrap();
    let request = StatsRequest::new(Scope::new(TimeRange::new(START, START + HOUR).unwrap()));
    for read in [Read::Rollups, Read::Spans] {
        let stats = stats_from(test.get(), &request, read).unwrap();
        assert_eq!(stats.orders_by_lob.len(), 200, "the listed pairs");
        assert_eq!(stats.totals.orders, 250, "every order, read from {read:?}");
    }
}

#[test]
fn calls_pair_across_a_restart() {
    if on_clickhouse() {
        // ClickHouse keeps no edge rollup: its service map always joins the spans.
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut rng = StdRng::seed_from_u64(13);
    const MINUTE: i64 = 60_000_000_000;
    // Live traffic: the calls ended in the last minutes, within the pairing's window.
    let base = exos_analytics::time::now_ns() - 3 * MINUTE;
    let mut calls: Vec<(SpanRow, SpanRow)> = (0..200)
        .map(|index| {
            let (mut caller, mut callee) = random_call(&mut rng, index);
            caller.timestamp_ns = base + index as i64 * 1_000_000;
            callee.timestamp_ns = caller.timestamp_ns + 500_000;
            (caller, callee)
        })
        .collect();
    // Long calls: the client span started 8 minutes before its server span and ended
    // after it, so it was exported minutes after it started.
    for call in calls.iter_mut().skip(150) {
        call.0.timestamp_ns = call.1.timestamp_ns - 8 * MINUTE;
        call.0.duration_ns = 9 * MINUTE as u64;
    }
    let (first, second) = calls.split_at(100);
    let write = |store: &DuckStore, spans: Vec<SpanRow>| {
        let batch = exos_core::Batch {
            spans,
            ..exos_core::Batch::default()
        };
        store.write(&batch).unwrap();
    };
    {
        let store = DuckStore::open(dir.path(), &DuckOptions::default()).unwrap();
        let callers = first.iter().map(|call| call.0.clone());
        write(
            &store,
            callers
                .chain(second.iter().map(|call| call.1.clone()))
                .collect(),
        );
        // A span from a clock a day ahead must not move the seeding's window.
        let mut ahead = random_span(&mut rng, 999_999);
        ahead.timestamp_ns = base + 24 * 60 * MINUTE;
        write(&store, vec![ahead]);
    }
    // The new process finds the waiting spans among the stored ones.
    let store = DuckStore::open(dir.path(), &DuckOptions::default()).unwrap();
    let callees = first.iter().map(|call| call.1.clone());
    write(
        &store,
        callees
            .chain(second.iter().map(|call| call.0.clone()))
            .collect(),
    );

    let range = TimeRange::new(base - HOUR, base + HOUR).unwrap();
    let request = ServicesRequest {
        scope: Scope::new(range),
        service: None,
    };
    let from_rollups = services_from(&store, &request, Read::Rollups).unwrap();
    let from_spans = services_from(&store, &request, Read::Spans).unwrap();
    let across = calls
        .iter()
        .filter(|(caller, callee)| caller.service_name != callee.service_name)
        .count() as u64;
    let counted: u64 = from_rollups.edges.iter().map(|edge| edge.calls).sum();
    assert_eq!(counted, across, "every call across services");
    assert_eq!(from_rollups.edges, from_spans.edges);
}

#[test]
fn retried_client_spans_count_once() {
    let test = TestStore::empty();
    let mut rng = StdRng::seed_from_u64(17);
    let calls: Vec<(SpanRow, SpanRow)> =
        (0..50).map(|index| random_call(&mut rng, index)).collect();
    // Every client span arrives twice, as an exporter's retry sends it.
    let retried = calls.iter().map(|call| (call.0.clone(), call.0.clone()));
    write_calls(test.get(), &mut rng, calls.clone());
    write_calls(test.get(), &mut rng, retried.collect());
    let range = TimeRange::new(START - HOUR, START + 49 * HOUR).unwrap();
    let across = calls
        .iter()
        .filter(|(caller, callee)| caller.service_name != callee.service_name)
        .count() as u64;
    for read in [Read::Rollups, Read::Spans] {
        let request = ServicesRequest {
            scope: Scope::new(range),
            service: None,
        };
        let answer = services_from(test.get(), &request, read).unwrap();
        let counted: u64 = answer.edges.iter().map(|edge| edge.calls).sum();
        assert_eq!(counted, across, "calls read from {read:?}");
    }
}

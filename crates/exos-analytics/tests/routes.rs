//! Every route's function against a real store holding the fixture, with exact numbers.
//!
//! Runs on DuckDB, or on ClickHouse with `EXOS_TEST_STORE=clickhouse`; the
//! expectations are the same, which is how the two stores are held identical.

mod common;

use common::*;
use exos_analytics::errors::{fingerprint_expr, normalised_expr, TOP_FRAME};
use exos_analytics::events::EventsRequest;
use exos_analytics::facets::{FilterOptions, FiltersRequest};
use exos_analytics::rows::query;
use exos_analytics::sql::Sql;
use exos_analytics::*;
use serde_json::json;

#[test]
fn literals_round_trip_injection_attempts() {
    let store = TestStore::empty();
    let sql = Sql::new(store.get().dialect());
    let attempts = [
        "plain",
        "it's",
        "x' OR '1'='1",
        r"x\' OR 1=1 --",
        r"\\'; DROP TABLE otel_traces; --",
        r"ends with a backslash \",
        "\\n is not a newline, but this is:\n",
        "'); SELECT * FROM system.users; --",
        "unicode ✓ and \"double\" quotes",
        "a question? and (?m) a regex flag",
    ];
    for attempt in attempts {
        let rows = query(
            store.get(),
            &format!("SELECT {} AS v", sql.text(attempt)),
            1,
        )
        .unwrap();
        assert_eq!(rows[0].text(0), attempt, "literal of {attempt:?}");
    }
    let tables = query(store.get(), "SELECT count(*) FROM otel_traces", 1).unwrap();
    assert_eq!(tables[0].count(0).unwrap(), 0);
}

#[test]
fn time_literals_keep_nanoseconds() {
    let store = TestStore::empty();
    let sql = Sql::new(store.get().dialect());
    for epoch_ns in [T0, T0 + 123_456_789, 1, 4_102_444_800_000_000_001] {
        let text = format!("SELECT {}", sql.epoch_ns(&sql.time(epoch_ns)));
        let rows = query(store.get(), &text, 1).unwrap();
        assert_eq!(
            rows[0].int(0).unwrap(),
            epoch_ns,
            "time literal of {epoch_ns}"
        );
    }
}

#[test]
fn normalisation_is_the_same_on_both_stores() {
    let store = TestStore::empty();
    let sql = Sql::new(store.get().dialect());
    let messages = [
        ("timed out after 3000 ms", "timed out after <n> ms"),
        ("user 'bob' not found", "user <str> not found"),
        ("order \"ORD-1\" failed", "order <str> failed"),
        (
            "request 123e4567-e89b-12d3-a456-426614174000 failed",
            "request <uuid> failed",
        ),
        ("span 5f3a9c0d1e2b4a6f missing", "span <hex> missing"),
        ("pointer 0x7ffe12 is null", "pointer <hex> is null"),
        ("took 1.25s at step 3", "took <n>s at step <n>"),
        ("no variable parts", "no variable parts"),
    ];
    for (message, expected) in messages {
        let text = format!("SELECT {} AS v", normalised_expr(&sql, &sql.text(message)));
        let rows = query(store.get(), &text, 1).unwrap();
        assert_eq!(rows[0].text(0), expected, "normalised {message:?}");
    }
    let stacks = [
        (TIMEOUT_STACK, "at fetchOrder (app.js:10:5)"),
        (PYTHON_STACK, "File \"app.py\", line 10, in handler"),
        ("Error\r\n   at x (a.js:1:1)\r\n", "at x (a.js:1:1)"),
        ("no frames here", ""),
    ];
    for (stack, expected) in stacks {
        let text = format!(
            "SELECT {} AS v",
            sql.regexp_first_group(&sql.text(stack), TOP_FRAME)
        );
        let rows = query(store.get(), &text, 1).unwrap();
        assert_eq!(rows[0].text(0), expected, "top frame of {stack:?}");
    }
    let fingerprint = fingerprint_expr(
        &sql,
        &sql.text("TimeoutError"),
        &sql.text("timed out after <n> ms"),
        &sql.text("at fetchOrder (app.js:10:5)"),
    );
    let rows = query(store.get(), &format!("SELECT {fingerprint}"), 1).unwrap();
    assert_eq!(rows[0].text(0), TIMEOUT_FINGERPRINT);
}

#[test]
fn stats_totals_and_lists() {
    let store = TestStore::with_fixture();
    let request = StatsRequest::from_query(&pairs(&[])).unwrap();
    let stats = stats(store.get(), &request).unwrap();

    assert_eq!(stats.range.bucket_s, 60);
    let totals = &stats.totals;
    assert_eq!(totals.spans, 8);
    assert_eq!(totals.logs, 2);
    assert_eq!(totals.errors, 3);
    assert_eq!(totals.error_rate, 0.375);
    assert_eq!(totals.traces, 5);
    assert_eq!(totals.sessions, 2);
    assert_eq!(totals.orders, 2);
    assert_eq!(totals.replay_events, 1);
    assert_eq!(totals.metric_points, 1);

    assert_eq!(stats.volume.len(), 60);
    assert_eq!(stats.volume[0].t, "2026-12-01 10:00:00");
    assert_eq!(
        (
            stats.volume[0].spans,
            stats.volume[0].logs,
            stats.volume[0].errors
        ),
        (5, 2, 1)
    );
    assert_eq!((stats.volume[5].spans, stats.volume[5].errors), (2, 1));
    assert_eq!((stats.volume[10].spans, stats.volume[10].errors), (1, 1));

    let lobs = serde_json::to_value(&stats.orders_by_lob).unwrap();
    assert_eq!(
        lobs,
        json!([
            {"lob": "Appraisal", "status": "closed", "orders": 1},
            {"lob": "Title", "status": "unknown", "orders": 1}
        ])
    );

    let errors: Vec<(&str, &str, &str)> = stats
        .recent_errors
        .iter()
        .map(|e| (e.service.as_str(), e.kind.as_str(), e.trace_id.as_str()))
        .collect();
    assert_eq!(
        errors,
        vec![
            ("order-api", "ValueError", TRACE_C),
            ("document-service", "TimeoutError", TRACE_B),
            ("document-service", "TimeoutError", TRACE_A),
        ]
    );
    assert_eq!(
        stats.recent_errors[0].message,
        "invalid order 'ORD-2' id 42"
    );
    assert_eq!(stats.recent_errors[0].time, "2026-12-01 10:10:00");

    let operators = serde_json::to_value(&stats.busiest_operators).unwrap();
    assert_eq!(
        operators,
        json!([
            {"operator": "op-1", "spans": 2, "orders": 1},
            {"operator": "op-2", "spans": 1, "orders": 1}
        ])
    );
    assert_eq!(
        serde_json::to_value(&stats.tables).unwrap(),
        json!({"otel_traces": 9, "otel_logs": 3, "hyperdx_sessions": 1,
               "otel_metrics_gauge": 1, "otel_metrics_sum": 0, "otel_metrics_histogram": 0})
    );
}

#[test]
fn stats_services_and_percentiles() {
    let store = TestStore::with_fixture();
    let request = StatsRequest::from_query(&pairs(&[])).unwrap();
    let stats = stats(store.get(), &request).unwrap();

    let names: Vec<(&str, u64, u64)> = stats
        .services
        .iter()
        .map(|s| (s.service.as_str(), s.spans, s.errors))
        .collect();
    assert_eq!(
        names,
        vec![
            ("order-api", 4, 1),
            ("document-service", 2, 2),
            ("web", 2, 0)
        ]
    );
    let order_api = &stats.services[0];
    assert_eq!(order_api.error_rate, 0.25);
    assert_eq!(
        order_api.p50_ms,
        expected_quantile(&[100, 50, 200, 300], 0.5)
    );
    assert_eq!(
        order_api.p95_ms,
        expected_quantile(&[100, 50, 200, 300], 0.95)
    );
    assert_eq!(order_api.p95_ms, 300.0, "clamped to the exact maximum");
    assert_eq!(order_api.series.len(), 60);
    assert_eq!(order_api.series[0].spans, 2);
    assert_eq!(
        order_api.series[0].p95_ms,
        expected_quantile(&[100, 50], 0.95)
    );
    assert_eq!(order_api.series[10].errors, 1);
    assert_eq!(order_api.series[1].p95_ms, 0.0);
}

#[test]
fn stats_filters_narrow_every_figure() {
    let store = TestStore::with_fixture();
    let request = StatsRequest::from_query(&pairs(&[("filter", "Lob=Title")])).unwrap();
    let narrowed = stats(store.get(), &request).unwrap();
    assert_eq!(narrowed.totals.spans, 1);
    assert_eq!(narrowed.totals.errors, 1);
    assert_eq!(narrowed.totals.logs, 0, "no log record has a LOB");
    assert_eq!(narrowed.totals.orders, 1);
    assert_eq!(narrowed.totals.metric_points, 0, "metrics have no LOB");
    assert_eq!(
        narrowed.tables["otel_traces"], 9,
        "table sizes ignore filters"
    );

    let request = StatsRequest::from_query(&pairs(&[("filter", "ServiceName!=web")])).unwrap();
    let narrowed = stats(store.get(), &request).unwrap();
    assert_eq!(narrowed.totals.spans, 6);
    assert_eq!(narrowed.totals.logs, 2);
    assert_eq!(narrowed.totals.metric_points, 1);
}

#[test]
fn stats_rejects_bad_parameters() {
    let error = StatsRequest::from_query(&pairs(&[("filter", "Colour=red")])).unwrap_err();
    assert!(matches!(error, AnalyticsError::BadParameter { .. }));
    assert!(
        error.to_string().contains("unknown key \"Colour\""),
        "{error}"
    );
    let error = StatsRequest::from_query(&[("from".into(), "soon".into())]).unwrap_err();
    assert!(error.to_string().contains("`from`"), "{error}");
    let error = StatsRequest::from_query(&pairs(&[("brief", "yes")])).unwrap_err();
    assert!(error.to_string().contains("`brief`"), "{error}");
}

#[test]
fn brief_stats_skip_lists() {
    let store = TestStore::with_fixture();
    let full = stats(store.get(), &StatsRequest::from_query(&pairs(&[])).unwrap()).unwrap();
    let request = StatsRequest::from_query(&pairs(&[("brief", "true")])).unwrap();
    let brief = stats(store.get(), &request).unwrap();
    assert!(brief.brief);
    assert!(!full.brief);
    assert_eq!(
        (
            brief.totals.spans,
            brief.totals.errors,
            brief.totals.logs,
            brief.totals.traces
        ),
        (
            full.totals.spans,
            full.totals.errors,
            full.totals.logs,
            full.totals.traces
        )
    );
    assert_eq!(brief.volume, full.volume);
    assert_eq!(brief.tables, full.tables);
    assert_eq!(brief.services, full.services);
    assert!(full.totals.sessions > 0);
    assert!(!full.recent_errors.is_empty());
    assert_eq!(brief.totals.sessions, 0);
    assert!(brief.recent_errors.is_empty());
    assert!(brief.orders_by_lob.is_empty());
    assert!(brief.busiest_operators.is_empty());
}

fn span_ids(events: &exos_analytics::events::Events) -> Vec<String> {
    events
        .rows
        .iter()
        .map(|row| row["SpanId"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn events_pages_spans_newest_first() {
    let store = TestStore::with_fixture();
    let mut request = EventsRequest::from_query(&pairs(&[("limit", "3")])).unwrap();
    let first = events(store.get(), &request).unwrap();
    assert_eq!(first.source, "spans");
    assert_eq!(
        first.columns.iter().map(|c| c.name()).collect::<Vec<_>>(),
        vec![
            "Timestamp",
            "ServiceName",
            "SpanName",
            "Duration",
            "StatusCode",
            "TraceId"
        ]
    );
    assert_eq!(
        span_ids(&first),
        vec!["c000000000000001", "b000000000000002", "b000000000000001"]
    );
    assert_eq!(first.rows[0]["Duration"], json!(300.0));
    assert_eq!(first.rows[0]["Timestamp"], json!("2026-12-01 10:10:00"));
    assert_eq!(first.rows[0]["TraceId"], json!(TRACE_C));
    assert_eq!(first.histogram.len(), 60);
    assert_eq!(first.histogram[0].count, 5);

    let mut pages = vec![span_ids(&first)];
    let mut cursor = first.next_cursor.clone();
    while let Some(next) = cursor {
        request.cursor = Some(exos_analytics::events::Cursor::parse(&next).unwrap());
        let page = events(store.get(), &request).unwrap();
        pages.push(span_ids(&page));
        cursor = page.next_cursor;
    }
    assert_eq!(pages.len(), 3);
    assert_eq!(
        pages[2],
        vec!["a000000000000002", "a000000000000001"],
        "the last page holds the oldest spans"
    );
}

#[test]
fn events_cursor_handles_equal_timestamps() {
    let store = TestStore::empty();
    let spans: Vec<_> = (0..5)
        .map(|i| {
            let id = format!("{:016x}", i + 1);
            span(SpanSpec {
                id: Box::leak(id.into_boxed_str()),
                start_ns: T0 + SECOND,
                ..Default::default()
            })
        })
        .collect();
    store
        .get()
        .write(&exos_core::Batch {
            spans,
            ..Default::default()
        })
        .unwrap();
    let mut request = EventsRequest::from_query(&pairs(&[("limit", "2")])).unwrap();
    let mut seen = Vec::new();
    loop {
        let page = events(store.get(), &request).unwrap();
        seen.extend(span_ids(&page));
        let Some(next) = page.next_cursor else { break };
        request.cursor = Some(exos_analytics::events::Cursor::parse(&next).unwrap());
    }
    let expected: Vec<String> = (1..=5).rev().map(|i| format!("{i:016x}")).collect();
    assert_eq!(seen, expected);
}

/// Paging through every match of a search, with shared times and cursors inside
/// histogram buckets, gives each match once, newest first.
#[test]
fn events_search_pages_every_match() {
    use rand::{Rng, SeedableRng};
    let store = TestStore::empty();
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let mut expected = Vec::new();
    let mut spans = Vec::new();
    for i in 0..600 {
        let id = format!("{i:016x}");
        // Times fall on 120 half-minute marks, so several spans share a time.
        let start_ns = T0 + rng.gen_range(0..120) * 30 * SECOND;
        let matches = rng.gen_bool(0.15) || (55..60).contains(&(i % 100));
        let note = if matches { "upstream Timeout" } else { "fine" };
        if matches {
            expected.push((start_ns, id.clone()));
        }
        spans.push(span(SpanSpec {
            id: Box::leak(id.into_boxed_str()),
            start_ns,
            attributes: &[("note", note)],
            ..Default::default()
        }));
    }
    store
        .get()
        .write(&exos_core::Batch {
            spans,
            ..Default::default()
        })
        .unwrap();
    expected.sort_by(|a, b| (b.0, &b.1).cmp(&(a.0, &a.1)));
    let expected: Vec<String> = expected.into_iter().map(|(_, id)| id).collect();
    // `part=rows` reads the newest part of the range first and widens it: the
    // pages must be the same as when the whole range is read at once.
    for part in [None, Some("rows")] {
        for limit in ["1", "7", "40", "200"] {
            let query = match part {
                Some(part) => pairs(&[("q", "timeout"), ("limit", limit), ("part", part)]),
                None => pairs(&[("q", "timeout"), ("limit", limit)]),
            };
            let mut request = EventsRequest::from_query(&query).unwrap();
            let mut seen = Vec::new();
            loop {
                let page = events(store.get(), &request).unwrap();
                let counted: u64 = page.histogram.iter().map(|p| p.count).sum();
                match part {
                    None => assert_eq!(counted, expected.len() as u64),
                    Some(_) => assert!(page.histogram.is_empty()),
                }
                seen.extend(span_ids(&page));
                let Some(next) = page.next_cursor else { break };
                request.cursor = Some(exos_analytics::events::Cursor::parse(&next).unwrap());
            }
            assert_eq!(seen, expected, "pages of {limit}, part {part:?}");
        }
    }
    let query = pairs(&[("q", "timeout"), ("part", "histogram")]);
    let histogram = events(store.get(), &EventsRequest::from_query(&query).unwrap()).unwrap();
    assert!(histogram.rows.is_empty());
    assert_eq!(histogram.next_cursor, None);
    let counted: u64 = histogram.histogram.iter().map(|p| p.count).sum();
    assert_eq!(counted, expected.len() as u64);
    let wrong = EventsRequest::from_query(&pairs(&[("part", "all")])).unwrap_err();
    assert!(wrong.to_string().contains("rows or histogram"), "{wrong}");
}

#[test]
fn events_search_and_columns() {
    let store = TestStore::with_fixture();
    let request = EventsRequest::from_query(&pairs(&[("q", "ord-2")])).unwrap();
    assert_eq!(
        span_ids(&events(store.get(), &request).unwrap()),
        vec!["c000000000000001"]
    );

    let request = EventsRequest::from_query(&pairs(&[
        ("q", "DOCUMENTS"),
        ("columns", "SpanName,SpanAttributes"),
    ]))
    .unwrap();
    let found = events(store.get(), &request).unwrap();
    assert_eq!(
        span_ids(&found),
        vec!["b000000000000002", "a000000000000003"]
    );
    assert_eq!(found.rows[0]["SpanAttributes"], json!({}));
    assert_eq!(found.histogram.iter().map(|p| p.count).sum::<u64>(), 2);

    let request = EventsRequest::from_query(&pairs(&[
        ("columns", "SpanAttributes"),
        ("filter", "OrderId=ORD-2"),
    ]))
    .unwrap();
    let found = events(store.get(), &request).unwrap();
    assert_eq!(found.rows[0]["SpanAttributes"]["lob"], json!("Title"));

    // One key of a map as its own column; a missing key reads as empty text.
    let request = EventsRequest::from_query(&pairs(&[
        (
            "columns",
            "SpanName,SpanAttributes.lob,SpanAttributes.no.such.key",
        ),
        ("filter", "OrderId=ORD-2"),
    ]))
    .unwrap();
    let found = events(store.get(), &request).unwrap();
    let names: Vec<String> = found.columns.iter().map(|c| c.name()).collect();
    assert_eq!(
        names,
        [
            "SpanName",
            "SpanAttributes.lob",
            "SpanAttributes.no.such.key"
        ]
    );
    assert_eq!(found.rows[0]["SpanAttributes.lob"], json!("Title"));
    assert_eq!(found.rows[0]["SpanAttributes.no.such.key"], json!(""));
}

#[test]
fn events_lists_logs() {
    let store = TestStore::with_fixture();
    let request = EventsRequest::from_query(&pairs(&[("source", "logs")])).unwrap();
    let logs = events(store.get(), &request).unwrap();
    let bodies: Vec<&str> = logs
        .rows
        .iter()
        .map(|r| r["Body"].as_str().unwrap())
        .collect();
    assert_eq!(
        bodies,
        vec!["timeout calling storage", "loading order ORD-1"]
    );
    assert_eq!(logs.rows[0]["SeverityText"], json!("ERROR"));
    assert_eq!(logs.rows[0]["SpanId"], json!("a000000000000003"));
    assert_eq!(logs.next_cursor, None);

    let request = EventsRequest::from_query(&pairs(&[
        ("source", "logs"),
        ("filter", "SeverityText=INFO"),
    ]))
    .unwrap();
    assert_eq!(events(store.get(), &request).unwrap().rows.len(), 1);
    let request =
        EventsRequest::from_query(&pairs(&[("source", "logs"), ("q", "Storage")])).unwrap();
    assert_eq!(events(store.get(), &request).unwrap().rows.len(), 1);
}

#[test]
fn filters_list_keys_from_sample() {
    let store = TestStore::with_fixture();
    let request = FiltersRequest::from_query(&pairs(&[])).unwrap();
    let FilterOptions::Keys { keys, sampled } = filters(store.get(), &request).unwrap() else {
        panic!("keys expected");
    };
    assert!(sampled);
    let count = |name: &str| keys.iter().find(|k| k.key == name).map(|k| k.count);
    assert_eq!(count("ServiceName"), Some(8));
    assert_eq!(count("OrderId"), Some(3));
    assert_eq!(count("UserId"), Some(5));
    assert_eq!(count("SpanAttributes.user.id"), Some(5));
    assert_eq!(count("SpanAttributes.order.status"), Some(2));
    assert_eq!(count("ResourceAttributes.service.name"), Some(8));
    assert_eq!(count("SeverityText"), None, "spans have no severity");
    assert!(keys.windows(2).all(|w| w[0].count >= w[1].count));
}

#[test]
fn filters_list_values() {
    let store = TestStore::with_fixture();
    let request = FiltersRequest::from_query(&pairs(&[("key", "ServiceName")])).unwrap();
    let values = serde_json::to_value(filters(store.get(), &request).unwrap()).unwrap();
    assert_eq!(
        values,
        json!({"key": "ServiceName", "sampled": false, "values": [
            {"value": "order-api", "count": 4},
            {"value": "document-service", "count": 2},
            {"value": "web", "count": 2}
        ]})
    );
    let request =
        FiltersRequest::from_query(&pairs(&[("key", "SpanAttributes.lob"), ("prefix", "Ti")]))
            .unwrap();
    let values = serde_json::to_value(filters(store.get(), &request).unwrap()).unwrap();
    assert_eq!(
        values,
        json!({"key": "SpanAttributes.lob", "sampled": true, "values": [{"value": "Title", "count": 1}]})
    );
    let request =
        FiltersRequest::from_query(&pairs(&[("source", "logs"), ("key", "SeverityText")])).unwrap();
    let values = serde_json::to_value(filters(store.get(), &request).unwrap()).unwrap();
    assert_eq!(
        values["values"],
        json!([{"value": "ERROR", "count": 1}, {"value": "INFO", "count": 1}])
    );
    let request = FiltersRequest::from_query(&pairs(&[("key", "OrderId")])).unwrap();
    let values = serde_json::to_value(filters(store.get(), &request).unwrap()).unwrap();
    assert_eq!(
        values,
        json!({"key": "OrderId", "sampled": true, "values": [
            {"value": "ORD-1", "count": 2},
            {"value": "ORD-2", "count": 1}
        ]})
    );

    let error = FiltersRequest::from_query(&pairs(&[("key", "Nope")])).unwrap_err();
    assert!(
        error.to_string().starts_with("invalid parameter `key`"),
        "{error}"
    );
}

#[test]
fn trace_has_depths_events_and_logs() {
    let store = TestStore::with_fixture();
    let request = TraceRequest::from_query(&TRACE_A.to_uppercase(), &[]).unwrap();
    let trace = trace(store.get(), &request).unwrap();
    assert_eq!(trace.trace_id, TRACE_A);
    let shape: Vec<(&str, usize, f64)> = trace
        .spans
        .iter()
        .map(|s| (s.span_id.as_str(), s.depth, s.start_offset_ms))
        .collect();
    assert_eq!(
        shape,
        vec![
            ("a000000000000001", 0, 0.0),
            ("a000000000000002", 1, 10.0),
            ("a000000000000003", 2, 20.0)
        ]
    );
    let failing = &trace.spans[2];
    assert_eq!(failing.duration, 30.0);
    assert_eq!(failing.service_name, "document-service");
    assert_eq!(failing.events.len(), 1);
    assert_eq!(failing.events[0].name, "exception");
    assert_eq!(failing.events[0].time, "2026-12-01 10:00:00.021");
    assert_eq!(
        failing.events[0].attributes["exception.type"],
        "TimeoutError"
    );
    assert_eq!(trace.spans[0].span_attributes["order.id"], "ORD-1");
    assert_eq!(
        trace.spans[0].resource_attributes["service.name"],
        "order-api"
    );
    let logs: Vec<(&str, &str)> = trace
        .logs
        .iter()
        .map(|l| (l.severity_text.as_str(), l.span_id.as_str()))
        .collect();
    assert_eq!(
        logs,
        vec![("INFO", "a000000000000001"), ("ERROR", "a000000000000003")]
    );
    assert_eq!(trace.logs[0].timestamp, "2026-12-01 10:00:00.005");
    assert!(!trace.truncated);
}

#[test]
fn trace_not_found_and_bad_id() {
    let store = TestStore::with_fixture();
    let request = TraceRequest::from_query("0123456789abcdef0123456789abcdef", &[]).unwrap();
    assert!(matches!(
        trace(store.get(), &request),
        Err(AnalyticsError::NotFound(_))
    ));
    let request = TraceRequest::from_query(TRACE_OLD, &pairs(&[])).unwrap();
    assert!(
        matches!(
            trace(store.get(), &request),
            Err(AnalyticsError::NotFound(_))
        ),
        "the old trace is outside the given range"
    );
    assert!(TraceRequest::from_query("abc' OR 1=1", &[]).is_err());
}

#[test]
fn schema_lists_relations_and_map_keys() {
    let store = TestStore::with_fixture();
    let schema = schema(store.get()).unwrap();
    let expected_dialect = if on_clickhouse() {
        "clickhouse"
    } else {
        "duckdb"
    };
    assert_eq!(schema.dialect, expected_dialect);
    let traces = schema
        .tables
        .iter()
        .find(|t| t.name == "otel_traces")
        .unwrap();
    assert_eq!(traces.kind, "table");
    assert!(traces.columns.iter().any(|c| c.name == "OrderId"));
    assert!(traces.columns.iter().any(|c| c.name == "Events.Attributes"));
    let span_keys = &traces.map_keys["SpanAttributes"];
    assert_eq!(span_keys[0], "user.id", "the most frequent key comes first");
    assert!(span_keys.contains(&"order.status".to_string()));
    assert_eq!(traces.map_keys["ResourceAttributes"], vec!["service.name"]);
    let sessions = schema
        .tables
        .iter()
        .find(|t| t.name == "hyperdx_sessions")
        .unwrap();
    assert_eq!(
        sessions.map_keys["LogAttributes"],
        vec!["rr-web.event", "rum.session_id"]
    );
    let view = schema.tables.iter().find(|t| t.name == "errors").unwrap();
    assert_eq!(view.kind, "view");
    assert!(view.columns.iter().any(|c| c.name == "ExceptionType"));
    assert!(!schema.tables.iter().any(|t| t.name == "exos_credentials"));
}

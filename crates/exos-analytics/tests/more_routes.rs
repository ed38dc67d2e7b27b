//! Errors, services, visitor and visualize against a real store holding the fixture.
//!
//! Runs on DuckDB, or on ClickHouse with `EXOS_TEST_STORE=clickhouse`, with the
//! same expectations.

mod common;

use common::*;
use exos_analytics::errors::ErrorGroupRequest;
use exos_analytics::visualize::{Chart, ChartKind};
use exos_analytics::*;
use exos_store::StoreError;
use serde_json::json;

#[test]
fn errors_group_by_fingerprint() {
    let store = TestStore::with_fixture();
    let request = ErrorsRequest::from_query(&pairs(&[])).unwrap();
    let groups = errors(store.get(), &request).unwrap().groups;
    assert_eq!(groups.len(), 2);

    let timeout = &groups[0];
    assert_eq!(timeout.fingerprint, TIMEOUT_FINGERPRINT);
    assert_eq!(timeout.kind, "TimeoutError");
    assert_eq!(timeout.message, "timed out after <n> ms");
    assert_eq!(timeout.top_frame, "at fetchOrder (app.js:10:5)");
    assert_eq!(timeout.services, vec!["document-service"]);
    assert_eq!(timeout.count, 2);
    // The error spans carry no user, but their traces do: alice, her session and
    // ORD-1 in trace A, and alice and ORD-1 again in trace B's root.
    assert_eq!((timeout.users, timeout.sessions, timeout.orders), (1, 1, 1));
    assert_eq!(timeout.first_seen, "2026-12-01 10:00:00.02");
    assert_eq!(timeout.last_seen, "2026-12-01 10:05:00.005");
    assert_eq!(timeout.sample_trace_id, TRACE_B);
    assert_eq!(timeout.series.len(), 60);
    assert_eq!(timeout.series[0].count, 1);
    assert_eq!(timeout.series[5].count, 1);
    assert_eq!(timeout.series.iter().map(|p| p.count).sum::<u64>(), 2);

    let value = &groups[1];
    assert_eq!(value.fingerprint, VALUE_FINGERPRINT);
    assert_eq!(value.message, "invalid order <str> id <n>");
    assert_eq!(value.top_frame, "File \"app.py\", line 10, in handler");
    assert_eq!(value.services, vec!["order-api"]);
    assert_eq!(
        (value.count, value.users, value.sessions, value.orders),
        (1, 1, 1, 1)
    );

    // Too many (group, bucket) rows for one query: the listed groups' series are asked again.
    let listed = exos_analytics::errors::errors_from(
        store.get(),
        &request,
        exos_analytics::rollups::Read::Rollups,
        0,
    )
    .unwrap();
    assert_eq!(listed.groups, groups);
}

#[test]
fn errors_follow_filters_and_range() {
    let store = TestStore::with_fixture();
    let request =
        ErrorsRequest::from_query(&pairs(&[("filter", "ServiceName=order-api")])).unwrap();
    let groups = errors(store.get(), &request).unwrap().groups;
    let fingerprints: Vec<&str> = groups.iter().map(|g| g.fingerprint.as_str()).collect();
    assert_eq!(fingerprints, vec![VALUE_FINGERPRINT]);

    let earlier = vec![
        ("from".to_string(), "2026-12-01T09:00:00Z".to_string()),
        ("to".to_string(), "2026-12-01T11:00:00Z".to_string()),
    ];
    let request = ErrorsRequest::from_query(&earlier).unwrap();
    let groups = errors(store.get(), &request).unwrap().groups;
    assert_eq!(groups[0].count, 3, "the span before 10:00 joins its group");
    assert_eq!(groups[0].services, vec!["document-service", "order-api"]);
}

#[test]
fn error_group_lists_occurrences() {
    let store = TestStore::with_fixture();
    let request = ErrorGroupRequest::from_query(TIMEOUT_FINGERPRINT, &pairs(&[])).unwrap();
    let detail = error_group(store.get(), &request).unwrap();
    assert_eq!(detail.group.count, 2);
    assert_eq!(detail.group.series[5].count, 1);
    let occurrences: Vec<(&str, &str, &str)> = detail
        .occurrences
        .iter()
        .map(|o| (o.trace_id.as_str(), o.span_id.as_str(), o.message.as_str()))
        .collect();
    assert_eq!(
        occurrences,
        vec![
            (TRACE_B, "b000000000000002", "timed out after 5000 ms"),
            (TRACE_A, "a000000000000003", "timed out after 3000 ms"),
        ]
    );
    assert_eq!(detail.occurrences[0].stacktrace, TIMEOUT_STACK);
    assert_eq!(detail.occurrences[0].time, "2026-12-01 10:05:00.005");
    let body = serde_json::to_value(&detail).unwrap();
    assert_eq!(
        body["fingerprint"],
        json!(TIMEOUT_FINGERPRINT),
        "group fields are flattened"
    );
    assert_eq!(body["occurrences"][1]["service"], json!("document-service"));
}

#[test]
fn error_group_not_found_and_bad_fingerprint() {
    let store = TestStore::with_fixture();
    let request = ErrorGroupRequest::from_query("0000000000000000", &pairs(&[])).unwrap();
    assert!(matches!(
        error_group(store.get(), &request),
        Err(AnalyticsError::NotFound(_))
    ));
    let error = ErrorGroupRequest::from_query("x' OR 1=1", &[]).unwrap_err();
    assert!(error.to_string().contains("16 hex digits"), "{error}");
}

#[test]
fn services_red_histogram_and_endpoints() {
    let store = TestStore::with_fixture();
    let request = ServicesRequest::from_query(&pairs(&[])).unwrap();
    let answer = services(store.get(), &request).unwrap();
    assert_eq!(answer.range.bucket_s, 60);
    let red: Vec<(&str, u64, u64)> = answer
        .services
        .iter()
        .map(|s| (s.service.as_str(), s.spans, s.errors))
        .collect();
    assert_eq!(
        red,
        vec![
            ("order-api", 4, 1),
            ("document-service", 2, 2),
            ("web", 2, 0)
        ]
    );
    let order_api = &answer.services[0];
    assert_eq!(order_api.p99_ms, 300.0);
    assert_eq!(order_api.series[0].rate_per_s, 2.0 / 60.0);
    assert_eq!(order_api.series[10].errors, 1);
    assert_eq!(answer.services[2].p50_ms, expected_quantile(&[5, 800], 0.5));
    assert!((answer.services[2].p50_ms - 5.0).abs() / 5.0 < 0.091);

    let histogram: Vec<u64> = answer.histogram.iter().map(|b| b.count).collect();
    assert_eq!(histogram, vec![0, 0, 1, 0, 0, 3, 1, 1, 1, 1, 0, 0, 0, 0]);
    assert_eq!(answer.histogram[2].le_ms, Some(5.0));

    let endpoints = serde_json::to_value(&answer.endpoints).unwrap();
    assert_eq!(
        endpoints,
        json!([
            {"service": "document-service", "name": "GET /documents", "count": 2, "errors": 2,
             "p50_ms": expected_quantile(&[30, 40], 0.5), "p95_ms": expected_quantile(&[30, 40], 0.95)},
            {"service": "order-api", "name": "GET /orders/{id}", "count": 2, "errors": 1,
             "p50_ms": expected_quantile(&[100, 300], 0.5), "p95_ms": 300.0},
            {"service": "order-api", "name": "POST /orders/{id}/close", "count": 1, "errors": 0,
             "p50_ms": 200.0, "p95_ms": 200.0}
        ])
    );
}

#[test]
fn services_map_joins_client_and_server() {
    let store = TestStore::with_fixture();
    let request = ServicesRequest::from_query(&pairs(&[])).unwrap();
    let answer = services(store.get(), &request).unwrap();
    assert_eq!(
        serde_json::to_value(&answer.edges).unwrap(),
        json!([{"source": "order-api", "target": "document-service", "calls": 1, "errors": 1, "p95_ms": 30.0}]),
        "b1 -> b2 is server to server, not a client call"
    );

    let request = ServicesRequest::from_query(&pairs(&[("service", "web")])).unwrap();
    let answer = services(store.get(), &request).unwrap();
    assert_eq!(answer.services.len(), 1);
    assert_eq!(answer.services[0].service, "web");
    assert!(answer.endpoints.is_empty());
    assert!(answer.edges.is_empty());
}

#[test]
fn visitor_user_profile() {
    let store = TestStore::with_fixture();
    let request = VisitorRequest::from_query(&pairs(&[("user", "alice@example.com")])).unwrap();
    let profile = visitor(store.get(), &request).unwrap();
    assert_eq!(
        (profile.kind, profile.id.as_str()),
        ("user", "alice@example.com")
    );
    assert_eq!(
        serde_json::to_value(&profile.summary).unwrap(),
        json!({"first_seen": "2026-12-01 10:00:00", "last_seen": "2026-12-01 10:05:00",
               "sessions": 1, "events": 5, "errors": 0, "orders": 1})
    );
    assert_eq!(
        serde_json::to_value(&profile.sessions).unwrap(),
        json!([{"session_id": SESSION_1, "start": "2026-12-01 10:00:00", "end": "2026-12-01 10:00:02",
                "page_views": 1, "actions": 1, "errors": 0, "has_replay": true}])
    );
    let timeline: Vec<(&str, &str, &str)> = profile
        .timeline
        .iter()
        .map(|e| (e.kind, e.name.as_str(), e.detail.as_str()))
        .collect();
    assert_eq!(
        timeline,
        vec![
            ("span", "POST /orders/{id}/close", "order-api"),
            ("action", "click", "BUTTON"),
            (
                "page_view",
                "documentLoad",
                "https://shop.test/orders/ORD-1"
            ),
            ("log", "INFO", "loading order ORD-1"),
            ("span", "GET /orders/{id}", "order-api"),
        ]
    );
    assert_eq!(profile.timeline[0].order_id, "ORD-1");
    assert_eq!(profile.timeline[0].trace_id, TRACE_B);
    assert_eq!(
        serde_json::to_value(&profile.orders).unwrap(),
        json!([{"order_id": "ORD-1", "first_seen": "2026-12-01 10:00:00",
                "last_seen": "2026-12-01 10:05:00", "spans": 2}])
    );
}

#[test]
fn visitor_session_profile() {
    let store = TestStore::with_fixture();
    let request = VisitorRequest::from_query(&pairs(&[("session", SESSION_2)])).unwrap();
    let profile = visitor(store.get(), &request).unwrap();
    assert_eq!(profile.kind, "session");
    assert_eq!(profile.summary.errors, 1);
    assert_eq!(profile.summary.events, 1);
    assert!(!profile.sessions[0].has_replay);
    assert_eq!(profile.timeline.len(), 1);
    assert!(!profile.timeline_cut);
    assert_eq!(profile.timeline[0].kind, "error");
    assert_eq!(profile.timeline[0].detail, "invalid order 'ORD-2' id 42");

    let request = VisitorRequest::from_query(&pairs(&[("user", "nobody' OR '1'='1")])).unwrap();
    let profile = visitor(store.get(), &request).unwrap();
    assert_eq!(profile.summary.events, 0);
    assert_eq!(profile.summary.first_seen, None);
    assert!(profile.timeline.is_empty());
}

/// A visitor with more timeline spans than the timeline shows: spans with an order,
/// which plain columns classify, between user actions and page views known only from
/// attributes, internal spans left out, and pairs of spans at one time.
#[test]
fn visitor_timeline_of_busy_visitor() {
    let store = TestStore::empty();
    let user = "busy@example.com";
    let mut expected = Vec::new();
    let mut spans = Vec::new();
    let mut orders = std::collections::BTreeSet::new();
    for i in 0..1_200_i64 {
        let id = format!("{i:016x}");
        let order = format!("ORD-{}", i % 290);
        let start_ns = T0 + (i / 2) * 2 * SECOND;
        let (name, kind, attributes): (&str, &str, Vec<(&str, &str)>) = match i % 4 {
            0 | 3 if i % 8 != 3 => ("GET /orders/{id}", "span", vec![("order.id", &order)]),
            1 => (
                "click",
                "action",
                vec![("event_type", "click"), ("target_element", "BUTTON")],
            ),
            3 => ("page", "page_view", vec![("event.name", "page_view")]),
            _ => ("internal", "", vec![]),
        };
        if kind == "span" {
            orders.insert(order.clone());
        }
        let mut attributes = attributes;
        attributes.push(("user.id", user));
        spans.push(span(SpanSpec {
            id: &id,
            name,
            start_ns,
            attributes: &attributes,
            ..SpanSpec::default()
        }));
        if !kind.is_empty() {
            expected.push((start_ns, id, kind, name.to_string()));
        }
    }
    store
        .get()
        .write(&exos_core::Batch {
            spans,
            ..exos_core::Batch::default()
        })
        .unwrap();
    expected.sort_by(|a, b| (b.0, &b.1).cmp(&(a.0, &a.1)));
    expected.truncate(visitor::MAX_TIMELINE);
    // The timeline orders spans at one time by kind, then name.
    expected.sort_by(|a, b| b.0.cmp(&a.0).then(a.2.cmp(b.2)).then(a.3.cmp(&b.3)));

    let request = VisitorRequest::from_query(&pairs(&[("user", user)])).unwrap();
    let profile = visitor(store.get(), &request).unwrap();
    let timeline: Vec<(&str, &str)> = profile
        .timeline
        .iter()
        .map(|e| (e.kind, e.name.as_str()))
        .collect();
    let expected: Vec<(&str, &str)> = expected
        .iter()
        .map(|(_, _, kind, name)| (*kind, name.as_str()))
        .collect();
    assert_eq!(timeline, expected);
    assert_eq!(profile.summary.events, 1_200);
    assert_eq!(profile.summary.orders, orders.len() as u64);
    assert_eq!(profile.orders.len(), visitor::MAX_ORDERS);
}

#[test]
fn visitor_needs_one_id() {
    let error = VisitorRequest::from_query(&pairs(&[])).unwrap_err();
    assert!(error.to_string().contains("user=<user id>"), "{error}");
    let both = pairs(&[("user", "a"), ("session", "b")]);
    assert!(VisitorRequest::from_query(&both).is_err());
}

#[test]
fn visualize_runs_guarded_sql() {
    let store = TestStore::with_fixture();
    let request = VisualizeRequest {
        sql: "SELECT ServiceName, count(*) AS n FROM otel_traces GROUP BY ServiceName ORDER BY n DESC, ServiceName".into(),
        chart: Chart {
            kind: ChartKind::Bar,
            x: "ServiceName".into(),
            y: vec!["n".into()],
            series: None,
        },
    };
    let chart = visualize(store.get(), &request).unwrap();
    assert_eq!(chart.labels, vec!["order-api", "document-service", "web"]);
    assert_eq!(
        chart.datasets[0].data,
        vec![Some(5.0), Some(2.0), Some(2.0)]
    );

    let rejected = VisualizeRequest {
        sql: "DROP TABLE otel_traces".into(),
        ..request
    };
    assert!(matches!(
        visualize(store.get(), &rejected),
        Err(AnalyticsError::Store(StoreError::Rejected(_)))
    ));
}

/// A user with exactly the timeline's limit of entries is not cut; one more is.
#[test]
fn visitor_timeline_cut_only_past_the_limit() {
    let store = TestStore::empty();
    let write = |from: usize, to: usize| {
        let spans = (from..to)
            .map(|index| {
                let id = format!("{index:016x}");
                span(SpanSpec {
                    id: Box::leak(id.into_boxed_str()),
                    start_ns: T0 + index as i64 * SECOND,
                    attributes: &[("user.id", "limit@example.com"), ("order.id", "ORD-9")],
                    ..Default::default()
                })
            })
            .collect();
        store.write_spans(spans);
    };
    let profile = || {
        let request = VisitorRequest::from_query(&pairs(&[("user", "limit@example.com")])).unwrap();
        visitor(store.get(), &request).unwrap()
    };
    write(0, visitor::MAX_TIMELINE);
    let exact = profile();
    assert_eq!(exact.timeline.len(), visitor::MAX_TIMELINE);
    assert!(!exact.timeline_cut);
    write(visitor::MAX_TIMELINE, visitor::MAX_TIMELINE + 1);
    let over = profile();
    assert_eq!(over.timeline.len(), visitor::MAX_TIMELINE);
    assert!(over.timeline_cut);
}

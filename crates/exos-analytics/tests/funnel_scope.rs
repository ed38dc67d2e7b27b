//! Funnels and retention with saved actions, filter-bar filters and cohorts, the
//! one-pass breakdown, and the time limit of the DuckDB stream, against a real store.
//!
//! Runs on DuckDB, or on ClickHouse with `EXOS_TEST_STORE=clickhouse`; every
//! expected count is worked out by hand from the fixture below.

mod common;

use std::time::Duration;

use common::*;
use exos_analytics::funnels::source::{for_each_actor_within, SpanScope};
use exos_analytics::funnels::{funnel, retention, FunnelRequest, RetentionRequest};
use exos_analytics::{AnalyticsError, Library};
use exos_core::Batch;
use exos_store::{SavedItem, StoreError};
use serde_json::{json, Value};

const RECEIVED: &str = "Order Received";
const REVIEW: &str = "Review Documents";
const APPROVE: &str = "Approve";

/// One span of an order: (span name, lob, channel).
type Step = (&'static str, &'static str, &'static str);

/// Orders and their steps, one minute apart, as (step, lob, channel):
///
/// - O1: Received, Review, Approve, all LOB A on the web.
/// - O2: Received, Review (LOB A, web).
/// - O3: Received, Approve (LOB B, phone).
/// - O4: Received (phone), Review (web), Approve (phone), all LOB B.
/// - O5: Received in LOB A, Review and Approve in LOB B, on the web.
fn fixture() -> Batch {
    let orders: [(&str, &[Step]); 5] = [
        (
            "O1",
            &[
                (RECEIVED, "A", "web"),
                (REVIEW, "A", "web"),
                (APPROVE, "A", "web"),
            ],
        ),
        ("O2", &[(RECEIVED, "A", "web"), (REVIEW, "A", "web")]),
        ("O3", &[(RECEIVED, "B", "phone"), (APPROVE, "B", "phone")]),
        (
            "O4",
            &[
                (RECEIVED, "B", "phone"),
                (REVIEW, "B", "web"),
                (APPROVE, "B", "phone"),
            ],
        ),
        (
            "O5",
            &[
                (RECEIVED, "A", "web"),
                (REVIEW, "B", "web"),
                (APPROVE, "B", "web"),
            ],
        ),
    ];
    let mut spans = Vec::new();
    for (order, steps) in orders {
        for (index, (name, lob, channel)) in steps.iter().enumerate() {
            let id = format!("{:016x}", spans.len() + 1);
            let attributes = [("order.id", order), ("lob", *lob), ("channel", *channel)];
            spans.push(span(SpanSpec {
                id: &id,
                name,
                start_ns: T0 + (index as i64) * 60 * SECOND,
                attributes: &attributes,
                ..Default::default()
            }));
        }
    }
    Batch {
        spans,
        ..Default::default()
    }
}

fn saved(id: &str, name: &str, kind: &str, body: Value) -> SavedItem {
    SavedItem {
        id: id.into(),
        kind: kind.into(),
        name: name.into(),
        owner: "ann".into(),
        shared: true,
        body: body.to_string(),
        created_at: 0,
        updated_at: 0,
        deleted: false,
    }
}

fn library() -> Library {
    Library::from_items(&[
        saved(
            "act-approve",
            "Approved orders",
            "action",
            json!({"event": {"span_name": APPROVE}}),
        ),
        saved(
            "act-review",
            "Reviewed",
            "action",
            json!({"event": {"span_name": REVIEW}}),
        ),
        saved(
            "c-static",
            "O1 and O3",
            "cohort",
            json!({"actor": "OrderId", "static": ["O1", "O3"]}),
        ),
        saved(
            "c-reviewed",
            "Reviewed orders",
            "cohort",
            json!({"actor": "OrderId", "dynamic": {"event": {"action": "Reviewed"}, "days": 1}}),
        ),
    ])
}

fn store() -> TestStore {
    let store = TestStore::empty();
    store.store.write(&fixture()).unwrap();
    store
}

fn request(steps: Value, extra: Value) -> FunnelRequest {
    let mut body = json!({
        "actor": "order.id",
        "steps": steps,
        "window_seconds": 86_400,
        "from": T0 / 1_000_000,
        "to": (T0 + HOUR) / 1_000_000,
    });
    for (key, value) in extra.as_object().unwrap() {
        body[key] = value.clone();
    }
    serde_json::from_value(body).unwrap()
}

fn three_steps(extra: Value) -> FunnelRequest {
    request(
        json!([{"span_name": RECEIVED}, {"span_name": REVIEW}, {"span_name": APPROVE}]),
        extra,
    )
}

/// Returns the total's actors per step.
fn counts(store: &TestStore, request: &FunnelRequest) -> Vec<u64> {
    let response = funnel(store.get(), request, &library()).unwrap();
    series_counts(&serde_json::to_value(&response.total).unwrap())
}

fn series_counts(series: &Value) -> Vec<u64> {
    series["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|step| step["actors"].as_u64().unwrap())
        .collect()
}

#[test]
fn breakdown_total_matches_the_funnel_without_breakdown() {
    let store = store();
    assert_eq!(counts(&store, &three_steps(json!({}))), [5, 4, 3]);
    let split = funnel(
        store.get(),
        &three_steps(json!({"breakdown": "lob"})),
        &library(),
    )
    .unwrap();
    let split = serde_json::to_value(&split).unwrap();
    assert_eq!(
        series_counts(&split["total"]),
        [5, 4, 3],
        "O5's spans of both LOBs join in the total"
    );
    let by_value = |value: &str| {
        let series = split["series"].as_array().unwrap();
        let found = series.iter().find(|series| series["breakdown"] == value);
        series_counts(found.unwrap())
    };
    assert_eq!(by_value("A"), [3, 2, 1], "O1, O2 and O5's Received");
    assert_eq!(by_value("B"), [2, 1, 1], "O3 and O4; O5 never entered in B");
    assert_eq!(
        split["sql"].as_array().unwrap().len(),
        if on_clickhouse() { 3 } else { 1 },
        "one pass over the spans, plus the native counts on ClickHouse: {}",
        split["sql"]
    );
}

#[test]
fn filters_narrow_the_spans_before_the_engine() {
    let store = store();
    let phone = json!({"filters": ["SpanAttributes.channel=phone"]});
    assert_eq!(counts(&store, &three_steps(phone.clone())), [2, 0, 0]);
    assert_eq!(
        counts(&store, &three_steps(json!({"filters": ["Lob=B"]}))),
        [2, 1, 1]
    );
    assert_eq!(
        counts(
            &store,
            &three_steps(json!({"filters": ["Lob!=B", "SpanAttributes.channel=web"]}))
        ),
        [3, 2, 1]
    );
    // A strict funnel never reads the spans the filter removes, so O4's web review does
    // not break its chain of phone spans.
    let strict = request(
        json!([{"span_name": RECEIVED}, {"span_name": APPROVE}]),
        json!({"kind": "strict", "filters": ["SpanAttributes.channel=phone"]}),
    );
    assert_eq!(counts(&store, &strict), [2, 2]);
    assert_eq!(
        counts(&store, &three_steps(json!({}))),
        [5, 4, 3],
        "an unfiltered funnel after a filtered one sees every span"
    );

    let bad = funnel(
        store.get(),
        &three_steps(json!({"filters": ["Colour=red"]})),
        &library(),
    )
    .unwrap_err()
    .to_string();
    assert!(bad.contains("Colour"), "{bad}");
}

#[test]
fn saved_actions_stand_for_steps_and_exclusions() {
    let store = store();
    let by_id = request(
        json!([{"span_name": RECEIVED}, {"action": "act-approve"}]),
        json!({}),
    );
    let response = funnel(store.get(), &by_id, &library()).unwrap();
    assert_eq!(response.steps, [RECEIVED, "Approved orders"]);
    assert_eq!(counts(&store, &by_id), [5, 4]);
    let by_name = request(
        json!([{"span_name": RECEIVED}, {"action": "Approved orders"}]),
        json!({}),
    );
    assert_eq!(counts(&store, &by_name), [5, 4]);

    let exclusion = |event: Value| {
        request(
            json!([{"span_name": RECEIVED}, {"span_name": APPROVE}]),
            json!({"exclusions": [{"event": event, "from_step": 1, "to_step": 2}]}),
        )
    };
    let inline = counts(&store, &exclusion(json!({"span_name": REVIEW})));
    assert_eq!(inline, [1, 1], "only O3 approves without a review");
    assert_eq!(
        counts(&store, &exclusion(json!({"action": "Reviewed"}))),
        inline
    );

    let unknown = funnel(
        store.get(),
        &request(json!([{"action": "no-such-action"}]), json!({})),
        &library(),
    )
    .unwrap_err();
    assert!(matches!(unknown, AnalyticsError::BadParameter { .. }));
    assert!(unknown.to_string().contains("no-such-action"), "{unknown}");
}

#[test]
fn cohorts_keep_their_members_only() {
    let store = store();
    assert_eq!(
        counts(&store, &three_steps(json!({"cohort": "c-static"}))),
        [2, 1, 1],
        "O1 converts, O3 stops at Received"
    );
    // The dynamic cohort reads every span, whatever the funnel's filters keep.
    assert_eq!(
        counts(&store, &three_steps(json!({"cohort": "c-reviewed"}))),
        [4, 4, 3],
        "O1, O2, O4 and O5 had a review"
    );
    assert_eq!(
        counts(
            &store,
            &three_steps(
                json!({"cohort": "c-reviewed", "filters": ["SpanAttributes.channel=phone"]})
            )
        ),
        [1, 0, 0],
        "of the reviewed orders only O4 has phone spans"
    );
    let wrong = three_steps(json!({"cohort": "act-approve"}));
    assert!(funnel(store.get(), &wrong, &library()).is_err());
}

#[test]
fn retention_reads_actions_filters_and_cohorts() {
    let store = store();
    let table = |extra: Value| {
        let mut body = json!({
            "actor": "order.id",
            "start_event": {"action": "act-approve"},
            "return_event": {"span_name": RECEIVED},
            "period": "day",
            "periods": 2,
            "from": T0 / 1_000_000,
        });
        for (key, value) in extra.as_object().unwrap() {
            body[key] = value.clone();
        }
        let request: RetentionRequest = serde_json::from_value(body).unwrap();
        let response = retention(store.get(), &request, &library()).unwrap();
        let cohort = &response.total.cohorts[0];
        (cohort.returned[0], response.total.cohorts.len())
    };
    // The first count of a cohort is its size: the actors who did the start event.
    assert_eq!(table(json!({})), (4, 1), "O1, O3, O4 and O5 approve");
    assert_eq!(table(json!({"filters": ["Lob=A"]})), (1, 1), "only O1");
    assert_eq!(table(json!({"cohort": "c-static"})), (2, 1));
}

#[test]
fn duckdb_stream_stops_at_time_limit() {
    if on_clickhouse() {
        // ClickHouse enforces the limit itself (max_execution_time, whole seconds).
        return;
    }
    let store = store();
    let query = three_steps(json!({})).query(&library()).unwrap();
    let outcome = for_each_actor_within(
        store.get(),
        &query,
        &SpanScope::default(),
        Duration::from_millis(5),
        // Slow visits make the stream outlast its limit, whatever the machine.
        |_| std::thread::sleep(Duration::from_millis(50)),
    );
    assert!(
        matches!(outcome, Err(AnalyticsError::Store(StoreError::Timeout(_)))),
        "{outcome:?}"
    );
}

//! Paths, trends, stickiness, lifecycle, actions and cohorts against a real store.
//!
//! Runs on DuckDB, or on ClickHouse with `EXOS_TEST_STORE=clickhouse`; every
//! expected number below is worked out by hand from the fixture, so both stores
//! must return the same results.

mod common;

use common::*;
use exos_analytics::definitions::{Column, EventFilter, EventRef, Library, Property};
use exos_analytics::paths::{path_actors, paths, DrillTarget, PathActorsRequest, PathsQuery};
use exos_analytics::trends::{trends, TrendsQuery};
use exos_core::Batch;
use exos_store::SavedItem;
use serde_json::json;

const DAY: i64 = 86_400 * SECOND;

/// Orders and their pages, one span a minute from T0:
/// O1 visits a b b c, O2 a b d, O3 b c, O4 a. Page ids are digits, cleaned to `:n`.
fn path_fixture() -> Batch {
    let visits: [(&str, &[&str]); 4] = [
        ("O1", &["/a/1", "/b/2", "/b/3", "/c/4"]),
        ("O2", &["/a/5", "/b/6", "/d/7"]),
        ("O3", &["/b/8", "/c/9"]),
        ("O4", &["/a/10"]),
    ];
    let mut spans = Vec::new();
    for (order, pages) in visits {
        for (index, page) in pages.iter().enumerate() {
            let id = format!("{:016x}", spans.len() + 1);
            let attributes = [("order.id", order), ("page", *page)];
            spans.push(span(SpanSpec {
                id: &id,
                name: "view",
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

fn paths_query(extra: serde_json::Value) -> PathsQuery {
    let mut query = json!({
        "actor": "OrderId",
        "time_range": {"from_ns": T0, "to_ns": T0 + HOUR},
        "event_name": {"attribute": "page"},
        "cleaning": [{"pattern": "/[0-9]+$", "replacement": ""}],
        "depth": 3,
    });
    for (key, value) in extra.as_object().unwrap() {
        query[key] = value.clone();
    }
    serde_json::from_value(query).unwrap()
}

/// A link as (source, target, actors).
type LinkRow = (String, String, u64);
/// A node as (id, actors, dropoffs).
type NodeRow = (String, u64, u64);

/// Returns the links as (source, target, actors) and nodes as (id, actors, dropoffs).
fn shape(store: &TestStore, query: &PathsQuery) -> (Vec<LinkRow>, Vec<NodeRow>, u64) {
    let response = paths(store.get(), query, &Library::default()).unwrap();
    assert!(response.sql.contains("otel_traces"));
    let links = response
        .links
        .into_iter()
        .map(|l| (l.source, l.target, l.actors))
        .collect();
    let nodes = response
        .nodes
        .into_iter()
        .map(|n| (n.id, n.actors, n.dropoffs))
        .collect();
    (links, nodes, response.actors)
}

fn triples(items: &[(&str, &str, u64)]) -> Vec<(String, String, u64)> {
    items
        .iter()
        .map(|(a, b, n)| (a.to_string(), b.to_string(), *n))
        .collect()
}

fn counts(items: &[(&str, u64, u64)]) -> Vec<(String, u64, u64)> {
    items
        .iter()
        .map(|(id, actors, dropoffs)| (id.to_string(), *actors, *dropoffs))
        .collect()
}

#[test]
fn paths_from_the_first_event() {
    let store = TestStore::empty();
    store.store.write(&path_fixture()).unwrap();
    let (links, nodes, actors) = shape(&store, &paths_query(json!({})));
    assert_eq!(actors, 4);
    assert_eq!(
        links,
        triples(&[
            ("0:/a", "1:/b", 2),
            ("0:/b", "1:/c", 1),
            ("1:/b", "2:/c", 1),
            ("1:/b", "2:/d", 1),
        ])
    );
    assert_eq!(
        nodes,
        counts(&[
            ("0:/a", 3, 1),
            ("0:/b", 1, 0),
            ("1:/b", 2, 0),
            ("1:/c", 1, 1),
            ("2:/c", 1, 1),
            ("2:/d", 1, 1),
        ])
    );
}

#[test]
fn paths_from_a_start_to_an_end() {
    let store = TestStore::empty();
    store.store.write(&path_fixture()).unwrap();
    let (links, _, actors) = shape(&store, &paths_query(json!({"start": "/b"})));
    assert_eq!(actors, 3);
    assert_eq!(links, triples(&[("0:/b", "1:/c", 2), ("0:/b", "1:/d", 1)]));

    let (links, _, actors) = shape(&store, &paths_query(json!({"end": "/c"})));
    assert_eq!(actors, 2, "O1 and O3 reach /c");
    assert_eq!(links, triples(&[("1:/b", "2:/c", 2), ("0:/a", "1:/b", 1)]));

    let (links, _, actors) = shape(&store, &paths_query(json!({"start": "/a", "end": "/c"})));
    assert_eq!(actors, 1, "only O1 goes from /a to /c");
    assert_eq!(links, triples(&[("0:/a", "1:/b", 1), ("1:/b", "2:/c", 1)]));
}

/// A span of the business steps fixture: (name, parent name, minute, attributes).
type Step<'a> = (&'a str, &'a str, i64, &'a [(&'a str, &'a str)]);

#[test]
fn business_steps_leave_out_children_and_browser_spans() {
    let store = TestStore::empty();
    // Each order: two root business spans, an HTTP child of the first, and a
    // browser click that carries the order id and a session id.
    let mut spans = Vec::new();
    for order in ["O1", "O2"] {
        let order_only = [("order.id", order)];
        let browser = [("order.id", order), ("rum.session_id", "S1")];
        let steps: [Step; 4] = [
            ("Receive", "", 0, &order_only),
            ("GET /orders", "Receive", 1, &order_only),
            ("click Save", "", 2, &browser),
            ("Approve", "", 3, &order_only),
        ];
        for (name, parent, minute, attributes) in steps {
            let id = format!("{order}-{name}");
            let parent_id = if parent.is_empty() {
                String::new()
            } else {
                format!("{order}-{parent}")
            };
            spans.push(span(SpanSpec {
                id: &id,
                parent: &parent_id,
                name,
                start_ns: T0 + minute * 60 * SECOND,
                attributes,
                ..Default::default()
            }));
        }
    }
    store
        .get()
        .write(&Batch {
            spans,
            ..Default::default()
        })
        .unwrap();
    let query = |business_steps: bool| -> PathsQuery {
        serde_json::from_value(json!({
            "actor": "OrderId",
            "time_range": {"from_ns": T0, "to_ns": T0 + HOUR},
            "business_steps": business_steps,
        }))
        .unwrap()
    };
    let business = shape(&store, &query(true)).0;
    assert_eq!(business, triples(&[("0:Receive", "1:Approve", 2)]));
    let all = shape(&store, &query(false)).0;
    assert_eq!(
        all,
        triples(&[
            ("0:Receive", "1:GET /orders", 2),
            ("1:GET /orders", "2:click Save", 2),
            ("2:click Save", "3:Approve", 2),
        ])
    );
}

#[test]
fn paths_keep_repeats_and_weights_on_request() {
    let store = TestStore::empty();
    store.store.write(&path_fixture()).unwrap();
    let query =
        paths_query(json!({"collapse_repeats": false, "start": "/b", "min_edge_weight": 2}));
    let (links, nodes, actors) = shape(&store, &query);
    assert_eq!(actors, 3);
    assert!(links.is_empty(), "no link has two actors: {links:?}");
    assert_eq!(nodes, counts(&[("0:/b", 3, 0)]), "the first column stays");
    let query = paths_query(json!({"collapse_repeats": false, "start": "/b"}));
    let (links, _, _) = shape(&store, &query);
    assert!(
        links.contains(&("0:/b".into(), "1:/b".into(), 1)),
        "{links:?}"
    );
    let excluded = paths_query(
        json!({"exclude": [{"equals": {"property": {"attribute": "page"}, "value": "/b/6"}}]}),
    );
    let (links, _, _) = shape(&store, &excluded);
    assert!(
        links.contains(&("0:/a".into(), "1:/d".into(), 1)),
        "{links:?}"
    );
}

#[test]
fn drill_lists_node_and_link_actors() {
    let store = TestStore::empty();
    store.store.write(&path_fixture()).unwrap();
    let drill = |at: DrillTarget| {
        let request = PathActorsRequest {
            query: paths_query(json!({})),
            at,
            limit: 10,
        };
        let response = path_actors(store.get(), &request, &Library::default()).unwrap();
        let ids: Vec<String> = response.actors.iter().map(|a| a.actor.clone()).collect();
        (
            ids,
            response.total,
            response.actors.first().map(|a| a.link.clone()),
        )
    };
    let node = DrillTarget {
        step: 1,
        name: "/b".into(),
        target: None,
        dropped: false,
    };
    let (ids, total, link) = drill(node.clone());
    assert_eq!((ids, total), (vec!["O1".to_string(), "O2".to_string()], 2));
    assert_eq!(link.unwrap(), "/events?filter=OrderId%3DO1");
    let edge = DrillTarget {
        target: Some("/d".into()),
        ..node
    };
    assert_eq!(drill(edge).0, vec!["O2".to_string()]);
    let dropped = DrillTarget {
        step: 0,
        name: "/a".into(),
        target: None,
        dropped: true,
    };
    assert_eq!(drill(dropped).0, vec!["O4".to_string()]);
}

fn saved(id: &str, kind: &str, body: serde_json::Value) -> SavedItem {
    SavedItem {
        id: id.into(),
        kind: kind.into(),
        name: id.into(),
        owner: "ann".into(),
        shared: true,
        body: body.to_string(),
        created_at: 0,
        updated_at: 0,
        deleted: false,
    }
}

#[test]
fn actions_and_cohorts_restrict_paths() {
    let store = TestStore::empty();
    store.store.write(&path_fixture()).unwrap();
    let library = Library::from_items(&[
        saved(
            "static",
            "cohort",
            json!({"actor": "OrderId", "static": ["O2", "O3"]}),
        ),
        saved(
            "busy",
            "cohort",
            json!({"actor": "OrderId", "dynamic": {"event": {"action": "view"}, "min_count": 3, "days": 1}}),
        ),
        saved("view", "action", json!({"event": {"span_name": "view"}})),
    ]);
    let starts = |query: PathsQuery| {
        let response = paths(store.get(), &query, &library).unwrap();
        response.actors
    };
    assert_eq!(starts(paths_query(json!({"cohort": "static"}))), 2);
    let with_d =
        json!({"actors_with": {"equals": {"property": {"attribute": "page"}, "value": "/d/7"}}});
    assert_eq!(starts(paths_query(with_d)), 1, "only O2 visited /d/7");
    assert_eq!(
        starts(paths_query(json!({"cohort": "busy"}))),
        2,
        "O1 and O2 have 3+ views"
    );
    assert_eq!(
        starts(paths_query(json!({"include": [{"action": "view"}]}))),
        4
    );
    let unknown = paths(
        store.get(),
        &paths_query(json!({"cohort": "nope"})),
        &library,
    )
    .unwrap_err();
    assert!(unknown.to_string().contains("no saved cohort"), "{unknown}");
}

/// Users and their clicks over the three UTC days from the day of T0.
/// u1 clicks on days 0, 1 and 2 (twice on day 0), u2 on days 0 and 2, u3 on day 2 only,
/// and u3 clicked once on the day before the range.
fn trend_fixture() -> Batch {
    let clicks: [(&str, i64, &str, u64); 8] = [
        ("u1", 0, "Appraisal", 10),
        ("u1", 0, "Appraisal", 30),
        ("u1", 1, "Title", 20),
        ("u1", 2, "Title", 40),
        ("u2", 0, "Title", 50),
        ("u2", 2, "Flood", 60),
        ("u3", 2, "Flood", 70),
        ("u3", -1, "Flood", 80),
    ];
    let day0 = T0.div_euclid(DAY) * DAY;
    let spans = clicks
        .iter()
        .enumerate()
        .map(|(index, (user, day, lob, ms))| {
            let id = format!("{:016x}", index + 1);
            let attributes = [("user.id", *user), ("lob", *lob)];
            span(SpanSpec {
                id: &id,
                name: "click",
                start_ns: day0 + day * DAY + (index as i64 + 1) * HOUR,
                duration_ms: *ms,
                attributes: &attributes,
                ..Default::default()
            })
        })
        .collect();
    Batch {
        spans,
        ..Default::default()
    }
}

fn trends_query(extra: serde_json::Value) -> TrendsQuery {
    let day0 = T0.div_euclid(DAY) * DAY;
    let mut query = json!({
        "actor": "UserId",
        "time_range": {"from_ns": day0, "to_ns": day0 + 3 * DAY},
        "interval": "day",
        "series": [{"event": {"span_name": "click"}}],
    });
    for (key, value) in extra.as_object().unwrap() {
        query[key] = value.clone();
    }
    serde_json::from_value(query).unwrap()
}

fn values(store: &TestStore, query: &TrendsQuery) -> Vec<(String, Vec<f64>)> {
    trends(store.get(), query, &Library::default())
        .unwrap()
        .series
        .into_iter()
        .map(|s| (s.label, s.values))
        .collect()
}

#[test]
fn trends_count_events_actors_and_properties() {
    let store = TestStore::empty();
    store.store.write(&trend_fixture()).unwrap();
    assert_eq!(
        values(&store, &trends_query(json!({}))),
        [("click".to_string(), vec![3.0, 1.0, 3.0])]
    );
    let measure = |measure: serde_json::Value| {
        let query = trends_query(
            json!({"series": [{"event": {"span_name": "click"}, "measure": measure}]}),
        );
        values(&store, &query).remove(0).1
    };
    assert_eq!(measure(json!({"kind": "unique_actors"})), [2.0, 1.0, 3.0]);
    assert_eq!(
        measure(json!({"kind": "per_actor", "stat": "avg"})),
        [1.5, 1.0, 1.0]
    );
    assert_eq!(
        measure(json!({"kind": "per_actor", "stat": "max"})),
        [2.0, 1.0, 1.0]
    );
    assert_eq!(
        measure(json!({"kind": "property", "property": "duration_ms", "stat": "sum"})),
        [90.0, 20.0, 170.0]
    );
    assert_eq!(
        measure(json!({"kind": "property", "property": "duration_ms", "stat": "p50"})),
        [30.0, 20.0, 60.0]
    );
    // Type-7 interpolation: 10, 30, 50 at 0.9 gives 30 + 0.8 * 20.
    assert_eq!(
        measure(json!({"kind": "property", "property": "duration_ms", "stat": "p90"})),
        [46.0, 20.0, 68.0]
    );
}

#[test]
fn trends_break_down_and_compare() {
    let store = TestStore::empty();
    store.store.write(&trend_fixture()).unwrap();
    let query = trends_query(json!({"breakdown": {"column": "Lob"}, "breakdown_limit": 2}));
    let lines = values(&store, &query);
    assert_eq!(
        lines,
        [
            ("click · $other".to_string(), vec![0.0, 0.0, 2.0]),
            ("click · Appraisal".to_string(), vec![2.0, 0.0, 0.0]),
            ("click · Title".to_string(), vec![1.0, 1.0, 1.0]),
        ]
    );
    let compared = trends(
        store.get(),
        &trends_query(json!({"compare": true})),
        &Library::default(),
    )
    .unwrap();
    let previous = compared.series.iter().find(|s| s.previous).unwrap();
    assert_eq!(
        previous.values,
        [0.0, 0.0, 1.0],
        "u3's click the day before the range"
    );
}

#[test]
fn filter_bar_narrows_trends() {
    let store = TestStore::empty();
    store.store.write(&trend_fixture()).unwrap();
    let filtered = |filters: serde_json::Value| {
        values(&store, &trends_query(json!({ "filters": filters })))
            .remove(0)
            .1
    };
    // Title clicks: u2 on day 0, u1 on days 1 and 2.
    assert_eq!(filtered(json!(["Lob=Title"])), [1.0, 1.0, 1.0]);
    assert_eq!(filtered(json!(["Lob!=Flood"])), [3.0, 1.0, 1.0]);
    assert_eq!(filtered(json!(["Lob=Title", "UserId=u1"])), [0.0, 1.0, 1.0]);

    let query = trends_query(json!({"filters": ["Lob"]}));
    let error = trends(store.get(), &query, &Library::default()).unwrap_err();
    assert!(error.to_string().contains("Lob"), "{error}");
}

#[test]
fn filter_bar_narrows_paths() {
    let store = TestStore::empty();
    store.store.write(&path_fixture()).unwrap();
    // Only O1's spans pass, so its own path is all that is left.
    let query = paths_query(json!({"filters": ["OrderId=O1"]}));
    let (links, nodes, actors) = shape(&store, &query);
    assert_eq!(actors, 1);
    assert_eq!(links, triples(&[("0:/a", "1:/b", 1), ("1:/b", "2:/c", 1)]));
    assert_eq!(
        nodes,
        counts(&[("0:/a", 1, 0), ("1:/b", 1, 0), ("2:/c", 1, 1)])
    );
    // A filter on the page attribute drops the /b views, so O1 goes from /a to /c.
    let query = paths_query(
        json!({"filters": ["OrderId=O1", "SpanAttributes.page!=/b/2", "SpanAttributes.page!=/b/3"]}),
    );
    let (links, _, _) = shape(&store, &query);
    assert_eq!(links, triples(&[("0:/a", "1:/c", 1)]));
}

#[test]
fn stickiness_and_lifecycle_follow_posthog() {
    let store = TestStore::empty();
    store.store.write(&trend_fixture()).unwrap();
    let sticky = trends(
        store.get(),
        &trends_query(json!({"view": "stickiness"})),
        &Library::default(),
    )
    .unwrap();
    assert_eq!(
        sticky.stickiness[0].actors,
        [1, 1, 1],
        "u3 one day, u2 two, u1 three"
    );
    let lifecycle = trends(
        store.get(),
        &trends_query(json!({"view": "lifecycle"})),
        &Library::default(),
    )
    .unwrap();
    let l = &lifecycle.lifecycle[0];
    assert_eq!(l.new, [2, 0, 0], "u1 and u2 start on day 0");
    assert_eq!(l.returning, [0, 1, 1], "u1 on day 1 and day 2");
    assert_eq!(l.resurrecting, [0, 0, 2], "u2 and u3 come back on day 2");
    assert_eq!(
        l.dormant,
        [-1, -1, 0],
        "u3 (active the day before) on day 0, u2 on day 1"
    );
}

#[test]
fn event_filters_reach_both_stores_quoted() {
    let store = TestStore::empty();
    store.store.write(&trend_fixture()).unwrap();
    let query = trends_query(
        json!({"series": [{"event": {"all": [{"span_name": "click"}, {"equals": {"property": {"column": "Lob"}, "value": "it's \\ ?"}}]}}]}),
    );
    assert_eq!(values(&store, &query)[0].1, [0.0, 0.0, 0.0]);
    let filter = EventRef::Filter(EventFilter::Equals {
        property: Property::Column(Column::Lob),
        value: "Title".into(),
    });
    let mut query = trends_query(json!({}));
    query.series[0].event = filter;
    assert_eq!(values(&store, &query)[0].1, [1.0, 1.0, 1.0]);
}

/// Random visits of 80 orders with ties in time, span ids sharing their first
/// eight characters, and repeated pages.
fn random_visits(seed: u64) -> Batch {
    use rand::{Rng, SeedableRng};
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let pages = ["a", "b", "c", "d", "e"];
    let spans = (0..1_500)
        .map(|index| {
            let order = format!("O{}", rng.gen_range(0..80));
            let page = pages[rng.gen_range(0..pages.len())];
            let id = format!("{:08x}{:08x}", rng.gen_range(0..3), index);
            let attributes = [("order.id", order.as_str()), ("page", page)];
            span(SpanSpec {
                id: &id,
                name: page,
                start_ns: T0 + rng.gen_range(0..40) * SECOND,
                attributes: &attributes,
                ..Default::default()
            })
        })
        .collect();
    Batch {
        spans,
        ..Default::default()
    }
}

#[test]
fn paths_answer_as_the_statement_does() {
    let store = TestStore::empty();
    store.get().write(&random_visits(7)).unwrap();
    let anchors = [
        json!({}),
        json!({"start": "b"}),
        json!({"end": "c"}),
        json!({"start": "b", "end": "c"}),
        json!({"start": "a", "collapse_repeats": false, "depth": 4}),
        json!({"start": "missing"}),
    ];
    for extra in anchors {
        let mut query: PathsQuery = serde_json::from_value(json!({
            "actor": "OrderId",
            "time_range": {"from_ns": T0, "to_ns": T0 + HOUR},
            "max_edges": 1000,
        }))
        .unwrap();
        let overrides: PathsQuery = {
            let mut body = serde_json::to_value(&query).unwrap();
            for (key, value) in extra.as_object().unwrap() {
                body[key] = value.clone();
            }
            serde_json::from_value(body).unwrap()
        };
        query = overrides;
        let library = Library::default();
        let response = paths(store.get(), &query, &library).unwrap();
        let groups =
            exos_analytics::paths::statement_groups(store.get(), &query, &library).unwrap();
        let expected = exos_analytics::paths::sankey(&query, &groups);
        assert_eq!(
            (response.actors, &response.nodes, &response.links),
            (expected.actors, &expected.nodes, &expected.links),
            "{extra}"
        );
        if extra != json!({"start": "missing"}) {
            assert!(response.actors > 10, "{extra}");
        }
    }
}

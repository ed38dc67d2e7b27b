//! The funnel and retention routes return the same responses on DuckDB and on a
//! real ClickHouse engine (chdb behind its HTTP harness) for the same spans.
//!
//! One server runs on the store under test (`EXOS_TEST_STORE`, DuckDB by
//! default) and one on ClickHouse. Both receive the same seeded random actor
//! histories through OTLP/HTTP JSON, with timestamp ties, repeated steps and
//! per-span attribute values. Every request is then posted to both servers and
//! the responses must be equal except for the store name, the SQL text, the
//! timing and whether ClickHouse's native `windowFunnel` produced the counts.

mod common;

use common::{basic, ChdbServer, Server};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};

/// 2026-01-05T00:00:00Z, a Monday.
const START_MS: i64 = 1_767_571_200_000;
const DAY_MS: i64 = 86_400_000;
const DAYS: i64 = 21;
const USERS: usize = 400;
const NAMES: [&str; 6] = ["view", "cart", "checkout", "buy", "help", "refund"];
const LOBS: [&str; 3] = ["Appraisal", "Title", "Flood"];
const BROWSERS: [&str; 2] = ["Chrome", "Firefox"];

fn attribute(key: &str, value: &str) -> Value {
    json!({"key": key, "value": {"stringValue": value}})
}

/// Returns seeded spans: per user 1 to 14 events on random days, minute-rounded
/// times (so some events tie), a usual LOB that sometimes changes per span.
fn random_spans(seed: u64) -> Vec<Value> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut spans = Vec::new();
    for user in 0..USERS {
        let usual_lob = LOBS[user % LOBS.len()];
        let browser = BROWSERS[rng.gen_range(0..BROWSERS.len())];
        for _ in 0..rng.gen_range(1..=14) {
            let day = rng.gen_range(0..DAYS);
            let minute = rng.gen_range(0..(24 * 60 / 4));
            let at_ns = (START_MS + day * DAY_MS + minute * 60_000) as i128 * 1_000_000;
            let lob = if rng.gen_bool(0.1) {
                LOBS[rng.gen_range(0..LOBS.len())]
            } else {
                usual_lob
            };
            let name = NAMES[rng.gen_range(0..NAMES.len())];
            spans.push(json!({
                "traceId": format!("{:032x}", rng.gen::<u128>()),
                "spanId": format!("{:016x}", rng.gen::<u64>() | 1),
                "name": name,
                "kind": 1,
                "startTimeUnixNano": at_ns.to_string(),
                "endTimeUnixNano": (at_ns + 1_000_000).to_string(),
                "attributes": [
                    attribute("user.id", &format!("user-{user:03}@example.com")),
                    attribute("lob", lob),
                    attribute("browser", browser),
                ],
            }));
        }
    }
    spans
}

fn send_spans(server: &Server, spans: &[Value]) {
    for chunk in spans.chunks(500) {
        let body = json!({"resourceSpans": [{
            "resource": {"attributes": [attribute("service.name", "shop-web")]},
            "scopeSpans": [{"scope": {"name": "funnels-test"}, "spans": chunk}],
        }]});
        let reply = server.post(
            "/v1/traces",
            "application/json",
            None,
            body.to_string().as_bytes(),
        );
        assert_eq!(reply.status, 200, "{}", reply.text());
    }
}

fn post(server: &Server, path: &str, body: &Value) -> Value {
    let response = ureq::post(&format!("{}{path}", server.http))
        .set("authorization", &basic("admin", &server.password))
        .send_json(body.clone());
    match response {
        Ok(response) => response.into_json().expect("json body"),
        Err(ureq::Error::Status(status, response)) => panic!(
            "{path} answered {status}: {}\nrequest: {body}",
            response.into_string().unwrap_or_default()
        ),
        Err(error) => panic!("{path} failed: {error}"),
    }
}

/// Drops the fields that differ by store by design.
fn comparable(mut answer: Value) -> Value {
    if let Some(object) = answer.as_object_mut() {
        for key in ["store", "sql", "elapsed_ms", "native_counts"] {
            object.remove(key);
        }
    }
    answer
}

fn funnel(steps: &[&str], extra: Value) -> Value {
    let mut body = json!({
        "actor": "user.id",
        "steps": steps.iter().map(|name| json!({"span_name": name})).collect::<Vec<_>>(),
        "window_seconds": 3 * 86_400,
        "from": START_MS,
        "to": START_MS + DAYS * DAY_MS,
        "trend_period": "week",
    });
    for (key, value) in extra.as_object().expect("extra is an object") {
        body[key] = value.clone();
    }
    body
}

fn funnel_cases() -> Vec<Value> {
    vec![
        funnel(
            &["view", "cart", "checkout", "buy"],
            json!({"breakdown": "lob"}),
        ),
        funnel(&["view", "cart", "buy"], json!({"kind": "strict"})),
        funnel(
            &["view", "cart", "buy"],
            json!({"kind": "any_order", "breakdown": "browser"}),
        ),
        funnel(
            &["view", "checkout", "buy"],
            json!({"exclusions": [{"event": {"span_name": "help"}, "from_step": 1, "to_step": 3}]}),
        ),
        funnel(
            &["view", "view", "buy"],
            json!({"modes": ["strict_deduplication", "strict_increase"], "trend_period": "day"}),
        ),
        funnel(
            &["cart", "buy"],
            json!({"modes": ["strict_once"], "window_seconds": 3600}),
        ),
        funnel(
            &["view", "cart", "buy"],
            json!({"filters": ["SpanAttributes.browser=Chrome"], "breakdown": "lob"}),
        ),
        funnel(
            &["view", "cart", "buy"],
            json!({"kind": "strict", "filters": ["Lob!=Flood"]}),
        ),
        funnel(
            &["view", "checkout"],
            json!({
                "steps": [{"span_name": "view"}, {"action": "Checked out"}, {"action": "Bought"}],
                "exclusions": [{"event": {"action": "Asked for help"}, "from_step": 1, "to_step": 3}],
                "breakdown": "browser",
            }),
        ),
    ]
}

/// Saves the actions the funnel cases name, by name, so both servers resolve them alike.
fn save_actions(server: &Server) {
    for (name, span_name) in [
        ("Checked out", "checkout"),
        ("Bought", "buy"),
        ("Asked for help", "help"),
    ] {
        let body = json!({"kind": "action", "name": name, "shared": true,
                          "body": {"event": {"span_name": span_name}}});
        post(server, "/api/workspaces", &body);
    }
}

fn retention_cases() -> Vec<Value> {
    let base = json!({
        "actor": "user.id",
        "start_event": {"span_name": "view"},
        "return_event": {"span_name": "buy"},
        "from": START_MS,
    });
    let with = |extra: Value| {
        let mut body = base.clone();
        for (key, value) in extra.as_object().expect("extra is an object") {
            body[key] = value.clone();
        }
        body
    };
    vec![
        with(json!({"period": "day", "periods": 14})),
        with(json!({"period": "week", "periods": 3, "kind": "recurring", "breakdown": "lob"})),
        with(json!({"period": "month", "periods": 2})),
        with(
            json!({"period": "day", "periods": 7, "return_event": {"action": "Bought"},
                    "filters": ["SpanAttributes.browser=Firefox"]}),
        ),
    ]
}

#[test]
fn funnels_and_retention_agree_across_stores() {
    let dir = tempfile::tempdir().unwrap();
    let chdb = ChdbServer::start(&dir.path().join("chdb"));
    let on_clickhouse = Server::start_in(
        &dir.path().join("clickhouse"),
        &["--clickhouse-url", &chdb.url],
        None,
    );
    let under_test = Server::start_in(&dir.path().join("under-test"), &[], None);
    let spans = random_spans(20_260_105);
    send_spans(&under_test, &spans);
    send_spans(&on_clickhouse, &spans);
    save_actions(&under_test);
    save_actions(&on_clickhouse);

    let clickhouse_store = post(&on_clickhouse, "/api/funnels", &funnel_cases()[0]);
    assert_eq!(clickhouse_store["store"], "clickhouse");
    assert_eq!(clickhouse_store["native_counts"], true);

    for case in funnel_cases() {
        let expected = comparable(post(&under_test, "/api/funnels", &case));
        let entered = expected["total"]["steps"][0]["actors"].as_u64().unwrap();
        assert!(entered > 50, "the case must have data: {case}");
        assert_eq!(
            comparable(post(&on_clickhouse, "/api/funnels", &case)),
            expected,
            "/api/funnels {case}"
        );
        for (path, body) in [
            (
                "/api/funnels/actors",
                json!({"funnel": case, "step": 2, "outcome": "dropped", "limit": 500}),
            ),
            (
                "/api/funnels/correlation",
                json!({"funnel": case, "properties": ["lob", "browser"], "limit": 200}),
            ),
        ] {
            assert_eq!(
                comparable(post(&on_clickhouse, path, &body)),
                comparable(post(&under_test, path, &body)),
                "{path} {body}"
            );
        }
    }
    for case in retention_cases() {
        let expected = comparable(post(&under_test, "/api/retention", &case));
        assert!(
            !expected["total"]["cohorts"].as_array().unwrap().is_empty(),
            "the case must have cohorts: {case}"
        );
        assert_eq!(
            comparable(post(&on_clickhouse, "/api/retention", &case)),
            expected,
            "/api/retention {case}"
        );
    }
}

#[test]
fn funnel_errors_name_the_field() {
    let server = Server::start(&[]);
    let reply = ureq::post(&format!("{}/api/funnels", server.http))
        .set("authorization", &basic("admin", &server.password))
        .send_json(funnel(&["view"], json!({"window_seconds": 0})));
    let Err(ureq::Error::Status(status, response)) = reply else {
        panic!("a zero window must be rejected");
    };
    assert_eq!(status, 400);
    let body: Value = response.into_json().unwrap();
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("window_seconds"), "{message}");

    let reply = ureq::post(&format!("{}/api/funnels", server.http))
        .set("authorization", &basic("admin", &server.password))
        .send_string("{\"actor\": \"customer\"}");
    let Err(ureq::Error::Status(status, response)) = reply else {
        panic!("an unknown actor must be rejected");
    };
    assert_eq!(status, 400);
    let message = response.into_string().unwrap_or_default();
    assert!(message.contains("customer"), "{message}");
    assert!(
        message.contains("order.id"),
        "the message shows an example: {message}"
    );
}

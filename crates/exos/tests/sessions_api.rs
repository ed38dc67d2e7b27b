//! `GET /api/sessions` and `GET /api/replay/{session}` as a client sees them. A bad
//! parameter gets a 400 in the API's JSON error shape, and the message names the
//! parameter, the value and the fix.

mod common;

use common::{basic, Reply, Server};
use serde_json::{json, Value};

/// Sends a GET for `path` as admin and returns the reply, whatever its status.
fn get(server: &Server, path: &str) -> Reply {
    Reply::from(
        ureq::get(&format!("{}{path}", server.http))
            .set("authorization", &basic("admin", &server.password))
            .call(),
    )
}

/// Sends a GET for `path`, checks that it gets a 400 in the JSON error shape, and returns the message.
fn rejected(server: &Server, path: &str) -> String {
    let reply = get(server, path);
    assert_eq!(reply.status, 400, "{path}: {}", reply.text());
    assert!(
        reply.content_type.starts_with("application/json"),
        "{path}: {} {}",
        reply.content_type,
        reply.text()
    );
    let body: Value = serde_json::from_slice(&reply.body).expect("a JSON error body");
    assert_eq!(body["error"]["kind"], "bad_request", "{path}: {body}");
    body["error"]["message"]
        .as_str()
        .expect("a message")
        .to_string()
}

#[test]
fn session_list_rejects_bad_parameters() {
    let server = Server::start(&[]);
    let ok = get(
        &server,
        "/api/sessions?frustrated=true&has_replay=false&limit=1000&country=de",
    );
    assert_eq!(ok.status, 200, "{}", ok.text());

    // Each case is a query and the parts its error message must contain.
    let cases: &[(&str, &[&str])] = &[
        (
            "frustrated=yes",
            &["`frustrated`", "\"yes\"", "true or false"],
        ),
        (
            "has_replay=maybe",
            &["`has_replay`", "\"maybe\"", "true or false"],
        ),
        ("bogus=1", &["`bogus`", "unknown parameter", "has_replay"]),
        ("limit=100000", &["`limit`", "\"100000\"", "1 to 1000"]),
        ("limit=-1", &["`limit`", "\"-1\"", "1 to 1000"]),
        ("limit=0", &["`limit`", "\"0\"", "1 to 1000"]),
        (
            "country=Germany",
            &["`country`", "\"Germany\"", "two-letter ISO 3166"],
        ),
        (
            "country=D1",
            &["`country`", "\"D1\"", "two-letter ISO 3166"],
        ),
        ("sort=oldest", &["`sort`", "\"oldest\"", "most_frustrated"]),
        ("browser=lynx", &["`browser`", "\"lynx\"", "chrome"]),
        ("device=watch", &["`device`", "\"watch\"", "tablet"]),
        (
            "from=yesterday",
            &["`from`", "\"yesterday\"", "milliseconds"],
        ),
        ("lob=Title&lob=Flood", &["`lob`", "more than once"]),
        ("q=a%00b", &["`q`", "NUL"]),
    ];
    for (query, wanted) in cases {
        let message = rejected(&server, &format!("/api/sessions?{query}"));
        for part in *wanted {
            assert!(message.contains(part), "{query}: {message:?} lacks {part}");
        }
    }
}

#[test]
fn replay_path_errors_are_json() {
    let server = Server::start(&[]);
    let message = rejected(&server, "/api/replay/%00%ff");
    assert!(message.contains("session"), "{message}");
    assert!(message.contains("%00%ff"), "names the value: {message}");
    assert!(message.contains("UTF-8"), "says what is wrong: {message}");

    let too_long = "a".repeat(129);
    let message = rejected(&server, &format!("/api/replay/{too_long}"));
    assert!(message.contains("session"), "{message}");

    let missing = get(&server, "/api/replay/nosuchsession");
    assert_eq!(missing.status, 404);
    let body: Value = serde_json::from_slice(&missing.body).unwrap();
    assert_eq!(body["error"]["kind"], json!("not_found"));
}

/// Sends one browser span for each of `sessions`, a minute apart from `t0`. Every
/// second span has an error status.
fn send_sessions(server: &Server, t0: i64, sessions: &[&str]) {
    let ns = |ms: i64| format!("{}", ms as i128 * 1_000_000);
    let resources: Vec<Value> = sessions
        .iter()
        .enumerate()
        .map(|(i, session)| {
            let start = t0 + i as i64 * 60_000;
            let code = if i % 2 == 1 { 2 } else { 1 };
            json!({
                "resource": {"attributes": [
                    {"key": "service.name", "value": {"stringValue": "ops-web"}},
                    {"key": "rum.sessionId", "value": {"stringValue": session}}]},
                "scopeSpans": [{"spans": [{
                    "traceId": format!("{:032x}", 0xb00 + i), "spanId": format!("{:016x}", 0xb00 + i),
                    "name": "documentLoad", "kind": 1,
                    "startTimeUnixNano": ns(start), "endTimeUnixNano": ns(start + 300),
                    "status": {"code": code}}]}]
            })
        })
        .collect();
    let body = json!({"resourceSpans": resources}).to_string();
    let reply = server.post("/v1/traces", "application/json", None, body.as_bytes());
    assert_eq!(reply.status, 200, "{}", reply.text());
}

#[test]
fn session_totals_count_unlisted_rows() {
    let server = Server::start(&[]);
    let t0: i64 = 1_780_000_000_000;
    send_sessions(&server, t0, &["total-a", "total-b", "total-c"]);
    let range = format!("from={}&to={}", t0 - 60_000, t0 + 600_000);

    let reply = get(&server, &format!("/api/sessions?{range}&limit=1"));
    assert_eq!(reply.status, 200, "{}", reply.text());
    let list: Value = serde_json::from_slice(&reply.body).unwrap();
    assert_eq!(list["sessions"].as_array().unwrap().len(), 1, "{list}");
    assert_eq!(list["sessions"][0]["session_id"], "total-c", "newest first");
    assert_eq!(
        list["sessions"][0]["active_ms"],
        Value::Null,
        "no recording, so no active time"
    );
    assert_eq!(list["totals"]["sessions"], 3, "{list}");
    assert_eq!(list["totals"]["with_replay"], 0, "{list}");
    assert_eq!(list["totals"]["frustrated"], 0, "{list}");
    assert_eq!(list["totals"]["errors"], 1, "{list}");

    // The totals follow the filters.
    let reply = get(&server, &format!("/api/sessions?{range}&q=total-b"));
    let list: Value = serde_json::from_slice(&reply.body).unwrap();
    assert_eq!(list["totals"]["sessions"], 1, "{list}");
    assert_eq!(list["totals"]["errors"], 1, "{list}");

    // No match: an empty list and zero totals.
    let reply = get(&server, &format!("/api/sessions?{range}&q=nobody"));
    let list: Value = serde_json::from_slice(&reply.body).unwrap();
    assert_eq!(list["sessions"], json!([]));
    assert_eq!(list["totals"]["sessions"], 0, "{list}");
}

//! Replay end to end: rrweb records in chunks, out of order and duplicated, become a
//! playable recording with its gaps marked, and the analysis finds the rage, dead and
//! error clicks in it.

mod common;

use std::time::{Duration, Instant};

use common::{basic, Server};
use serde_json::{json, Value};

const SESSION: &str = "c0ffee00c0ffee00c0ffee00c0ffee00";

/// A phone's Chrome, as Android sends it.
const PIXEL_AGENT: &str = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36";

fn text(key: &str, value: &str) -> Value {
    json!({"key": key, "value": {"stringValue": value}})
}

fn double(key: &str, value: f64) -> Value {
    json!({"key": key, "value": {"doubleValue": value}})
}

/// One rrweb log record: event `number`, chunk `chunk` of `total`.
fn record(time_ms: i64, number: u64, chunk: u32, total: u32, body: &str) -> Value {
    json!({
        "timeUnixNano": format!("{}", time_ms as i128 * 1_000_000 + 123),
        "body": {"stringValue": body},
        "attributes": [
            double("rr-web.offset", number as f64), double("rr-web.event", number as f64),
            double("rr-web.chunk", chunk as f64), double("rr-web.total-chunks", total as f64)
        ]
    })
}

fn click(t: i64, x: f64) -> String {
    json!({"type": 3, "timestamp": t, "data": {"source": 2, "type": 2, "id": 5, "x": x, "y": 40}})
        .to_string()
}

fn mutation(t: i64) -> String {
    json!({"type": 3, "timestamp": t, "data": {"source": 0, "adds": [], "removes": [], "texts": [], "attributes": []}}).to_string()
}

fn get(server: &Server, path: &str) -> Value {
    ureq::get(&format!("{}{path}", server.http))
        .set("authorization", &basic("admin", &server.password))
        .call()
        .unwrap_or_else(|e| panic!("{path}: {e}"))
        .into_json()
        .unwrap()
}

#[test]
fn recordings_are_reassembled_and_analysed() {
    let server = Server::start(&["--replay-quiet-ms", "200"]);
    let t0: i64 = 1_780_000_000_000;
    let snapshot = json!({"type": 2, "timestamp": t0 + 10, "data": {"node": {"type": 0, "id": 1, "childNodes": [
        {"type": 2, "id": 2, "tagName": "html", "attributes": {}, "childNodes": [
            {"type": 2, "id": 5, "tagName": "button", "attributes": {"id": "approve"}, "childNodes": [
                {"type": 3, "id": 6, "textContent": "Approve order café"}]}]}]}}})
    .to_string();
    // Split inside the two-byte "é", as the SDK's byte slicing does.
    let cut = snapshot.find('é').unwrap() + 1;
    let (head, tail) = snapshot.as_bytes().split_at(cut);
    let head = String::from_utf8_lossy(head).into_owned();
    let tail = String::from_utf8_lossy(tail).into_owned();
    let meta = json!({"type": 4, "timestamp": t0, "data": {"href": "http://ops.example/orders/1", "width": 1280, "height": 800}}).to_string();
    let records = vec![
        record(t0, 1, 1, 1, &meta),
        record(t0 + 10, 2, 2, 2, &tail),
        record(t0 + 10, 2, 1, 2, &head),
        record(t0 + 10, 2, 1, 2, &head), // a client retry
        // A rage burst: three clicks in 400 ms at one spot, then a mutation.
        record(t0 + 1_000, 3, 1, 1, &click(t0 + 1_000, 100.0)),
        record(t0 + 1_200, 4, 1, 1, &click(t0 + 1_200, 104.0)),
        record(t0 + 1_400, 5, 1, 1, &click(t0 + 1_400, 98.0)),
        record(t0 + 1_500, 6, 1, 1, &mutation(t0 + 1_500)),
        // A dead click: nothing happens for 4 s after it.
        record(t0 + 5_000, 7, 1, 1, &click(t0 + 5_000, 400.0)),
        // Event 8 is lost; event 9 arrives with one of its two chunks only.
        record(t0 + 9_500, 9, 1, 2, "{\"type\":3,"),
        record(t0 + 10_000, 10, 1, 1, &click(t0 + 10_000, 700.0)),
        record(t0 + 10_100, 11, 1, 1, &mutation(t0 + 10_100)),
        record(t0 + 14_000, 12, 1, 1, &mutation(t0 + 14_000)),
    ];
    send_replay(&server, SESSION, "load-1", records);
    // A JavaScript error 300 ms after the click at t0 + 10 s, and a page view.
    let ns = |ms: i64| format!("{}", ms as i128 * 1_000_000);
    let traces = json!({"resourceSpans": [{
        "resource": {"attributes": [text("service.name", "ops-web"), text("rum.sessionId", SESSION),
            text("geo.country.iso_code", "de"), text("user_agent.original", PIXEL_AGENT)]},
        "scopeSpans": [{"spans": [
            {"traceId": "00000000000000000000000000000a01", "spanId": "0000000000000a01", "name": "documentLoad", "kind": 1,
             "startTimeUnixNano": ns(t0), "endTimeUnixNano": ns(t0 + 300), "attributes": [text("location.href", "http://ops.example/orders/1")]},
            {"traceId": "00000000000000000000000000000a02", "spanId": "0000000000000a02", "name": "onerror", "kind": 1,
             "startTimeUnixNano": ns(t0 + 10_300), "endTimeUnixNano": ns(t0 + 10_300),
             "status": {"code": 2, "message": "TypeError: order is undefined"},
             "attributes": [text("exception.message", "order is undefined")]}
        ]}]
    }]});
    let reply = server.post(
        "/v1/traces",
        "application/json",
        None,
        traces.to_string().as_bytes(),
    );
    assert_eq!(reply.status, 200, "{}", reply.text());

    // The worker may analyse the recording before the error span arrives (the
    // session was quiet in between); it analyses again once the span is stored.
    let expected = vec![1, 1, 1, 5, 10, 2];
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let rows = server.sql(&format!(
            "SELECT RageClicks, DeadClicks, ErrorClicks, Clicks, ReplayEvents, Gaps FROM exos_replay_sessions WHERE SessionId = '{SESSION}'"
        ));
        let numbers: Option<Vec<u64>> =
            rows["rows"].as_array().and_then(|r| r.first()).map(|row| {
                row.as_array()
                    .unwrap()
                    .iter()
                    .map(|v| v.as_u64().unwrap())
                    .collect()
            });
        if numbers.as_ref() == Some(&expected) {
            break;
        }
        if Instant::now() >= deadline {
            assert_eq!(
                numbers,
                Some(expected.clone()),
                "rage, dead, error, clicks, events, gaps"
            );
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let signals = server.sql(&format!(
        "SELECT Kind, count(*) FROM exos_session_signals WHERE SessionId = '{SESSION}' GROUP BY Kind ORDER BY Kind"
    ));
    assert_eq!(
        signals["rows"],
        json!([["dead_click", 1], ["error_click", 1], ["rage_click", 1]])
    );

    let listed = get(
        &server,
        &format!("/api/sessions?from={}&to={}", t0 - 60_000, t0 + 60_000),
    );
    let session = &listed["sessions"][0];
    assert_eq!(session["session_id"], SESSION);
    assert_eq!(session["rage_clicks"], 1);
    assert_eq!(session["dead_clicks"], 1);
    assert_eq!(session["error_clicks"], 1);
    assert_eq!(session["has_replay"], true);
    assert!(session["active_ms"].as_f64().is_some(), "{session}");
    let frustrated = get(
        &server,
        &format!(
            "/api/sessions?from={}&to={}&frustrated=true",
            t0 - 60_000,
            t0 + 60_000
        ),
    );
    assert_eq!(frustrated["sessions"].as_array().unwrap().len(), 1);
    assert_eq!(
        listed["totals"],
        json!({"sessions": 1, "with_replay": 1, "frustrated": 1, "errors": 1})
    );
    assert_eq!(
        (&session["browser"], &session["device"], &session["country"]),
        (&json!("Chrome"), &json!("mobile"), &json!("DE"))
    );
    let listed_with = |filter: &str| {
        let path = format!(
            "/api/sessions?from={}&to={}&{filter}",
            t0 - 60_000,
            t0 + 60_000
        );
        get(&server, &path)["sessions"].as_array().unwrap().len()
    };
    assert_eq!(listed_with("browser=Chrome&device=mobile&country=de"), 1);
    assert_eq!(listed_with("device=desktop"), 0);
    assert_eq!(listed_with("browser=Safari"), 0);
    assert_eq!(listed_with("country=FR"), 0);

    let replay = get(&server, &format!("/api/replay/{SESSION}"));
    let events = replay["events"].as_array().unwrap();
    assert_eq!(events.len(), 10, "event 8 lost, event 9 incomplete");
    assert_eq!(events[1]["type"], 2, "the snapshot was reassembled");
    let snapshot_text = events[1].to_string();
    assert!(
        snapshot_text.contains("Approve order caf\u{FFFD}"),
        "{snapshot_text}"
    );
    assert_eq!(replay["duplicates"], 1);
    let gaps = replay["gaps"].as_array().unwrap();
    assert_eq!(gaps.len(), 2);
    assert_eq!(gaps[0]["kind"], "missing_events");
    assert_eq!(gaps[1]["kind"], "missing_chunks");
    let kinds: Vec<&str> = replay["markers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["kind"].as_str().unwrap())
        .collect();
    for kind in [
        "page_view",
        "error",
        "rage_click",
        "dead_click",
        "error_click",
    ] {
        assert!(kinds.contains(&kind), "{kind} marker in {kinds:?}");
    }
    let missing = ureq::get(&format!("{}/api/replay/nosuchsession", server.http))
        .set("authorization", &basic("admin", &server.password))
        .call();
    assert!(matches!(missing, Err(ureq::Error::Status(404, _))));
}

/// Builds a full snapshot of about 2.5 MB and cuts it as the browser SDK does: by
/// byte count, each chunk decoded leniently. The page has a password input (id 90_001) and a
/// hidden input (id 90_002) holding `secret`, after enough multi-byte text that
/// they sit in the last chunk.
fn chunked_snapshot(t: i64, secret: &str) -> Vec<String> {
    let mut children: Vec<Value> = (0..30_000)
        .map(|n| json!({"type": 2, "id": 10 + n, "tagName": "p", "attributes": {}, "childNodes": [
            {"type": 3, "id": 40_000 + n, "textContent": format!("Grüße aus Köln ✓ archived order {n}")}]}))
        .collect();
    children.push(json!({"type": 2, "id": 90_001, "tagName": "input",
        "attributes": {"type": "password", "value": ""}, "childNodes": []}));
    children.push(json!({"type": 2, "id": 90_002, "tagName": "input",
        "attributes": {"type": "hidden", "value": secret}, "childNodes": []}));
    let snapshot = json!({"type": 2, "timestamp": t, "data": {"node": {"type": 0, "id": 1, "childNodes": children}}})
        .to_string();
    snapshot
        .as_bytes()
        .chunks(1_000_000)
        .map(|bytes| String::from_utf8_lossy(bytes).into_owned())
        .collect()
}

fn typed(t: i64, id: u64, text: &str) -> String {
    json!({"type": 3, "timestamp": t, "data": {"source": 5, "id": id, "text": text, "isChecked": false}})
        .to_string()
}

fn value_set_by_script(t: i64, id: u64, value: &str) -> String {
    json!({"type": 3, "timestamp": t, "data": {"source": 0, "adds": [], "removes": [], "texts": [],
        "attributes": [{"id": id, "attributes": {"value": value}}]}})
    .to_string()
}

fn send_replay(server: &Server, session: &str, instance: &str, records: Vec<Value>) {
    let logs = json!({"resourceLogs": [{
        "resource": {"attributes": [text("service.name", "ops-web"), text("rum.sessionId", session), text("rum.scriptInstance", instance)]},
        "scopeLogs": [{"scope": {"name": "rum.rr-web"}, "logRecords": records}]
    }]});
    let reply = server.post(
        "/v1/logs",
        "application/json",
        None,
        logs.to_string().as_bytes(),
    );
    assert_eq!(reply.status, 200, "{}", reply.text());
}

fn rows_holding(server: &Server, value: &str) -> u64 {
    server
        .scalar(&format!(
            "SELECT count(*) FROM hyperdx_sessions WHERE Body LIKE '%{value}%'"
        ))
        .as_u64()
        .unwrap()
}

#[test]
fn secret_inputs_of_chunked_snapshots_are_masked() {
    let server = Server::start(&["--replay-quiet-ms", "200"]);
    let t0: i64 = 1_780_000_100_000;
    let session = "c0ffee00c0ffee00c0ffee00c0ffee01";

    // Page load one: the snapshot's chunks arrive in one request, out of order and
    // one of them twice, followed by typing into the password input.
    let chunks = chunked_snapshot(t0 + 10, "hidden-secret-one");
    let total = chunks.len() as u32;
    assert!(total >= 3, "the snapshot is cut in {total} chunks");
    let mut records: Vec<Value> = (1..=total)
        .rev()
        .map(|n| record(t0 + 10, 1, n, total, &chunks[n as usize - 1]))
        .collect();
    records.push(record(
        t0 + 10,
        1,
        total,
        total,
        &chunks[total as usize - 1],
    ));
    records.push(record(
        t0 + 2_000,
        2,
        1,
        1,
        &typed(t0 + 2_000, 90_001, "typed-secret-one"),
    ));
    send_replay(&server, session, "load-1", records);

    // Page load two: the snapshot's chunks come over three requests, the last chunk
    // first. The typing and a value set by a script arrive with the last request.
    let t1 = t0 + 60_000;
    let chunks = chunked_snapshot(t1 + 10, "hidden-secret-two");
    send_replay(
        &server,
        session,
        "load-2",
        vec![record(
            t1 + 10,
            1,
            total,
            total,
            &chunks[total as usize - 1],
        )],
    );
    let middle: Vec<Value> = (2..total)
        .map(|n| record(t1 + 10, 1, n, total, &chunks[n as usize - 1]))
        .collect();
    send_replay(&server, session, "load-2", middle);
    send_replay(
        &server,
        session,
        "load-2",
        vec![
            record(t1 + 10, 1, 1, total, &chunks[0]),
            record(t1 + 10, 1, 2, total, &chunks[1]), // a client retry
            record(
                t1 + 2_000,
                2,
                1,
                1,
                &typed(t1 + 2_000, 90_001, "typed-secret-two"),
            ),
            record(
                t1 + 3_000,
                3,
                1,
                1,
                &value_set_by_script(t1 + 3_000, 90_002, "script-secret-two"),
            ),
        ],
    );

    for secret in [
        "hidden-secret-one",
        "typed-secret-one",
        "hidden-secret-two",
        "typed-secret-two",
        "script-secret-two",
    ] {
        assert_eq!(
            rows_holding(&server, secret),
            0,
            "{secret} is stored: {}",
            server.sql(&format!("SELECT ResourceAttributes['rum.scriptInstance'], LogAttributes, length(Body) FROM hyperdx_sessions WHERE Body LIKE '%{secret}%'"))["rows"]
        );
    }
    // The snapshot of page load two was stored chunk by chunk as it came. The
    // request that completed it stored every chunk again, masked, in their place.
    // Its rows: one per chunk, the typing and the script's change.
    let stored = server.scalar(&format!(
        "SELECT count(*) FROM hyperdx_sessions WHERE RumSessionId = '{session}' \
         AND ResourceAttributes['rum.scriptInstance'] = 'load-2'"
    ));
    assert_eq!(stored.as_u64(), Some(u64::from(total) + 2));

    let replay = get(&server, &format!("/api/replay/{session}"));
    let events = replay["events"].as_array().unwrap();
    assert_eq!(events.len(), 5, "two snapshots, two inputs, one mutation");
    assert!(
        replay["gaps"].as_array().unwrap().is_empty(),
        "{}",
        replay["gaps"]
    );
    // Page load one's chunk sent twice; page load two's retry was rewritten with the rest.
    assert_eq!(replay["duplicates"], 1);
    let first_page = &events[0]["data"]["node"]["childNodes"];
    assert_eq!(first_page.as_array().unwrap().len(), 30_002);
    assert_eq!(first_page[30_001]["attributes"]["value"], "*".repeat(17));
    let second_page = &events[2]["data"]["node"]["childNodes"];
    assert_eq!(second_page.as_array().unwrap().len(), 30_002);
    assert_eq!(second_page[30_001]["attributes"]["value"], "*".repeat(17));
    assert_eq!(events[1]["data"]["text"], "*".repeat(16));
    assert_eq!(
        events[4]["data"]["attributes"][0]["attributes"]["value"],
        "*".repeat(17)
    );
}

#[test]
fn unanalysed_session_analysed_after_restart() {
    let dir = tempfile::tempdir().expect("temp dir");
    // A quiet time of ten minutes: the session is never due before the stop.
    let first = Server::start_in(dir.path(), &["--replay-quiet-ms", "600000"], None);
    let session = "c0ffee00c0ffee00c0ffee00c0ffee02";
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let t0 = now_ms - 60_000;
    send_replay(
        &first,
        session,
        "load-1",
        vec![
            record(t0, 1, 1, 1, &click(t0, 10.0)),
            record(t0 + 100, 2, 1, 1, &click(t0 + 100, 12.0)),
        ],
    );
    let credentials = (first.password.clone(), first.ingest_key.clone());
    assert!(first.stop().success());

    let second = Server::start_in(
        dir.path(),
        &["--replay-quiet-ms", "200"],
        Some((&credentials.0, &credentials.1)),
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let clicks = second.scalar(&format!(
            "SELECT count(*) FROM exos_replay_sessions WHERE SessionId = '{session}' AND Clicks = 2"
        ));
        if clicks.as_u64() == Some(1) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the session left by the first run was never analysed"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

//! Server-side scrubbing: secrets sent by clients never reach the store.

mod common;

use common::{by_store, Server};
use serde_json::json;

const SECRETS: &[&str] = &[
    "eyJhbGciOiJIUzI1NiJ9.c2VjcmV0",
    "session-cookie-value",
    "hunter2-password",
    "csrf-hidden-value",
    "4111-1111-1111-1111",
];

fn text(key: &str, value: &str) -> serde_json::Value {
    json!({"key": key, "value": {"stringValue": value}})
}

#[test]
fn secrets_are_scrubbed_before_storage() {
    let server = Server::start(&["--scrub-value", r"\b\d{4}-\d{4}-\d{4}-\d{4}\b"]);
    let now = "1780000000000000000";
    let traces = json!({"resourceSpans": [{
        "resource": {"attributes": [text("service.name", "ops-web"), text("rum.sessionId", "ab12")]},
        "scopeSpans": [{"spans": [{
            "traceId": "5b8efff798038103d269b633813fc60c", "spanId": "eee19b7ec3c1b174",
            "name": "HTTP POST", "kind": 3, "startTimeUnixNano": now, "endTimeUnixNano": now,
            "attributes": [
                text("http.request.header.authorization", "Bearer eyJhbGciOiJIUzI1NiJ9.c2VjcmV0"),
                text("http.request.header.cookie", "sid=session-cookie-value"),
                text("http.request.body", "{\"user\":\"ann\",\"password\":\"hunter2-password\"}"),
                text("note", "paid with 4111-1111-1111-1111"),
                text("order.id", "ORD-1")
            ]
        }]}]
    }]});
    let reply = server.post(
        "/v1/traces",
        "application/json",
        None,
        traces.to_string().as_bytes(),
    );
    assert_eq!(reply.status, 200, "{}", reply.text());

    let snapshot = json!({"type": 2, "timestamp": 1, "data": {"node": {"type": 0, "id": 1, "childNodes": [
        {"type": 2, "id": 2, "tagName": "input", "attributes": {"type": "hidden", "value": "csrf-hidden-value"}, "childNodes": []}
    ]}}});
    let logs = json!({"resourceLogs": [{
        "resource": {"attributes": [text("service.name", "ops-web"), text("rum.sessionId", "ab12")]},
        "scopeLogs": [{"scope": {"name": "rum.rr-web"}, "logRecords": [
            {"timeUnixNano": now, "body": {"stringValue": snapshot.to_string()},
             "attributes": [{"key": "rr-web.event", "value": {"intValue": "1"}}]},
            {"timeUnixNano": now, "body": {"stringValue": "login with password=hunter2-password"}}
        ]}]
    }]});
    let reply = server.post(
        "/v1/logs",
        "application/json",
        None,
        logs.to_string().as_bytes(),
    );
    assert_eq!(reply.status, 200, "{}", reply.text());

    let cast = by_store("CAST({} AS VARCHAR)", "toString({})");
    for (table, columns) in [
        (
            "otel_traces",
            vec!["SpanAttributes", "ResourceAttributes", "StatusMessage"],
        ),
        ("otel_logs", vec!["Body", "LogAttributes"]),
        ("hyperdx_sessions", vec!["Body", "LogAttributes"]),
    ] {
        let rows = server.scalar(&format!("SELECT count(*) FROM {table}"));
        assert!(rows.as_u64().unwrap() > 0, "{table} has the records");
        for secret in SECRETS {
            for column in &columns {
                let sql = format!(
                    "SELECT count(*) FROM {table} WHERE {} LIKE '%{secret}%'",
                    cast.replace("{}", column)
                );
                assert_eq!(
                    server.scalar(&sql).as_u64(),
                    Some(0),
                    "{secret} in {table}.{column}"
                );
            }
        }
    }
    // What is not secret is kept.
    assert_eq!(
        server
            .scalar("SELECT count(*) FROM otel_traces WHERE OrderId = 'ORD-1'")
            .as_u64(),
        Some(1)
    );
}

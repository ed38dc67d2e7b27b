//! Ingest keys, workspace items and funnel steps reject input that would save
//! something unusable: a blank key name, dashboard panels of impossible sizes,
//! an item whose kind changes, and empty `all`/`any` step lists.

mod common;

use common::{basic, Reply, Server};
use serde_json::{json, Value};

/// Sends `body` with `method` to `path` as admin and returns the reply, whatever its status.
fn send(server: &Server, method: &str, path: &str, body: Value) -> Reply {
    Reply::from(
        ureq::request(method, &format!("{}{path}", server.http))
            .set("authorization", &basic("admin", &server.password))
            .send_json(body),
    )
}

/// Checks that the reply is a 400 in the JSON error shape and returns its message.
fn rejected(reply: &Reply, what: &str) -> String {
    assert_eq!(reply.status, 400, "{what}: {}", reply.text());
    let body: Value = serde_json::from_slice(&reply.body).expect("a JSON error body");
    body["error"]["message"]
        .as_str()
        .expect("a message")
        .to_string()
}

fn dashboard(panels: Value) -> Value {
    json!({"kind": "dashboard", "name": "ops", "body": {"panels": panels}})
}

#[test]
fn blank_key_names_are_rejected() {
    let server = Server::start(&[]);
    for name in ["", "   ", "a\u{7}b"] {
        let message = rejected(
            &send(&server, "POST", "/api/keys", json!({ "name": name })),
            name,
        );
        assert!(message.contains("invalid key name"), "{message}");
    }
    let long = "k".repeat(101);
    rejected(
        &send(&server, "POST", "/api/keys", json!({ "name": long })),
        "long",
    );
    let created = send(
        &server,
        "POST",
        "/api/keys",
        json!({"name": "  checkout  "}),
    );
    assert_eq!(created.status, 201, "{}", created.text());
    let keys = send(&server, "GET", "/api/keys", Value::Null);
    let listed: Value = serde_json::from_slice(&keys.body).expect("json");
    let names: Vec<&str> = listed["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .filter_map(|key| key["name"].as_str())
        .collect();
    assert!(names.contains(&"checkout"), "{names:?}");
}

#[test]
fn dashboards_need_sane_panels_and_keep_their_kind() {
    let server = Server::start(&[]);
    for (panels, expected) in [
        (json!([{"title": "a", "w": -5, "h": 300}]), "invalid w -5"),
        (json!([{"title": "a", "w": 6, "h": 1e9}]), "invalid h"),
        (json!([{"title": "a", "w": "wide"}]), "invalid w"),
        (json!(["not a panel"]), "panel 0 is not an object"),
    ] {
        let message = rejected(
            &send(
                &server,
                "POST",
                "/api/workspaces",
                dashboard(panels.clone()),
            ),
            &panels.to_string(),
        );
        assert!(message.contains(expected), "{panels}: {message}");
    }
    let created = send(
        &server,
        "POST",
        "/api/workspaces",
        dashboard(json!([{"title": "a", "w": 12, "h": 320}, {"title": "b"}])),
    );
    assert_eq!(created.status, 201, "{}", created.text());
    let item: Value = serde_json::from_slice(&created.body).expect("json");
    let path = format!("/api/workspaces/{}", item["id"].as_str().expect("id"));
    let changed = send(
        &server,
        "PUT",
        &path,
        json!({"kind": "query", "name": "ops", "body": {"sql": "SELECT 1"}}),
    );
    let message = rejected(&changed, "kind change");
    assert!(message.contains("cannot change"), "{message}");
    let renamed = send(&server, "PUT", &path, dashboard(json!([])));
    assert_eq!(renamed.status, 200, "{}", renamed.text());
}

#[test]
fn empty_step_lists_are_rejected() {
    let server = Server::start(&[]);
    for empty in [json!({"all": []}), json!({"any": []})] {
        let body = json!({
            "actor": "order.id",
            "window_seconds": 86400,
            "from": "2026-12-01T00:00:00Z",
            "to": "2026-12-02T00:00:00Z",
            "steps": [{"span_name": "a"}, empty],
        });
        let reply = send(&server, "POST", "/api/funnels", body);
        let message = rejected(&reply, &empty.to_string());
        assert!(
            message.contains("selects no particular events"),
            "{message}"
        );
    }
}

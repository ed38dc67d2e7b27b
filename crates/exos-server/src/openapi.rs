//! `GET /api/openapi.json`: the UI/API routes as an OpenAPI 3.1 document.
//!
//! The document is built from `ROUTES`, one entry per method and path, which
//! the end-to-end tests check against the running router: every documented
//! route answers, so the list cannot drift from the code unnoticed.

use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Map, Value};

use crate::api::Caller;

/// The place of a parameter in a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum In {
    Query,
    Path,
}

/// One documented parameter.
#[derive(Debug, Clone, Copy)]
pub struct Param {
    pub name: &'static str,
    pub place: In,
    pub about: &'static str,
    pub repeated: bool,
}

const fn query(name: &'static str, about: &'static str) -> Param {
    Param {
        name,
        place: In::Query,
        about,
        repeated: false,
    }
}

const fn path(name: &'static str, about: &'static str) -> Param {
    Param {
        name,
        place: In::Path,
        about,
        repeated: false,
    }
}

/// One documented route.
#[derive(Debug, Clone, Copy)]
pub struct Route {
    pub method: &'static str,
    pub path: &'static str,
    pub summary: &'static str,
    /// `public`, `any` (any signed-in user) or `admin`.
    pub role: &'static str,
    pub params: &'static [Param],
    /// An example JSON request body, for routes that take one.
    pub body: Option<&'static str>,
}

const FROM: Param = query(
    "from",
    "Start of the range: RFC 3339 or milliseconds since the epoch (default: 24 hours ago).",
);
const TO: Param = query(
    "to",
    "End of the range: RFC 3339 or milliseconds since the epoch (default: now).",
);
const FILTER: Param = Param {
    name: "filter",
    place: In::Query,
    about: "`key=value` or `key!=value`; repeat for several. Keys: columns such as `Lob`, or `SpanAttributes.<key>`.",
    repeated: true,
};
const RANGE: &[Param] = &[FROM, TO, FILTER];

/// Every route of the UI/API port that answers JSON.
pub const ROUTES: &[Route] = &[
    Route { method: "post", path: "/api/login", summary: "Sign in; sets the session cookie and returns the CSRF token", role: "public", params: &[], body: Some(r#"{"user": "admin", "password": "…"}"#) },
    Route { method: "post", path: "/api/logout", summary: "End the current session", role: "any", params: &[], body: None },
    Route { method: "get", path: "/api/me", summary: "The signed-in user, role, CSRF token, store and OTLP addresses", role: "any", params: &[], body: None },
    Route { method: "post", path: "/api/me/password", summary: "Change the own password; ends every session of the user", role: "any", params: &[], body: Some(r#"{"current": "…", "new": "…"}"#) },
    Route { method: "get", path: "/api/users", summary: "List users", role: "admin", params: &[], body: None },
    Route { method: "post", path: "/api/users", summary: "Add a user", role: "admin", params: &[], body: Some(r#"{"name": "ann", "password": "…", "role": "viewer"}"#) },
    Route { method: "delete", path: "/api/users/{name}", summary: "Remove a user and end their sessions", role: "admin", params: &[path("name", "User name.")], body: None },
    Route { method: "get", path: "/api/keys", summary: "List ingest keys (never their secrets)", role: "admin", params: &[], body: None },
    Route { method: "post", path: "/api/keys", summary: "Create an ingest key; the answer holds the secret, once", role: "admin", params: &[], body: Some(r#"{"name": "checkout-service"}"#) },
    Route { method: "delete", path: "/api/keys/{id}", summary: "Revoke an ingest key", role: "admin", params: &[path("id", "Key id.")], body: None },
    Route { method: "post", path: "/api/sql", summary: "Run one read-only SQL query under the guard and limits", role: "any", params: &[], body: Some(r#"{"sql": "SELECT * FROM services", "max_rows": 100}"#) },
    Route { method: "get", path: "/api/tables", summary: "Tables and views user SQL may read", role: "any", params: &[], body: None },
    Route { method: "get", path: "/api/schema", summary: "Tables, columns and frequent map keys, for autocomplete", role: "any", params: &[], body: None },
    Route { method: "get", path: "/api/stats", summary: "Overview figures: totals, volume, services, orders, errors, operators", role: "any", params: &[
        FROM, TO, FILTER,
        query("brief", "`true`: only span and log totals, the volume chart and table sizes (default `false`)."),
    ], body: None },
    Route { method: "get", path: "/api/events", summary: "Spans or logs matching filters and a text search, newest first", role: "any", params: &[
        query("source", "`spans` (default) or `logs`."), FROM, TO, FILTER,
        query("q", "Text searched in names, messages, bodies and attribute values."),
        query("columns", "Comma-separated columns to return: table columns, or map keys such as `SpanAttributes.order.id` (40 at most)."),
        query("limit", "Rows per page (default 100, at most 1000)."),
        query("cursor", "The `next_cursor` of the previous page."),
    ], body: None },
    Route { method: "get", path: "/api/filters", summary: "Filter keys, or one key's values, with counts", role: "any", params: &[
        query("source", "`spans` (default) or `logs`."), FROM, TO, FILTER,
        query("key", "A key whose values to list; without it, keys are listed."),
        query("prefix", "Only values starting with this text."),
    ], body: None },
    Route { method: "get", path: "/api/errors", summary: "Errors grouped by fingerprint, with trends and affected users, sessions and orders", role: "any", params: RANGE, body: None },
    Route { method: "get", path: "/api/errors/{fingerprint}", summary: "One error group with its latest occurrences", role: "any", params: &[path("fingerprint", "Group fingerprint from /api/errors."), FROM, TO, FILTER], body: None },
    Route { method: "get", path: "/api/services", summary: "Per-service rate, errors and duration over time, endpoints, latency histogram and service map", role: "any", params: &[FROM, TO, FILTER, query("service", "Only this service.")], body: None },
    Route { method: "get", path: "/api/trace/{trace_id}", summary: "Every span and log of one trace, with depth and offsets for a waterfall", role: "any", params: &[path("trace_id", "32 hex characters.")], body: None },
    Route { method: "get", path: "/api/visitor", summary: "One user's or one session's profile and timeline", role: "any", params: &[query("user", "A user id."), query("session", "A browser session id."), FROM, TO], body: None },
    Route { method: "post", path: "/api/visualize", summary: "Run a query and shape its result for a chart", role: "any", params: &[], body: Some(r#"{"sql": "SELECT Lob, count(*) AS n FROM otel_traces GROUP BY Lob", "chart": {"type": "bar", "x": "Lob", "y": ["n"], "series": null}}"#) },
    Route { method: "post", path: "/api/funnels", summary: "A funnel of inline events or saved actions, narrowed by filter-bar filters and a cohort: per-step actors, conversion, time to convert, conversion over time and breakdown series, with the SQL that ran", role: "any", params: &[], body: Some(crate::funnels_api::FUNNEL_EXAMPLE) },
    Route { method: "post", path: "/api/funnels/actors", summary: "Actors who dropped off at or converted through a funnel step, with links to their trace, replay and visitor page", role: "any", params: &[], body: Some(crate::funnels_api::ACTORS_EXAMPLE) },
    Route { method: "post", path: "/api/funnels/correlation", summary: "Events and attribute values that make funnel conversion more or less likely: odds ratios and Fisher exact p-values", role: "any", params: &[], body: Some(crate::funnels_api::CORRELATION_EXAMPLE) },
    Route { method: "post", path: "/api/retention", summary: "A retention table with ClickHouse retention() semantics over inline events or saved actions, narrowed by filters and a cohort: cohorts, returns per period, curve and breakdown", role: "any", params: &[], body: Some(crate::funnels_api::RETENTION_EXAMPLE) },
    Route { method: "post", path: "/api/paths", summary: "Paths of consecutive events per actor as Sankey nodes and links, with the SQL that ran", role: "any", params: &[], body: Some(r#"{"actor": "OrderId", "time_range": {"from_ns": 1764547200000000000, "to_ns": 1765152000000000000}, "depth": 5, "start": "Order Received", "min_edge_weight": 2, "cleaning": [{"pattern": "[0-9]+", "replacement": ":n"}]}"#) },
    Route { method: "post", path: "/api/paths/actors", summary: "The actors on one node or link of a paths answer, with links to their pages", role: "any", params: &[], body: Some(r#"{"query": {"actor": "OrderId", "time_range": {"from_ns": 1764547200000000000, "to_ns": 1765152000000000000}}, "at": {"step": 1, "name": "Approve", "target": "Close"}, "limit": 100}"#) },
    Route { method: "post", path: "/api/trends", summary: "Events over time (counts, actors, per-actor and property statistics, breakdown, previous period), stickiness or lifecycle", role: "any", params: &[], body: Some(r#"{"actor": "UserId", "time_range": {"from_ns": 1764547200000000000, "to_ns": 1765152000000000000}, "interval": "day", "series": [{"event": {"span_name": "click"}, "measure": {"kind": "unique_actors"}}], "breakdown": {"column": "Lob"}, "compare": true}"#) },
    Route { method: "post", path: "/api/process/map", summary: "Process map of orders: directly-follows graph with counts and waits, thinned by activity and path shares, with a highlighted variant", role: "any", params: &[], body: Some(r#"{"scope": {"log": {"case": "order.id"}, "from": "2026-03-01T00:00:00Z", "to": "2026-03-15T00:00:00Z", "filters": {}}, "activity_share": 0.8, "path_share": 0.5, "highlight_variant": 0}"#) },
    Route { method: "post", path: "/api/process/variants", summary: "Variants of the orders with counts, shares and duration statistics", role: "any", params: &[], body: Some(r#"{"scope": {"filters": {"case_attributes": {"lob": ["Title"]}}}, "limit": 20}"#) },
    Route { method: "post", path: "/api/process/cases", summary: "Case-duration histogram and throughput over time", role: "any", params: &[], body: Some(r#"{"scope": {}, "bins": 30, "bucket": "day"}"#) },
    Route { method: "post", path: "/api/process/bottlenecks", summary: "Edges and activities ranked by their share of all waiting time, and steps that became slower, with the cases behind them", role: "any", params: &[], body: Some(r#"{"scope": {}, "limit": 10}"#) },
    Route { method: "post", path: "/api/process/rework", summary: "Repeated activities and loops per activity, per LOB and per operator", role: "any", params: &[], body: Some(r#"{"scope": {}, "group_by": "lob", "min_cases": 5}"#) },
    Route { method: "post", path: "/api/process/case/{id}", summary: "One order's timeline: activities with their traces, log counts and the operators' browser sessions", role: "any", params: &[path("id", "The case id, e.g. an order.id value.")], body: Some(r#"{"scope": {}}"#) },
    Route { method: "post", path: "/api/process/discovery", summary: "Inductive miner (infrequent) model of the orders as a process tree and a Petri net, in Mermaid", role: "any", params: &[], body: Some(r#"{"scope": {}, "noise_threshold": 0.2}"#) },
    Route { method: "post", path: "/api/process/conformance", summary: "Token-replay fitness and optimal alignments per variant against the discovered model, streamed as JSON lines with progress", role: "any", params: &[], body: Some(r#"{"scope": {}, "noise_threshold": 0.2, "time_budget_seconds": 10}"#) },
    Route { method: "get", path: "/api/workspaces", summary: "Saved queries, dashboards, actions and cohorts: own, shared, and all for admins", role: "any", params: &[], body: None },
    Route { method: "post", path: "/api/workspaces", summary: "Save a query, dashboard, action (`{\"event\": …}`) or cohort (`{\"actor\": …, \"static\": […]}` or `\"dynamic\"`)", role: "any", params: &[], body: Some(r#"{"kind": "query", "name": "Orders by LOB", "shared": true, "body": {"sql": "SELECT Lob, count(*) FROM otel_traces GROUP BY Lob"}}"#) },
    Route { method: "get", path: "/api/workspaces/{id}", summary: "One saved item", role: "any", params: &[path("id", "Item id.")], body: None },
    Route { method: "put", path: "/api/workspaces/{id}", summary: "Replace a saved item (owner or admin)", role: "any", params: &[path("id", "Item id.")], body: Some(r#"{"name": "Orders by LOB", "shared": false, "body": {"sql": "SELECT 1"}}"#) },
    Route { method: "delete", path: "/api/workspaces/{id}", summary: "Delete a saved item (owner or admin)", role: "any", params: &[path("id", "Item id.")], body: None },
    Route { method: "get", path: "/api/sessions", summary: "Browser sessions with activity, errors and rage, dead and error clicks", role: "any", params: &[
        query("from", "Start of the range, milliseconds since the epoch (default: 24 hours ago)."),
        query("to", "End of the range, milliseconds since the epoch (default: now)."),
        query("q", "A user, operator, session id or order id."), query("lob", "Only this line of business."),
        query("frustrated", "`true`: only sessions with a rage, dead or error click; `false`: no filter."),
        query("has_replay", "`true` or `false`."), query("did", "Only sessions with a span of this name."),
        query("browser", "`Chrome`, `Edge`, `Firefox`, `Opera` or `Safari`."),
        query("device", "`desktop`, `mobile` or `tablet`."),
        query("country", "Two-letter ISO 3166 code, such as `DE`."),
        query("sort", "`newest` (default), `longest`, `most_errors` or `most_frustrated`."), query("limit", "Rows, from 1 to 1000 (default 200); the response's `totals` count every matching session."),
    ], body: None },
    Route { method: "get", path: "/api/replay/{session}", summary: "One session's reassembled recording, gaps, and timeline of page views, clicks, errors, network, backend spans and signals", role: "any", params: &[path("session", "The session's rum.session_id.")], body: None },
    Route { method: "get", path: "/api/logs", summary: "Imported event logs with their counts, newest first", role: "any", params: &[], body: None },
    Route { method: "post", path: "/api/logs/import", summary: "Import an event log file sent as the raw request body (at most 512 MiB); returns the import report", role: "admin", params: &[
        query("file", "The file's name; its ending picks the format when `format` is absent."),
        query("name", "Name of the log in the store (letters, digits, '.', '_', '-'); the file name by default."),
        query("format", "`xes`, `csv`, `parquet`, `ocel-json`, `ocel-xml` or `ocel-sqlite`."),
        query("on_error", "`skip` (default), `repair` or `fail`."),
        query("replace", "`true` replaces a log of the same name."),
        query("case", "CSV/Parquet: case id column."), query("activity", "CSV/Parquet: activity column."),
        query("timestamp", "CSV/Parquet: timestamp column."), query("start_timestamp", "CSV/Parquet: start timestamp column."),
        query("resource", "CSV/Parquet: resource column."), query("timestamp_format", "CSV: strftime pattern of the timestamps."),
        query("timezone", "Offset of times without one: `UTC`, `+02:00`, `-0500`."), query("delimiter", "CSV field delimiter, one character."),
    ], body: None },
    Route { method: "delete", path: "/api/logs/{log}", summary: "Delete an imported log", role: "admin", params: &[path("log", "Log name.")], body: None },
    Route { method: "get", path: "/api/logs/{log}/export", summary: "Download an imported log as a file", role: "any", params: &[
        path("log", "Log name."), query("format", "`ocel-json` (default), `ocel-sqlite`, `xes` or `csv`."),
        query("type", "XES/CSV: the object type whose objects become cases."),
    ], body: None },
    Route { method: "get", path: "/api/ocpm", summary: "Object-centric mining over an imported log or business spans: per-type DFGs, lifecycles, convergence, divergence, statistics", role: "any", params: &[
        query("log", "An imported log; without it, business spans in the range are used."), FROM, TO,
        Param { name: "objects", place: In::Query, about: "Spans: attribute keys that are object types, comma-separated or repeated (default `order.id,operator.id`).", repeated: true },
        Param { name: "type", place: In::Query, about: "Only these object types; repeat for several.", repeated: true },
    ], body: None },
    Route { method: "get", path: "/api/operators", summary: "Per operator: throughput, handling and waiting time, rework rate, variants, workload over time, compared with LOB peers", role: "any", params: &[
        FROM, TO, query("lob", "Only this line of business."),
        query("sort", "`rework_rate` (default), `handling`, `waiting`, `throughput` or `cases`; worst first."),
        query("min_cases", "Operators with fewer orders are ranked last (default 5)."),
        Param { name: "operator", place: In::Query, about: "Operators whose workload series to return; repeat for several (default: the busiest eight).", repeated: true },
    ], body: None },
    Route { method: "get", path: "/api/opportunities", summary: "Automation candidates ranked by estimated hours saved: rule-like steps and repeated click sequences, with evidence", role: "any", params: &[
        FROM, TO, query("min_count", "Executions a step needs at least (default 20)."),
        query("max_cv", "Largest coefficient of variation of a step's duration (default 0.6)."),
        query("min_determinism", "Share of executions with the same predecessor or successor (default 0.8)."),
        query("min_sessions", "Browser sessions a click sequence must repeat in (default 3)."),
    ], body: None },
    Route { method: "post", path: "/api/ocpm", summary: "The same as GET /api/ocpm, with the parameters as a JSON object (used by dashboard panels)", role: "any", params: &[], body: Some(r#"{"log": "p2p", "type": ["order"]}"#) },
    Route { method: "post", path: "/api/operators", summary: "The same as GET /api/operators, with the parameters as a JSON object (used by dashboard panels)", role: "any", params: &[], body: Some(r#"{"from": "2026-12-01T00:00:00Z", "lob": "Title", "sort": "rework_rate"}"#) },
    Route { method: "post", path: "/api/opportunities", summary: "The same as GET /api/opportunities, with the parameters as a JSON object (used by dashboard panels)", role: "any", params: &[], body: Some(r#"{"from": "2026-12-01T00:00:00Z", "min_count": 50}"#) },
    Route { method: "get", path: "/api/docs", summary: "The documentation pages", role: "any", params: &[], body: None },
    Route { method: "get", path: "/api/docs/{name}", summary: "One documentation page as Markdown", role: "any", params: &[path("name", "Page name from /api/docs.")], body: None },
    Route { method: "get", path: "/api/openapi.json", summary: "This document", role: "any", params: &[], body: None },
];

fn parameter(param: &Param) -> Value {
    let schema = if param.repeated {
        json!({"type": "array", "items": {"type": "string"}})
    } else {
        json!({"type": "string"})
    };
    json!({
        "name": param.name,
        "in": if param.place == In::Path { "path" } else { "query" },
        "required": param.place == In::Path,
        "description": param.about,
        "schema": schema,
        "explode": true,
    })
}

fn operation(route: &Route) -> Value {
    let security = match route.role {
        "public" => json!([]),
        _ => json!([{"session": []}, {"basic": []}, {"token": []}]),
    };
    let mut operation = json!({
        "summary": route.summary,
        "description": format!("Role: {}. Shapes of the answers: docs/API.md.", route.role),
        "parameters": route.params.iter().map(parameter).collect::<Vec<_>>(),
        "security": security,
        "responses": {
            "200": {"description": "Success", "content": {"application/json": {"schema": {"type": "object"}}}},
            "400": {"$ref": "#/components/responses/Error"},
            "401": {"$ref": "#/components/responses/Error"},
            "403": {"$ref": "#/components/responses/Error"},
        },
    });
    if let Some(body) = route.body {
        let example: Value = serde_json::from_str(body).expect("route examples are valid JSON");
        operation["requestBody"] = json!({
            "required": true,
            "content": {"application/json": {"schema": {"type": "object"}, "example": example}},
        });
    }
    operation
}

/// Builds the OpenAPI document.
pub fn document() -> Value {
    let mut paths = Map::new();
    for route in ROUTES {
        let entry = paths
            .entry(route.path.to_string())
            .or_insert_with(|| json!({}));
        entry[route.method] = operation(route);
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "EXOS API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "The HTTP API of EXOS's web UI and API port. State-changing requests made with the session cookie need the `x-csrf-token` header.",
        },
        "paths": paths,
        "components": {
            "securitySchemes": {
                "session": {"type": "apiKey", "in": "cookie", "name": crate::session::COOKIE_NAME},
                "basic": {"type": "http", "scheme": "basic"},
                "token": {"type": "http", "scheme": "bearer"},
            },
            "responses": {
                "Error": {
                    "description": "An error with its kind and a message that names the fix",
                    "content": {"application/json": {"schema": {
                        "type": "object",
                        "properties": {"error": {"type": "object", "properties": {
                            "kind": {"type": "string"}, "message": {"type": "string"}}}},
                    }}},
                },
            },
        },
    })
}

/// Serves the document.
pub async fn serve(_caller: Caller) -> Response {
    Json(document()).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn document_lists_every_route_once() {
        let doc = document();
        let mut seen = std::collections::HashSet::new();
        for route in ROUTES {
            assert!(seen.insert((route.method, route.path)), "{route:?} twice");
            assert!(doc["paths"][route.path][route.method].is_object());
            for param in route.params.iter().filter(|p| p.place == In::Path) {
                assert!(route.path.contains(&format!("{{{}}}", param.name)));
            }
        }
    }
}

"""The views over stored telemetry, checked on rows sent through OTLP/HTTP.

Each view has one text per store (crates/exos-store/src/schema/views.rs), so the
same rows must give the same result on both.
"""

from __future__ import annotations

import json

import pytest
import requests

from otlp_payloads import new_span_id, new_trace_id, post_spans, span_request
from otel_rows import parse_timestamp_ns
from stores import ON_CLICKHOUSE

# A start time whose nanosecond digits are all non-zero.
START_NS = 1_764_892_800_123_456_789
BROWSER_TRACE_ID = "ab" * 16
SESSION = "5e55105e55105e55105e55105e55105e"
REPLAY_ONLY_SESSION = "0e1a70e1a70e1a70e1a70e1a70e1a70e"


def test_trace_view_nanos(exos):
    trace_id = new_trace_id()
    root_id, child_id = new_span_id(), new_span_id()
    request = span_request("trace-view", [root_id, child_id], trace_id=trace_id)
    root, child = request.resource_spans[0].scope_spans[0].spans
    root.name = "root"
    root.start_time_unix_nano, root.end_time_unix_nano = START_NS, START_NS + 1_000
    child.parent_span_id = root_id
    child.start_time_unix_nano, child.end_time_unix_nano = START_NS + 100, START_NS + 1_500
    response = post_spans(exos.otlp_http_url, request.SerializeToString(), {"authorization": exos.ingest_key})
    assert response.status_code == 200, response.text

    rows = exos.sql(
        "SELECT StartTime, EndTime, Duration, SpanCount, RootService, RootName FROM traces "
        f"WHERE TraceId = '{trace_id.hex()}'"
    )
    assert len(rows) == 1
    row = rows[0]
    assert (row["SpanCount"], row["RootService"], row["RootName"]) == (2, "trace-view", "root")
    assert parse_timestamp_ns(row["StartTime"]) == START_NS
    assert parse_timestamp_ns(row["EndTime"]) == START_NS + 1_500
    assert row["Duration"] == 1_500


def post_json(server, path: str, document: dict) -> None:
    response = requests.post(
        f"{server.otlp_http_url}{path}",
        data=json.dumps(document).encode(),
        headers={"content-type": "application/json", "authorization": server.ingest_key},
        timeout=30,
    )
    assert response.status_code == 200, response.text


def text_attributes(attributes: dict) -> list[dict]:
    return [{"key": key, "value": {"stringValue": value}} for key, value in attributes.items()]


def browser_span(number: int, name: str, attributes: dict) -> dict:
    start = START_NS + number * 1_000
    return {
        "traceId": BROWSER_TRACE_ID,
        "spanId": f"{number:016x}",
        "name": name,
        "kind": 1,
        "startTimeUnixNano": str(start),
        "endTimeUnixNano": str(start + 500),
        "attributes": text_attributes(attributes),
    }


def send_browser_spans(server, spans: list[dict]) -> None:
    resource = {"attributes": text_attributes({"service.name": "browser"})}
    post_json(server, "/v1/traces", {"resourceSpans": [{"resource": resource, "scopeSpans": [{"spans": spans}]}]})


def send_replay_event(server, session: str) -> None:
    resource = {"attributes": text_attributes({"service.name": "browser", "rum.sessionId": session})}
    record = {
        "timeUnixNano": str(START_NS + 500),
        "body": {"stringValue": '{"type":2,"data":{}}'},
        "attributes": [{"key": "rr-web.event", "value": {"intValue": "1"}}],
    }
    scope_logs = [{"scope": {"name": "rum.rr-web"}, "logRecords": [record]}]
    post_json(server, "/v1/logs", {"resourceLogs": [{"resource": resource, "scopeLogs": scope_logs}]})


def test_browser_views(exos):
    send_browser_spans(
        exos,
        [
            browser_span(1, "documentLoad", {"location.href": "http://app/orders", "rum.session_id": SESSION}),
            browser_span(2, "click", {"event_type": "click", "target_element": "BUTTON", "rum.session_id": SESSION}),
            browser_span(3, "routeChange", {"http.url": "http://app/orders/7", "rum.session_id": SESSION}),
            browser_span(4, "approve", {"product.event": "true", "order.id": "ORD-7"}),
            browser_span(5, "page", {"event.name": "page_view", "url.full": "http://app/home"}),
            browser_span(6, "fetch", {"rum.session_id": SESSION, "http.url": "http://api/orders"}),
        ],
    )
    send_replay_event(exos, SESSION)
    send_replay_event(exos, REPLAY_ONLY_SESSION)

    pages = exos.sql("SELECT SpanName, Url, RumSessionId FROM page_views ORDER BY Timestamp")
    assert [(row["SpanName"], row["Url"], row["RumSessionId"]) for row in pages] == [
        ("documentLoad", "http://app/orders", SESSION),
        ("routeChange", "http://app/orders/7", SESSION),
        ("page", "http://app/home", ""),
    ]
    actions = exos.sql("SELECT SpanName, ActionType, TargetElement, OrderId FROM user_actions ORDER BY Timestamp")
    assert [tuple(row.values()) for row in actions] == [
        ("click", "click", "BUTTON", ""),
        ("approve", "approve", "", "ORD-7"),
    ]

    sessions = exos.sql(
        "SELECT SessionId, StartTime, EndTime, SpanCount, PageViews, Actions, Errors, ReplayEvents, HasReplay "
        "FROM sessions ORDER BY SessionId"
    )
    by_id = {row.pop("SessionId"): row for row in sessions}
    assert sorted(by_id) == sorted([SESSION, REPLAY_ONLY_SESSION])
    session = by_id[SESSION]
    assert parse_timestamp_ns(session.pop("StartTime")) == START_NS + 500
    assert parse_timestamp_ns(session.pop("EndTime")) == START_NS + 6_000
    assert session == {"SpanCount": 4, "PageViews": 2, "Actions": 1, "Errors": 0, "ReplayEvents": 1, "HasReplay": True}
    replay_only = by_id[REPLAY_ONLY_SESSION]
    assert parse_timestamp_ns(replay_only.pop("StartTime")) == START_NS + 500
    assert parse_timestamp_ns(replay_only.pop("EndTime")) == START_NS + 500
    assert replay_only == {"SpanCount": 0, "PageViews": 0, "Actions": 0, "Errors": 0, "ReplayEvents": 1, "HasReplay": True}


def test_empty_attribute_views(exos):
    """An attribute sent as '' counts as absent, as the exporter stores absent values as ''."""
    send_browser_spans(
        exos,
        [
            browser_span(1, "routeChange", {"location.href": "", "http.url": "http://app/orders/7"}),
            browser_span(2, "keyup", {"event_type": "", "target_element": "INPUT"}),
        ],
    )
    pages = exos.sql("SELECT SpanName, Url FROM page_views")
    actions = exos.sql("SELECT SpanName, ActionType FROM user_actions")
    assert [(row["SpanName"], row["Url"]) for row in pages] == [("routeChange", "http://app/orders/7")]
    assert [(row["SpanName"], row["ActionType"]) for row in actions] == [("keyup", "keyup")]

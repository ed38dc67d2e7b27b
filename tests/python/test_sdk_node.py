"""The OpenTelemetry JS SDK's OTLP/HTTP exporters (OTLP JSON) against a real exos.

`tests/node/send.mjs` sends one trace, two log records and the metric set of
metric_checks, then prints what the JS SDK recorded in memory. Each stored
row is compared with that output, and literal checks pin the conventions.
Run `npm ci` in tests/node first.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time

import pytest

import metric_checks
from otel_rows import (
    LOG_COLUMNS,
    SPAN_COLUMNS,
    TEMPORALITY_CUMULATIVE,
    assert_attributes,
    parse_timestamp_ns,
    sql_text,
)

SEND_TIMEOUT_S = 120
RUM_SESSION_ID = "9d8c7b6a5f4e3d2c1b0a99887766554f"


def title_case(enum_name: str) -> str:
    """`SERVER` -> `Server`: the JS enum name in the exporter's spelling."""
    return enum_name.capitalize()


@pytest.fixture(scope="module")
def node_output(module_exos, repo_root):
    """Run send.mjs against the fixture server and return its JSON output
    with the nanosecond window in which it ran."""
    node_dir = repo_root / "tests" / "node"
    assert shutil.which("node"), "node is not on PATH"
    assert (node_dir / "node_modules" / "@opentelemetry").is_dir(), "run `npm ci` in tests/node first"

    started = time.time_ns()
    completed = subprocess.run(
        ["node", "send.mjs", module_exos.otlp_http_url, module_exos.ingest_key],
        cwd=node_dir,
        capture_output=True,
        text=True,
        timeout=SEND_TIMEOUT_S,
    )
    flushed = time.time_ns()
    assert completed.returncode == 0, (
        f"send.mjs exited with {completed.returncode}\nstdout:\n{completed.stdout}\n"
        f"stderr:\n{completed.stderr}\nserver stderr:\n{module_exos.stderr_tail()}"
    )
    output = json.loads(completed.stdout)
    output["window"] = (started, flushed)
    return output


def assert_node_span(row, span):
    name = span["name"]
    assert row["TraceId"] == span["traceId"], f"{name}: TraceId"
    assert row["SpanId"] == span["spanId"], f"{name}: SpanId"
    assert row["ParentSpanId"] == span["parentSpanId"], f"{name}: ParentSpanId"
    assert row["TraceState"] == span["traceState"], f"{name}: TraceState"
    assert row["SpanName"] == name
    assert row["SpanKind"] == title_case(span["kind"]), f"{name}: SpanKind"
    assert_attributes(row["ResourceAttributes"], span["resourceAttributes"], f"{name}: ResourceAttributes")
    assert row["ScopeName"] == span["scope"]["name"], f"{name}: ScopeName"
    assert row["ScopeVersion"] == span["scope"]["version"], f"{name}: ScopeVersion"
    assert_attributes(row["SpanAttributes"], span["attributes"], f"{name}: SpanAttributes")
    assert parse_timestamp_ns(row["Timestamp"]) == int(span["startNs"]), f"{name}: Timestamp"
    assert row["Duration"] == int(span["endNs"]) - int(span["startNs"]), f"{name}: Duration"
    assert row["StatusCode"] == title_case(span["status"]["code"]), f"{name}: StatusCode"
    assert row["StatusMessage"] == span["status"]["message"], f"{name}: StatusMessage"

    events = span["events"]
    assert row["Events.Name"] == [event["name"] for event in events], f"{name}: Events.Name"
    assert [parse_timestamp_ns(text) for text in row["Events.Timestamp"]] == [
        int(event["timeNs"]) for event in events
    ], f"{name}: Events.Timestamp"
    for stored, event in zip(row["Events.Attributes"], events, strict=True):
        assert_attributes(stored, event["attributes"], f"{name}: event {event['name']}")

    links = span["links"]
    assert row["Links.TraceId"] == [link["traceId"] for link in links], f"{name}: Links.TraceId"
    assert row["Links.SpanId"] == [link["spanId"] for link in links], f"{name}: Links.SpanId"
    assert row["Links.TraceState"] == [link["traceState"] for link in links], f"{name}: Links.TraceState"
    for stored, link in zip(row["Links.Attributes"], links, strict=True):
        assert_attributes(stored, link["attributes"], f"{name}: link attributes")


def test_traces(module_exos, node_output):
    service = node_output["service"]
    sent = {span["spanId"]: span for span in node_output["spans"]}
    rows = module_exos.sql(f"SELECT {SPAN_COLUMNS} FROM otel_traces WHERE ServiceName = {sql_text(service)}")
    assert sorted(row["SpanId"] for row in rows) == sorted(sent)
    for row in rows:
        assert_node_span(row, sent[row["SpanId"]])

    by_name = {row["SpanName"]: row for row in rows}
    root = by_name["POST /orders"]
    client = by_name["GET /inventory"]
    pricing = by_name["price order"]
    assert root["SpanKind"] == "Server"
    assert client["SpanKind"] == "Client"
    assert pricing["SpanKind"] == "Internal"
    assert root["ParentSpanId"] == ""
    assert client["ParentSpanId"] == root["SpanId"]
    assert root["Duration"] == 123_456_789
    assert client["Duration"] == 50_000_001
    assert client["StatusCode"] == "Error"
    assert client["StatusMessage"] == "inventory timeout"
    assert pricing["StatusCode"] == "Ok"

    attributes = root["SpanAttributes"]
    assert attributes["http.response.status_code"] == "201"
    assert attributes["order.rush"] == "true"
    assert attributes["order.discount_ratio"] == "0.15"
    assert json.loads(attributes["order.skus"]) == ["SKU-1", "SKU-9"]
    assert json.loads(attributes["order.weights"]) == [0.5, 1.25]
    assert attributes["order.note"] == 'café "déjà vu" ✓'
    assert root["ResourceAttributes"]["telemetry.sdk.language"] == "nodejs"
    assert root["ResourceAttributes"]["host.cpu.count"] == "2"

    assert root["OrderId"] == "ORD-2026-N01"
    assert root["OperatorId"] == "op-901"
    assert root["Lob"] == "Flood"
    assert root["UserId"] == "cleo@example.com"
    assert {row["RumSessionId"] for row in rows} == {RUM_SESSION_ID}
    assert client["OrderId"] == ""

    assert root["Events.Attributes"] == [{"items": "3", "rush": "false", "channel": "web"}]
    assert client["Events.Name"] == ["exception"]
    assert client["Events.Attributes"][0]["exception.type"] == "RangeError"
    assert client["Events.Attributes"][0]["exception.message"] == "out of stock: SKU-9"
    assert pricing["Links.TraceId"] == ["4bf92f3577b34da6a3ce929d0e0e4736"]
    assert pricing["Links.SpanId"] == ["00f067aa0ba902b7"]
    assert pricing["Links.TraceState"] == ["vendor=xyz"]
    assert pricing["Links.Attributes"] == [{"link.reason": "batch", "link.position": "2"}]


def test_logs(module_exos, node_output):
    service = node_output["service"]
    sent = {record["body"]: record for record in node_output["logs"]}
    rows = module_exos.sql(f"SELECT {LOG_COLUMNS} FROM otel_logs WHERE ServiceName = {sql_text(service)}")
    assert sorted(row["Body"] for row in rows) == sorted(sent)

    for row in rows:
        record = sent[row["Body"]]
        assert parse_timestamp_ns(row["Timestamp"]) == int(record["timeNs"])
        assert row["TraceId"] == record["traceId"]
        assert row["SpanId"] == record["spanId"]
        assert row["TraceFlags"] == record["traceFlags"]
        assert row["SeverityText"] == record["severityText"]
        assert row["SeverityNumber"] == record["severityNumber"]
        assert row["ScopeName"] == record["scope"]["name"]
        assert row["ScopeVersion"] == record["scope"]["version"]
        assert_attributes(row["ResourceAttributes"], record["resourceAttributes"], "ResourceAttributes")
        assert_attributes(row["LogAttributes"], record["attributes"], "LogAttributes")

    spans = {span["name"]: span for span in node_output["spans"]}
    warning = next(row for row in rows if row["SeverityText"] == "WARN")
    assert warning["TraceId"] == spans["POST /orders"]["traceId"]
    assert warning["SpanId"] == spans["POST /orders"]["spanId"]
    assert warning["TraceFlags"] == 1
    assert warning["SeverityNumber"] == 13
    assert warning["LogAttributes"]["attempt"] == "2"
    assert warning["LogAttributes"]["backoff_ratio"] == "1.5"
    assert warning["OrderId"] == "ORD-2026-N02"
    assert warning["OperatorId"] == "op-902"
    assert warning["Lob"] == "Title"
    assert warning["UserId"] == "dan@example.com"
    assert warning["RumSessionId"] == RUM_SESSION_ID

    error = next(row for row in rows if row["SeverityText"] == "ERROR")
    assert error["SeverityNumber"] == 17
    assert error["TraceId"] == ""
    assert error["SpanId"] == ""
    assert error["OrderId"] == "ORD-2026-N03"


def test_metrics(module_exos, node_output):
    metric_checks.check_all(
        module_exos,
        metric_checks.Expected(
            service=node_output["service"],
            scope_name="exos.e2e.node.meter",
            scope_version="7.1.0",
            resource_schema_url="",
            window=node_output["window"],
            temporality=TEMPORALITY_CUMULATIVE,
        ),
    )

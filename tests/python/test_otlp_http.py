"""OTLP/HTTP request handling that the SDK exporters never exercise.

Hand-built requests cover OTLP JSON with gzip and value kinds that the SDKs
do not send (kvlist bodies, bytes, summaries, exemplars). They also cover the
error responses that the OTLP specification prescribes: 200 with
partial_success for rejected records, 400 for malformed bodies, 413 over the
size limit and 415 for other content types. The last test pins where the
business columns (OrderId, OperatorId, Lob, UserId, RumSessionId) come from.
"""

from __future__ import annotations

import gzip
import json
import time

import pytest
import requests
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.metrics.v1 import metrics_pb2

from otlp_payloads import PROTOBUF, new_span_id, post_spans, span_request
from otel_rows import SPAN_COLUMNS, parse_timestamp_ns, sql_text
from stores import ON_CLICKHOUSE

MAX_BODY_BYTES = 20_000
TRACE_ID = "5b8efff798038103d269b633813fc60c"
SPAN_ID = "eee19b7ec3c1b174"


def post_json(server, path: str, document: dict, compress: bool = False) -> requests.Response:
    body = json.dumps(document).encode()
    headers = {"content-type": "application/json", "authorization": server.ingest_key}
    if compress:
        body = gzip.compress(body)
        headers["content-encoding"] = "gzip"
    return requests.post(f"{server.otlp_http_url}{path}", data=body, headers=headers, timeout=30)


def json_resource(service: str) -> dict:
    return {"attributes": [{"key": "service.name", "value": {"stringValue": service}}]}


def test_json_gzip_values(exos):
    start_ns = 1_764_892_800_123_456_789
    span = {
        "traceId": TRACE_ID,
        "spanId": SPAN_ID,
        "name": "json span",
        "kind": 3,
        "startTimeUnixNano": str(start_ns),
        "endTimeUnixNano": str(start_ns + 1_500),
        "status": {"code": 2, "message": "boom"},
        "attributes": [
            {"key": "big_int", "value": {"intValue": "9007199254740993"}},
            {"key": "bytes", "value": {"bytesValue": "AQID"}},
            {"key": "map", "value": {"kvlistValue": {"values": [
                {"key": "x", "value": {"intValue": "1"}},
                {"key": "y", "value": {"stringValue": "z"}},
            ]}}},
            {"key": "mixed", "value": {"arrayValue": {"values": [
                {"stringValue": "a"}, {"intValue": "2"}, {"boolValue": True}, {"doubleValue": 0.5},
            ]}}},
            {"key": "unset", "value": {}},
        ],
    }
    document = {
        "resourceSpans": [
            {"resource": json_resource("json-gzip"), "scopeSpans": [{"scope": {"name": "raw"}, "spans": [span]}]}
        ]
    }
    response = post_json(exos, "/v1/traces", document, compress=True)
    assert response.status_code == 200, response.text

    rows = exos.sql(
        "SELECT TraceId, SpanId, SpanKind, StatusCode, StatusMessage, Duration, Timestamp, SpanAttributes "
        "FROM otel_traces WHERE ServiceName = 'json-gzip'"
    )
    assert len(rows) == 1
    row = rows[0]
    assert row["TraceId"] == TRACE_ID
    assert row["SpanId"] == SPAN_ID
    assert row["SpanKind"] == "Client"
    assert row["StatusCode"] == "Error"
    assert row["StatusMessage"] == "boom"
    assert row["Duration"] == 1_500
    assert parse_timestamp_ns(row["Timestamp"]) == start_ns
    attributes = row["SpanAttributes"]
    # 2**53 + 1 does not survive a trip through a double.
    assert attributes["big_int"] == "9007199254740993"
    # Bytes are stored as base64 text, the form OTLP JSON carries them in.
    assert attributes["bytes"] == "AQID"
    assert json.loads(attributes["map"]) == {"x": 1, "y": "z"}
    assert json.loads(attributes["mixed"]) == ["a", 2, True, 0.5]
    assert attributes["unset"] == ""


def test_json_log_bodies(exos):
    observed_ns = 1_764_892_800_987_654_321
    records = [
        {
            "timeUnixNano": str(observed_ns - 1_000),
            "severityNumber": 9,
            "body": {"kvlistValue": {"values": [
                {"key": "a", "value": {"intValue": "1"}},
                {"key": "b", "value": {"arrayValue": {"values": [{"intValue": "1"}]}}},
            ]}},
        },
        {"observedTimeUnixNano": str(observed_ns), "body": {"intValue": "42"}},
    ]
    document = {"resourceLogs": [{"resource": json_resource("json-logs"), "scopeLogs": [{"logRecords": records}]}]}
    response = post_json(exos, "/v1/logs", document, compress=True)
    assert response.status_code == 200, response.text

    rows = exos.sql("SELECT Body, Timestamp, SeverityNumber FROM otel_logs WHERE ServiceName = 'json-logs'")
    by_severity = {row["SeverityNumber"]: row for row in rows}
    assert len(rows) == 2
    assert json.loads(by_severity[9]["Body"]) == {"a": 1, "b": [1]}
    assert by_severity[0]["Body"] == "42"
    assert parse_timestamp_ns(by_severity[0]["Timestamp"]) == observed_ns


def test_partial_success(exos):
    request = span_request("partial", [new_span_id(), new_span_id()])
    request.resource_spans[0].scope_spans[0].spans[1].trace_id = b"\x01\x02\x03"
    valid_span_id = request.resource_spans[0].scope_spans[0].spans[0].span_id.hex()

    response = post_spans(exos.otlp_http_url, request.SerializeToString(), {"authorization": exos.ingest_key})
    assert response.status_code == 200
    partial = ExportTraceServiceResponse.FromString(response.content).partial_success
    assert partial.rejected_spans == 1
    assert "trace_id" in partial.error_message

    rows = exos.sql("SELECT SpanId FROM otel_traces WHERE ServiceName = 'partial'")
    assert [row["SpanId"] for row in rows] == [valid_span_id]


@pytest.mark.parametrize(
    ("content_type", "encoding", "body"),
    [
        (PROTOBUF, None, b"\x0a\xff\xff"),
        ("application/json", None, b"{not json"),
        (PROTOBUF, "gzip", b"\x1f\x8b not gzip"),
    ],
    ids=["protobuf", "json", "gzip"],
)
def test_malformed_body(exos, content_type, encoding, body):
    headers = {"content-type": content_type, "authorization": exos.ingest_key}
    if encoding:
        headers["content-encoding"] = encoding
    response = requests.post(f"{exos.otlp_http_url}/v1/traces", data=body, headers=headers, timeout=30)
    assert response.status_code == 400, response.text
    assert exos.sql_value("SELECT count(*) FROM otel_traces") == 0


def test_unsupported_content_type(exos):
    headers = {"content-type": "text/plain", "authorization": exos.ingest_key}
    response = requests.post(f"{exos.otlp_http_url}/v1/traces", data=b"spans", headers=headers, timeout=30)
    assert response.status_code == 415


@pytest.mark.parametrize("compress", [False, True], ids=["plain", "gzip"])
def test_body_over_limit(exos_factory, compress):
    server = exos_factory.start(("--max-body-bytes", str(MAX_BODY_BYTES)))
    body = span_request("oversized", [new_span_id()], padding_bytes=MAX_BODY_BYTES + 10_000).SerializeToString()
    headers = {"authorization": server.ingest_key}
    if compress:
        # About 200 bytes on the wire: the limit applies after decompression.
        body = gzip.compress(body)
        headers["content-encoding"] = "gzip"
    response = post_spans(server.otlp_http_url, body, headers)
    assert response.status_code == 413, response.text
    assert server.sql_value("SELECT count(*) FROM otel_traces") == 0


def summary_and_gauge_request(service: str, now_ns: int) -> ExportMetricsServiceRequest:
    quantile = metrics_pb2.SummaryDataPoint.ValueAtQuantile
    summary = metrics_pb2.Metric(
        name="exos.e2e.latency",
        unit="ms",
        summary=metrics_pb2.Summary(
            data_points=[
                metrics_pb2.SummaryDataPoint(
                    start_time_unix_nano=now_ns - 1_000_000_000,
                    time_unix_nano=now_ns,
                    count=4,
                    sum=10.5,
                    quantile_values=[quantile(quantile=0.5, value=2.0), quantile(quantile=0.99, value=4.5)],
                    attributes=[KeyValue(key="route", value=AnyValue(string_value="/orders"))],
                    flags=1,
                )
            ]
        ),
    )
    exemplar = metrics_pb2.Exemplar(
        time_unix_nano=now_ns - 5,
        as_double=1.5,
        trace_id=bytes.fromhex(TRACE_ID),
        span_id=bytes.fromhex(SPAN_ID),
        filtered_attributes=[KeyValue(key="user.id", value=AnyValue(string_value="ana@example.com"))],
    )
    gauge = metrics_pb2.Metric(
        name="exos.e2e.open_orders",
        gauge=metrics_pb2.Gauge(
            data_points=[metrics_pb2.NumberDataPoint(time_unix_nano=now_ns, as_int=7, exemplars=[exemplar])]
        ),
    )
    resource_metrics = metrics_pb2.ResourceMetrics(scope_metrics=[metrics_pb2.ScopeMetrics(metrics=[summary, gauge])])
    resource_metrics.resource.attributes.append(KeyValue(key="service.name", value=AnyValue(string_value=service)))
    return ExportMetricsServiceRequest(resource_metrics=[resource_metrics])


def test_summary_and_exemplars(exos):
    now_ns = time.time_ns()
    request = summary_and_gauge_request("raw-metrics", now_ns)
    response = requests.post(
        f"{exos.otlp_http_url}/v1/metrics",
        data=request.SerializeToString(),
        headers={"content-type": PROTOBUF, "authorization": exos.ingest_key},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    service = sql_text("raw-metrics")

    summaries = exos.sql(
        'SELECT MetricName, Count, Sum, "ValueAtQuantiles.Quantile", "ValueAtQuantiles.Value", Flags, '
        f"Attributes, TimeUnix FROM otel_metrics_summary WHERE ServiceName = {service}"
    )
    assert len(summaries) == 1
    summary = summaries[0]
    assert summary["MetricName"] == "exos.e2e.latency"
    assert summary["Count"] == 4
    assert summary["Sum"] == 10.5
    assert summary["ValueAtQuantiles.Quantile"] == [0.5, 0.99]
    assert summary["ValueAtQuantiles.Value"] == [2.0, 4.5]
    assert summary["Flags"] == 1
    assert summary["Attributes"] == {"route": "/orders"}
    assert parse_timestamp_ns(summary["TimeUnix"]) == now_ns

    gauges = exos.sql(
        'SELECT Value, "Exemplars.FilteredAttributes", "Exemplars.TimeUnix", "Exemplars.Value", '
        f'"Exemplars.SpanId", "Exemplars.TraceId" FROM otel_metrics_gauge WHERE ServiceName = {service}'
    )
    assert len(gauges) == 1
    gauge = gauges[0]
    assert gauge["Value"] == 7
    assert gauge["Exemplars.FilteredAttributes"] == [{"user.id": "ana@example.com"}]
    assert [parse_timestamp_ns(text) for text in gauge["Exemplars.TimeUnix"]] == [now_ns - 5]
    assert gauge["Exemplars.Value"] == [1.5]
    assert gauge["Exemplars.SpanId"] == [SPAN_ID]
    assert gauge["Exemplars.TraceId"] == [TRACE_ID]


# Doubles whose shortest text has 17 significant digits: a JSON reader that is not
# correctly rounded returns a neighbour of each. 2**-1074 and the largest double
# test the ends of the range.
EXACT_DOUBLES = (12.234247000378673, 1.8900990007750806, 28.074493999156402, 0.30000000000000004, 5e-324, 1.7976931348623157e308)


def test_gauge_doubles_exact(exos):
    points = [
        metrics_pb2.NumberDataPoint(
            time_unix_nano=time.time_ns(),
            as_double=value,
            attributes=[KeyValue(key="index", value=AnyValue(int_value=index))],
        )
        for index, value in enumerate(EXACT_DOUBLES)
    ]
    metric = metrics_pb2.Metric(name="exos.e2e.exact", gauge=metrics_pb2.Gauge(data_points=points))
    resource_metrics = metrics_pb2.ResourceMetrics(scope_metrics=[metrics_pb2.ScopeMetrics(metrics=[metric])])
    resource_metrics.resource.attributes.append(KeyValue(key="service.name", value=AnyValue(string_value="exact")))
    response = requests.post(
        f"{exos.otlp_http_url}/v1/metrics",
        data=ExportMetricsServiceRequest(resource_metrics=[resource_metrics]).SerializeToString(),
        headers={"content-type": PROTOBUF, "authorization": exos.ingest_key},
        timeout=30,
    )
    assert response.status_code == 200, response.text

    rows = exos.sql("SELECT Attributes, Value FROM otel_metrics_gauge WHERE ServiceName = 'exact'")
    stored = {int(row["Attributes"]["index"]): row["Value"] for row in rows}
    wrong = {repr(EXACT_DOUBLES[index]): repr(value) for index, value in stored.items() if value != EXACT_DOUBLES[index]}
    assert sorted(stored) == list(range(len(EXACT_DOUBLES)))
    assert wrong == {}, "doubles returned other than sent"


BUSINESS_KEYS = {
    "OrderId": "order.id",
    "OperatorId": "operator.id",
    "Lob": "lob",
    "UserId": "user.id",
}


def test_business_columns(exos):
    """A span attribute fills its business column, the resource attribute
    is the fallback, and the session id is `rum.session_id` on the span or
    `rum.sessionId` on the resource."""
    resource_only, both = new_span_id(), new_span_id()
    request = span_request("business", [resource_only, both])
    resource = request.resource_spans[0].resource.attributes
    for key in BUSINESS_KEYS.values():
        resource.append(KeyValue(key=key, value=AnyValue(string_value=f"resource {key}")))
    resource.append(KeyValue(key="rum.sessionId", value=AnyValue(string_value="resource session")))
    span = request.resource_spans[0].scope_spans[0].spans[1]
    for key in BUSINESS_KEYS.values():
        span.attributes.append(KeyValue(key=key, value=AnyValue(string_value=f"span {key}")))
    span.attributes.append(KeyValue(key="rum.session_id", value=AnyValue(string_value="span session")))

    response = post_spans(exos.otlp_http_url, request.SerializeToString(), {"authorization": exos.ingest_key})
    assert response.status_code == 200, response.text
    rows = exos.sql(
        "SELECT SpanId, OrderId, OperatorId, Lob, UserId, RumSessionId FROM otel_traces "
        "WHERE ServiceName = 'business'"
    )
    by_span = {row["SpanId"]: row for row in rows}
    assert sorted(by_span) == sorted([resource_only.hex(), both.hex()])
    for column, key in BUSINESS_KEYS.items():
        assert by_span[resource_only.hex()][column] == f"resource {key}", column
        assert by_span[both.hex()][column] == f"span {key}", column
    assert by_span[resource_only.hex()]["RumSessionId"] == "resource session"
    assert by_span[both.hex()]["RumSessionId"] == "span session"


def test_star_columns(exos):
    """`SELECT *` returns the same columns on both stores, business columns included."""
    body = exos.sql_response("SELECT * FROM otel_traces LIMIT 0")
    names = [column["name"] for column in body["columns"]]
    expected = [name.strip().strip('"') for name in SPAN_COLUMNS.split(",")]
    assert names == expected

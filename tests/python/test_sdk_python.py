"""The official OpenTelemetry Python SDK exporters against a real exos.

Each test runs twice: over OTLP/HTTP protobuf and over OTLP/gRPC. The SDK
also hands every span and log record to its in-memory exporter, and each
stored row is compared with what the SDK recorded there, column by column.
Literal checks on top of that pin the conventions (spellings, hex ids,
business columns) independently of the comparison helpers. Metric rows are
checked against known values in metric_checks.
"""

from __future__ import annotations

import re
import time

import grpc
import pytest
from opentelemetry import trace
from opentelemetry._logs import SeverityNumber
from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter as GrpcLogExporter
from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import (
    OTLPMetricExporter as GrpcMetricExporter,
)
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (
    OTLPSpanExporter as GrpcSpanExporter,
)
from opentelemetry.exporter.otlp.proto.http import Compression as HttpCompression
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter as HttpLogExporter
from opentelemetry.exporter.otlp.proto.http.metric_exporter import (
    OTLPMetricExporter as HttpMetricExporter,
)
from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
    OTLPSpanExporter as HttpSpanExporter,
)
from opentelemetry.metrics import Observation
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import (
    BatchLogRecordProcessor,
    InMemoryLogRecordExporter,
    SimpleLogRecordProcessor,
)
from opentelemetry.sdk.metrics import Counter, Histogram, MeterProvider
from opentelemetry.sdk.metrics.export import AggregationTemporality, PeriodicExportingMetricReader
from opentelemetry.sdk.metrics.view import (
    ExplicitBucketHistogramAggregation,
    ExponentialBucketHistogramAggregation,
    View,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Link, SpanContext, SpanKind, Status, StatusCode, TraceFlags, TraceState

import metric_checks
from otel_rows import (
    LOG_COLUMNS,
    SPAN_COLUMNS,
    TEMPORALITY_CUMULATIVE,
    TEMPORALITY_DELTA,
    assert_attributes,
    assert_span_row,
    parse_timestamp_ns,
    span_id_hex,
    sql_text,
    trace_id_hex,
)

TRANSPORTS = ["http", "grpc"]
EXPORT_TIMEOUT_S = 30
FLUSH_TIMEOUT_MS = 60_000
HEX32 = re.compile(r"[0-9a-f]{32}")
HEX16 = re.compile(r"[0-9a-f]{16}")
RUM_SESSION_ID = "5f0c3a9e1b7d4e2a8c6f0d1e2b3a4c5d"
SCHEMA_URL = "https://opentelemetry.io/schemas/1.26.0"
# A span context from another trace, as a queue consumer would link to.
LINKED_CONTEXT = SpanContext(
    trace_id=0x0AF7651916CD43DD8448EB211C80319C,
    span_id=0xB7AD6B7169203331,
    is_remote=True,
    trace_flags=TraceFlags(TraceFlags.SAMPLED),
    trace_state=TraceState([("vendor", "abc")]),
)


# -- exporters, one pair per transport ----------------------------------------


def span_exporter(transport, server):
    if transport == "http":
        return HttpSpanExporter(
            endpoint=f"{server.otlp_http_url}/v1/traces",
            headers={"authorization": f"Bearer {server.ingest_key}"},
            timeout=EXPORT_TIMEOUT_S,
        )
    return GrpcSpanExporter(
        endpoint=f"http://{server.otlp_grpc_address}",
        insecure=True,
        headers={"x-exos-ingest-key": server.ingest_key},
        timeout=EXPORT_TIMEOUT_S,
    )


def log_exporter(transport, server):
    if transport == "http":
        return HttpLogExporter(
            endpoint=f"{server.otlp_http_url}/v1/logs",
            headers={"x-exos-ingest-key": server.ingest_key},
            timeout=EXPORT_TIMEOUT_S,
            compression=HttpCompression.Gzip,
        )
    return GrpcLogExporter(
        endpoint=f"http://{server.otlp_grpc_address}",
        insecure=True,
        headers={"authorization": f"Bearer {server.ingest_key}"},
        timeout=EXPORT_TIMEOUT_S,
        compression=grpc.Compression.Gzip,
    )


def metric_exporter(transport, server):
    """Build the metric exporter for `transport`.

    HTTP keeps the SDK's cumulative default and gRPC requests delta counters
    and histograms, so both temporalities reach the store.
    """
    if transport == "http":
        return HttpMetricExporter(
            endpoint=f"{server.otlp_http_url}/v1/metrics",
            headers={"authorization": server.ingest_key},
            timeout=EXPORT_TIMEOUT_S,
            compression=HttpCompression.Gzip,
        )
    return GrpcMetricExporter(
        endpoint=f"http://{server.otlp_grpc_address}",
        insecure=True,
        headers={"authorization": server.ingest_key},
        timeout=EXPORT_TIMEOUT_S,
        preferred_temporality={
            Counter: AggregationTemporality.DELTA,
            Histogram: AggregationTemporality.DELTA,
        },
    )


def resource(service_name):
    return Resource.create(
        {
            "service.name": service_name,
            "service.version": "2.3.1",
            "deployment.environment.name": "e2e",
            "host.cpu.count": 2,
            "rum.sessionId": RUM_SESSION_ID,
        },
        schema_url=SCHEMA_URL,
    )


def start_ns():
    """A start time with non-zero nanosecond digits, to catch µs rounding."""
    return (time.time_ns() // 1_000_000_000 - 60) * 1_000_000_000 + 123_456_789


# -- traces -------------------------------------------------------------------


def record_order_trace(tracer, base_ns):
    """Record one order's server span with a failing client call and an
    internal pricing step that links to another trace."""
    root = tracer.start_span(
        "POST /orders",
        kind=SpanKind.SERVER,
        start_time=base_ns,
        attributes={
            "order.id": "ORD-2026-001",
            "operator.id": "op-437",
            "lob": "Appraisal",
            "user.id": "ana@example.com",
            "http.request.method": "POST",
            "http.response.status_code": 201,
            "order.rush": True,
            "order.discount_ratio": 0.15,
            "order.skus": ["SKU-1", "SKU-9"],
            "order.quantities": [2, 1],
            "order.weights": [0.5, 1.25],
            "order.gift_flags": [True, False],
            "order.note": 'café "déjà vu" ✓',
            "order.status": "received",
        },
    )
    root.add_event("order.received", {"items": 3, "rush": False, "channel": "web"}, timestamp=base_ns + 1_000)
    parent = trace.set_span_in_context(root)

    client = tracer.start_span(
        "GET /inventory",
        context=parent,
        kind=SpanKind.CLIENT,
        start_time=base_ns + 2_000_000,
        attributes={"server.address": "inventory.internal", "server.port": 8443},
    )
    try:
        raise ValueError("out of stock: SKU-9")
    except ValueError as error:
        client.record_exception(error, attributes={"sku": "SKU-9"}, timestamp=base_ns + 3_000_007)
    client.set_status(Status(StatusCode.ERROR, "inventory timeout"))
    client.end(end_time=base_ns + 52_000_001)

    pricing = tracer.start_span(
        "price order",
        context=parent,
        kind=SpanKind.INTERNAL,
        start_time=base_ns + 60_000_000,
        links=[Link(LINKED_CONTEXT, {"link.reason": "batch", "link.position": 2})],
    )
    pricing.set_status(Status(StatusCode.OK))
    pricing.end(end_time=base_ns + 61_500_000)

    root.end(end_time=base_ns + 123_456_789)
    return root, client, pricing


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_traces(exos, transport):
    service = f"checkout-{transport}"
    memory = InMemorySpanExporter()
    provider = TracerProvider(resource=resource(service))
    provider.add_span_processor(SimpleSpanProcessor(memory))
    provider.add_span_processor(BatchSpanProcessor(span_exporter(transport, exos)))
    tracer = provider.get_tracer("exos.e2e.checkout", "1.4.2")

    base_ns = start_ns()
    root, client, pricing = record_order_trace(tracer, base_ns)
    assert provider.force_flush(FLUSH_TIMEOUT_MS)
    provider.shutdown()

    sent = {span_id_hex(span.context.span_id): span for span in memory.get_finished_spans()}
    rows = exos.sql(f"SELECT {SPAN_COLUMNS} FROM otel_traces WHERE ServiceName = {sql_text(service)}")
    assert sorted(row["SpanId"] for row in rows) == sorted(sent)
    for row in rows:
        assert_span_row(row, sent[row["SpanId"]])

    by_name = {row["SpanName"]: row for row in rows}
    root_row = by_name["POST /orders"]
    client_row = by_name["GET /inventory"]
    pricing_row = by_name["price order"]

    trace_id = trace_id_hex(root.get_span_context().trace_id)
    assert HEX32.fullmatch(root_row["TraceId"])
    assert HEX16.fullmatch(root_row["SpanId"])
    assert {row["TraceId"] for row in rows} == {trace_id}
    assert root_row["ParentSpanId"] == ""
    assert client_row["ParentSpanId"] == root_row["SpanId"]
    assert pricing_row["ParentSpanId"] == root_row["SpanId"]

    assert root_row["SpanKind"] == "Server"
    assert client_row["SpanKind"] == "Client"
    assert pricing_row["SpanKind"] == "Internal"
    assert root_row["Duration"] == 123_456_789
    assert client_row["Duration"] == 50_000_001
    assert parse_timestamp_ns(root_row["Timestamp"]) == base_ns

    assert root_row["StatusCode"] == "Unset"
    assert client_row["StatusCode"] == "Error"
    assert client_row["StatusMessage"] == "inventory timeout"
    assert pricing_row["StatusCode"] == "Ok"

    attributes = root_row["SpanAttributes"]
    assert attributes["http.response.status_code"] == "201"
    assert attributes["order.rush"] == "true"
    assert attributes["order.discount_ratio"] == "0.15"
    assert attributes["order.note"] == 'café "déjà vu" ✓'
    assert root_row["ResourceAttributes"]["host.cpu.count"] == "2"
    assert root_row["ResourceAttributes"]["telemetry.sdk.language"] == "python"
    assert root_row["ScopeName"] == "exos.e2e.checkout"
    assert root_row["ScopeVersion"] == "1.4.2"

    assert root_row["OrderId"] == "ORD-2026-001"
    assert root_row["OperatorId"] == "op-437"
    assert root_row["Lob"] == "Appraisal"
    assert root_row["UserId"] == "ana@example.com"
    assert {row["RumSessionId"] for row in rows} == {RUM_SESSION_ID}
    assert client_row["OrderId"] == ""
    assert client_row["Lob"] == ""
    assert client_row["UserId"] == ""

    assert root_row["Events.Name"] == ["order.received"]
    assert root_row["Events.Attributes"] == [{"items": "3", "rush": "false", "channel": "web"}]
    assert client_row["Events.Name"] == ["exception"]
    exception = client_row["Events.Attributes"][0]
    assert exception["exception.type"] == "ValueError"
    assert exception["exception.message"] == "out of stock: SKU-9"
    assert "Traceback" in exception["exception.stacktrace"]
    assert exception["sku"] == "SKU-9"
    assert parse_timestamp_ns(client_row["Events.Timestamp"][0]) == base_ns + 3_000_007

    assert pricing_row["Links.TraceId"] == ["0af7651916cd43dd8448eb211c80319c"]
    assert pricing_row["Links.SpanId"] == ["b7ad6b7169203331"]
    # Sent as '' because the Python encoder drops link trace state (see otel_rows).
    assert pricing_row["Links.TraceState"] == [""]
    assert pricing_row["Links.Attributes"] == [{"link.reason": "batch", "link.position": "2"}]
    assert root_row["Links.TraceId"] == []


# -- logs ---------------------------------------------------------------------


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_logs(exos, transport):
    service = f"orders-{transport}"
    memory = InMemoryLogRecordExporter()
    provider = LoggerProvider(resource=resource(service))
    provider.add_log_record_processor(SimpleLogRecordProcessor(memory))
    provider.add_log_record_processor(BatchLogRecordProcessor(log_exporter(transport, exos)))
    logger = provider.get_logger(
        "exos.e2e.orders", "0.9.0", schema_url=SCHEMA_URL, attributes={"logger.kind": "audit"}
    )

    # A span from the real tracing SDK supplies the trace context; it is not exported.
    span = TracerProvider().get_tracer("exos.e2e.context").start_span("assign order")
    base_ns = start_ns()
    logger.emit(
        timestamp=base_ns,
        context=trace.set_span_in_context(span),
        severity_number=SeverityNumber.WARN,
        severity_text="WARN",
        body="inventory low for ORD-2026-002",
        attributes={
            "order.id": "ORD-2026-002",
            "operator.id": "op-12",
            "lob": "Title",
            "user.id": "ben@example.com",
            "rum.session_id": RUM_SESSION_ID,
            "attempt": 2,
            "backoff_ratio": 1.5,
        },
    )
    # No event time: the store falls back to the observed time.
    logger.emit(
        observed_timestamp=base_ns + 5_000_000_011,
        severity_number=SeverityNumber.INFO,
        severity_text="INFO",
        body="order queued",
        attributes={"order.id": "ORD-2026-003"},
    )
    span.end()
    assert provider.force_flush(FLUSH_TIMEOUT_MS)
    provider.shutdown()

    sent = {record.log_record.body: record for record in memory.get_finished_logs()}
    assert sent["order queued"].log_record.timestamp is None
    rows = exos.sql(
        f"SELECT {LOG_COLUMNS} FROM otel_logs WHERE ServiceName = {sql_text(service)}"
    )
    assert sorted(row["Body"] for row in rows) == sorted(sent)

    for row in rows:
        record = sent[row["Body"]]
        log = record.log_record
        event_ns = log.timestamp or log.observed_timestamp
        assert parse_timestamp_ns(row["Timestamp"]) == event_ns
        stamp_seconds = parse_timestamp_ns(row["TimestampTime"])
        assert stamp_seconds == event_ns // 1_000_000_000 * 1_000_000_000
        assert row["TraceId"] == trace_id_hex(log.trace_id)
        assert row["SpanId"] == span_id_hex(log.span_id)
        assert row["TraceFlags"] == int(log.trace_flags)
        assert row["SeverityText"] == log.severity_text
        assert row["SeverityNumber"] == log.severity_number.value
        assert row["ServiceName"] == service
        assert row["ResourceSchemaUrl"] == SCHEMA_URL
        assert_attributes(row["ResourceAttributes"], record.resource.attributes, "ResourceAttributes")
        assert row["ScopeName"] == "exos.e2e.orders"
        assert row["ScopeVersion"] == "0.9.0"
        assert row["ScopeSchemaUrl"] == SCHEMA_URL
        assert row["ScopeAttributes"] == {"logger.kind": "audit"}
        assert_attributes(row["LogAttributes"], log.attributes, "LogAttributes")

    by_body = {row["Body"]: row for row in rows}
    warning = by_body["inventory low for ORD-2026-002"]
    assert warning["TraceId"] == trace_id_hex(span.get_span_context().trace_id)
    assert warning["SpanId"] == span_id_hex(span.get_span_context().span_id)
    # The SDK sets the sampled flag and the W3C random-trace-id flag (0x02).
    assert warning["TraceFlags"] == int(span.get_span_context().trace_flags)
    assert warning["TraceFlags"] & 0x01 == 0x01
    assert warning["SeverityText"] == "WARN"
    assert warning["SeverityNumber"] == 13
    assert warning["LogAttributes"]["attempt"] == "2"
    assert warning["LogAttributes"]["backoff_ratio"] == "1.5"
    assert warning["OrderId"] == "ORD-2026-002"
    assert warning["OperatorId"] == "op-12"
    assert warning["Lob"] == "Title"
    assert warning["UserId"] == "ben@example.com"
    assert warning["RumSessionId"] == RUM_SESSION_ID

    queued = by_body["order queued"]
    assert parse_timestamp_ns(queued["Timestamp"]) == base_ns + 5_000_000_011
    assert queued["TraceId"] == ""
    assert queued["SpanId"] == ""
    assert queued["SeverityNumber"] == 9
    assert queued["OrderId"] == "ORD-2026-003"
    assert queued["Lob"] == ""


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_logs_rrweb_routing(exos, transport):
    service = f"browser-{transport}"
    provider = LoggerProvider(resource=resource(service))
    provider.add_log_record_processor(BatchLogRecordProcessor(log_exporter(transport, exos)))
    logger = provider.get_logger("rum.rr-web")
    logger.emit(body='{"type":4,"data":{}}', attributes={"rr-web.event": 1, "rr-web.offset": 1})
    logger.emit(body="console message", attributes={"component": "console"})
    assert provider.force_flush(FLUSH_TIMEOUT_MS)
    provider.shutdown()

    name = sql_text(service)
    sessions = exos.sql(f"SELECT Body, LogAttributes FROM hyperdx_sessions WHERE ServiceName = {name}")
    logs = exos.sql(f"SELECT Body FROM otel_logs WHERE ServiceName = {name}")
    assert [row["Body"] for row in sessions] == ['{"type":4,"data":{}}']
    assert sessions[0]["LogAttributes"] == {"rr-web.event": "1", "rr-web.offset": "1"}
    assert [row["Body"] for row in logs] == ["console message"]


# -- metrics ------------------------------------------------------------------


def record_metrics(meter):
    """Record the instruments and values that metric_checks expects."""
    orders = meter.create_counter("exos.e2e.orders", unit="{order}", description="Orders processed")
    orders.add(3, {"lob": "Appraisal"})
    orders.add(2, {"lob": "Title"})
    orders.add(4, {"lob": "Appraisal"})

    queue = meter.create_up_down_counter("exos.e2e.queue_depth", unit="{order}", description="Orders waiting")
    queue.add(5, {"queue": "review"})
    queue.add(-2, {"queue": "review"})

    steps = meter.create_histogram("exos.e2e.step_duration", unit="ms", description="Step duration")
    for value in metric_checks.HISTOGRAM_VALUES:
        steps.record(value, {"step": "review"})

    payloads = meter.create_histogram("exos.e2e.payload_size", unit="By", description="Payload size")
    for value in metric_checks.PAYLOAD_SIZES:
        payloads.record(value, {"route": "/orders"})

    meter.create_observable_gauge(
        "exos.e2e.cpu_ratio",
        callbacks=[lambda _options: [Observation(0.42, {"core": "0"})]],
        unit="1",
        description="CPU busy ratio",
    )


METRIC_VIEWS = [
    View(
        instrument_name="exos.e2e.step_duration",
        aggregation=ExplicitBucketHistogramAggregation(boundaries=metric_checks.HISTOGRAM_BOUNDS),
    ),
    View(
        instrument_name="exos.e2e.payload_size",
        aggregation=ExponentialBucketHistogramAggregation(max_size=metric_checks.EXPONENTIAL_MAX_BUCKETS),
    ),
]


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_metrics(exos, transport):
    service = f"metrics-{transport}"
    reader = PeriodicExportingMetricReader(metric_exporter(transport, exos), export_interval_millis=3_600_000)
    provider = MeterProvider(resource=resource(service), metric_readers=[reader], views=METRIC_VIEWS)

    started = time.time_ns()
    record_metrics(provider.get_meter("exos.e2e.meter", "3.0.1"))
    try:
        assert provider.force_flush(FLUSH_TIMEOUT_MS)
        flushed = time.time_ns()
        metric_checks.check_all(
            exos,
            metric_checks.Expected(
                service=service,
                scope_name="exos.e2e.meter",
                scope_version="3.0.1",
                resource_schema_url=SCHEMA_URL,
                window=(started, flushed),
                temporality=TEMPORALITY_DELTA if transport == "grpc" else TEMPORALITY_CUMULATIVE,
            ),
        )
    finally:
        # Shutdown collects and exports once more, so it comes after the checks.
        provider.shutdown()

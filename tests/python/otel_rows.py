"""Expected exos column values computed from OpenTelemetry SDK objects.

exos writes rows in the OpenTelemetry Collector ClickHouse exporter's classic
layout: lowercase hex ids ('' when absent), `Server`/`Error` spellings for
SpanKind and StatusCode, and every attribute value as a string. These helpers
turn what the SDK recorded in memory into those values, so that tests compare
stored rows with what the SDK really sent rather than with a second copy of
the test's own literals.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone

from opentelemetry.trace import SpanKind, StatusCode

SPAN_KIND_TEXT = {
    SpanKind.INTERNAL: "Internal",
    SpanKind.SERVER: "Server",
    SpanKind.CLIENT: "Client",
    SpanKind.PRODUCER: "Producer",
    SpanKind.CONSUMER: "Consumer",
}

STATUS_CODE_TEXT = {
    StatusCode.UNSET: "Unset",
    StatusCode.OK: "Ok",
    StatusCode.ERROR: "Error",
}

# AggregationTemporality is stored as its number in the OTLP protobuf enum.
TEMPORALITY_DELTA = 1
TEMPORALITY_CUMULATIVE = 2


def trace_id_hex(trace_id: int) -> str:
    return format(trace_id, "032x") if trace_id else ""


def span_id_hex(span_id: int) -> str:
    return format(span_id, "016x") if span_id else ""


def parse_timestamp_ns(text: str) -> int:
    """Parse DuckDB's text form of a TIMESTAMP_NS (UTC) into Unix nanoseconds.

    DuckDB drops trailing zeros of the fraction and the whole fraction when it
    is zero, so `2026-01-02 03:04:05.12` means 120,000,000 ns.
    """
    whole, _, fraction = text.partition(".")
    seconds = datetime.strptime(whole, "%Y-%m-%d %H:%M:%S").replace(tzinfo=timezone.utc)
    nanos = int(fraction.ljust(9, "0")) if fraction else 0
    assert 0 <= nanos < 1_000_000_000, f"fraction of {text!r} is not nanoseconds"
    return int(seconds.timestamp()) * 1_000_000_000 + nanos


def attribute_text(value) -> str | list:
    """Return the stored string for one attribute value.

    Arrays come back as a Python list, because the stored JSON text is
    compared after decoding (whitespace inside it is not part of the
    contract). Doubles use Python's repr, which is the shortest round-trip
    text; Go and Rust print integral doubles without `.0`, so tests only use
    doubles with a fraction.
    """
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, str)):
        return str(value)
    if isinstance(value, float):
        assert not value.is_integer(), "integral doubles have no agreed text form"
        return repr(value)
    if isinstance(value, Sequence):
        return list(value)
    raise TypeError(f"unsupported attribute value {value!r}")


def expected_attributes(attributes: Mapping | None) -> dict:
    return {key: attribute_text(value) for key, value in (attributes or {}).items()}


def assert_attributes(stored: Mapping, attributes: Mapping | None, label: str) -> None:
    """Assert that a stored MAP equals the SDK's attributes, key by key."""
    expected = expected_attributes(attributes)
    assert isinstance(stored, dict), f"{label}: MAP not returned as a JSON object: {stored!r}"
    missing = sorted(expected.keys() - stored.keys())
    extra = sorted(stored.keys() - expected.keys())
    assert (missing, extra) == ([], []), f"{label}: keys missing {missing}, unexpected {extra}"
    for key, value in expected.items():
        if isinstance(value, list):
            assert json.loads(stored[key]) == value, f"{label}[{key!r}] = {stored[key]!r}"
        else:
            assert stored[key] == value, f"{label}[{key!r}]"


def assert_span_row(row: Mapping, span) -> None:
    """Assert every column of an otel_traces row against an SDK ReadableSpan."""
    context = span.context
    name = span.name
    assert row["TraceId"] == trace_id_hex(context.trace_id), f"{name}: TraceId"
    assert row["SpanId"] == span_id_hex(context.span_id), f"{name}: SpanId"
    parent = span.parent.span_id if span.parent else 0
    assert row["ParentSpanId"] == span_id_hex(parent), f"{name}: ParentSpanId"
    assert row["TraceState"] == context.trace_state.to_header(), f"{name}: TraceState"
    assert row["SpanName"] == name
    assert row["SpanKind"] == SPAN_KIND_TEXT[span.kind], f"{name}: SpanKind"
    assert row["ServiceName"] == span.resource.attributes["service.name"]
    assert_attributes(row["ResourceAttributes"], span.resource.attributes, f"{name}: ResourceAttributes")
    assert row["ScopeName"] == span.instrumentation_scope.name, f"{name}: ScopeName"
    assert row["ScopeVersion"] == (span.instrumentation_scope.version or ""), f"{name}: ScopeVersion"
    assert_attributes(row["SpanAttributes"], span.attributes, f"{name}: SpanAttributes")
    assert parse_timestamp_ns(row["Timestamp"]) == span.start_time, f"{name}: Timestamp"
    assert row["Duration"] == span.end_time - span.start_time, f"{name}: Duration"
    assert row["StatusCode"] == STATUS_CODE_TEXT[span.status.status_code], f"{name}: StatusCode"
    assert row["StatusMessage"] == (span.status.description or ""), f"{name}: StatusMessage"
    assert row["OrderStatus"] == str(span.attributes.get("order.status", "")), f"{name}: OrderStatus"
    assert_events(row, span.events, name)
    assert_links(row, span.links, name)


def assert_events(row: Mapping, events, name: str) -> None:
    assert row["Events.Name"] == [event.name for event in events], f"{name}: Events.Name"
    stamps = [parse_timestamp_ns(text) for text in row["Events.Timestamp"]]
    assert stamps == [event.timestamp for event in events], f"{name}: Events.Timestamp"
    assert len(row["Events.Attributes"]) == len(events), f"{name}: Events.Attributes"
    for index, event in enumerate(events):
        assert_attributes(
            row["Events.Attributes"][index],
            event.attributes,
            f"{name}: Events.Attributes[{index}] ({event.name})",
        )


def assert_links(row: Mapping, links, name: str) -> None:
    contexts = [link.context for link in links]
    assert row["Links.TraceId"] == [trace_id_hex(c.trace_id) for c in contexts], f"{name}: Links.TraceId"
    assert row["Links.SpanId"] == [span_id_hex(c.span_id) for c in contexts], f"{name}: Links.SpanId"
    # The Python SDK's OTLP encoder (opentelemetry-exporter-otlp-proto-common
    # 1.45.2, _encode_links) does not send Link.trace_state, so none arrives.
    assert row["Links.TraceState"] == ["" for _ in contexts], f"{name}: Links.TraceState"
    assert len(row["Links.Attributes"]) == len(links), f"{name}: Links.Attributes"
    for index, link in enumerate(links):
        assert_attributes(row["Links.Attributes"][index], link.attributes, f"{name}: Links.Attributes[{index}]")


SPAN_COLUMNS = """
    Timestamp, TraceId, SpanId, ParentSpanId, TraceState, SpanName, SpanKind,
    ServiceName, ResourceAttributes, ScopeName, ScopeVersion, SpanAttributes,
    Duration, StatusCode, StatusMessage,
    "Events.Timestamp", "Events.Name", "Events.Attributes",
    "Links.TraceId", "Links.SpanId", "Links.TraceState", "Links.Attributes",
    OrderId, OperatorId, Lob, RumSessionId, UserId, OrderStatus
"""

LOG_COLUMNS = """
    Timestamp, TimestampTime, TraceId, SpanId, TraceFlags, SeverityText,
    SeverityNumber, ServiceName, Body, ResourceSchemaUrl, ResourceAttributes,
    ScopeSchemaUrl, ScopeName, ScopeVersion, ScopeAttributes, LogAttributes,
    OrderId, OperatorId, Lob, RumSessionId, UserId
"""


def sql_text(value: str) -> str:
    """Quote a string as a SQL literal."""
    return "'" + value.replace("'", "''") + "'"

"""Raw OTLP/HTTP protobuf requests for tests that need control over every byte.

The SDK exporters decide batching and retries themselves. The durability,
backpressure and auth tests must know which spans each request carried and
what the server returned for it. So they build `ExportTraceServiceRequest`
messages with the `opentelemetry-proto` classes and post them with
`requests`.
"""

from __future__ import annotations

import os
import time

import requests
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span

PROTOBUF = "application/x-protobuf"


def new_span_id() -> bytes:
    return os.urandom(8)


def new_trace_id() -> bytes:
    return os.urandom(16)


def span_request(
    service: str,
    span_ids: list[bytes],
    trace_id: bytes | None = None,
    padding_bytes: int = 0,
) -> ExportTraceServiceRequest:
    """Build one request holding one span per id, all in one trace.

    `padding_bytes` adds a string attribute of that length to each span, to
    size request bodies for queue-capacity tests.
    """
    trace_id = trace_id or new_trace_id()
    now = time.time_ns()
    spans = [
        Span(
            trace_id=trace_id,
            span_id=span_id,
            name="e2e step",
            kind=Span.SPAN_KIND_INTERNAL,
            start_time_unix_nano=now,
            end_time_unix_nano=now + 1_000_000,
            attributes=_padding(padding_bytes),
        )
        for span_id in span_ids
    ]
    resource_spans = ResourceSpans(scope_spans=[ScopeSpans(spans=spans)])
    resource_spans.resource.attributes.append(
        KeyValue(key="service.name", value=AnyValue(string_value=service))
    )
    return ExportTraceServiceRequest(resource_spans=[resource_spans])


def _padding(size: int) -> list[KeyValue]:
    if size <= 0:
        return []
    return [KeyValue(key="e2e.padding", value=AnyValue(string_value="x" * size))]


def post_spans(
    otlp_http_url: str,
    body: bytes,
    headers: dict[str, str],
    timeout_s: float = 30.0,
    session: requests.Session | None = None,
) -> requests.Response:
    sender = session or requests
    return sender.post(
        f"{otlp_http_url}/v1/traces",
        data=body,
        headers={"content-type": PROTOBUF, **headers},
        timeout=timeout_s,
    )

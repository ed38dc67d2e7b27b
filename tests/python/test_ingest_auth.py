"""Ingest-key checks on both OTLP listeners.

The key is accepted as a bare `authorization` header (what the HyperDX
browser SDK sends), as `authorization: Bearer <key>` and as
`x-exos-ingest-key`. Anything else is rejected with 401 over HTTP and
UNAUTHENTICATED over gRPC, and nothing from a rejected request is stored.
"""

from __future__ import annotations

import grpc
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2_grpc import TraceServiceStub

from otlp_payloads import new_span_id, post_spans, span_request
from otel_rows import sql_text

ACCEPTED_FORMS = {
    "bare": lambda key: {"authorization": key},
    "bearer": lambda key: {"authorization": f"Bearer {key}"},
    "exos_header": lambda key: {"x-exos-ingest-key": key},
}
REJECTED_FORMS = {
    "missing": lambda key: {},
    "wrong_bearer": lambda key: {"authorization": "Bearer not-the-key"},
    "wrong_exos_header": lambda key: {"x-exos-ingest-key": key + "x"},
    "basic_scheme": lambda key: {"authorization": f"Basic {key}"},
}


def stored_span_ids(server, service):
    rows = server.sql(f"SELECT SpanId FROM otel_traces WHERE ServiceName = {sql_text(service)}")
    return sorted(row["SpanId"] for row in rows)


def test_http_key_forms(exos):
    accepted = []
    for form, headers in ACCEPTED_FORMS.items():
        span_id = new_span_id()
        body = span_request("auth-http", [span_id]).SerializeToString()
        response = post_spans(exos.otlp_http_url, body, headers(exos.ingest_key))
        assert response.status_code == 200, f"{form}: {response.status_code} {response.text}"
        accepted.append(span_id.hex())

    for form, headers in REJECTED_FORMS.items():
        body = span_request("auth-http", [new_span_id()]).SerializeToString()
        response = post_spans(exos.otlp_http_url, body, headers(exos.ingest_key))
        assert response.status_code == 401, f"{form}: {response.status_code} {response.text}"

    assert stored_span_ids(exos, "auth-http") == sorted(accepted)


@pytest.mark.parametrize("form", sorted(ACCEPTED_FORMS) + sorted(REJECTED_FORMS))
def test_grpc_key_forms(exos, form):
    service = f"auth-grpc-{form}"
    span_id = new_span_id()
    request = span_request(service, [span_id])
    headers = {**ACCEPTED_FORMS, **REJECTED_FORMS}[form](exos.ingest_key)

    with grpc.insecure_channel(exos.otlp_grpc_address) as channel:
        stub = TraceServiceStub(channel)

        def export():
            return stub.Export(request, metadata=list(headers.items()), timeout=30)

        if form in ACCEPTED_FORMS:
            export()
            assert stored_span_ids(exos, service) == [span_id.hex()]
        else:
            with pytest.raises(grpc.RpcError) as raised:
                export()
            assert raised.value.code() == grpc.StatusCode.UNAUTHENTICATED
            assert stored_span_ids(exos, service) == []

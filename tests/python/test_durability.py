"""A 200 from the OTLP/HTTP listener means the rows survive a crash or a stop.

Several clients stream small protobuf batches with unique span ids and record
which requests were acknowledged. The server is killed with SIGKILL once about
half were, then restarted on the same data folder: every acknowledged span must
be stored exactly once, and the store must run SQL queries. On ClickHouse the
same must hold when the ClickHouse engine is killed with the server. A SIGTERM
in the middle of a stream must acknowledge the requests still queued, store
them and exit 0.
"""

from __future__ import annotations

import signal
import threading
import time

import requests

from otlp_payloads import new_span_id, post_spans, span_request
from otel_rows import sql_text
from stores import only_clickhouse

SERVICE = "durability"
REQUESTS = 200
SPANS_PER_REQUEST = 5
SENDERS = 4
KILL_AFTER_ACKS = REQUESTS // 2
ACK_WAIT_S = 120.0


class Stream:
    """Requests still to send and the outcome of those sent, shared by senders."""

    def __init__(self, batches: list[list[bytes]]):
        self.pending = list(enumerate(batches))
        self.acked: list[int] = []
        self.failed: dict[int, str] = {}
        self.lock = threading.Lock()
        self.half_acked = threading.Event()

    def next_batch(self):
        with self.lock:
            return self.pending.pop(0) if self.pending else None

    def record(self, index: int, outcome: str | None) -> None:
        with self.lock:
            if outcome is None:
                self.acked.append(index)
                if len(self.acked) >= KILL_AFTER_ACKS:
                    self.half_acked.set()
            else:
                self.failed[index] = outcome


def send_batches(server_url: str, key: str, stream: Stream) -> None:
    session = requests.Session()
    while (item := stream.next_batch()) is not None:
        index, span_ids = item
        body = span_request(SERVICE, span_ids).SerializeToString()
        try:
            response = post_spans(server_url, body, {"authorization": key}, session=session)
        except requests.RequestException as error:
            stream.record(index, type(error).__name__)
            continue
        stream.record(index, None if response.status_code == 200 else f"status {response.status_code}")


def test_sigkill_keeps_acked(exos_factory):
    check_kill_keeps_acked(exos_factory, kill_store=False)


@only_clickhouse
def test_sigkill_both_keeps_acked(exos_factory):
    check_kill_keeps_acked(exos_factory, kill_store=True)


def check_kill_keeps_acked(exos_factory, kill_store: bool) -> None:
    """Kill the server once half the requests were acknowledged, and the chdb harness too
    when `kill_store` is set. Then restart on the same data and check every acknowledged span."""
    first = exos_factory.start()
    credentials = first.credentials
    batches = [[new_span_id() for _ in range(SPANS_PER_REQUEST)] for _ in range(REQUESTS)]
    stream = Stream(batches)
    senders = [
        threading.Thread(target=send_batches, args=(first.otlp_http_url, first.ingest_key, stream))
        for _ in range(SENDERS)
    ]
    for sender in senders:
        sender.start()

    assert stream.half_acked.wait(ACK_WAIT_S), (
        f"only {len(stream.acked)} of {REQUESTS} requests acknowledged in {ACK_WAIT_S:.0f} s; "
        f"failures: {dict(list(stream.failed.items())[:5])}"
    )
    first.kill()
    if kill_store:
        first.harness.stop(signal.SIGKILL)
    for sender in senders:
        sender.join(60)
    assert all(not sender.is_alive() for sender in senders)

    acked = {span_id.hex() for index in stream.acked for span_id in batches[index]}
    sent = {span_id.hex() for batch in batches for span_id in batch}
    assert len(stream.acked) >= KILL_AFTER_ACKS
    assert stream.failed, "the kill landed after the last request: nothing was in flight"
    assert all(
        not reason.startswith("status") for reason in stream.failed.values()
    ), f"requests failed before the kill: {stream.failed}"

    # On ClickHouse the factory starts a killed harness again on the same port and data.
    second = exos_factory.start(data_dir=first.data_dir, credentials=credentials)
    assert not second.printed_credentials, "credentials printed again on restart"

    rows = second.sql(f"SELECT SpanId FROM otel_traces WHERE ServiceName = {sql_text(SERVICE)}")
    stored = [row["SpanId"] for row in rows]
    assert acked - set(stored) == set(), "acknowledged spans lost after SIGKILL"
    assert set(stored) <= sent
    assert len(stored) == len(set(stored)), "spans stored twice after restart"
    stored_set = set(stored)
    partial = [
        index for index, batch in enumerate(batches)
        if 0 < len({span_id.hex() for span_id in batch} & stored_set) < len(batch)
    ]
    assert partial == [], "requests stored in part"

    count = second.sql_value(f"SELECT count(*) FROM otel_traces WHERE ServiceName = {sql_text(SERVICE)}")
    assert count == len(stored)
    assert second.sql_value("SELECT count(*) FROM otel_logs") == 0


SLOW_WRITES = ("--test-write-delay-ms", "300", "--batch-max-rows", "50")
DRAIN_REQUESTS = 40


def test_sigterm_drains_queue(exos_factory):
    first = exos_factory.start(SLOW_WRITES)
    credentials = first.credentials
    batches = [[new_span_id() for _ in range(SPANS_PER_REQUEST)] for _ in range(DRAIN_REQUESTS)]
    stream = Stream(batches)
    senders = [
        threading.Thread(target=send_batches, args=(first.otlp_http_url, first.ingest_key, stream))
        for _ in range(SENDERS)
    ]
    for sender in senders:
        sender.start()

    # With 300 ms per write, requests are still queued when the signal lands.
    deadline = time.monotonic() + ACK_WAIT_S
    while len(stream.acked) < SENDERS and time.monotonic() < deadline:
        time.sleep(0.01)
    acked_at_signal = len(stream.acked)
    assert first.stop() == 0, f"exit status on SIGTERM; stderr:\n{first.stderr_tail()}"
    for sender in senders:
        sender.join(60)

    acked = {span_id.hex() for index in stream.acked for span_id in batches[index]}
    assert acked_at_signal >= SENDERS
    # Each sender had its next request in flight, so the drain acknowledges them.
    assert len(stream.acked) > acked_at_signal, "no request in flight at SIGTERM was acknowledged"
    assert len(stream.acked) < DRAIN_REQUESTS, "every request finished before the signal"

    second = exos_factory.start(data_dir=first.data_dir, credentials=credentials)
    rows = second.sql(f"SELECT SpanId FROM otel_traces WHERE ServiceName = {sql_text(SERVICE)}")
    stored = {row["SpanId"] for row in rows}
    assert acked - stored == set(), "acknowledged spans lost after SIGTERM"
    assert len(rows) == len(stored), "spans stored twice"

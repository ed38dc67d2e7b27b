"""Backpressure of the OTLP/HTTP listener in front of a slow store.

The server runs with a 300 ms sleep before every batch write, a 200,000-byte
ingest queue and batches of at most 200 rows, so it writes at most about 670
rows a second. Concurrent clients offer far more than that:

- some requests get 429 or 503 with a Retry-After header, the rest 200, and
  nothing else;
- a rejected request stores nothing and an accepted one stores all its spans;
- the server's resident memory stays bounded (see RSS_GROWTH_LIMIT);
- the SDK's own OTLP/HTTP exporter, pushed back the same way, retries until
  every span it was given is stored.
"""

from __future__ import annotations

import email.utils
import threading
import time

import psutil
import requests
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

from otlp_payloads import new_span_id, post_spans, span_request
from otel_rows import sql_text

QUEUE_BYTES = 200_000
SLOW_SERVER_ARGS = (
    "--test-write-delay-ms",
    "300",
    "--queue-bytes",
    str(QUEUE_BYTES),
    "--batch-max-rows",
    "200",
)

BLAST_SERVICE = "backpressure-blast"
BLAST_THREADS = 8
BLAST_REQUESTS_PER_THREAD = 600
# Rejected requests return at once, so most senders finish within seconds.
# The last ones get through one at a time, and the limit stops them.
BLAST_TIME_LIMIT_S = 20.0
SPANS_PER_REQUEST = 20
PADDING_BYTES = 2_000  # makes each request body about 41 KB, so ~4 fit the queue
PUSHED_BACK = {429, 503}

# The blast offers up to 8 x 600 bodies of ~41 KB, about 197 MB. A server
# that bounds its queue keeps at most 200 KB of queued bodies, plus the 8
# bodies being read (~330 KB), plus one 200-row batch being decoded and
# written. The rest of its growth is allocator slack (freed request buffers
# kept by per-thread arenas) and DuckDB's cache of the rows written
# meanwhile. 96 MiB allows for that, yet is half of what the server would
# need to keep every offered body, so an unbounded queue crosses it.
# NOTE: a debug build on a 2-core machine peaked at 35-53 MiB of growth here.
RSS_GROWTH_LIMIT = 96 * 1024 * 1024
RSS_SAMPLE_INTERVAL_S = 0.02

SDK_SERVICE = "backpressure-sdk"
SDK_SPANS = 5_000
SDK_EXPORT_TIMEOUT_S = 120
SDK_FLUSH_TIMEOUT_MS = 300_000


class Outcomes:
    """Statuses and Retry-After headers of every blast request."""

    def __init__(self):
        self.lock = threading.Lock()
        self.statuses: list[int] = []
        self.retry_after: list[str | None] = []
        self.errors: list[str] = []

    def add(self, response: requests.Response) -> None:
        with self.lock:
            self.statuses.append(response.status_code)
            if response.status_code in PUSHED_BACK:
                self.retry_after.append(response.headers.get("retry-after"))

    def count(self, status: int) -> int:
        with self.lock:
            return self.statuses.count(status)


def blast(server, outcomes: Outcomes, stop: threading.Event, requests_per_thread: int) -> None:
    session = requests.Session()
    deadline = time.monotonic() + BLAST_TIME_LIMIT_S
    for _ in range(requests_per_thread):
        if stop.is_set() or time.monotonic() > deadline:
            return
        span_ids = [new_span_id() for _ in range(SPANS_PER_REQUEST)]
        body = span_request(BLAST_SERVICE, span_ids, padding_bytes=PADDING_BYTES).SerializeToString()
        try:
            response = post_spans(server.otlp_http_url, body, {"authorization": server.ingest_key}, session=session)
        except requests.RequestException as error:
            with outcomes.lock:
                outcomes.errors.append(repr(error))
            continue
        outcomes.add(response)


def start_blasters(server, outcomes, stop, threads, requests_per_thread):
    workers = [
        threading.Thread(target=blast, args=(server, outcomes, stop, requests_per_thread))
        for _ in range(threads)
    ]
    for worker in workers:
        worker.start()
    return workers


class RssSampler(threading.Thread):
    """Records the peak resident set size of a process until stopped."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.process = psutil.Process(pid)
        self.peak = self.process.memory_info().rss
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.wait(RSS_SAMPLE_INTERVAL_S):
            self.peak = max(self.peak, self.process.memory_info().rss)


def is_valid_retry_after(value: str | None) -> bool:
    """Accept both forms that RFC 9110 allows: delay-seconds or an HTTP-date."""
    if value is None:
        return False
    if value.strip().isdigit():
        return True
    return email.utils.parsedate_to_datetime(value) is not None


def stored_count(server, service: str) -> int:
    return server.sql_value(f"SELECT count(*) FROM otel_traces WHERE ServiceName = {sql_text(service)}")


def warm_up(server) -> None:
    """Send one accepted request so that tables and buffers exist before
    the memory baseline is taken."""
    body = span_request("backpressure-warm-up", [new_span_id()]).SerializeToString()
    response = post_spans(server.otlp_http_url, body, {"authorization": server.ingest_key})
    assert response.status_code == 200, response.text


def test_blast_pushback(exos_factory):
    server = exos_factory.start(SLOW_SERVER_ARGS)
    warm_up(server)
    baseline = psutil.Process(server.pid).memory_info().rss
    sampler = RssSampler(server.pid)
    sampler.start()

    outcomes = Outcomes()
    workers = start_blasters(server, outcomes, threading.Event(), BLAST_THREADS, BLAST_REQUESTS_PER_THREAD)
    for worker in workers:
        worker.join(BLAST_TIME_LIMIT_S + 120)
    sampler.stop.set()
    sampler.join()

    assert outcomes.errors == []
    assert set(outcomes.statuses) <= {200} | PUSHED_BACK, f"statuses: {sorted(set(outcomes.statuses))}"
    pushed_back = sum(outcomes.count(status) for status in PUSHED_BACK)
    assert pushed_back > 0, f"no 429/503 in {len(outcomes.statuses)} requests"
    assert outcomes.count(200) > 0
    invalid = [value for value in outcomes.retry_after if not is_valid_retry_after(value)]
    assert invalid == [], f"{len(invalid)} pushed-back responses without a valid Retry-After, e.g. {invalid[:3]}"

    growth = sampler.peak - baseline
    assert growth < RSS_GROWTH_LIMIT, f"RSS grew by {growth / 2**20:.1f} MiB (baseline {baseline / 2**20:.1f} MiB)"
    assert stored_count(server, BLAST_SERVICE) == outcomes.count(200) * SPANS_PER_REQUEST


def test_sdk_retries_until_stored(exos_factory):
    server = exos_factory.start(SLOW_SERVER_ARGS)

    sdk_statuses: list[int] = []
    session = requests.Session()
    session.hooks["response"].append(lambda response, *args, **kwargs: sdk_statuses.append(response.status_code))
    exporter = OTLPSpanExporter(
        endpoint=f"{server.otlp_http_url}/v1/traces",
        headers={"authorization": f"Bearer {server.ingest_key}"},
        timeout=SDK_EXPORT_TIMEOUT_S,
        session=session,
    )
    provider = TracerProvider(resource=Resource.create({"service.name": SDK_SERVICE}))
    provider.add_span_processor(
        BatchSpanProcessor(
            exporter,
            max_queue_size=SDK_SPANS * 2,
            max_export_batch_size=500,
            schedule_delay_millis=100,
        )
    )
    tracer = provider.get_tracer("exos.e2e.backpressure")

    # Other clients keep the queue full until the exporter has been pushed
    # back once, then stop so that its retries can get through.
    outcomes = Outcomes()
    stop_blast = threading.Event()
    blasters = start_blasters(server, outcomes, stop_blast, 4, BLAST_REQUESTS_PER_THREAD)
    for index in range(SDK_SPANS):
        tracer.start_span(f"step {index % 10}").end()
    deadline = time.monotonic() + BLAST_TIME_LIMIT_S
    while not PUSHED_BACK & set(sdk_statuses) and time.monotonic() < deadline:
        time.sleep(0.05)
    stop_blast.set()

    assert provider.force_flush(SDK_FLUSH_TIMEOUT_MS)
    provider.shutdown()
    for blaster in blasters:
        blaster.join(BLAST_TIME_LIMIT_S + 120)

    assert PUSHED_BACK & set(sdk_statuses), f"the exporter was never pushed back: {sorted(set(sdk_statuses))}"
    assert 200 in sdk_statuses
    assert stored_count(server, SDK_SERVICE) == SDK_SPANS
    assert stored_count(server, BLAST_SERVICE) == outcomes.count(200) * SPANS_PER_REQUEST

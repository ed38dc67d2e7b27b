"""A simulated order-processing service that sends its telemetry to exos.

Each order goes through the steps receive, validate, assign, review and
complete, worked by one operator in one line of business. The service records
one server span per order with a child span per step, a log record per step and
two metrics, all tagged with `order.id`, `operator.id` and `lob`, and exports
them with the OpenTelemetry Python SDK's OTLP/HTTP exporters.

Environment:
    EXOS_OTLP_ENDPOINT  base URL of the OTLP/HTTP listener (default http://127.0.0.1:4318)
    EXOS_INGEST_KEY     ingest key that `exos serve` printed on its first start (required)

Usage:
    python order_service.py [--orders N] [--duration SECONDS] [--seed N]
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import sys
import threading
import time
from dataclasses import dataclass

from opentelemetry._logs import SeverityNumber
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import SpanKind, Status, StatusCode

SERVICE_NAME = "order-service"
DEFAULT_ENDPOINT = "http://127.0.0.1:4318"
STEPS = ("receive", "validate", "assign", "review", "complete")
LOBS = ("Appraisal", "Title", "Flood")
OPERATORS = ("op-101", "op-102", "op-205", "op-311", "op-437")
REVIEW_FAILURE_RATE = 0.1
# Simulated work per step, in seconds: short enough to send dozens of
# orders a second, varied enough for duration percentiles to differ.
STEP_SECONDS = {"receive": 0.002, "validate": 0.004, "assign": 0.006, "review": 0.015, "complete": 0.003}
METRIC_EXPORT_INTERVAL_MS = 10_000


@dataclass(frozen=True)
class Order:
    order_id: str
    operator_id: str
    lob: str

    def attributes(self) -> dict[str, str]:
        return {"order.id": self.order_id, "operator.id": self.operator_id, "lob": self.lob}


class Telemetry:
    """The SDK providers and the instruments this service records with."""

    def __init__(self, endpoint: str, ingest_key: str):
        headers = {"authorization": f"Bearer {ingest_key}"}
        resource = Resource.create({"service.name": SERVICE_NAME, "service.version": "1.0.0"})

        self.tracer_provider = TracerProvider(resource=resource)
        self.tracer_provider.add_span_processor(
            BatchSpanProcessor(OTLPSpanExporter(endpoint=f"{endpoint}/v1/traces", headers=headers))
        )
        self.logger_provider = LoggerProvider(resource=resource)
        self.logger_provider.add_log_record_processor(
            BatchLogRecordProcessor(OTLPLogExporter(endpoint=f"{endpoint}/v1/logs", headers=headers))
        )
        reader = PeriodicExportingMetricReader(
            OTLPMetricExporter(endpoint=f"{endpoint}/v1/metrics", headers=headers),
            export_interval_millis=METRIC_EXPORT_INTERVAL_MS,
        )
        self.meter_provider = MeterProvider(resource=resource, metric_readers=[reader])

        self.tracer = self.tracer_provider.get_tracer("order_service", "1.0.0")
        self.logger = self.logger_provider.get_logger("order_service", "1.0.0")
        meter = self.meter_provider.get_meter("order_service", "1.0.0")
        self.orders_completed = meter.create_counter(
            "exos.example.orders.completed", unit="{order}", description="Orders that reached the complete step"
        )
        self.step_duration = meter.create_histogram(
            "exos.example.step.duration", unit="ms", description="Time spent in one order step"
        )

    def shutdown(self) -> None:
        """Export everything still buffered, then stop the exporters.

        Each provider's shutdown exports what it buffered, and the meter
        provider's also collects and exports the metrics one last time.
        """
        self.tracer_provider.shutdown()
        self.logger_provider.shutdown()
        self.meter_provider.shutdown()


def process_order(telemetry: Telemetry, order: Order, rng: random.Random) -> None:
    with telemetry.tracer.start_as_current_span(
        "process order", kind=SpanKind.SERVER, attributes=order.attributes()
    ):
        for step in STEPS:
            run_step(telemetry, order, step, rng)
    telemetry.orders_completed.add(1, {"lob": order.lob})


def run_step(telemetry: Telemetry, order: Order, step: str, rng: random.Random) -> None:
    attributes = {**order.attributes(), "order.step": step}
    started = time.monotonic()
    with telemetry.tracer.start_as_current_span(step, attributes=attributes) as span:
        time.sleep(STEP_SECONDS[step] * rng.uniform(0.5, 2.0))
        if step == "review" and rng.random() < REVIEW_FAILURE_RATE:
            span.set_status(Status(StatusCode.ERROR, "review found missing documents"))
            telemetry.logger.emit(
                severity_number=SeverityNumber.ERROR,
                severity_text="ERROR",
                body=f"review of {order.order_id} found missing documents",
                attributes=attributes,
            )
        else:
            telemetry.logger.emit(
                severity_number=SeverityNumber.INFO,
                severity_text="INFO",
                body=f"{step} done for {order.order_id}",
                attributes=attributes,
            )
    elapsed_ms = (time.monotonic() - started) * 1000
    telemetry.step_duration.record(elapsed_ms, {"order.step": step, "lob": order.lob})


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Simulate order processing and send telemetry to exos.")
    parser.add_argument("--orders", type=int, default=0, help="stop after this many orders (0: no limit)")
    parser.add_argument("--duration", type=float, default=0, help="stop after this many seconds (0: no limit)")
    parser.add_argument("--seed", type=int, default=None, help="random seed, for a repeatable sequence")
    return parser.parse_args()


def main() -> int:
    arguments = parse_arguments()
    endpoint = os.environ.get("EXOS_OTLP_ENDPOINT", DEFAULT_ENDPOINT).rstrip("/")
    ingest_key = os.environ.get("EXOS_INGEST_KEY")
    if not ingest_key:
        print("order_service: EXOS_INGEST_KEY is not set: use the `ingest key:` that exos serve printed", file=sys.stderr)
        return 2

    # SIGTERM and Ctrl-C stop the loop after the current order, so that
    # buffered telemetry is still flushed.
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())

    rng = random.Random(arguments.seed)
    telemetry = Telemetry(endpoint, ingest_key)
    deadline = time.monotonic() + arguments.duration if arguments.duration > 0 else None
    # A per-run prefix keeps order ids unique across runs into the same store.
    run_prefix = f"ORD-{time.strftime('%Y')}-{random.SystemRandom().randrange(100, 1000)}"
    sent = 0
    while not stop.is_set():
        if arguments.orders and sent >= arguments.orders:
            break
        if deadline is not None and time.monotonic() >= deadline:
            break
        order = Order(
            order_id=f"{run_prefix}{sent + 1:05d}",
            operator_id=rng.choice(OPERATORS),
            lob=rng.choice(LOBS),
        )
        process_order(telemetry, order, rng)
        sent += 1

    telemetry.shutdown()
    print(f"order_service: sent {sent} orders to {endpoint}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

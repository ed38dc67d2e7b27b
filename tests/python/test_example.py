"""The example order service, run for a few seconds against a real exos."""

from __future__ import annotations

import math
import os
import re
import subprocess
import sys
from collections import defaultdict

import pytest

from stores import ON_CLICKHOUSE

EXAMPLE_DIR = ("examples", "python-order-service")
RUN_SECONDS = 3
RUN_TIMEOUT_S = 120
STEPS = {"receive", "validate", "assign", "review", "complete"}
LOBS = {"Appraisal", "Title", "Flood"}
SENT_LINE = re.compile(r"^order_service: sent (\d+) orders to ", re.MULTILINE)
# The example's query is DuckDB SQL. On ClickHouse it runs with `quantile` in place
# of quantile_cont. ClickHouse's `quantile` samples a reservoir of up to 8,192 values
# (ClickHouse docs, "quantile"), so below that it keeps every value and interpolates
# between ranks as quantile_cont does. test_example_query checks that equality.
DUCKDB_P90 = "quantile_cont(Duration, 0.9)"
CLICKHOUSE_P90 = "quantile(0.9)(Duration)"
# Both stores round the milliseconds to 2 digits, but ties may round either way.
ROUNDING_MS = 0.0051


@pytest.fixture(scope="module")
def example_run(module_exos, repo_root):
    """Run the example for RUN_SECONDS and return the number of orders it sent."""
    script = repo_root.joinpath(*EXAMPLE_DIR, "order_service.py")
    environment = {
        **os.environ,
        "EXOS_OTLP_ENDPOINT": module_exos.otlp_http_url,
        "EXOS_INGEST_KEY": module_exos.ingest_key,
    }
    completed = subprocess.run(
        [sys.executable, str(script), "--duration", str(RUN_SECONDS), "--seed", "7"],
        env=environment,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
    )
    assert completed.returncode == 0, f"stdout:\n{completed.stdout}\nstderr:\n{completed.stderr}"
    assert "Failed to export" not in completed.stderr, completed.stderr
    match = SENT_LINE.search(completed.stdout)
    assert match, f"no summary line in stdout:\n{completed.stdout}"
    orders = int(match.group(1))
    assert orders > 0
    return orders


def test_example_spans(module_exos, example_run):
    orders = example_run
    rows = module_exos.sql(
        "SELECT SpanName, SpanKind, ParentSpanId, OrderId, OperatorId, Lob, SpanAttributes "
        "FROM otel_traces WHERE ServiceName = 'order-service'"
    )
    roots = [row for row in rows if row["ParentSpanId"] == ""]
    steps = [row for row in rows if row["ParentSpanId"] != ""]
    assert len(roots) == orders
    assert len(steps) == orders * len(STEPS)
    assert {row["SpanName"] for row in roots} == {"process order"}
    assert {row["SpanKind"] for row in roots} == {"Server"}
    assert {row["SpanName"] for row in steps} == STEPS
    assert len({row["OrderId"] for row in rows}) == orders
    assert all(row["OrderId"].startswith("ORD-") for row in rows)
    assert all(row["OperatorId"].startswith("op-") for row in rows)
    assert {row["Lob"] for row in rows} <= LOBS
    assert all(row["SpanAttributes"]["order.step"] == row["SpanName"] for row in steps)


def test_example_logs(module_exos, example_run):
    orders = example_run
    rows = module_exos.sql(
        "SELECT SeverityText, OrderId, Lob, LogAttributes FROM otel_logs WHERE ServiceName = 'order-service'"
    )
    assert len(rows) == orders * len(STEPS)
    assert {row["SeverityText"] for row in rows} <= {"INFO", "ERROR"}
    assert len({row["OrderId"] for row in rows}) == orders
    assert {row["Lob"] for row in rows} <= LOBS
    assert {row["LogAttributes"]["order.step"] for row in rows} == STEPS


def test_example_metrics(module_exos, example_run):
    orders = example_run
    completed = module_exos.sql(
        "SELECT Attributes, Value, IsMonotonic FROM otel_metrics_sum "
        "WHERE ServiceName = 'order-service' AND MetricName = 'exos.example.orders.completed'"
    )
    # Cumulative sums: the largest point per lob is the run's total for it.
    totals: dict[str, float] = {}
    for row in completed:
        lob = row["Attributes"]["lob"]
        totals[lob] = max(totals.get(lob, 0), row["Value"])
    assert set(totals) <= LOBS
    assert sum(totals.values()) == orders
    assert all(row["IsMonotonic"] is True for row in completed)

    durations = module_exos.sql(
        "SELECT Attributes, Count FROM otel_metrics_histogram "
        "WHERE ServiceName = 'order-service' AND MetricName = 'exos.example.step.duration'"
    )
    assert {row["Attributes"]["order.step"] for row in durations} == STEPS
    assert all(row["Count"] >= 1 for row in durations)


def example_query_for_store(query: str) -> str:
    if not ON_CLICKHOUSE:
        return query
    assert DUCKDB_P90 in query, f"the example query no longer uses {DUCKDB_P90}"
    return query.replace(DUCKDB_P90, CLICKHOUSE_P90)


def interpolated_quantile(values: list[int], level: float) -> float:
    """Return the quantile that interpolates between the two closest ranks (R type 7)."""
    ordered = sorted(values)
    position = level * (len(ordered) - 1)
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def expected_step_rows(server) -> dict[tuple[str, str], dict]:
    """Compute the example query's figures in Python from the stored step spans."""
    spans = server.sql(
        "SELECT Lob, SpanName, OrderId, StatusCode, Duration FROM otel_traces "
        "WHERE ServiceName = 'order-service' AND ParentSpanId <> ''"
    )
    groups = defaultdict(list)
    for span in spans:
        groups[(span["Lob"], span["SpanName"])].append(span)
    return {
        key: {
            "spans": len(group),
            "orders": len({span["OrderId"] for span in group}),
            "failed": sum(span["StatusCode"] == "Error" for span in group),
            "avg_ms": sum(span["Duration"] for span in group) / len(group) / 1e6,
            "p90_ms": interpolated_quantile([span["Duration"] for span in group], 0.9) / 1e6,
        }
        for key, group in groups.items()
    }


def test_example_query(module_exos, example_run, repo_root):
    orders = example_run
    query_path = repo_root.joinpath(*EXAMPLE_DIR, "queries", "spans_per_lob_and_step.sql")
    query = query_path.read_text()
    rows = module_exos.sql(example_query_for_store(query))
    assert {row["step"] for row in rows} == STEPS
    assert {row["Lob"] for row in rows} <= LOBS
    assert sum(row["spans"] for row in rows) == orders * len(STEPS)
    assert [(row["Lob"], row["step"]) for row in rows] == sorted((row["Lob"], row["step"]) for row in rows)

    expected = expected_step_rows(module_exos)
    assert {(row["Lob"], row["step"]) for row in rows} == set(expected)
    for row in rows:
        want = expected[(row["Lob"], row["step"])]
        label = f"{row['Lob']} / {row['step']}"
        assert (row["spans"], row["orders"], row["failed"]) == (
            want["spans"],
            want["orders"],
            want["failed"],
        ), label
        assert abs(row["avg_ms"] - want["avg_ms"]) <= ROUNDING_MS, f"{label}: avg_ms"
        assert abs(row["p90_ms"] - want["p90_ms"]) <= ROUNDING_MS, f"{label}: p90_ms"

    readme = repo_root.joinpath(*EXAMPLE_DIR, "README.md").read_text()
    statement = "\n".join(line for line in query.splitlines() if not line.startswith("--")).strip()
    assert statement in readme, "README.md shows a different query than queries/spans_per_lob_and_step.sql"

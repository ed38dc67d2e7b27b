"""`exos simulate` against a real server: what is stored matches the simulator's truth.

One seeded run (400 orders over 14 days ending at a fixed time) goes through the
OTLP receivers of a fresh `exos serve`. The tests then read the store through
`/api/sql` only. Business spans are the spans named after a process activity;
an order's variant is its activity names ordered by span Timestamp.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
from collections import defaultdict
from pathlib import Path

import pytest

from stores import by_store

EXOS_BIN = os.environ.get("EXOS_BIN", os.path.expanduser("~/.cache/exos-target/debug/exos"))
SIMULATE_TIMEOUT_S = 120
ORDERS = 400
DAYS = 14
END = "2026-03-01T00:00:00Z"
EPOCH_NS = by_store("epoch_ns(Timestamp)", "toUnixTimestamp64Nano(Timestamp)")


class Run:
    """A finished simulation: the server it filled, its truth file and its report."""

    def __init__(self, server, truth: dict, report: dict):
        self.server = server
        self.truth = truth
        self.report = report

    @property
    def activity_names(self) -> list[str]:
        return [activity["name"] for activity in self.truth["activities"]]

    def in_activities(self) -> str:
        return ", ".join(f"'{name}'" for name in self.activity_names)


@pytest.fixture(scope="module")
def run(module_exos, tmp_path_factory) -> Run:
    folder = tmp_path_factory.mktemp("simulate")
    truth_path = folder / "truth.json"
    report_path = folder / "report.json"
    command = [
        EXOS_BIN, "simulate",
        "--url", module_exos.otlp_http_url,
        "--key", module_exos.ingest_key,
        "--orders", str(ORDERS), "--days", str(DAYS), "--seed", "42", "--end", END,
        "--truth", str(truth_path), "--report", str(report_path),
    ]
    completed = subprocess.run(command, capture_output=True, text=True, timeout=SIMULATE_TIMEOUT_S)
    assert completed.returncode == 0, (
        f"exos simulate exited {completed.returncode}\nstdout:\n{completed.stdout}\n"
        f"stderr:\n{completed.stderr[-4000:]}"
    )
    return Run(module_exos, json.loads(truth_path.read_text()), json.loads(report_path.read_text()))


def acknowledged(run: Run, stream: str) -> int:
    return run.report["streams"][stream]["acknowledged"]


def business_rows(run: Run) -> list[dict]:
    return run.server.sql(
        f"SELECT OrderId, OperatorId, SpanName, {EPOCH_NS} AS StartNs, Duration "
        f"FROM otel_traces WHERE SpanName IN ({run.in_activities()}) AND OrderId != '' "
        "ORDER BY OrderId, Timestamp"
    )


def test_report_has_no_losses(run):
    total = run.report["total"]
    assert total["failed"] == 0
    assert total["rejected"] == 0
    assert total["acknowledged"] == total["sent"]
    for stream, generated in run.truth["records"].items():
        assert run.report["streams"][stream]["sent"] == generated, stream


def test_stored_counts_match_report(run):
    spans = run.server.sql_value("SELECT count(*) FROM otel_traces")
    assert int(spans) == acknowledged(run, "spans") + acknowledged(run, "browser_spans")
    logs = run.server.sql_value("SELECT count(*) FROM otel_logs")
    assert int(logs) == acknowledged(run, "logs")
    replay = run.server.sql_value("SELECT count(*) FROM hyperdx_sessions")
    assert int(replay) == acknowledged(run, "replay_records")
    points = sum(
        int(run.server.sql_value(f"SELECT count(*) FROM otel_metrics_{kind}"))
        for kind in ("sum", "gauge", "histogram")
    )
    assert points == acknowledged(run, "metric_points")


def test_activity_counts_match_truth(run):
    rows = run.server.sql(
        f"SELECT SpanName, count(*) AS n FROM otel_traces "
        f"WHERE SpanName IN ({run.in_activities()}) GROUP BY SpanName"
    )
    stored = {row["SpanName"]: int(row["n"]) for row in rows}
    assert stored == run.truth["activity_counts"]


def test_variants_match_truth(run):
    sequences: dict[str, list[str]] = defaultdict(list)
    for row in business_rows(run):
        sequences[row["OrderId"]].append(row["SpanName"])
    variants: dict[str, int] = defaultdict(int)
    for names in sequences.values():
        variants[",".join(names)] += 1
    assert dict(variants) == run.truth["variants"]
    assert len(variants) >= 10, f"only {len(variants)} variants"


def test_slow_release_visible(run):
    release = run.truth["incidents"]["slow_release"]
    rows = [row for row in business_rows(run) if row["SpanName"] == release["activity"]]
    before = [int(row["Duration"]) for row in rows if int(row["StartNs"]) < release["release_ns"]]
    after = [int(row["Duration"]) for row in rows if int(row["StartNs"]) >= release["release_ns"]]
    assert len(before) >= 5, f"{len(before)} spans before the release"
    assert len(after) >= 5, f"{len(after)} spans after the release"
    ratio = statistics.median(after) / statistics.median(before)
    assert ratio >= 2.5, f"median after / before = {ratio:.2f}"


def error_rate(run: Run, service: str, where: str) -> tuple[float, int]:
    rows = run.server.sql(
        "SELECT StatusCode, count(*) AS n FROM otel_traces "
        f"WHERE ServiceName = '{service}' AND SpanKind = 'Server' AND {where} GROUP BY StatusCode"
    )
    counts = {row["StatusCode"]: int(row["n"]) for row in rows}
    total = sum(counts.values())
    return (counts.get("Error", 0) / total if total else 0.0), total


def test_outage_visible(run):
    outage = run.truth["incidents"]["outage"]
    window = f"{EPOCH_NS} >= {outage['start_ns']} AND {EPOCH_NS} < {outage['end_ns']}"
    inside, inside_total = error_rate(run, outage["service"], window)
    outside, outside_total = error_rate(run, outage["service"], f"NOT ({window})")
    assert inside_total >= 10, f"{inside_total} server spans in the outage window"
    assert outside_total >= 100, f"{outside_total} server spans outside the window"
    assert inside >= 0.5, f"error rate inside the outage {inside:.2f}"
    assert outside <= 0.05, f"error rate outside the outage {outside:.2f}"


def test_high_rework_operator_stands_out(run):
    """Rework rate of an operator: Rework spans per order of theirs that reached a Quality Check."""
    orders: dict[str, list[dict]] = defaultdict(list)
    for row in business_rows(run):
        orders[row["OrderId"]].append(row)
    checked: dict[str, int] = defaultdict(int)
    reworks: dict[str, int] = defaultdict(int)
    for steps in orders.values():
        worker = next((s["OperatorId"] for s in steps if s["SpanName"] == "Review Documents"), None)
        if worker is None or not any(s["SpanName"] == "Quality Check" for s in steps):
            continue
        checked[worker] += 1
        reworks[worker] += sum(1 for s in steps if s["SpanName"] == "Rework")
    rates = {op: reworks[op] / n for op, n in checked.items() if n >= 3}
    expected = run.truth["incidents"]["high_rework_operator"]
    assert expected in rates, f"{expected} has {checked.get(expected, 0)} checked orders"
    highest = max(rates, key=rates.get)
    assert highest == expected, f"highest rework rate: {highest} {rates[highest]:.2f}, {expected} {rates[expected]:.2f}"


def test_large_snapshot_reassembles(run):
    rows = run.server.sql(
        "SELECT LogAttributes['rr-web.chunk'] AS chunk, LogAttributes['rr-web.total-chunks'] AS total, "
        "length(Body) AS bytes FROM hyperdx_sessions "
        "WHERE LogAttributes['rr-web.total-chunks'] != '1' ORDER BY Timestamp"
    )
    assert len(rows) >= 2, "no replay event was split into chunks"
    assert {row["chunk"] for row in rows} >= {"1", "2"}


def test_browser_sessions_visible(run):
    sessions = int(run.server.sql_value("SELECT count(*) FROM sessions WHERE PageViews > 0"))
    assert sessions == run.truth["browser_sessions"]
    actions = int(run.server.sql_value("SELECT count(*) FROM user_actions WHERE TargetElement = 'BUTTON'"))
    assert actions >= sessions

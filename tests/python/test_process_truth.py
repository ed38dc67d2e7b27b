"""The process endpoints recover what the simulator generated.

One seeded `exos simulate` run (400 orders over 14 days, as in test_demo_truth.py) goes
through the OTLP receivers of a fresh `exos serve`; the tests then ask only the
`/api/process/*` routes with the default log definition (orders by `order.id`,
activities by span name, root spans outside browser sessions) and compare the responses
with the truth file: variants, transitions and activity counts exactly, the slowed-down
activity and its release time, and the operator with injected high rework.
"""

from __future__ import annotations

import json
import os
import subprocess

import pytest
import requests

EXOS_BIN = os.environ.get("EXOS_BIN", os.path.expanduser("~/.cache/exos-target/debug/exos"))
SIMULATE_TIMEOUT_S = 120
REQUEST_TIMEOUT_S = 120
ORDERS = 400
DAYS = 14
END = "2026-03-01T00:00:00Z"
NS_PER_MS = 1_000_000
DAY_MS = 86_400_000


class Run:
    """A finished simulation: the server it filled and its truth file."""

    def __init__(self, server, truth: dict):
        self.server = server
        self.truth = truth

    def scope(self, **filters) -> dict:
        """The whole simulated window, with a day of margin after its end."""
        settings = self.truth["settings"]
        return {
            "from": str(settings["start_ns"] // NS_PER_MS),
            "to": str(settings["end_ns"] // NS_PER_MS + DAY_MS),
            "filters": filters,
        }

    def post(self, route: str, body: dict) -> requests.Response:
        return requests.post(
            f"{self.server.http_url}/api/process/{route}",
            json=body,
            auth=("admin", self.server.admin_password),
            timeout=REQUEST_TIMEOUT_S,
        )

    def post_text(self, route: str, text: str) -> requests.Response:
        return requests.post(
            f"{self.server.http_url}/api/process/{route}",
            data=text.encode(),
            headers={"Content-Type": "application/json"},
            auth=("admin", self.server.admin_password),
            timeout=REQUEST_TIMEOUT_S,
        )

    def ask(self, route: str, body: dict) -> dict:
        response = self.post(route, body)
        assert response.status_code == 200, f"{route}: {response.status_code} {response.text[:2000]}"
        return response.json()


@pytest.fixture(scope="module")
def run(module_exos, tmp_path_factory) -> Run:
    folder = tmp_path_factory.mktemp("process-truth")
    truth_path = folder / "truth.json"
    command = [
        EXOS_BIN, "simulate",
        "--url", module_exos.otlp_http_url,
        "--key", module_exos.ingest_key,
        "--orders", str(ORDERS), "--days", str(DAYS), "--seed", "42", "--end", END,
        "--truth", str(truth_path),
    ]
    completed = subprocess.run(command, capture_output=True, text=True, timeout=SIMULATE_TIMEOUT_S)
    assert completed.returncode == 0, (
        f"exos simulate exited {completed.returncode}\nstderr:\n{completed.stderr[-4000:]}"
    )
    return Run(module_exos, json.loads(truth_path.read_text()))


def test_variants_equal_truth(run):
    answer = run.ask("variants", {"scope": run.scope(), "limit": 5000})
    found = {",".join(v["activities"]): v["count"] for v in answer["variants"]}
    assert answer["total_variants"] == len(answer["variants"])
    assert found == run.truth["variants"]
    assert answer["cases"] == sum(run.truth["variants"].values())


def test_map_transitions_and_activity_counts_equal_truth(run):
    answer = run.ask("map", {"scope": run.scope()})
    transitions = {f"{e['from']} -> {e['to']}": e["count"] for e in answer["edges"]}
    assert transitions == run.truth["transitions"]
    counts = {node["name"]: node["count"] for node in answer["nodes"]}
    assert counts == run.truth["activity_counts"]
    assert answer["total_edges"] == len(run.truth["transitions"])


def test_throughput_completes_closed_and_cancelled_orders_only(run):
    answer = run.ask("cases", {"scope": run.scope(), "bucket": "day"})
    started = sum(row["cases_started"] for row in answer["throughput"])
    completed = sum(row["cases_completed"] for row in answer["throughput"])
    assert started == answer["cases"] == sum(run.truth["variants"].values())
    assert run.truth["orders_in_flight"] > 0, "the run should leave orders in flight"
    assert completed == run.truth["orders_closed"] + run.truth["orders_cancelled"]
    assert completed == answer["cases"] - run.truth["orders_in_flight"]
    assert answer["end_activities"], "no end activity found"


def test_sliders_thin_the_map(run):
    full = run.ask("map", {"scope": run.scope()})
    thin = run.ask("map", {"scope": run.scope(), "activity_share": 0.5, "path_share": 0.2})
    assert len(thin["nodes"]) == -(-full["total_activities"] // 2)
    assert len(thin["edges"]) < len(full["edges"])
    kept = {node["name"] for node in thin["nodes"]}
    counts = sorted((node["count"] for node in full["nodes"]), reverse=True)
    assert min(node["count"] for node in thin["nodes"]) >= counts[len(kept) - 1]


def test_highlighted_variant_is_the_most_frequent(run):
    answer = run.ask("map", {"scope": run.scope(), "highlight_variant": 0})
    top = max(run.truth["variants"].items(), key=lambda item: item[1])
    assert answer["highlight"]["count"] == top[1]
    assert run.truth["variants"][",".join(answer["highlight"]["activities"])] == top[1]


def test_slowed_activity_is_the_top_slowdown(run):
    release = run.truth["incidents"]["slow_release"]
    answer = run.ask("bottlenecks", {"scope": run.scope()})
    top = answer["slowdowns"][0]
    assert top["activity"] == release["activity"], answer["slowdowns"][:3]
    assert top["factor"] >= 2.5
    # The split lands on an event start, so it is at or after the release, and close to it.
    release_ms = release["release_ns"] // NS_PER_MS
    assert abs(top["since_ms"] - release_ms) <= 2 * DAY_MS, (top["since_ms"], release_ms)


def test_waiting_time_shares_add_up(run):
    answer = run.ask("bottlenecks", {"scope": run.scope(), "limit": 1000})
    assert abs(sum(edge["share"] for edge in answer["edges"]) - 1.0) < 1e-9
    assert abs(sum(a["share"] for a in answer["activities"]) - 1.0) < 1e-9
    shares = [edge["share"] for edge in answer["edges"]]
    assert shares == sorted(shares, reverse=True)


def test_high_rework_operator_has_the_highest_rate(run):
    answer = run.ask("rework", {"scope": run.scope(), "min_cases": 5})
    expected = run.truth["incidents"]["high_rework_operator"]
    top = answer["operators"][0]
    assert top["name"] == expected, answer["operators"][:3]
    rework = {row["activity"]: row for row in answer["activities"]}
    assert rework["Quality Check"]["repetitions"] == run.truth["activity_counts"]["Rework"]


def test_lob_filter_keeps_only_that_lob(run):
    lob, orders = sorted(run.truth["orders_by_lob"].items())[0]
    answer = run.ask("variants", {"scope": run.scope(case_attributes={"lob": [lob]}), "limit": 5000})
    assert answer["cases"] == orders


def test_case_trace_links_spans_and_sessions(run):
    variants = run.ask("variants", {"scope": run.scope(), "limit": 1})
    case = variants["variants"][0]["example_cases"][0]
    trace = run.ask(f"case/{case}", {"scope": run.scope()})
    names = [event["activity"] for event in trace["events"]]
    assert names == variants["variants"][0]["activities"]
    assert all(len(event["trace_id"]) == 32 for event in trace["events"])
    assert sum(event["logs"] for event in trace["events"]) >= len(names)
    stored = run.server.sql_value(
        f"SELECT count(DISTINCT TraceId) FROM otel_traces WHERE OrderId = '{case}' AND ParentSpanId = '' "
        "AND RumSessionId = ''"
    )
    assert int(stored) == len(names)
    missing = run.post("case/NO-SUCH-ORDER", {"scope": run.scope()})
    assert missing.status_code == 404
    assert "NO-SUCH-ORDER" in missing.json()["error"]["message"]


def test_discovery_and_conformance_cover_the_activities(run):
    discovery = run.ask("discovery", {"scope": run.scope(), "noise_threshold": 0.0})
    for activity in run.truth["activity_counts"]:
        assert f"'{activity}'" in discovery["tree"], activity
        assert activity in discovery["petri_mermaid"], activity
    response = run.post("conformance", {"scope": run.scope(), "noise_threshold": 0.0, "time_budget_seconds": 60})
    assert response.status_code == 200, response.text[:2000]
    lines = [json.loads(line) for line in response.text.splitlines()]
    assert lines[-1]["kind"] == "result", lines[-1]
    result = lines[-1]
    assert result["complete"] is True
    assert result["aligned_variants"] == len(run.truth["variants"])
    # The plain inductive miner (noise 0) guarantees a model that fits every trace.
    assert result["perc_fit_traces"] == pytest.approx(100.0)
    assert result["alignment_fitness"] == pytest.approx(1.0)
    assert all(line["kind"] == "progress" for line in lines[:-1])


def test_bad_requests_name_the_field(run):
    response = run.post("map", {"scope": run.scope(), "path_share": 3})
    assert response.status_code == 400
    assert "path_share" in response.json()["error"]["message"]
    response = run.post("variants", {"scope": {"log": {"case": ""}}})
    assert response.status_code == 400
    assert "log.case" in response.json()["error"]["message"]
    response = run.post("map", {"scope": run.scope(), "unknown": 1})
    assert response.status_code == 400
    for text in ("null", " []", '"map"'):
        response = run.post_text("map", text)
        assert response.status_code == 400, text
        message = response.json()["error"]["message"]
        assert "expected a JSON object" in message, message
        assert "MapRequest" not in message, message
    response = run.post("map", {"scope": {"from": run.scope()["from"], "to": 1.5}})
    assert response.status_code == 400
    assert "epoch milliseconds" in response.json()["error"]["message"]
    response = run.post("map", {"scope": {**run.scope(), "filters": {"throughput": {"min_seconds": 500, "max_seconds": 5}}}})
    assert response.status_code == 400
    assert "filters.throughput.min_seconds" in response.json()["error"]["message"]

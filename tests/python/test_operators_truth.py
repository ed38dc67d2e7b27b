"""`/api/operators`, `/api/opportunities` and `/api/ocpm` over simulated spans recover the truth.

One seeded `exos simulate` run (400 orders over 14 days) fills a fresh `exos serve`, as in
test_demo_truth.py. The simulator's truth file names the operator given a high rework
rate and lists every directly-follows transition; the analyses must find both. Runs on
both stores (EXOS_TEST_STORE=clickhouse for ClickHouse).
"""

from __future__ import annotations

import json
import os
import subprocess

import pytest
import requests

EXOS_BIN = os.environ.get("EXOS_BIN", os.path.expanduser("~/.cache/exos-target/debug/exos"))
SIMULATE_TIMEOUT_S = 120
ORDERS = 400
DAYS = 14
START = "2026-02-15T00:00:00Z"
END = "2026-03-01T00:00:00Z"


@pytest.fixture(scope="module")
def run(module_exos, tmp_path_factory):
    folder = tmp_path_factory.mktemp("simulate")
    truth_path = folder / "truth.json"
    command = [
        EXOS_BIN, "simulate",
        "--url", module_exos.otlp_http_url, "--key", module_exos.ingest_key,
        "--orders", str(ORDERS), "--days", str(DAYS), "--seed", "42", "--end", END,
        "--truth", str(truth_path),
    ]
    completed = subprocess.run(command, capture_output=True, text=True, timeout=SIMULATE_TIMEOUT_S)
    assert completed.returncode == 0, completed.stderr[-4000:]
    return module_exos, json.loads(truth_path.read_text())


def get(server, path: str, **params) -> dict:
    response = requests.get(
        f"{server.http_url}{path}", params={"from": START, "to": END, **params},
        auth=("admin", server.admin_password), timeout=120,
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_high_rework_operator_ranks_first(run):
    server, truth = run
    answer = get(server, "/api/operators", sort="rework_rate")
    expected = truth["incidents"]["high_rework_operator"]
    ranked = [o for o in answer["operators"] if not o["few_cases"]]
    assert ranked, answer
    first = ranked[0]
    assert first["operator"] == expected, [(o["operator"], round(o["rework_rate"], 2)) for o in ranked[:5]]
    assert first["rework_vs_peers"]["z"] > 2, first["rework_vs_peers"]
    assert first["example_orders"], first


def test_operator_steps_match_truth(run):
    server, truth = run
    answer = get(server, "/api/operators", min_cases="1")
    steps = {o["operator"]: o["steps"] for o in answer["operators"]}
    expected = {op: t["activities"] for op, t in truth["operators"].items() if t["activities"]}
    assert steps == expected


def test_operators_sorted_and_lob_filter(run):
    server, truth = run
    lob = truth["lobs"][0]["name"]
    answer = get(server, "/api/operators", lob=lob, sort="handling")
    handling = [o["handling_median_min"] for o in answer["operators"] if not o["few_cases"]]
    assert handling == sorted(handling, reverse=True)
    assert all(lob in o["lobs"] for o in answer["operators"])
    assert answer["workload"]["series"], answer["workload"]


def test_operators_rejects_bad_sort(run):
    server, _ = run
    response = requests.get(f"{server.http_url}/api/operators", params={"sort": "fastest"}, auth=("admin", server.admin_password), timeout=60)
    assert response.status_code == 400
    assert "fastest" in response.json()["error"]["message"]


def test_order_dfg_equals_truth_transitions(run):
    server, truth = run
    answer = get(server, "/api/ocpm", objects="order.id,operator.id")
    views = {view["object_type"]: view for view in answer["object_types"]}
    assert set(views) == {"order.id", "operator.id"}
    edges = {f"{e['source']} -> {e['target']}": e["count"] for e in views["order.id"]["edges"]}
    assert edges == truth["transitions"]
    assert answer["statistics"]["events"] == sum(truth["activity_counts"].values())


def test_opportunities_rank_by_hours_with_evidence(run):
    server, _ = run
    answer = get(server, "/api/opportunities", min_count="10", max_cv="2", min_determinism="0.5", min_sessions="2")
    candidates = answer["candidates"]
    assert candidates, answer["rejected_steps"]
    hours = [c["hours_saved"] for c in candidates]
    assert hours == sorted(hours, reverse=True)
    kinds = {c["kind"] for c in candidates}
    assert kinds == {"step", "click_sequence"}, kinds
    for candidate in candidates:
        assert candidate["count"] > 0
        assert candidate["examples"], candidate
        if candidate["kind"] == "click_sequence":
            assert candidate["sessions"] >= 2
            assert candidate["examples"][0]["link"].startswith("/replay?session=")
        else:
            assert candidate["duration_cv"] <= 2
            assert max(candidate["predecessor"]["share"], candidate["successor"]["share"]) >= 0.5


def test_strict_thresholds_reject_steps_with_reasons(run):
    server, _ = run
    answer = get(server, "/api/opportunities", min_count="1000000")
    assert not [c for c in answer["candidates"] if c["kind"] == "step"]
    assert all("min_count" in r["reason"] for r in answer["rejected_steps"])


def test_documents_have_their_own_flow(run):
    """Business spans carry `document.id` as a string array: each element is one document object."""
    server, truth = run
    answer = get(server, "/api/ocpm")
    stats = answer["statistics"]
    per_type = {c["name"]: c["count"] for c in stats["objects_per_type"]}
    assert set(per_type) == {"order.id", "document.id", "operator.id"}, per_type
    assert per_type["document.id"] == truth["documents"]
    links = {c["name"]: c["count"] for c in stats["links_per_qualifier"]}
    assert links["document.id"] == truth["document_links"]
    views = {view["object_type"]: view for view in answer["object_types"]}
    documents = views["document.id"]
    assert not documents["edges_truncated"]
    edges = {f"{e['source']} -> {e['target']}": e["count"] for e in documents["edges"]}
    assert edges == truth["document_transitions"]
    activities = {a["activity"]: a for a in documents["activities"]}
    # A review covers all the documents an order came with, so some reviews touch several.
    assert activities["Review Documents"]["convergent_events"] > 0
    # The report loops through rework: one report has Quality Check more than once.
    assert activities["Quality Check"]["divergent_objects"] > 0
    assert "Order Received" not in activities

"""Order funnels on `exos simulate` data against the simulator's truth.

One seeded run (400 orders over 14 days ending at a fixed time) goes through the
OTLP receivers of a fresh `exos serve`. The funnels follow orders (actor `order.id`)
through activity spans and split them by `lob`. The truth file lists every order's
variant (its activity names in order) per line of business, so the expected level of
an order is the longest prefix of the funnel's steps that occurs in its variant as a
subsequence: with a conversion window longer than the whole run, `windowFunnel`'s
default mode finds exactly that chain. Orders still in flight at the end of the run
are in the truth with the steps they emitted, so the match is exact, not approximate.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections import Counter

import pytest
import requests

EXOS_BIN = os.environ.get("EXOS_BIN", os.path.expanduser("~/.cache/exos-target/debug/exos"))
SIMULATE_TIMEOUT_S = 180
API_TIMEOUT_S = 120
ORDERS = 400
DAYS = 14
END = "2026-03-01T00:00:00Z"
# Longer than the run, so no chain is cut by the window.
WINDOW_S = 30 * 86_400
APPROVE_STEPS = ["Order Received", "Approve"]
REVIEW_STEPS = ["Order Received", "Review Documents", "Quality Check", "Approve"]


@pytest.fixture(scope="module")
def run(module_exos, tmp_path_factory):
    folder = tmp_path_factory.mktemp("simulate")
    truth_path = folder / "truth.json"
    command = [
        EXOS_BIN, "simulate",
        "--url", module_exos.otlp_http_url,
        "--key", module_exos.ingest_key,
        "--orders", str(ORDERS), "--days", str(DAYS), "--seed", "7", "--end", END,
        "--truth", str(truth_path),
    ]
    completed = subprocess.run(command, capture_output=True, text=True, timeout=SIMULATE_TIMEOUT_S)
    assert completed.returncode == 0, (
        f"exos simulate exited {completed.returncode}\nstderr:\n{completed.stderr[-4000:]}"
    )
    return module_exos, json.loads(truth_path.read_text())


def post(server, path: str, body: dict) -> dict:
    response = requests.post(
        f"{server.http_url}{path}", json=body, auth=("admin", server.admin_password), timeout=API_TIMEOUT_S,
    )
    assert response.status_code == 200, f"{path} returned {response.status_code}: {response.text[:2000]}"
    return response.json()


def funnel_body(truth: dict, steps: list[str], **extra) -> dict:
    settings = truth["settings"]
    return {
        "actor": "order.id",
        "steps": [{"span_name": name} for name in steps],
        "window_seconds": WINDOW_S,
        "from": settings["start_ns"] // 1_000_000,
        # The last spans of in-flight orders may end after `end_ns`; their start times are inside.
        "to": settings["end_ns"] // 1_000_000 + 1,
        **extra,
    }


def prefix_level(variant: list[str], steps: list[str]) -> int:
    """Return the longest prefix of `steps` that occurs in `variant` in order."""
    level = 0
    for name in variant:
        if level < len(steps) and name == steps[level]:
            level += 1
    return level


def expected_reached(variants: dict[str, int], steps: list[str]) -> list[int]:
    """Return, per step, how many orders of `variants` reached it."""
    levels: Counter[int] = Counter()
    for variant, orders in variants.items():
        levels[prefix_level(variant.split(","), steps)] += orders
    return [sum(count for level, count in levels.items() if level >= step) for step in range(1, len(steps) + 1)]


def reached(series: dict) -> list[int]:
    return [step["actors"] for step in series["steps"]]


def test_truth_has_lob_variants(run):
    _, truth = run
    by_lob = truth["variants_by_lob"]
    assert len(by_lob) >= 3, f"only {sorted(by_lob)} lines of business"
    merged: Counter[str] = Counter()
    for variants in by_lob.values():
        merged.update(variants)
    assert dict(merged) == truth["variants"]


def test_approve_share_by_lob_matches_truth(run):
    server, truth = run
    response = post(server, "/api/funnels", funnel_body(truth, APPROVE_STEPS, breakdown="lob", breakdown_limit=50))
    by_value = {series["breakdown"]: series for series in response["series"]}
    assert set(by_value) == set(truth["variants_by_lob"]), sorted(by_value)
    for lob, variants in truth["variants_by_lob"].items():
        expected = expected_reached(variants, APPROVE_STEPS)
        assert reached(by_value[lob]) == expected, lob
        share = by_value[lob]["steps"][1]["conversion_from_first"]
        assert share == pytest.approx(expected[1] / expected[0]), lob
    shares = {lob: series["steps"][1]["conversion_from_first"] for lob, series in by_value.items()}
    assert max(shares.values()) > min(shares.values()), f"every LOB has the same share: {shares}"


def test_four_step_funnel_matches_truth(run):
    server, truth = run
    response = post(server, "/api/funnels", funnel_body(truth, REVIEW_STEPS, trend_period="week"))
    assert reached(response["total"]) == expected_reached(truth["variants"], REVIEW_STEPS)
    assert response["sql"], "the response carries the SQL that ran"
    trend = response["total"]["trend"]
    assert sum(point["entered"] for point in trend) == response["total"]["steps"][0]["actors"]
    assert sum(point["converted"] for point in trend) == response["total"]["steps"][-1]["actors"]
    bins = response["total"]["time_to_convert"]["bins"]
    assert sum(item["actors"] for item in bins) == response["total"]["steps"][-1]["actors"]


def test_dropped_actors_match_counts(run):
    server, truth = run
    funnel = funnel_body(truth, APPROVE_STEPS)
    total = post(server, "/api/funnels", funnel)["total"]
    dropped = total["steps"][0]["actors"] - total["steps"][1]["actors"]
    answer = post(server, "/api/funnels/actors", {"funnel": funnel, "step": 2, "outcome": "dropped", "limit": 500})
    assert answer["total"] == dropped
    assert len(answer["actors"]) == min(dropped, 500)
    for actor in answer["actors"]:
        assert actor["level"] == 1
        assert actor["links"]["trace"].startswith("/engineering?trace="), actor


def test_correlation_finds_cancel(run):
    """Cancelled orders never reach Approve, so `Cancel` must go with failing to convert."""
    server, truth = run
    answer = post(server, "/api/funnels/correlation", {"funnel": funnel_body(truth, APPROVE_STEPS), "limit": 200})
    cancel = [row for row in answer["rows"] if row["kind"] == "event" and row["value"] == "Cancel"]
    assert truth["orders_cancelled"] > 0
    assert len(cancel) == 1, [row["value"] for row in answer["rows"] if row["kind"] == "event"]
    assert cancel[0]["correlation"] == "failure"
    assert cancel[0]["odds_ratio"] < 1


def test_filter_bar_lob_matches_truth(run):
    """A `Lob=<value>` filter leaves the funnel of that line of business alone."""
    server, truth = run
    for lob, variants in truth["variants_by_lob"].items():
        response = post(server, "/api/funnels", funnel_body(truth, REVIEW_STEPS, filters=[f"Lob={lob}"]))
        assert reached(response["total"]) == expected_reached(variants, REVIEW_STEPS), lob
    left_out = sorted(truth["variants_by_lob"])[0]
    others = [lob for lob in truth["variants_by_lob"] if lob != left_out]
    response = post(server, "/api/funnels", funnel_body(truth, APPROVE_STEPS, filters=[f"Lob!={left_out}"]))
    merged: Counter[str] = Counter()
    for lob in others:
        merged.update(truth["variants_by_lob"][lob])
    assert reached(response["total"]) == expected_reached(dict(merged), APPROVE_STEPS)


def test_breakdown_total_is_the_plain_funnel(run):
    """The one-pass breakdown's total is the funnel run without a breakdown."""
    server, truth = run
    plain = post(server, "/api/funnels", funnel_body(truth, REVIEW_STEPS, trend_period="week"))
    split = post(server, "/api/funnels", funnel_body(truth, REVIEW_STEPS, trend_period="week", breakdown="lob"))
    assert split["total"] == plain["total"]


def test_saved_action_as_step_matches_truth(run):
    server, truth = run
    created = requests.post(
        f"{server.http_url}/api/workspaces", auth=("admin", server.admin_password), timeout=30,
        json={"kind": "action", "name": "Approved order", "shared": True, "body": {"event": {"span_name": "Approve"}}},
    )
    assert created.status_code == 201, created.text
    expected = expected_reached(truth["variants"], APPROVE_STEPS)
    for reference in [created.json()["id"], "Approved order"]:
        body = funnel_body(truth, ["Order Received"])
        body["steps"].append({"action": reference})
        response = post(server, "/api/funnels", body)
        assert response["steps"] == ["Order Received", "Approved order"]
        assert reached(response["total"]) == expected, reference
    body = funnel_body(truth, ["Order Received"])
    body["steps"].append({"action": "no such action"})
    missing = requests.post(f"{server.http_url}/api/funnels", json=body, auth=("admin", server.admin_password), timeout=30)
    assert missing.status_code == 400, missing.text
    assert "no such action" in missing.json()["error"]["message"], missing.text

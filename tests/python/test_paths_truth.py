"""Order paths on simulated data reproduce the simulator's truth (crates/exos-sim/src/truth.rs).

One seeded `exos simulate` run (150 orders over 7 days) goes through the OTLP receivers of
a fresh `exos serve`. With the order as actor and the process activities as events:

- the links of depth-2 paths from each order's first activity count the variants' first
  two activities;
- the links of depth-2 paths from each activity's first occurrence count the pairs the
  variants show there, and equal the truth's directly-follows counts `"A -> B"` for every
  activity that never repeats within an order.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections import Counter

import pytest
import requests

EXOS_BIN = os.environ.get("EXOS_BIN", os.path.expanduser("~/.cache/exos-target/debug/exos"))
ORDERS = 150
DAYS = 7
END = "2026-03-01T00:00:00Z"
END_NS = 1_772_323_200_000_000_000
DAY_NS = 86_400_000_000_000


@pytest.fixture(scope="module")
def run(module_exos, tmp_path_factory):
    folder = tmp_path_factory.mktemp("simulate")
    truth_path = folder / "truth.json"
    command = [
        EXOS_BIN, "simulate", "--url", module_exos.otlp_http_url, "--key", module_exos.ingest_key,
        "--orders", str(ORDERS), "--days", str(DAYS), "--seed", "7", "--end", END, "--truth", str(truth_path),
    ]
    completed = subprocess.run(command, capture_output=True, text=True, timeout=180)
    assert completed.returncode == 0, completed.stderr[-4000:]
    return module_exos, json.loads(truth_path.read_text())


def order_paths(server, truth: dict, depth: int, **extra) -> dict:
    activities = [activity["name"] for activity in truth["activities"]]
    body = {
        "actor": "OrderId",
        # The simulator starts orders before the first day of the run; a wide range holds them all.
        "time_range": {"from_ns": END_NS - 60 * DAY_NS, "to_ns": END_NS + 30 * DAY_NS},
        "include": [{"span_name": name} for name in activities],
        "depth": depth, "max_edges": 1000, "collapse_repeats": False, **extra,
    }
    response = requests.post(f"{server.http_url}/api/paths", json=body, auth=("admin", server.admin_password), timeout=120)
    assert response.status_code == 200, response.text
    return response.json()


def link_counts(answer: dict) -> Counter:
    names = {node["id"]: node["name"] for node in answer["nodes"]}
    counts = Counter()
    for link in answer["links"]:
        counts[f"{names[link['source']]} -> {names[link['target']]}"] += link["actors"]
    return counts


def test_first_steps_match_variants(run):
    server, truth = run
    expected = Counter()
    for variant, orders in truth["variants"].items():
        steps = variant.split(",")
        if len(steps) >= 2:
            expected[f"{steps[0]} -> {steps[1]}"] += orders
    assert link_counts(order_paths(server, truth, 2)) == expected
    assert sum(expected.values()) >= 100, "too few orders with two steps to test anything"


def test_directly_follows_match_truth(run):
    server, truth = run
    activities = [activity["name"] for activity in truth["activities"]]
    # Depth-2 paths from each activity's first occurrence, summed over the activities.
    found = Counter()
    for name in activities:
        found += link_counts(order_paths(server, truth, 2, start=name))
    first_pairs = Counter()
    repeated = set()
    for variant, orders in truth["variants"].items():
        steps = variant.split(",")
        repeated |= {step for step in steps if steps.count(step) > 1}
        for name in set(steps):
            index = steps.index(name)
            if index + 1 < len(steps):
                first_pairs[f"{name} -> {steps[index + 1]}"] += orders
    assert found == first_pairs
    # Where an activity never repeats within an order, its first occurrence is its only
    # one, so the paths count every directly-follows pair the truth counts.
    once = {pair: count for pair, count in truth["transitions"].items() if pair.split(" -> ")[0] not in repeated}
    assert {pair: found[pair] for pair in once} == once
    assert sum(once.values()) >= sum(truth["transitions"].values()) / 2, f"repeated activities: {sorted(repeated)}"

"""Order paths on simulated data reproduce the simulator's truth (crates/exos-sim/src/truth.rs).

One seeded `exos simulate` run (150 orders over 7 days) goes through the OTLP receivers of
a fresh `exos serve`. With the order as actor and the process activities as events:

- the links of depth-2 paths from each order's first activity count the variants' first
  two activities;
- the links of full paths (repeats kept, every variant within the depth), summed over
  steps, are the truth's directly-follows counts `"A -> B"`.
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
    assert sum(expected.values()) >= ORDERS * 0.9


def test_directly_follows_match_truth(run):
    server, truth = run
    longest = max(len(variant.split(",")) for variant in truth["variants"])
    assert longest <= 10, f"a variant has {longest} steps, more than the deepest path"
    answer = order_paths(server, truth, longest)
    assert link_counts(answer) == Counter(truth["transitions"])
    assert answer["actors"] == sum(truth["variants"].values())

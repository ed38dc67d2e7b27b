"""Seeded random span histories and funnel/retention questions for the
differential test of exos-funnels against ClickHouse (chdb).

Funnel actors (`f…`) get a few spans each on a coarse clock, so that equal
timestamps, spans exactly one window apart, repeated steps, spans matching
several steps (attributes `s0`…`s3` set to `"1"`) and spans matching none are
frequent. Retention actors (`r…`) get `signup` and `login` spans spread over
about four months, so that day, week and month periods all have several cohorts.
"""

from __future__ import annotations

import itertools
import json
import random

STEPS = 4
# The funnel clock ticks in seconds; windows are whole ticks so that spans
# land exactly on a window's end.
TICK_NS = 1_000_000_000
BASE_NS = 1_767_225_600_000_000_000  # 2026-01-01T00:00:00Z
DAY_NS = 86_400 * 1_000_000_000
MODES = ["strict_deduplication", "strict_order", "strict_increase", "strict_once", "allow_reentry"]


def mode_combinations() -> list[list[str]]:
    """Every combination of modes that ClickHouse accepts."""
    combinations = []
    for size in range(len(MODES) + 1):
        for combination in itertools.combinations(MODES, size):
            if "allow_reentry" in combination and "strict_order" not in combination:
                continue
            combinations.append(list(combination))
    return combinations


def funnel_spans(rng: random.Random, actors: int) -> list[dict]:
    spans = []
    for actor in range(actors):
        span_count = rng.randint(1, 12)
        horizon = rng.choice([3, 10, 40])
        for _ in range(span_count):
            roll = rng.random()
            if roll < 0.15:
                mask = 0
            elif roll < 0.7:
                mask = 1 << rng.randrange(STEPS)
            else:
                mask = rng.randrange(1, 1 << STEPS)
            spans.append(
                {
                    "ts": BASE_NS + rng.randint(0, horizon) * TICK_NS,
                    "name": rng.choice(["view", "click", "other"]),
                    "user": f"f{actor}",
                    "lob": rng.choice(["Title", "Flood"]),
                    "attributes": {f"s{bit}": "1" for bit in range(STEPS) if mask >> bit & 1},
                }
            )
    return spans


def retention_spans(rng: random.Random, actors: int) -> list[dict]:
    spans = []
    for actor in range(actors):
        first_day = rng.randint(-10, 90)
        for _ in range(rng.randint(1, 8)):
            day = first_day + rng.choice([0, 0, 1, 2, 6, 7, 8, 13, 14, 30, 31, 45, 60])
            spans.append(
                {
                    "ts": BASE_NS + day * DAY_NS + rng.randint(0, DAY_NS - 1),
                    "name": rng.choice(["signup", "login", "login", "other"]),
                    "user": f"r{actor}",
                    "lob": "Title",
                    "attributes": {},
                }
            )
    return spans


def funnel_questions(rng: random.Random) -> list[dict]:
    """One question per window and mode combination, a few with a breakdown or
    a strict kind, plus any-order and exclusion questions."""
    steps = [
        {"equals": {"property": {"attribute": f"s{bit}"}, "value": "1"}} for bit in range(STEPS)
    ]
    time_range = {"from_ns": BASE_NS - DAY_NS, "to_ns": BASE_NS + 200 * DAY_NS}
    questions = []
    for window_ticks in [0, 1, 3, 7, 1000]:
        for modes in mode_combinations():
            question = {
                "actor": "UserId",
                "steps": steps[: rng.choice([2, 3, 4, 4])],
                "window_ns": window_ticks * TICK_NS,
                "modes": modes,
                "time_range": time_range,
            }
            if rng.random() < 0.3:
                question["breakdown"] = {"column": "Lob"}
            questions.append(question)
    for kind in ["strict", "any_order"]:
        questions.append(
            {"actor": "UserId", "steps": steps, "kind": kind, "window_ns": 5 * TICK_NS,
             "breakdown": {"column": "Lob"}, "time_range": time_range, "trend_period": "day"}
        )
    questions.append(
        {"actor": "UserId", "steps": steps[:3], "window_ns": 10 * TICK_NS, "time_range": time_range,
         "exclusions": [{"event": {"span_name": "other"}, "from_step": 1, "to_step": 2}]}
    )
    return questions


def retention_questions() -> list[dict]:
    questions = []
    for period, periods in [("day", 14), ("week", 12), ("month", 4)]:
        for kind in ["first_time", "recurring"]:
            questions.append(
                {
                    "actor": "UserId",
                    "start_event": {"span_name": "signup"},
                    "return_event": {"span_name": "login"},
                    "kind": kind,
                    "period": period,
                    "periods": periods,
                    "from_ns": BASE_NS,
                }
            )
    return questions


def write_jsonl(path, spans: list[dict]) -> None:
    with open(path, "w") as out:
        for span in spans:
            out.write(json.dumps(span) + "\n")

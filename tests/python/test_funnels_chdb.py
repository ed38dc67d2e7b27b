"""Differential test of exos-funnels on DuckDB against ClickHouse's own
`windowFunnel` and `retention` (chdb, the ClickHouse engine in-process).

Seeded random span histories go into DuckDB through the `funnel_diff`
example of exos-funnels, which computes the results with the Rust engines.
The same spans go into a chdb table with the ClickHouse column types of
`otel_traces`, where the SQL that exos-funnels renders for ClickHouse runs
natively. Every actor's level must be equal for every window and mode combination that
ClickHouse accepts, and so must the per-step counts and retention tables.

`EXOS_FUNNEL_SEED` replaces the default seed of the random histories.
The example binary comes from `EXOS_FUNNEL_DIFF_BIN`, or from
`$CARGO_TARGET_DIR/debug/examples/funnel_diff` (`~/.cache/exos-target` when
unset); build it with `cargo build -p exos-funnels --examples`.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
from pathlib import Path

import chdb
import pytest

import funnel_data
from stores import ON_CLICKHOUSE

SEED = int(os.environ.get("EXOS_FUNNEL_SEED", "20260101"))
FUNNEL_ACTORS = 2500
RETENTION_ACTORS = 1500
DIFF_TIMEOUT_S = 600

pytestmark = pytest.mark.skipif(
    ON_CLICKHOUSE, reason="compares DuckDB with chdb directly, whatever store the suite targets"
)

CREATE_SPANS = """
CREATE TABLE otel_traces (
    Timestamp DateTime64(9), SpanName LowCardinality(String), ServiceName LowCardinality(String),
    UserId String, RumSessionId String, OrderId String, OperatorId String, Lob LowCardinality(String),
    SpanAttributes Map(LowCardinality(String), String)
) ENGINE = MergeTree ORDER BY (ServiceName, SpanName, Timestamp)
"""


def diff_binary() -> Path:
    explicit = os.environ.get("EXOS_FUNNEL_DIFF_BIN")
    if explicit:
        return Path(explicit)
    target = os.environ.get("CARGO_TARGET_DIR", os.path.expanduser("~/.cache/exos-target"))
    return Path(target) / "debug" / "examples" / "funnel_diff"


@pytest.fixture(scope="module")
def compared(tmp_path_factory):
    """Runs every question on DuckDB (through Rust) and loads chdb with the same spans."""
    binary = diff_binary()
    if not os.access(binary, os.X_OK):
        pytest.fail(f"funnel_diff not found at {binary}: run `cargo build -p exos-funnels --examples`")
    rng = random.Random(SEED)
    spans = funnel_data.funnel_spans(rng, FUNNEL_ACTORS) + funnel_data.retention_spans(rng, RETENTION_ACTORS)
    questions = {
        "funnels": funnel_data.funnel_questions(rng),
        "retentions": funnel_data.retention_questions(),
    }
    folder = tmp_path_factory.mktemp("funnels")
    spans_path = folder / "spans.jsonl"
    questions_path = folder / "questions.json"
    funnel_data.write_jsonl(spans_path, spans)
    questions_path.write_text(json.dumps(questions))
    questions["spans"] = spans

    completed = subprocess.run(
        [str(binary), str(spans_path), str(questions_path)],
        capture_output=True, text=True, timeout=DIFF_TIMEOUT_S,
    )
    assert completed.returncode == 0, f"funnel_diff failed:\n{completed.stderr[-4000:]}"
    duck = json.loads(completed.stdout)

    session = chdb.session.Session()
    session.query(CREATE_SPANS)
    session.query(
        "INSERT INTO otel_traces (Timestamp, SpanName, ServiceName, UserId, Lob, SpanAttributes) "
        f"SELECT fromUnixTimestamp64Nano(ts), name, 'svc', user, lob, attributes FROM file('{spans_path}', "
        "'JSONEachRow', 'ts Int64, name String, user String, lob String, attributes Map(String, String)')"
    )
    return questions, duck, session


def rows(session, sql: str) -> list[dict]:
    result = session.query(sql, "JSONEachRow").data()
    return [json.loads(line) for line in result.splitlines() if line]


def describe(question: dict) -> str:
    return (
        f"window {question['window_ns']} ns, modes {question.get('modes', [])}, "
        f"kind {question.get('kind', 'sequential')}, steps {len(question['steps'])}"
    )


def order_dependent_actors(spans: list[dict]) -> set[str]:
    """Return the actors with two rows of one timestamp that match the same step.

    With `strict_deduplication` and `strict_once` together, ClickHouse's level
    for such an actor depends on the order in which it reads those rows. For
    example, with chdb 4.4.0 the rows (0, C), (1, A+B+C), (1, C), (1, B+C) at
    window 0 give level 3 in some orders and 2 in others. A MergeTree table reads rows
    in its sorting key's order, so no other engine can match every actor.
    """
    seen: dict[tuple[str, int, str], int] = {}
    for span in spans:
        for key in span["attributes"]:
            seen[(span["user"], span["ts"], key)] = seen.get((span["user"], span["ts"], key), 0) + 1
    return {user for (user, _, _), count in seen.items() if count > 1}


def is_order_dependent(question: dict) -> bool:
    modes = question.get("modes", [])
    return "strict_deduplication" in modes and "strict_once" in modes


def test_every_actor_level_matches_clickhouse(compared):
    questions, duck, session = compared
    skipped_actors = order_dependent_actors(questions["spans"])
    checked = 0
    failures = []
    for question, answer in zip(questions["funnels"], duck["funnels"]):
        if not answer.get("native", False):
            continue
        clickhouse = rows(session, answer["clickhouse_actor_levels"])
        expected = {(row["actor"], row["breakdown"]): int(row["level"]) for row in clickhouse}
        actual = {(row["actor"], row["breakdown"]): row["level"] for row in answer["levels"]}
        assert actual.keys() == expected.keys(), f"actor sets differ for {describe(question)}"
        skip = skipped_actors if is_order_dependent(question) else set()
        compared_keys = [key for key in expected if key[0] not in skip]
        mismatches = [(key, actual[key], expected[key]) for key in compared_keys if actual[key] != expected[key]]
        if mismatches:
            failures.append(
                f"{len(mismatches)} actors differ for {describe(question)} "
                f"(actor, EXOS, ClickHouse): {mismatches[:5]}"
            )
        checked += len(compared_keys)
    assert not failures, "\n".join(failures)
    assert checked > 100_000, f"only {checked} actor levels compared"


def test_every_mode_combination_is_compared(compared):
    questions, duck, _ = compared
    for question, answer in zip(questions["funnels"], duck["funnels"]):
        assert "error" not in answer, f"{describe(question)}: {answer.get('error')}"
    compared_modes = {tuple(question.get("modes", [])) for question in questions["funnels"]}
    for modes in funnel_data.mode_combinations():
        assert tuple(modes) in compared_modes, f"modes {modes} never compared"


def test_step_counts_match_clickhouse(compared):
    questions, duck, session = compared
    for question, answer in zip(questions["funnels"], duck["funnels"]):
        if not answer.get("native", False) or is_order_dependent(question):
            continue
        step_count = len(question["steps"])
        expected: dict[str, list[int]] = {}
        for row in rows(session, answer["clickhouse_funnel_levels"]):
            counts = expected.setdefault(row["breakdown"], [0] * step_count)
            for step in range(int(row["level"])):
                counts[step] += int(row["actors"])
        actual = {
            series["breakdown"]: [step["actors"] for step in series["steps"]]
            for series in answer["report"]["series"]
        }
        assert actual == expected, describe(question)


def test_strict_and_any_order_reports_are_consistent(compared):
    questions, duck, _ = compared
    for question, answer in zip(questions["funnels"], duck["funnels"]):
        if question.get("kind") not in ("strict", "any_order"):
            continue
        for series in answer["report"]["series"]:
            counts = [step["actors"] for step in series["steps"]]
            assert counts == sorted(counts, reverse=True), f"{question['kind']}: {counts}"
            assert counts[0] > 0
            assert series["trend"], f"{question['kind']}: empty trend"


def test_retention_tables_match_clickhouse(compared):
    questions, duck, session = compared
    for question, answer in zip(questions["retentions"], duck["retentions"]):
        assert "error" not in answer, answer.get("error")
        expected = {int(row["cohort"]): [int(count) for count in row["counts"]]
                    for row in rows(session, answer["clickhouse_table"])}
        actual = {cohort["period"]: cohort["returned"] for cohort in answer["table"]["cohorts"]}
        label = f"{question['kind']} by {question['period']}"
        assert actual == expected, label
        assert len(actual) >= 3, f"{label}: only {len(actual)} cohorts"
        assert any(sum(counts[1:]) > 0 for counts in actual.values()), f"{label}: nobody returned"


def test_clickhouse_input_lists_match_duckdb(compared):
    """Funnels that ClickHouse cannot compute natively (any order, exclusions)
    run the Rust engine on ClickHouse's per-actor lists: those lists must
    hold the same spans as DuckDB's."""
    questions, duck, session = compared
    checked = 0
    for question, answer in zip(questions["funnels"], duck["funnels"]):
        if answer.get("native", True):
            continue
        expected = {}
        for row in rows(session, answer["clickhouse_input"]):
            spans = sorted(
                (int(timestamp), int(steps), int(exclusions))
                for timestamp, steps, exclusions in zip(row["timestamps"], row["steps"], row["exclusions"])
            )
            expected[(row["actor"], row["breakdown"])] = spans
        actual = {
            (group["actor"], group["breakdown"]): [tuple(span) for span in group["spans"]]
            for group in answer["input"]
        }
        assert actual == expected, describe(question)
        checked += 1
    assert checked >= 2, "no funnel without a native ClickHouse query was compared"

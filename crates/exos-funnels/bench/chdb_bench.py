"""Times native ClickHouse queries in chdb for `exos bench analytics`.

Usage: chdb_bench.py SPANS.parquet QUESTIONS.json RUNS

Loads the spans into a MergeTree table shaped like the `otel_traces` table of
the OpenTelemetry ClickHouse exporter, with the columns the questions read.
Then runs each question's SQL RUNS times and prints JSON with, for each
question, its timings in milliseconds and the rows of its last run.
"""

import json
import sys
import time

import chdb

CREATE_SPANS = """
CREATE TABLE otel_traces (
    Timestamp DateTime64(9), SpanId String, SpanName LowCardinality(String),
    ServiceName LowCardinality(String),
    UserId String, Lob LowCardinality(String)
) ENGINE = MergeTree ORDER BY (ServiceName, SpanName, toDateTime(Timestamp), Timestamp)
"""


def main() -> None:
    spans_path, questions_path, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
    questions = json.load(open(questions_path))
    session = chdb.session.Session()
    started = time.perf_counter()
    session.query(CREATE_SPANS)
    session.query(
        "INSERT INTO otel_traces SELECT Timestamp, SpanId, SpanName, ServiceName, UserId, Lob "
        f"FROM file('{spans_path}', 'Parquet')"
    )
    session.query("OPTIMIZE TABLE otel_traces FINAL")
    load_ms = (time.perf_counter() - started) * 1000
    results = {}
    for name, sql in questions.items():
        timings = []
        for _ in range(runs):
            started = time.perf_counter()
            output = session.query(sql, "JSONEachRow").data()
            timings.append((time.perf_counter() - started) * 1000)
        results[name] = {
            "timings_ms": timings,
            "rows": [json.loads(line) for line in output.splitlines() if line],
        }
    print(json.dumps({"load_ms": load_ms, "questions": results}))


if __name__ == "__main__":
    main()

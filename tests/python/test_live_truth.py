"""`exos simulate` in live mode: stopped with Ctrl-C, it leaves a truth file that matches the store.

Live traffic runs for a few seconds against a fresh `exos serve` and is then
interrupted (SIGINT, as Ctrl-C sends). Orders still in progress at the stop
keep only the steps already sent. The truth file must count exactly the spans
the server stored and the business steps among them, and the in-flight
orders must be the ones whose last stored step is neither Close nor Cancel.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time

EXOS_BIN = os.environ.get("EXOS_BIN", os.path.expanduser("~/.cache/exos-target/debug/exos"))
LIVE_SECONDS = 10
# Far above a real rate, so that even a Sunday night (about 1/120 of the mean rate) brings several orders.
RATE = 100


def test_interrupted_live_run_matches_truth(exos, tmp_path):
    truth_path = tmp_path / "truth.json"
    command = [
        EXOS_BIN, "simulate", "--url", exos.otlp_http_url, "--key", exos.ingest_key,
        "--rate", str(RATE), "--seed", "11", "--truth", str(truth_path),
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(LIVE_SECONDS)
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 0, f"exit {process.returncode}\n{stdout}\n{stderr[-3000:]}"
    truth = json.loads(truth_path.read_text())

    assert truth["settings"]["orders"] > 0, truth["settings"]
    assert truth["records"]["spans"] == exos.sql_value("SELECT count(*) FROM otel_traces")
    names = ", ".join(f"'{a['name']}'" for a in truth["activities"])
    stored = {
        row["SpanName"]: row["n"]
        for row in exos.sql(
            f"SELECT SpanName, count(*) AS n FROM otel_traces WHERE SpanName IN ({names}) "
            "AND OperatorId != '' AND RumSessionId = '' GROUP BY SpanName"
        )
    }
    assert stored == truth["activity_counts"]
    orders = exos.sql_value(
        "SELECT count(DISTINCT OrderId) FROM otel_traces WHERE OperatorId != '' AND RumSessionId = ''"
    )
    finished = truth["orders_closed"] + truth["orders_cancelled"]
    assert finished + truth["orders_in_flight"] == orders
    assert truth["orders_in_flight"] > 0, "a run stopped after seconds leaves orders in progress"

"""Event-log import and export through a real `exos serve`, checked with PM4Py.

Logs go in through `POST /api/logs/import` (and `exos import` / `exos export` on a data
folder), come back out through `GET /api/logs/{log}/export`, and PM4Py 2.7 reads what
EXOS wrote. Broken copies of the shared logs are made inside the tests, and their import
reports are checked issue by issue. `/api/ocpm` over an imported OCEL log is compared with
PM4Py's own flattening and directly-follows graph.

Needs the shared logs (EXOS_EVENT_LOGS, default ../shared/data/event-logs) and pm4py.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
from collections import Counter
from pathlib import Path

import pytest
import requests

pm4py = pytest.importorskip("pm4py")

EXOS_BIN = os.environ.get("EXOS_BIN", os.path.expanduser("~/.cache/exos-target/debug/exos"))
LOGS = Path(os.environ.get("EXOS_EVENT_LOGS", Path(__file__).resolve().parents[3] / "shared/data/event-logs"))
TIMEOUT_S = 120


def import_log(server, path: Path, **params) -> requests.Response:
    params.setdefault("file", path.name)
    return requests.post(
        f"{server.http_url}/api/logs/import",
        params=params,
        data=path.read_bytes(),
        headers={"content-type": "application/octet-stream"},
        auth=("admin", server.admin_password),
        timeout=TIMEOUT_S,
    )


def imported(server, path: Path, **params) -> dict:
    response = import_log(server, path, **params)
    assert response.status_code == 201, response.text
    return response.json()


def export_log(server, log: str, fmt: str, out: Path, **params) -> Path:
    response = requests.get(
        f"{server.http_url}/api/logs/{log}/export",
        params={"format": fmt, **params},
        auth=("admin", server.admin_password),
        timeout=TIMEOUT_S,
    )
    assert response.status_code == 200, response.text
    out.write_bytes(response.content)
    return out


def get(server, path: str, **params) -> dict:
    response = requests.get(
        f"{server.http_url}{path}", params=params, auth=("admin", server.admin_password), timeout=TIMEOUT_S
    )
    assert response.status_code == 200, response.text
    return response.json()


def relations(ocel) -> Counter:
    """Event-object links as (event, object, qualifier), with multiplicity."""
    frame = ocel.relations
    return Counter(zip(frame["ocel:eid"], frame["ocel:oid"], frame["ocel:qualifier"]))


def object_links(ocel) -> Counter:
    frame = ocel.o2o
    return Counter(zip(frame["ocel:oid"], frame["ocel:oid_2"], frame["ocel:qualifier"]))


def events(ocel) -> set:
    frame = ocel.events
    return set(zip(frame["ocel:eid"], frame["ocel:activity"], frame["ocel:timestamp"].astype(str)))


def objects(ocel) -> set:
    return set(zip(ocel.objects["ocel:oid"], ocel.objects["ocel:type"]))


@pytest.fixture(scope="module")
def server(module_exos):
    return module_exos


def test_ocel_json_round_trip_reads_same_in_pm4py(server, tmp_path):
    source = LOGS / "ocel20_example.jsonocel"
    summary = imported(server, source, name="p2p-json")
    assert summary["log"]["events"] == 13
    assert summary["log"]["objects"] == 9
    original = pm4py.read_ocel2_json(str(source))
    for fmt, reader, ending in [("ocel-json", pm4py.read_ocel2_json, "jsonocel"), ("ocel-sqlite", pm4py.read_ocel2_sqlite, "sqlite")]:
        back = reader(str(export_log(server, "p2p-json", fmt, tmp_path / f"back.{ending}")))
        assert events(back) == events(original), fmt
        assert objects(back) == objects(original), fmt
        assert relations(back) == relations(original), fmt
        assert object_links(back) == object_links(original), fmt


def test_multi_qualifier_links_survive_round_trip(server, tmp_path):
    document = {
        "objectTypes": [{"name": "order", "attributes": []}, {"name": "item", "attributes": []}],
        "eventTypes": [{"name": "place", "attributes": []}],
        "objects": [
            {"id": "o1", "type": "order", "relationships": [
                {"objectId": "i1", "qualifier": "contains"}, {"objectId": "i1", "qualifier": "ships"}]},
            {"id": "i1", "type": "item"},
        ],
        "events": [{"id": "e1", "type": "place", "time": "2026-01-05T10:00:00Z", "relationships": [
            {"objectId": "o1", "qualifier": "placed"}, {"objectId": "i1", "qualifier": "ordered"},
            {"objectId": "i1", "qualifier": "reserved"}]}],
    }
    source = tmp_path / "multi.jsonocel"
    source.write_text(json.dumps(document))
    imported(server, source, name="multi")
    stored = server.sql_value("SELECT count(*) FROM exos_log_event_objects WHERE LogId = 'multi' AND ObjectId = 'i1'")
    assert int(stored) == 2

    # The files keep both qualifiers of each pair.
    back_json = export_log(server, "multi", "ocel-json", tmp_path / "multi-back.jsonocel")
    written = json.loads(back_json.read_text())
    event_links = [(r["objectId"], r["qualifier"]) for r in written["events"][0]["relationships"]]
    assert sorted(event_links) == [("i1", "ordered"), ("i1", "reserved"), ("o1", "placed")]
    back_sqlite = export_log(server, "multi", "ocel-sqlite", tmp_path / "multi-back.sqlite")
    with sqlite3.connect(back_sqlite) as connection:
        rows = connection.execute("SELECT ocel_event_id, ocel_object_id, ocel_qualifier FROM event_object ORDER BY 2, 3").fetchall()
    assert rows == [("e1", "i1", "ordered"), ("e1", "i1", "reserved"), ("e1", "o1", "placed")]

    # PM4Py reads back what it reads from the source: its JSON reader keeps one qualifier
    # per event-object pair, and every object-object qualifier.
    expected = pm4py.read_ocel2_json(str(source))
    for back in (pm4py.read_ocel2_json(str(back_json)), pm4py.read_ocel2_sqlite(str(back_sqlite))):
        assert relations(back) >= relations(expected)
        assert object_links(back) == Counter({("o1", "i1", "contains"): 1, ("o1", "i1", "ships"): 1})
    assert relations(pm4py.read_ocel2_json(str(back_json))) == relations(expected)


def traces(frame) -> dict:
    """Case id to its (activity, timestamp, resource) list, in PM4Py's event order."""
    result: dict = {}
    for case, activity, time, resource in zip(
        frame["case:concept:name"], frame["concept:name"], frame["time:timestamp"], frame["org:resource"]
    ):
        result.setdefault(case, []).append((activity, str(time), resource))
    return result


def test_xes_round_trip_keeps_cases_and_events(server, tmp_path):
    source = LOGS / "running-example.xes"
    imported(server, source, name="running")
    original = pm4py.read_xes(str(source))
    back = pm4py.read_xes(str(export_log(server, "running", "xes", tmp_path / "back.xes")))
    assert traces(back) == traces(original)


def test_csv_export_reads_back_in_pm4py(server, tmp_path):
    import pandas as pd

    imported(server, LOGS / "running-example.xes", name="running-csv")
    frame = pd.read_csv(export_log(server, "running-csv", "csv", tmp_path / "back.csv"))
    frame = pm4py.format_dataframe(frame, case_id="case:concept:name", activity_key="concept:name", timestamp_key="time:timestamp")
    original = pm4py.read_xes(str(LOGS / "running-example.xes"))
    dfg, starts, ends = pm4py.discover_dfg(frame)
    expected_dfg, expected_starts, expected_ends = pm4py.discover_dfg(original)
    assert dfg == expected_dfg
    assert starts == expected_starts
    assert ends == expected_ends


def test_parquet_import_matches_pm4py(server, tmp_path):
    frame = pm4py.read_xes(str(LOGS / "running-example.xes"))
    frame = frame[["case:concept:name", "concept:name", "time:timestamp", "org:resource"]].rename(
        columns={"case:concept:name": "case_id", "concept:name": "step", "time:timestamp": "at", "org:resource": "who"})
    source = tmp_path / "running.parquet"
    frame.to_parquet(source)
    summary = imported(server, source, name="running-parquet", case="case_id", activity="step", timestamp="at", resource="who")
    assert summary["issue_count"] == 0, summary
    assert summary["log"]["events"] == len(frame)
    back = pm4py.read_xes(str(export_log(server, "running-parquet", "xes", tmp_path / "parquet-back.xes")))
    original = pm4py.read_xes(str(LOGS / "running-example.xes"))
    assert traces(back) == traces(original)


def test_stored_tables_are_readable_with_sql(server):
    imported(server, LOGS / "ocel20_example.jsonocel", name="p2p-sql")
    rows = server.sql(
        "SELECT o.ObjectType AS type, count(*) AS links FROM exos_log_event_objects l "
        "JOIN exos_log_objects o ON o.LogId = l.LogId AND o.ObjectId = l.ObjectId "
        "WHERE l.LogId = 'p2p-sql' GROUP BY o.ObjectType ORDER BY o.ObjectType"
    )
    original = pm4py.read_ocel2_json(str(LOGS / "ocel20_example.jsonocel"))
    expected = original.relations.groupby("ocel:type").size().to_dict()
    assert {row["type"]: int(row["links"]) for row in rows} == expected
    listed = get(server, "/api/logs")["logs"]
    assert "p2p-sql" in [log["log_id"] for log in listed]


def test_import_rejects_duplicate_name_unless_replaced(server):
    source = LOGS / "running-example.xes"
    imported(server, source, name="twice")
    again = import_log(server, source, name="twice")
    assert again.status_code == 400
    assert "exists" in again.json()["error"]["message"]
    replaced = imported(server, source, name="twice", replace="true")
    assert replaced["log"]["events"] == 42


# ---- broken files -------------------------------------------------------------------


def test_truncated_xes_reports_malformed_location(server, tmp_path):
    text = (LOGS / "running-example.xes").read_text(encoding="utf-8")
    cut = [i for i in range(len(text)) if text.startswith("<event>", i)][9] + 60
    broken = tmp_path / "truncated.xes"
    broken.write_text(text[:cut], encoding="utf-8")
    summary = imported(server, broken, name="truncated", on_error="repair")
    kinds = [issue["kind"] for issue in summary["issues"]]
    assert "malformed" in kinds, summary
    assert summary["issues"][kinds.index("malformed")]["location"].startswith("line ")
    assert 0 < summary["log"]["events"] < 42
    failed = import_log(server, broken, name="truncated-fail", on_error="fail")
    assert failed.status_code == 400
    assert "line" in failed.json()["error"]["message"]


def test_dangling_object_reference_is_reported_and_dropped(server, tmp_path):
    document = json.loads((LOGS / "ocel20_example.jsonocel").read_text(encoding="utf-8"))
    document["events"][2]["relationships"].append({"objectId": "NO-SUCH-OBJECT", "qualifier": "ghost"})
    broken = tmp_path / "dangling.jsonocel"
    broken.write_text(json.dumps(document), encoding="utf-8")
    summary = imported(server, broken, name="dangling")
    dangling = [issue for issue in summary["issues"] if issue["kind"] == "dangling_reference"]
    assert len(dangling) == 1, summary
    assert "NO-SUCH-OBJECT" in dangling[0]["message"]
    assert dangling[0]["location"].startswith("events[2]")
    assert summary["log"]["event_object_links"] == 20
    assert summary["skipped"] == 1


def test_integer_ids_in_sqlite_are_repaired(server, tmp_path):
    broken = tmp_path / "integer-ids.sqlite"
    broken.write_bytes((LOGS / "ocel20_example.sqlite").read_bytes())
    with sqlite3.connect(broken) as connection:
        # TEXT columns would store an integer as text, so the tables get untyped columns first.
        for table in ["event", "event_object", "event_CreatePurchaseRequisition"]:
            columns = [row[1] for row in connection.execute(f'PRAGMA table_info("{table}")')]
            connection.execute(f'CREATE TABLE "{table}_untyped" ({", ".join(columns)})')
            connection.execute(f'INSERT INTO "{table}_untyped" SELECT * FROM "{table}"')
            connection.execute(f'DROP TABLE "{table}"')
            connection.execute(f'ALTER TABLE "{table}_untyped" RENAME TO "{table}"')
        connection.execute("UPDATE event SET ocel_id = 1 WHERE ocel_id = 'e1'")
        connection.execute("UPDATE event_CreatePurchaseRequisition SET ocel_id = 1 WHERE ocel_id = 'e1'")
        connection.execute("UPDATE event_object SET ocel_event_id = 1 WHERE ocel_event_id = 'e1'")
    summary = imported(server, broken, name="integer-ids", on_error="repair")
    assert any(issue["kind"] == "integer_id" for issue in summary["issues"]), summary
    assert summary["log"]["events"] == 13
    assert summary["log"]["event_object_links"] == 20
    ids = {row["EventId"] for row in server.sql("SELECT EventId FROM exos_log_events WHERE LogId = 'integer-ids'")}
    assert "1" in ids


def test_mixed_time_zones_in_csv_are_normalised(server, tmp_path):
    broken = tmp_path / "mixed-zones.csv"
    broken.write_text("\n".join([
        "case:concept:name,concept:name,time:timestamp,org:resource",
        "c1,register,2011-10-11 13:45:40+02:00,Ann",
        "c1,check,2011-10-11T12:45:40Z,Bob",
        "c1,decide,2011-10-11 14:45:40.500+01:00,Ann",
        "c2,register,2011-10-11 10:00:00,Ann",
        "c2,check,not a time,Bob",
    ]) + "\n", encoding="utf-8")
    summary = imported(server, broken, name="mixed-zones", timezone="+02:00")
    bad = [issue for issue in summary["issues"] if issue["kind"] == "bad_timestamp"]
    assert len(bad) == 1, summary
    assert "not a time" in bad[0]["message"]
    assert summary["log"]["events"] == 4
    back = pm4py.read_ocel2_json(str(export_log(server, "mixed-zones", "ocel-json", tmp_path / "zones.jsonocel")))
    times = sorted(str(t) for t in back.events["ocel:timestamp"])
    assert times == [
        "2011-10-11 08:00:00+00:00", "2011-10-11 11:45:40+00:00", "2011-10-11 12:45:40+00:00",
        "2011-10-11 13:45:40.500000+00:00",
    ]


# ---- object-centric mining ------------------------------------------------------------


def test_ocpm_matches_pm4py_flattening(server):
    imported(server, LOGS / "ocel20_example.jsonocel", name="p2p-ocpm")
    answer = get(server, "/api/ocpm", log="p2p-ocpm")
    ocel = pm4py.read_ocel2_json(str(LOGS / "ocel20_example.jsonocel"))
    assert sorted(t["object_type"] for t in answer["object_types"]) == sorted(pm4py.ocel_get_object_types(ocel))
    stats = answer["statistics"]
    assert stats["events"] == len(ocel.events)
    assert stats["objects"] == len(ocel.objects)
    assert {c["name"]: c["count"] for c in stats["links_per_qualifier"]} == ocel.relations.groupby("ocel:qualifier").size().to_dict()
    for view in answer["object_types"]:
        flat = pm4py.ocel_flattening(ocel, view["object_type"])
        dfg, starts, ends = pm4py.discover_dfg(flat) if len(flat) else ({}, {}, {})
        assert {(e["source"], e["target"]): e["count"] for e in view["edges"]} == dict(dfg), view["object_type"]
        assert {s["name"]: s["count"] for s in view["start_activities"]} == dict(starts), view["object_type"]
        assert {s["name"]: s["count"] for s in view["end_activities"]} == dict(ends), view["object_type"]


def test_ocpm_rejects_unknown_log(server):
    response = requests.get(f"{server.http_url}/api/ocpm", params={"log": "nope"}, auth=("admin", server.admin_password), timeout=TIMEOUT_S)
    assert response.status_code == 404
    assert "nope" in response.json()["error"]["message"]


def test_viewer_cannot_import(server, tmp_path):
    response = requests.post(
        f"{server.http_url}/api/users", json={"name": "viewer1", "password": "viewer-password-1", "role": "viewer"},
        auth=("admin", server.admin_password), timeout=TIMEOUT_S)
    assert response.status_code in (200, 201), response.text
    denied = requests.post(
        f"{server.http_url}/api/logs/import", params={"file": "x.xes"}, data=b"<log/>",
        auth=("viewer1", "viewer-password-1"), timeout=TIMEOUT_S)
    assert denied.status_code == 403
    listed = requests.get(f"{server.http_url}/api/logs", auth=("viewer1", "viewer-password-1"), timeout=TIMEOUT_S)
    assert listed.status_code == 200


# ---- the command line -------------------------------------------------------------------


def run_cli(*args: str) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("EXOS_")}
    return subprocess.run([EXOS_BIN, *args], capture_output=True, text=True, timeout=TIMEOUT_S, env=environment)


def test_cli_import_prints_report_and_export_writes_file(tmp_path):
    data = tmp_path / "data"
    text = (LOGS / "running-example.xes").read_text(encoding="utf-8")
    second = text.index("<trace>", text.index("<trace>") + 1)
    at = text.index('key="time:timestamp" value="', second) + len('key="time:timestamp" value="')
    broken = tmp_path / "bad-timestamp.xes"
    broken.write_text(text[:at] + "2011-13-45T10:00:00" + text[at + 19:], encoding="utf-8")
    completed = run_cli("import", str(broken), "--name", "bad", "--data-dir", str(data))
    assert completed.returncode == 0, completed.stderr
    assert "1 found" in completed.stdout, completed.stdout
    assert "2011-13-45T10:00:00" in completed.stdout
    assert "line " in completed.stdout
    out = tmp_path / "bad.sqlite"
    exported = run_cli("export", "--log", "bad", "--format", "ocel-sqlite", "--out", str(out), "--data-dir", str(data))
    assert exported.returncode == 0, exported.stderr
    back = pm4py.read_ocel2_sqlite(str(out))
    assert len(back.events) == 41
    missing = run_cli("export", "--log", "absent", "--format", "xes", "--out", str(tmp_path / "x.xes"), "--data-dir", str(data))
    assert missing.returncode != 0
    assert "absent" in missing.stderr

"""Make the small broken copies of the shared logs used by the import tests.

Run from this folder: python3 make_broken_copies.py (standard library only).
Each output differs from its source in the one way its name tells.
"""

import json
import os
import shutil
import sqlite3

LOGS = os.environ.get("EXOS_EVENT_LOGS", "../../../../../shared/data/event-logs")


def read(name):
    with open(os.path.join(LOGS, name), encoding="utf-8") as f:
        return f.read()


def write(name, text):
    with open(name, "w", encoding="utf-8") as f:
        f.write(text)


running = read("running-example.xes")
# Cut inside the 10th event: the document ends mid-element.
cut = [i for i in range(len(running)) if running.startswith("<event>", i)][9] + 60
write("running-example-truncated.xes", running[:cut])
# One impossible date (month 13) on the first event of the second trace.
second_trace = running.index("<trace>", running.index("<trace>") + 1)
bad_at = running.index('key="time:timestamp" value="', second_trace) + len('key="time:timestamp" value="')
write("running-example-bad-timestamp.xes", running[:bad_at] + "2011-13-45T10:00:00" + running[bad_at + 19:])

write("mixed-zones.csv", "\n".join([
    "case:concept:name,concept:name,time:timestamp,org:resource",
    "c1,register,2011-10-11 13:45:40+02:00,Ann",
    "c1,check,2011-10-11T12:45:40Z,Bob",
    "c1,decide,2011-10-11 14:45:40.500+01:00,Ann",
    "c2,register,2011-10-11 10:00:00,Ann",
    "c2,check,not a time,Bob",
    "c2,decide,2011-10-12 10:00:00-05:00,Cid",
    ",orphan,2011-10-12 10:00:00Z,Cid",
]) + "\n")

ocel = json.loads(read("ocel20_example.jsonocel"))
ocel["events"][0]["relationships"].append({"objectId": "NO-SUCH-OBJECT", "qualifier": "dangling"})
ocel["events"][1]["id"] = 42
ocel["events"][2]["relationships"].append(dict(ocel["events"][2]["relationships"][0], qualifier="second qualifier"))
ocel["events"][3]["time"] = "yesterday"
write("ocel-broken.jsonocel", json.dumps(ocel, indent=1))

xml = read("ocel20_example.xmlocel")
write("ocel-truncated.xmlocel", xml[: xml.index("<event ", xml.index("<events>")) + 900])

shutil.copy(os.path.join(LOGS, "ocel20_example.sqlite"), "ocel-integer-ids.sqlite")
os.chmod("ocel-integer-ids.sqlite", 0o644)
with sqlite3.connect("ocel-integer-ids.sqlite") as db:
    # TEXT columns would turn integers back into text: retype the tables
    # involved with untyped columns first.
    for table in ["event", "object", "event_object", "object_object", "object_Payment", "event_CreatePurchaseRequisition"]:
        columns = [row[1] for row in db.execute(f'PRAGMA table_info("{table}")')]
        db.execute(f'CREATE TABLE "{table}_untyped" ({", ".join(columns)})')
        db.execute(f'INSERT INTO "{table}_untyped" SELECT * FROM "{table}"')
        db.execute(f'DROP TABLE "{table}"')
        db.execute(f'ALTER TABLE "{table}_untyped" RENAME TO "{table}"')
    # Object P1 and event e1 get integer ids in every table naming them.
    db.execute("UPDATE object SET ocel_id = 101 WHERE ocel_id = 'P1'")
    db.execute("UPDATE object_Payment SET ocel_id = 101 WHERE ocel_id = 'P1'")
    db.execute("UPDATE object_object SET ocel_target_id = 101 WHERE ocel_target_id = 'P1'")
    db.execute("UPDATE event_object SET ocel_object_id = 101 WHERE ocel_object_id = 'P1'")
    db.execute("UPDATE event SET ocel_id = 1 WHERE ocel_id = 'e1'")
    db.execute("UPDATE event_CreatePurchaseRequisition SET ocel_id = 1 WHERE ocel_id = 'e1'")
    db.execute("UPDATE event_object SET ocel_event_id = 1 WHERE ocel_event_id = 'e1'")
    db.execute("INSERT INTO object_object VALUES ('PO1', 'GHOST', 'dangling')")
db = sqlite3.connect("ocel-integer-ids.sqlite")
db.execute("VACUUM")
db.close()

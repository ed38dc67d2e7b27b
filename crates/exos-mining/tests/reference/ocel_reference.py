"""Write PM4Py's figures for the OCEL 2.0 example in its three formats.

Run from the repository root:
    .venv-mining/bin/python crates/exos-mining/tests/reference/ocel_reference.py
Writes ocel20.json next to this script (pm4py==2.7.23.11).
"""

import json
import os
import sys
import warnings

import pm4py

warnings.filterwarnings("ignore")
HERE = os.path.dirname(os.path.abspath(__file__))
LOGS = os.environ.get("EXOS_EVENT_LOGS", os.path.join(HERE, "../../../../../shared/data/event-logs"))


def describe(ocel):
    """Counts, links with qualifiers, and flattened DFGs per object type."""
    out = {
        "events": len(ocel.events),
        "objects": len(ocel.objects),
        "event_object_links": len(ocel.relations),
        "object_object_links": len(ocel.o2o),
        "events_per_type": ocel.events["ocel:activity"].value_counts().sort_index().to_dict(),
        "objects_per_type": ocel.objects["ocel:type"].value_counts().sort_index().to_dict(),
        "event_object": sorted([r["ocel:eid"], r["ocel:oid"], r["ocel:qualifier"]] for _, r in ocel.relations.iterrows()),
        "object_object": sorted([r["ocel:oid"], r["ocel:oid_2"], r["ocel:qualifier"]] for _, r in ocel.o2o.iterrows()),
    }
    dfgs = {}
    for object_type in sorted(pm4py.ocel_get_object_types(ocel)):
        flat = pm4py.ocel_flattening(ocel, object_type)
        if len(flat) == 0:
            continue
        dfg, start, end = pm4py.discover_dfg(flat)
        dfgs[object_type] = {"edges": sorted([a, b, c] for (a, b), c in dfg.items()),
                             "start": dict(sorted(start.items())), "end": dict(sorted(end.items()))}
    out["object_type_dfgs"] = dfgs
    return out


def main():
    if len(sys.argv) == 2:
        # Read-back check of an exported file: print its description.
        print(json.dumps(describe(pm4py.read_ocel2_json(sys.argv[1])), sort_keys=True))
        return
    readers = {"json": (pm4py.read_ocel2_json, "ocel20_example.jsonocel"),
               "xml": (pm4py.read_ocel2_xml, "ocel20_example.xmlocel"),
               "sqlite": (pm4py.read_ocel2_sqlite, "ocel20_example.sqlite")}
    result = {name: describe(read(os.path.join(LOGS, file))) for name, (read, file) in readers.items()}
    with open(os.path.join(HERE, "ocel20.json"), "w") as f:
        json.dump(result, f, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()

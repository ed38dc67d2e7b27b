"""Write the PM4Py reference figures the Rust tests compare against.

Run from the repository root with the PM4Py venv:
    .venv-mining/bin/python crates/exos-mining/tests/reference/make_reference.py

Needs pm4py==2.7.23.11. Writes one small JSON file per shared log next to
this script. Inputs come from ../shared/data/event-logs (override with
EXOS_EVENT_LOGS).
"""

import hashlib
import json
import os
import sys
import warnings

import pandas as pd
import pm4py
from pm4py.algo.conformance.alignments.petri_net import algorithm as alignments
from pm4py.objects.log.obj import Event, Trace

warnings.filterwarnings("ignore")
HERE = os.path.dirname(os.path.abspath(__file__))
LOGS = os.environ.get("EXOS_EVENT_LOGS", os.path.join(HERE, "../../../../../shared/data/event-logs"))
ALIGNED_VARIANTS = 150
# Beyond the most frequent variants, every N-th of the rest, which brings
# in the rare, deviating ones.
ALIGNED_STRIDE = 40


def variants_digest(variants):
    """SHA-256 of the sorted lines 'count<TAB>a,b,c' of every variant."""
    lines = sorted(f"{count}\t{','.join(v)}" for v, count in variants.items())
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def performance(df):
    """Per-edge waiting times with pandas, for the p95 PM4Py does not give."""
    df = df.sort_values(["case:concept:name", "time:timestamp"], kind="stable")
    nxt = df.groupby("case:concept:name").shift(-1)
    pairs = pd.DataFrame({
        "a": df["concept:name"], "b": nxt["concept:name"],
        "d": (nxt["time:timestamp"] - df["time:timestamp"]).dt.total_seconds(),
    }).dropna()
    return {f"{a}\u2192{b}": g["d"].quantile(0.95) for (a, b), g in pairs.groupby(["a", "b"])}


def align_variants(variants, net, im, fm, limit):
    ordered = sorted(variants.items(), key=lambda kv: (-kv[1], kv[0]))
    ordered = ordered[:limit] + ordered[limit::ALIGNED_STRIDE]
    result = []
    for activities, count in ordered:
        trace = Trace([Event({"concept:name": a}) for a in activities])
        aligned = alignments.apply_trace(trace, net, im, fm)
        result.append({"activities": list(activities), "count": count, "cost": aligned["cost"]})
    return result


def describe(name, df, align_limit):
    out = {"events": len(df), "cases": int(df["case:concept:name"].nunique()),
           "activities": int(df["concept:name"].nunique())}
    dfg, start, end = pm4py.discover_dfg(df)
    out["dfg"] = sorted([a, b, c] for (a, b), c in dfg.items())
    out["start_activities"] = dict(sorted(start.items()))
    out["end_activities"] = dict(sorted(end.items()))

    variants = pm4py.get_variants(df)
    out["variant_count"] = len(variants)
    out["variants_sha256"] = variants_digest(variants)
    top = sorted(variants.items(), key=lambda kv: (-kv[1], kv[0]))[:10]
    out["top_variants"] = [{"activities": list(v), "count": c} for v, c in top]

    durations = pm4py.get_all_case_durations(df)
    out["case_durations"] = {"count": len(durations), "sum": float(sum(durations)),
                             "min": float(min(durations)), "max": float(max(durations)),
                             "every_100th": [float(d) for d in durations[::100]]}

    perf = pm4py.discover_performance_dfg(df)[0]
    p95 = performance(df)
    out["performance_dfg"] = {f"{a}\u2192{b}": {k: float(v[k]) for k in ("mean", "median", "min", "max", "sum")}
                              | {"p95": float(p95[f"{a}\u2192{b}"])} for (a, b), v in perf.items()}
    out["rework_cases"] = dict(sorted(pm4py.get_rework_cases_per_activity(df).items()))

    first_start = max(start, key=lambda a: (start[a], a))
    first_end = max(end, key=lambda a: (end[a], a))
    first_edge = max(dfg, key=lambda e: (dfg[e], e))
    filters = {
        "top_k_3": pm4py.filter_variants_top_k(df, 3),
        "coverage_0_05": pm4py.filter_variants_by_coverage_percentage(df, 0.05),
        "start_" + first_start: pm4py.filter_start_activities(df, [first_start]),
        "end_" + first_end: pm4py.filter_end_activities(df, [first_end]),
        "performance_1d_30d": pm4py.filter_case_performance(df, 86400, 30 * 86400),
        "directly_follows_top": pm4py.filter_directly_follows_relation(df, [first_edge]),
        "activity_" + first_start: pm4py.filter_event_attribute_values(df, "concept:name", [first_start], level="event"),
    }
    out["filters"] = {k: [int(v["case:concept:name"].nunique()), len(v)] for k, v in filters.items()}
    out["filter_args"] = {"start": first_start, "end": first_end, "edge": list(first_edge)}

    out["imf"] = {}
    for noise in (0.0, 0.2):
        tree = pm4py.discover_process_tree_inductive(df, noise_threshold=noise)
        net, im, fm = pm4py.convert_to_petri_net(tree)
        fitness = pm4py.fitness_token_based_replay(df, net, im, fm)
        entry = {"tree": str(tree), "places": len(net.places), "transitions": len(net.transitions),
                 "token_replay": {k: float(fitness[k]) for k in ("log_fitness", "average_trace_fitness", "perc_fit_traces")}}
        if noise == 0.2:
            entry["alignments"] = align_variants(variants, net, im, fm, align_limit)
        out["imf"][str(noise)] = entry
        print(name, noise, "done", file=sys.stderr)
    return out


def main():
    sources = {
        "running-example": lambda: pm4py.read_xes(os.path.join(LOGS, "running-example.xes")),
        "receipt": lambda: pm4py.format_dataframe(pd.read_csv(os.path.join(LOGS, "receipt.csv")),
                                                  case_id="case:concept:name", activity_key="concept:name",
                                                  timestamp_key="time:timestamp"),
        "bpic2012": lambda: pm4py.read_xes(os.path.join(LOGS, "bpic2012.xes.gz")),
    }
    wanted = sys.argv[1:] or list(sources)
    for name in wanted:
        df = sources[name]()
        result = describe(name, df, ALIGNED_VARIANTS)
        with open(os.path.join(HERE, f"{name}.json"), "w") as f:
            json.dump(result, f, indent=1, ensure_ascii=False)
        print(name, "written", file=sys.stderr)


if __name__ == "__main__":
    main()

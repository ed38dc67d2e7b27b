"""Time PM4Py 2.7 on the steps the Rust benchmark times, for side-by-side
ratios. Called by `cargo run -p exos-mining --release --example bench`.

Usage: bench_pm4py.py LOG.xes[.gz] RUNS ALIGN_SAMPLE
Prints one JSON object: step name -> median seconds over RUNS runs (the
import runs min(RUNS, 1) times on large logs, see below), plus the number of
variants aligned.
"""

import json
import os
import statistics
import sys
import time
import warnings

os.environ.setdefault("TQDM_DISABLE", "1")
warnings.filterwarnings("ignore")

import pm4py  # noqa: E402
from pm4py.algo.conformance.alignments.petri_net import algorithm as alignments  # noqa: E402
from pm4py.objects.log.obj import Event, Trace  # noqa: E402


def timed(runs, step):
    durations, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = step()
        durations.append(time.perf_counter() - started)
    return statistics.median(durations), result


def main():
    path, runs, sample = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    out = {}
    out["xes_import"], df = timed(runs, lambda: pm4py.read_xes(path))
    out["dfg"], _ = timed(runs, lambda: pm4py.discover_dfg(df))
    out["performance_dfg"], _ = timed(runs, lambda: pm4py.discover_performance_dfg(df))
    out["variants"], variants = timed(runs, lambda: pm4py.get_variants(df))
    out["inductive_miner"], tree = timed(runs, lambda: pm4py.discover_process_tree_inductive(df, noise_threshold=0.2))
    net, im, fm = pm4py.convert_to_petri_net(tree)
    out["token_replay"], _ = timed(runs, lambda: pm4py.fitness_token_based_replay(df, net, im, fm))

    ordered = sorted(variants.items(), key=lambda kv: (-kv[1], kv[0]))[:sample]
    traces = [Trace([Event({"concept:name": a}) for a in v]) for v, _ in ordered]
    started = time.perf_counter()
    for trace in traces:
        alignments.apply_trace(trace, net, im, fm)
    out["alignments_sample"] = time.perf_counter() - started
    out["aligned_variants"] = len(traces)
    print(json.dumps(out))


if __name__ == "__main__":
    main()

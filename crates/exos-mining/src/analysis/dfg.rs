//! Directly-follows graphs: how often activity `b` directly follows `a` in a
//! case, and how long the step takes.
//!
//! Definitions follow PM4Py 2.7 (`discover_dfg`, `discover_performance_dfg`):
//! an edge per pair of consecutive events of a case, start and end
//! activities counted once per case, and the waiting time of an edge the
//! difference of the two events' timestamps in seconds.

use rustc_hash::FxHashMap;

use super::stats::Summary;
use crate::log::{EventLog, Sym, NO_TIME};
use crate::time::seconds_between;

/// Frequencies of a directly-follows graph.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Dfg {
    /// Occurrences of each edge (a, b).
    pub edges: FxHashMap<(Sym, Sym), u64>,
    /// Cases starting with each activity.
    pub start_activities: FxHashMap<Sym, u64>,
    /// Cases ending with each activity.
    pub end_activities: FxHashMap<Sym, u64>,
    /// Events of each activity, indexed by activity id.
    pub activity_counts: Vec<u64>,
}

impl Dfg {
    /// Edges sorted by descending count, then by ids, for stable output.
    pub fn sorted_edges(&self) -> Vec<((Sym, Sym), u64)> {
        let mut edges: Vec<_> = self.edges.iter().map(|(&e, &c)| (e, c)).collect();
        edges.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        edges
    }
}

/// Computes the directly-follows graph of `log`.
pub fn directly_follows(log: &EventLog) -> Dfg {
    let activity_count = log.activities.len();
    let mut dfg = Dfg {
        activity_counts: vec![0; activity_count],
        ..Dfg::default()
    };
    // A dense matrix is faster than hashing while it stays small.
    let dense = activity_count <= 1024;
    let mut matrix = vec![
        0u64;
        if dense {
            activity_count * activity_count
        } else {
            0
        }
    ];
    for trace in log.traces() {
        let (Some(&first), Some(&last)) = (trace.first(), trace.last()) else {
            continue;
        };
        *dfg.start_activities.entry(first).or_default() += 1;
        *dfg.end_activities.entry(last).or_default() += 1;
        for &activity in trace {
            dfg.activity_counts[activity as usize] += 1;
        }
        for pair in trace.windows(2) {
            if dense {
                matrix[pair[0] as usize * activity_count + pair[1] as usize] += 1;
            } else {
                *dfg.edges.entry((pair[0], pair[1])).or_default() += 1;
            }
        }
    }
    if dense {
        for (index, &count) in matrix.iter().enumerate().filter(|(_, c)| **c > 0) {
            let edge = (
                (index / activity_count) as Sym,
                (index % activity_count) as Sym,
            );
            dfg.edges.insert(edge, count);
        }
    }
    dfg
}

/// Waiting-time statistics of one edge, in seconds.
pub type EdgePerformance = Summary;

/// Computes waiting-time statistics per edge: for consecutive events `x`, `y`
/// of a case, `time(y) - time(x)`, where `time(y)` is `y`'s start timestamp
/// when `use_start` is set and `y` has one, and its complete timestamp
/// otherwise. Pairs with a missing timestamp are left out.
pub fn performance_dfg(log: &EventLog, use_start: bool) -> FxHashMap<(Sym, Sym), EdgePerformance> {
    let mut durations: FxHashMap<(Sym, Sym), Vec<f64>> = FxHashMap::default();
    for case in 0..log.case_count() {
        let range = log.case_range(case);
        for event in range.start..range.end.saturating_sub(1) {
            let next = event + 1;
            let from = log.timestamp[event];
            let to = if use_start && log.start[next] != NO_TIME {
                log.start[next]
            } else {
                log.timestamp[next]
            };
            if from == NO_TIME || to == NO_TIME {
                continue;
            }
            let edge = (log.activity[event], log.activity[next]);
            durations
                .entry(edge)
                .or_default()
                .push(seconds_between(from, to));
        }
    }
    durations
        .into_iter()
        .map(|(edge, mut values)| (edge, Summary::of(&mut values)))
        .collect()
}

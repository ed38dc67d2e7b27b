//! Small helpers shared by the answers: per-activity durations, slider counts.

use exos_mining::analysis::Summary;
use exos_mining::log::{Sym, NO_TIME};
use exos_mining::time::seconds_between;
use exos_mining::EventLog;
use rustc_hash::FxHashMap;

/// How many of `n` items a share (0..=1) keeps: rounded up, at least one when any exist.
pub fn share_count(n: usize, share: f64) -> usize {
    if n == 0 {
        return 0;
    }
    ((n as f64 * share).ceil() as usize).clamp(1, n)
}

/// Processing time of one event in seconds (end minus start), when both are known.
pub fn event_duration(log: &EventLog, event: usize) -> Option<f64> {
    let (start, end) = (log.start[event], log.timestamp[event]);
    (start != NO_TIME && end != NO_TIME).then(|| seconds_between(start, end))
}

/// Processing-time statistics per activity.
pub fn event_durations(log: &EventLog) -> FxHashMap<Sym, Summary> {
    let mut values: FxHashMap<Sym, Vec<f64>> = FxHashMap::default();
    for event in 0..log.event_count() {
        if let Some(seconds) = event_duration(log, event) {
            values.entry(log.activity[event]).or_default().push(seconds);
        }
    }
    values
        .into_iter()
        .map(|(activity, mut v)| (activity, Summary::of(&mut v)))
        .collect()
}

/// Waiting time in seconds before event `event` (from the previous event's
/// end to this one's start); `None` for a case's first event.
pub fn wait_before(log: &EventLog, case_start: usize, event: usize) -> Option<f64> {
    if event == case_start {
        return None;
    }
    let (end, start) = (log.timestamp[event - 1], log.start[event]);
    (end != NO_TIME && start != NO_TIME).then(|| seconds_between(end, start).max(0.0))
}

/// Case ids as text, by case index.
pub fn case_id(log: &EventLog, case: usize) -> String {
    log.case_ids[case].clone()
}

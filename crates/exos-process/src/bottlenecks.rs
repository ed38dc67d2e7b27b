//! Bottlenecks: where cases wait, and which steps became slower.
//!
//! Edges and activities are ranked by their contribution to the total
//! waiting time of all cases. The wait on an edge runs from the end of one
//! activity to the start of the next. An activity's wait is the wait on its
//! incoming edges (its queue). Slowdowns find, per activity, the moment its
//! processing time changed level (a release, a new tool), and rank the
//! activities that became slower by the extra processing time since then.

use exos_mining::analysis::Summary;
use exos_mining::log::Sym;
use exos_mining::EventLog;
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use exos_analytics::TimeRange;

use crate::request::LogScope;
use crate::stats::{event_duration, wait_before};

/// Items per list by default.
const DEFAULT_LIMIT: usize = 10;
/// Cases listed per item.
const CASES_PER_ITEM: usize = 5;
/// A slowdown needs this many events before and after its start.
const MIN_SIDE: usize = 20;
/// A rise in median processing time below this factor is not a slowdown.
const MIN_FACTOR: f64 = 1.5;

/// A bottlenecks request.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BottlenecksRequest {
    pub scope: LogScope,
    /// Items per list (10 by default).
    pub limit: Option<usize>,
}

/// One case behind a bottleneck, with the time it lost there.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CaseTime {
    pub case: String,
    pub seconds: f64,
}

/// A waiting edge.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EdgeBottleneck {
    pub from: String,
    pub to: String,
    /// Share of all waiting time, 0..=1.
    pub share: f64,
    pub wait: Summary,
    /// The cases that waited longest here.
    pub cases: Vec<CaseTime>,
}

/// An activity and the queue before it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ActivityBottleneck {
    pub activity: String,
    /// Share of all waiting time, 0..=1.
    pub share: f64,
    /// Waiting before the activity, seconds.
    pub wait: Summary,
    /// Processing time, seconds.
    pub processing: Summary,
    pub cases: Vec<CaseTime>,
}

/// An activity whose processing time rose from a moment on.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Slowdown {
    pub activity: String,
    /// Start of the first slower event, epoch milliseconds.
    pub since_ms: i64,
    pub median_before_seconds: f64,
    pub median_after_seconds: f64,
    /// `median_after / median_before`.
    pub factor: f64,
    pub events_after: u64,
    /// Extra processing time since then: events after × rise of the median.
    pub extra_seconds: f64,
    pub cases: Vec<CaseTime>,
}

/// The bottlenecks response.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BottlenecksAnswer {
    pub cases: u64,
    /// Waiting time of all cases, seconds.
    pub total_wait_seconds: f64,
    pub edges: Vec<EdgeBottleneck>,
    pub activities: Vec<ActivityBottleneck>,
    pub slowdowns: Vec<Slowdown>,
}

/// Waits and processing times of one item, with the case of each.
#[derive(Default)]
struct Times {
    values: Vec<f64>,
    cases: Vec<u32>,
}

impl Times {
    fn push(&mut self, seconds: f64, case: usize) {
        self.values.push(seconds);
        self.cases.push(case as u32);
    }

    fn summary(&self) -> Summary {
        Summary::of(&mut self.values.clone())
    }

    fn top_cases(&self, log: &EventLog) -> Vec<CaseTime> {
        let mut order: Vec<usize> = (0..self.values.len()).collect();
        order.sort_by(|&a, &b| self.values[b].total_cmp(&self.values[a]));
        order
            .into_iter()
            .take(CASES_PER_ITEM)
            .map(|i| CaseTime {
                case: log.case_ids[self.cases[i] as usize].clone(),
                seconds: self.values[i],
            })
            .collect()
    }
}

/// Finds the bottlenecks of `log`, which was loaded for `range`.
pub fn bottlenecks(
    log: &EventLog,
    request: &BottlenecksRequest,
    range: TimeRange,
) -> BottlenecksAnswer {
    let limit = request.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, 1000);
    let mut edge_waits: FxHashMap<(Sym, Sym), Times> = FxHashMap::default();
    let mut queue: FxHashMap<Sym, Times> = FxHashMap::default();
    let mut processing: FxHashMap<Sym, Times> = FxHashMap::default();
    for case in 0..log.case_count() {
        let events = log.case_range(case);
        for event in events.clone() {
            let activity = log.activity[event];
            if let Some(seconds) = event_duration(log, event) {
                processing.entry(activity).or_default().push(seconds, case);
            }
            if let Some(seconds) = wait_before(log, events.start, event) {
                let edge = (log.activity[event - 1], activity);
                edge_waits.entry(edge).or_default().push(seconds, case);
                queue.entry(activity).or_default().push(seconds, case);
            }
        }
    }
    let total: f64 = queue.values().flat_map(|t| &t.values).sum();
    let share = |summary: &Summary| {
        if total > 0.0 {
            summary.sum / total
        } else {
            0.0
        }
    };

    let mut edges: Vec<EdgeBottleneck> = edge_waits
        .iter()
        .map(|(&(a, b), times)| {
            let wait = times.summary();
            EdgeBottleneck {
                from: log.activity_name(a).into(),
                to: log.activity_name(b).into(),
                share: share(&wait),
                wait,
                cases: times.top_cases(log),
            }
        })
        .collect();
    edges.sort_by(|a, b| b.wait.sum.total_cmp(&a.wait.sum));
    edges.truncate(limit);

    let mut activities: Vec<ActivityBottleneck> = processing
        .iter()
        .map(|(&activity, times)| {
            let queued = queue.get(&activity);
            let wait = queued.map(Times::summary).unwrap_or_default();
            ActivityBottleneck {
                activity: log.activity_name(activity).into(),
                share: share(&wait),
                wait,
                processing: times.summary(),
                cases: queued.map(|t| t.top_cases(log)).unwrap_or_default(),
            }
        })
        .collect();
    activities.sort_by(|a, b| b.wait.sum.total_cmp(&a.wait.sum));
    activities.truncate(limit);

    // The log contains whole cases, also their events outside the range. A slowdown
    // compares events inside the range only, so that its date falls in the range.
    let mut slowdowns: Vec<Slowdown> = (0..log.activities.len() as Sym)
        .filter_map(|activity| slowdown(log, activity, range))
        .collect();
    slowdowns.sort_by(|a, b| b.extra_seconds.total_cmp(&a.extra_seconds));
    slowdowns.truncate(limit);

    BottlenecksAnswer {
        cases: log.case_count() as u64,
        total_wait_seconds: total,
        edges,
        activities,
        slowdowns,
    }
}

/// Finds the change point of `activity`'s processing times (events in start
/// order, those starting in `range`), when the median after it is [`MIN_FACTOR`]
/// times the one before.
fn slowdown(log: &EventLog, activity: Sym, range: TimeRange) -> Option<Slowdown> {
    let in_range = |start_us: i64| {
        let start_ns = start_us.saturating_mul(1_000);
        start_ns >= range.from_ns && start_ns < range.to_ns
    };
    let mut events: Vec<(i64, f64, usize)> = Vec::new();
    for case in 0..log.case_count() {
        for event in log.case_range(case) {
            if log.activity[event] == activity && in_range(log.start[event]) {
                if let Some(seconds) = event_duration(log, event) {
                    events.push((log.start[event], seconds, case));
                }
            }
        }
    }
    if events.len() < 2 * MIN_SIDE {
        return None;
    }

    events.sort_by_key(|e| e.0);
    let durations: Vec<f64> = events.iter().map(|e| e.1).collect();
    let split = change_point(&durations)?;
    let (before, after) = (median(&durations[..split]), median(&durations[split..]));
    if before <= 0.0 || after / before < MIN_FACTOR {
        return None;
    }

    let after_events = &events[split..];
    let mut slowest: Vec<&(i64, f64, usize)> = after_events.iter().collect();
    slowest.sort_by(|a, b| b.1.total_cmp(&a.1));
    Some(Slowdown {
        activity: log.activity_name(activity).into(),
        since_ms: after_events[0].0.div_euclid(1000),
        median_before_seconds: before,
        median_after_seconds: after,
        factor: after / before,
        events_after: after_events.len() as u64,
        extra_seconds: (after - before) * after_events.len() as f64,
        cases: slowest
            .into_iter()
            .take(CASES_PER_ITEM)
            .map(|e| CaseTime {
                case: log.case_ids[e.2].clone(),
                seconds: e.1,
            })
            .collect(),
    })
}

/// The index that splits `durations` into two runs whose log-durations are
/// each closest to their own mean (least squares, the classic single
/// change-point in mean); logs because processing times are skewed and a
/// slowdown multiplies them. Each run keeps at least [`MIN_SIDE`] values.
fn change_point(durations: &[f64]) -> Option<usize> {
    let logs: Vec<f64> = durations.iter().map(|d| d.max(1e-3).ln()).collect();
    let mut sum = vec![0.0; logs.len() + 1];
    let mut squares = vec![0.0; logs.len() + 1];
    for (i, x) in logs.iter().enumerate() {
        sum[i + 1] = sum[i] + x;
        squares[i + 1] = squares[i] + x * x;
    }
    let n = logs.len();
    let cost = |from: usize, to: usize| {
        let (s, q, m) = (
            sum[to] - sum[from],
            squares[to] - squares[from],
            (to - from) as f64,
        );
        q - s * s / m
    };
    (MIN_SIDE..=n.checked_sub(MIN_SIDE)?)
        .map(|k| (k, cost(0, k) + cost(k, n)))
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(k, _)| k)
}

fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    Summary::of(&mut sorted).median
}

#[cfg(test)]
mod tests {
    use super::*;
    use exos_mining::log::{EventFields, LogBuilder};

    const SECOND_US: i64 = 1_000_000;
    /// The range start, 1,000,000 s after the epoch.
    const FROM_US: i64 = 1_000_000 * SECOND_US;

    /// Builds a log of one-event cases of `Check`, one per (start, seconds) pair.
    fn checks(events: &[(i64, i64)]) -> EventLog {
        let mut builder = LogBuilder::default();
        let activity = builder.intern_activity("Check");
        for (index, &(start, seconds)) in events.iter().enumerate() {
            builder.begin_case(format!("case-{index}"), Vec::new());
            let fields = EventFields {
                activity,
                start,
                timestamp: start + seconds * SECOND_US,
                resource: exos_mining::log::NO_SYM,
                lifecycle: exos_mining::log::NO_SYM,
            };
            builder.push_event(&fields, &mut Vec::new());
        }
        builder.finish()
    }

    /// The range, 100,000 s from `FROM_US`.
    fn range() -> TimeRange {
        TimeRange::new(FROM_US * 1_000, (FROM_US + 100_000 * SECOND_US) * 1_000).unwrap()
    }

    #[test]
    fn slowdown_ignores_events_before_range() {
        // Fast before the range, steadily slow inside it: no change inside the range.
        let mut events: Vec<(i64, i64)> = (0..30)
            .map(|i| (FROM_US - (100 - i) * SECOND_US, 10))
            .collect();
        events.extend((0..60).map(|i| (FROM_US + i * 60 * SECOND_US, 100 + i % 3)));
        let answer = bottlenecks(&checks(&events), &BottlenecksRequest::default(), range());
        assert!(answer.slowdowns.is_empty(), "{:?}", answer.slowdowns);
    }

    #[test]
    fn slowdown_inside_range_is_found() {
        let events: Vec<(i64, i64)> = (0..80)
            .map(|i| (FROM_US + i * 60 * SECOND_US, if i < 40 { 10 } else { 100 }))
            .collect();
        let answer = bottlenecks(&checks(&events), &BottlenecksRequest::default(), range());
        assert_eq!(answer.slowdowns.len(), 1);
        let slowdown = &answer.slowdowns[0];
        assert_eq!(slowdown.since_ms, (FROM_US + 40 * 60 * SECOND_US) / 1_000);
        assert_eq!(slowdown.events_after, 40);
    }
}

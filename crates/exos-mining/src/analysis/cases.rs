//! Case-level statistics: durations, throughput over time and rework.

use rustc_hash::FxHashMap;

use super::variants::case_duration;
use crate::log::{EventLog, Sym, Timestamp, NO_TIME};

/// Durations of all cases in seconds, ascending (PM4Py's
/// `get_all_case_durations`); cases with a missing timestamp are left out.
pub fn case_durations(log: &EventLog) -> Vec<f64> {
    let mut durations: Vec<f64> = (0..log.case_count())
        .filter_map(|c| case_duration(log, c))
        .collect();
    durations.sort_unstable_by(f64::total_cmp);
    durations
}

/// Width of a throughput bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bucket {
    /// One hour.
    Hour,
    /// One UTC day.
    Day,
    /// Seven UTC days, starting on Monday.
    Week,
}

impl Bucket {
    fn micros(self) -> i64 {
        const HOUR: i64 = 3_600_000_000;
        match self {
            Bucket::Hour => HOUR,
            Bucket::Day => 24 * HOUR,
            Bucket::Week => 7 * 24 * HOUR,
        }
    }

    /// Start of the bucket containing `time`. 1970-01-01 was a Thursday, so
    /// weeks are shifted by three days to start on Monday (1970-01-05).
    fn floor(self, time: Timestamp) -> Timestamp {
        let shift = if self == Bucket::Week {
            3 * Bucket::Day.micros()
        } else {
            0
        };
        (time + shift).div_euclid(self.micros()) * self.micros() - shift
    }
}

/// Activity in one time bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ThroughputBucket {
    /// Bucket start.
    pub start: Timestamp,
    /// Cases whose first event falls in the bucket.
    pub cases_started: u64,
    /// Cases whose last event falls in the bucket (with end activities given,
    /// only those whose last event is one of them).
    pub cases_completed: u64,
    /// Events in the bucket.
    pub events: u64,
}

/// Counts case starts, case completions and events per time bucket, in
/// time order, leaving out events without a timestamp. A case completes at its
/// last event.
pub fn throughput(log: &EventLog, bucket: Bucket) -> Vec<ThroughputBucket> {
    throughput_ending(log, bucket, None)
}

/// Marks, by activity id, the activities that end a case and never have a
/// successor in any case of `log`. Cases still running end at steps that
/// other cases continue after, so those steps are not marked.
pub fn terminal_activities(log: &EventLog) -> Vec<bool> {
    let mut ends = vec![false; log.activities.len()];
    let mut continued = vec![false; log.activities.len()];
    for case in 0..log.case_count() {
        let range = log.case_range(case);
        let Some(last) = range.clone().last() else {
            continue;
        };
        ends[log.activity[last] as usize] = true;
        for event in range.start..last {
            continued[log.activity[event] as usize] = true;
        }
    }
    ends.iter()
        .zip(&continued)
        .map(|(&end, &went_on)| end && !went_on)
        .collect()
}

/// Counts as [`throughput`] does, except that with `ends` (by activity id, as
/// from [`terminal_activities`]) a case completes only when its last event's
/// activity is marked. A case still running is then started but not completed.
pub fn throughput_ending(
    log: &EventLog,
    bucket: Bucket,
    ends: Option<&[bool]>,
) -> Vec<ThroughputBucket> {
    let mut buckets: FxHashMap<Timestamp, ThroughputBucket> = FxHashMap::default();
    for case in 0..log.case_count() {
        let times: Vec<Timestamp> = log.timestamp[log.case_range(case)]
            .iter()
            .copied()
            .filter(|&t| t != NO_TIME)
            .collect();
        let (Some(&first), Some(&last)) = (times.iter().min(), times.iter().max()) else {
            continue;
        };
        bucket_of(&mut buckets, bucket, first).cases_started += 1;
        let last_activity = log.case_range(case).last().map(|event| log.activity[event]);
        let completed = match (ends, last_activity) {
            (None, _) => true,
            (Some(ends), Some(activity)) => ends.get(activity as usize).copied().unwrap_or(false),
            (Some(_), None) => false,
        };
        if completed {
            bucket_of(&mut buckets, bucket, last).cases_completed += 1;
        }
        for time in times {
            bucket_of(&mut buckets, bucket, time).events += 1;
        }
    }
    let mut result: Vec<ThroughputBucket> = buckets.into_values().collect();
    result.sort_by_key(|b| b.start);
    result
}

fn bucket_of(
    buckets: &mut FxHashMap<Timestamp, ThroughputBucket>,
    bucket: Bucket,
    time: Timestamp,
) -> &mut ThroughputBucket {
    let start = bucket.floor(time);
    buckets.entry(start).or_insert(ThroughputBucket {
        start,
        ..Default::default()
    })
}

/// Rework of one activity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Rework {
    /// Cases in which the activity occurs more than once (PM4Py's
    /// `get_rework_cases_per_activity`).
    pub cases: u64,
    /// Occurrences beyond the first, summed over cases.
    pub repetitions: u64,
}

/// Rework per activity id (activities never repeated have zero counts).
pub fn rework_per_activity(log: &EventLog) -> Vec<Rework> {
    let mut rework = vec![Rework::default(); log.activities.len()];
    let mut seen: FxHashMap<Sym, u64> = FxHashMap::default();
    for trace in log.traces() {
        seen.clear();
        for &activity in trace {
            *seen.entry(activity).or_default() += 1;
        }
        for (&activity, &count) in &seen {
            if count > 1 {
                rework[activity as usize].cases += 1;
                rework[activity as usize].repetitions += count - 1;
            }
        }
    }
    rework
}

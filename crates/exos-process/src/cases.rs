//! The case charts: the case-duration distribution and throughput over time.

use exos_mining::analysis::{
    case_durations, terminal_activities, throughput_ending, Bucket, Summary,
};
use exos_mining::{EventLog, Sym};
use serde::{Deserialize, Serialize};

use crate::request::LogScope;

/// Histogram bins by default.
const DEFAULT_BINS: usize = 30;
/// Histogram bins at most.
const MAX_BINS: usize = 200;

/// A case charts request.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CasesRequest {
    pub scope: LogScope,
    /// Duration histogram bins (30 by default, 200 at most).
    pub bins: Option<usize>,
    /// Throughput bucket: `hour`, `day` (default) or `week`.
    pub bucket: Option<BucketName>,
}

/// A throughput bucket width.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BucketName {
    Hour,
    #[default]
    Day,
    Week,
}

/// One histogram bin of case durations, `[from, to)` in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct DurationBin {
    pub from_seconds: f64,
    pub to_seconds: f64,
    pub cases: u64,
}

/// One throughput bucket.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ThroughputRow {
    /// Bucket start, epoch milliseconds.
    pub start_ms: i64,
    pub cases_started: u64,
    pub cases_completed: u64,
    pub events: u64,
}

/// The case charts answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CasesAnswer {
    pub cases: u64,
    /// Case durations in seconds.
    pub duration: Summary,
    pub histogram: Vec<DurationBin>,
    /// Cases started and completed per bucket. A case completes when its last
    /// step is one of `end_activities`.
    pub throughput: Vec<ThroughputRow>,
    /// The steps that end cases and that no case went on after, by name; a
    /// case whose last step is another one is still running.
    pub end_activities: Vec<String>,
}

/// Computes the case charts of `log`.
pub fn case_charts(log: &EventLog, request: &CasesRequest) -> CasesAnswer {
    let mut durations = case_durations(log);
    let bins = request.bins.unwrap_or(DEFAULT_BINS).clamp(1, MAX_BINS);
    let histogram = histogram(&durations, bins);
    let bucket = match request.bucket.unwrap_or_default() {
        BucketName::Hour => Bucket::Hour,
        BucketName::Day => Bucket::Day,
        BucketName::Week => Bucket::Week,
    };
    let ends = terminal_activities(log);
    let mut end_activities: Vec<String> = ends
        .iter()
        .enumerate()
        .filter(|(_, &end)| end)
        .map(|(id, _)| log.activity_name(id as Sym).to_owned())
        .collect();
    end_activities.sort();
    CasesAnswer {
        cases: log.case_count() as u64,
        duration: Summary::of(&mut durations),
        histogram,
        end_activities,
        throughput: throughput_ending(log, bucket, Some(&ends))
            .into_iter()
            .map(|b| ThroughputRow {
                start_ms: b.start.div_euclid(1000),
                cases_started: b.cases_started,
                cases_completed: b.cases_completed,
                events: b.events,
            })
            .collect(),
    }
}

/// Equal-width bins from 0 to the longest duration; the last bin includes its end.
fn histogram(sorted: &[f64], bins: usize) -> Vec<DurationBin> {
    let Some(&max) = sorted.last() else {
        return Vec::new();
    };
    let width = if max > 0.0 { max / bins as f64 } else { 1.0 };
    let mut counts = vec![0u64; bins];
    for &value in sorted {
        let index = ((value / width) as usize).min(bins - 1);
        counts[index] += 1;
    }
    counts
        .into_iter()
        .enumerate()
        .map(|(i, cases)| DurationBin {
            from_seconds: i as f64 * width,
            to_seconds: (i + 1) as f64 * width,
            cases,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_puts_the_longest_case_in_the_last_bin() {
        let bins = histogram(&[0.0, 1.0, 5.0, 10.0], 2);
        assert_eq!(bins.iter().map(|b| b.cases).collect::<Vec<_>>(), [2, 2]);
        assert_eq!(bins[1].to_seconds, 10.0);
    }
}

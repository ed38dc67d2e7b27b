//! Variants: the distinct activity sequences of a log, with their cases.

use rustc_hash::FxHashMap;

use super::stats::Summary;
use crate::log::{EventLog, Sym, NO_TIME};
use crate::time::seconds_between;

/// One variant and the cases that follow it.
#[derive(Debug, Clone, PartialEq)]
pub struct Variant {
    /// Activity ids in order.
    pub activities: Vec<Sym>,
    /// Number of cases.
    pub count: u64,
    /// Share of all cases, 0..=1.
    pub share: f64,
    /// Case indices, in log order.
    pub cases: Vec<u32>,
    /// Case durations (last minus first timestamp) of its cases, in seconds.
    pub duration: Summary,
}

/// Groups cases by activity sequence. Variants are sorted by descending
/// count, ties by the activity sequence's names in descending order (the
/// order PM4Py's `filter_variants_top_k` uses).
pub fn variants(log: &EventLog) -> Vec<Variant> {
    let mut index: FxHashMap<&[Sym], usize> = FxHashMap::default();
    let mut groups: Vec<(&[Sym], Vec<u32>)> = Vec::new();
    for case in 0..log.case_count() {
        let trace = log.trace(case);
        let slot = *index.entry(trace).or_insert_with(|| {
            groups.push((trace, Vec::new()));
            groups.len() - 1
        });
        groups[slot].1.push(case as u32);
    }

    let total = log.case_count().max(1) as f64;
    let mut variants: Vec<Variant> = groups
        .into_iter()
        .map(|(activities, cases)| {
            let mut durations: Vec<f64> = cases
                .iter()
                .filter_map(|&c| case_duration(log, c as usize))
                .collect();
            Variant {
                activities: activities.to_vec(),
                count: cases.len() as u64,
                share: cases.len() as f64 / total,
                cases,
                duration: Summary::of(&mut durations),
            }
        })
        .collect();
    variants.sort_by(|a, b| {
        b.count
            .cmp(&a.count)
            .then_with(|| compare_names(log, &b.activities, &a.activities))
    });
    variants
}

/// Compares two activity sequences by their names, element by element.
pub(crate) fn compare_names(log: &EventLog, a: &[Sym], b: &[Sym]) -> std::cmp::Ordering {
    a.iter()
        .map(|&x| log.activity_name(x))
        .cmp(b.iter().map(|&x| log.activity_name(x)))
}

/// Last minus first timestamp of a case in seconds; `None` when a timestamp
/// is missing.
pub fn case_duration(log: &EventLog, case: usize) -> Option<f64> {
    let range = log.case_range(case);
    if range.is_empty() {
        return Some(0.0);
    }
    let times = &log.timestamp[range];
    if times.contains(&NO_TIME) {
        return None;
    }
    let first = *times.iter().min()?;
    let last = *times.iter().max()?;
    Some(seconds_between(first, last))
}

//! Filters returning a smaller log; each mirrors a PM4Py 2.7 filter of the
//! same name and keeps its semantics, so results can be compared.
//!
//! Case filters keep or drop whole cases; [`activities`] drops events.
//! Symbol tables are kept whole, so activity ids stay valid.

use rustc_hash::FxHashSet;

use super::variants::{case_duration, variants};
use crate::log::{EventLog, Sym};

/// Keeps the cases of the `k` most frequent variants (ties broken as PM4Py's
/// `filter_variants_top_k`: by the activity names, descending).
pub fn variants_top_k(log: &EventLog, k: usize) -> EventLog {
    let mut keep = vec![false; log.case_count()];
    for variant in variants(log).into_iter().take(k) {
        for case in variant.cases {
            keep[case as usize] = true;
        }
    }
    log.select_cases(&keep)
}

/// Keeps the cases of variants followed by at least `min_share` (0..=1) of
/// all cases (PM4Py's `filter_variants_by_coverage_percentage`).
pub fn variants_by_coverage(log: &EventLog, min_share: f64) -> EventLog {
    let threshold = min_share * log.case_count() as f64;
    let mut keep = vec![false; log.case_count()];
    for variant in variants(log)
        .into_iter()
        .filter(|v| v.count as f64 >= threshold)
    {
        for case in variant.cases {
            keep[case as usize] = true;
        }
    }
    log.select_cases(&keep)
}

/// Keeps (`retain`) or removes the events of the given activities; cases
/// left empty are dropped (PM4Py's `filter_event_attribute_values` at event
/// level).
pub fn activities(log: &EventLog, activities: &[Sym], retain: bool) -> EventLog {
    let wanted: FxHashSet<Sym> = activities.iter().copied().collect();
    let keep: Vec<bool> = log
        .activity
        .iter()
        .map(|a| wanted.contains(a) == retain)
        .collect();
    log.select_events(&keep)
}

/// Keeps (`retain`) or removes the cases containing any of the activities
/// (`filter_event_attribute_values` at case level).
pub fn cases_with_activities(log: &EventLog, activities: &[Sym], retain: bool) -> EventLog {
    let wanted: FxHashSet<Sym> = activities.iter().copied().collect();
    let keep: Vec<bool> = log
        .traces()
        .map(|t| t.iter().any(|a| wanted.contains(a)) == retain)
        .collect();
    log.select_cases(&keep)
}

/// Keeps (`retain`) or removes the cases starting with one of `activities`.
pub fn start_activities(log: &EventLog, activities: &[Sym], retain: bool) -> EventLog {
    let keep: Vec<bool> = log
        .traces()
        .map(|t| t.first().is_some_and(|a| activities.contains(a)) == retain)
        .collect();
    log.select_cases(&keep)
}

/// Keeps (`retain`) or removes the cases ending with one of `activities`.
pub fn end_activities(log: &EventLog, activities: &[Sym], retain: bool) -> EventLog {
    let keep: Vec<bool> = log
        .traces()
        .map(|t| t.last().is_some_and(|a| activities.contains(a)) == retain)
        .collect();
    log.select_cases(&keep)
}

/// Keeps the cases whose duration in seconds lies in `min..=max`
/// (`filter_case_performance`); cases with a missing timestamp are dropped.
pub fn throughput_time(log: &EventLog, min_seconds: f64, max_seconds: f64) -> EventLog {
    let keep: Vec<bool> = (0..log.case_count())
        .map(|c| case_duration(log, c).is_some_and(|d| d >= min_seconds && d <= max_seconds))
        .collect();
    log.select_cases(&keep)
}

/// Keeps (`retain`) or removes the cases in which any of the `pairs` occurs
/// as a direct succession (`filter_directly_follows_relation`).
pub fn directly_follows(log: &EventLog, pairs: &[(Sym, Sym)], retain: bool) -> EventLog {
    let wanted: FxHashSet<(Sym, Sym)> = pairs.iter().copied().collect();
    let keep: Vec<bool> = log
        .traces()
        .map(|t| t.windows(2).any(|w| wanted.contains(&(w[0], w[1]))) == retain)
        .collect();
    log.select_cases(&keep)
}

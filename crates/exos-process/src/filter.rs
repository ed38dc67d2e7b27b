//! Filters of a span log, applied in Rust on the loaded log.
//!
//! Each filter keeps or drops whole cases, except the activity filter in
//! `keep_events`/`remove_events` mode, which drops events. They compose in
//! the order of the fields below, the order Disco and Celonis apply them:
//! time frame first, variants after the case filters that change them.

use std::collections::BTreeMap;

use exos_analytics::TimeRange;
use exos_mining::analysis::filter as mine;
use exos_mining::analysis::variants;
use exos_mining::log::{Sym, NO_TIME};
use exos_mining::EventLog;
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use crate::error::ProcessError;
use crate::load::attribute_text;

/// How a case must lie in the time range to be kept.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeFrame {
    /// Any event inside the range.
    #[default]
    Intersecting,
    /// First event starts and last event ends inside the range.
    Contained,
    /// First event starts inside the range.
    Started,
    /// Last event ends inside the range.
    Completed,
}

/// Which variants to keep.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct VariantFilter {
    /// The `k` most frequent variants.
    pub top_k: Option<usize>,
    /// Variants followed by at least this share (0..=1) of cases.
    pub min_share: Option<f64>,
    /// Exactly these variants, each a list of activity names.
    pub variants: Vec<Vec<String>>,
}

/// How an activity filter acts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActivityMode {
    /// Keep the cases containing any of the activities.
    #[default]
    CasesWith,
    /// Drop the cases containing any of the activities.
    CasesWithout,
    /// Keep only the events of the activities.
    KeepEvents,
    /// Drop the events of the activities.
    RemoveEvents,
}

/// A filter on activities.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ActivityFilter {
    pub names: Vec<String>,
    pub mode: ActivityMode,
}

/// A directly-follows rule: cases where `to` directly follows `from`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FollowsRule {
    pub from: String,
    pub to: String,
    /// Keep (true, the default) or drop the matching cases.
    #[serde(default = "yes")]
    pub retain: bool,
}

fn yes() -> bool {
    true
}

/// Case duration bounds in seconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DurationFilter {
    pub min_seconds: Option<f64>,
    pub max_seconds: Option<f64>,
}

/// Rework: cases where an activity (any, when unset) occurs at least `min_occurrences` times.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReworkFilter {
    #[serde(default)]
    pub activity: Option<String>,
    #[serde(default = "two")]
    pub min_occurrences: u32,
    /// Keep (true, the default) or drop the matching cases.
    #[serde(default = "yes")]
    pub retain: bool,
}

fn two() -> u32 {
    2
}

/// Every filter a process request accepts.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogFilters {
    pub time_frame: TimeFrame,
    /// Case attribute name → accepted values.
    pub case_attributes: BTreeMap<String, Vec<String>>,
    pub activities: Option<ActivityFilter>,
    pub start_activities: Vec<String>,
    pub end_activities: Vec<String>,
    pub throughput: Option<DurationFilter>,
    pub rework: Option<ReworkFilter>,
    pub directly_follows: Vec<FollowsRule>,
    pub variants: Option<VariantFilter>,
}

impl LogFilters {
    /// Applies every filter to `log`, in field order.
    pub fn apply(&self, log: &EventLog, range: TimeRange) -> Result<EventLog, ProcessError> {
        let mut out = time_frame(log, range, self.time_frame);
        if !self.case_attributes.is_empty() {
            out = case_attributes(&out, &self.case_attributes);
        }
        if let Some(filter) = &self.activities {
            out = activities(&out, filter);
        }
        if !self.start_activities.is_empty() {
            out = mine::start_activities(&out, &ids(&out, &self.start_activities), true);
        }
        if !self.end_activities.is_empty() {
            out = mine::end_activities(&out, &ids(&out, &self.end_activities), true);
        }
        if let Some(bounds) = self.throughput {
            let (min, max) = throughput_bounds(bounds)?;
            out = mine::throughput_time(&out, min, max);
        }
        if let Some(rule) = &self.rework {
            out = rework(&out, rule)?;
        }
        for rule in &self.directly_follows {
            out = follows(&out, rule);
        }
        if let Some(filter) = &self.variants {
            out = variant_filter(&out, filter)?;
        }
        Ok(out)
    }
}

/// Activity ids of the names the log knows; unknown names match nothing.
fn ids(log: &EventLog, names: &[String]) -> Vec<Sym> {
    names.iter().filter_map(|n| log.activities.get(n)).collect()
}

/// Keeps the cases lying in `range` as `frame` asks. Times in the log are
/// microseconds, the range nanoseconds.
pub fn time_frame(log: &EventLog, range: TimeRange, frame: TimeFrame) -> EventLog {
    let (from, to) = (range.from_ns.div_euclid(1000), range.to_ns.div_euclid(1000));
    let inside = |t: i64| t != NO_TIME && t >= from && t < to;
    let keep: Vec<bool> = (0..log.case_count())
        .map(|case| {
            let events = log.case_range(case);
            let first = events
                .clone()
                .map(|e| log.start[e])
                .min()
                .unwrap_or(NO_TIME);
            let last = events
                .clone()
                .map(|e| log.timestamp[e])
                .max()
                .unwrap_or(NO_TIME);
            match frame {
                TimeFrame::Intersecting => events.clone().any(|e| inside(log.start[e])),
                TimeFrame::Contained => inside(first) && inside(last),
                TimeFrame::Started => inside(first),
                TimeFrame::Completed => inside(last),
            }
        })
        .collect();
    log.select_cases(&keep)
}

fn case_attributes(log: &EventLog, wanted: &BTreeMap<String, Vec<String>>) -> EventLog {
    let keep: Vec<bool> = log
        .case_attributes
        .iter()
        .map(|attributes| {
            wanted.iter().all(|(key, values)| {
                let value = attribute_text(log, attributes, key);
                values.iter().any(|v| v == value)
            })
        })
        .collect();
    log.select_cases(&keep)
}

fn activities(log: &EventLog, filter: &ActivityFilter) -> EventLog {
    let wanted = ids(log, &filter.names);
    match filter.mode {
        ActivityMode::CasesWith => mine::cases_with_activities(log, &wanted, true),
        ActivityMode::CasesWithout => mine::cases_with_activities(log, &wanted, false),
        ActivityMode::KeepEvents => mine::activities(log, &wanted, true),
        ActivityMode::RemoveEvents => mine::activities(log, &wanted, false),
    }
}

/// Checks the case duration bounds: each a number of seconds from 0, the minimum at
/// most the maximum.
fn throughput_bounds(bounds: DurationFilter) -> Result<(f64, f64), ProcessError> {
    for (field, value) in [
        ("min_seconds", bounds.min_seconds),
        ("max_seconds", bounds.max_seconds),
    ] {
        if let Some(value) = value {
            if !value.is_finite() || value < 0.0 {
                return Err(ProcessError::bad(
                    format!("filters.throughput.{field}"),
                    format!("{value} is not a duration; give a number of seconds from 0"),
                ));
            }
        }
    }
    let min = bounds.min_seconds.unwrap_or(0.0);
    let max = bounds.max_seconds.unwrap_or(f64::INFINITY);
    if min > max {
        return Err(ProcessError::bad(
            "filters.throughput.min_seconds",
            format!("{min} is above max_seconds {max}, so no case could match; lower it or raise max_seconds"),
        ));
    }
    Ok((min, max))
}

fn rework(log: &EventLog, rule: &ReworkFilter) -> Result<EventLog, ProcessError> {
    if rule.min_occurrences < 2 {
        return Err(ProcessError::bad(
            "filters.rework.min_occurrences",
            format!(
                "{} never means rework; give 2 or more",
                rule.min_occurrences
            ),
        ));
    }
    let only = rule
        .activity
        .as_deref()
        .map(|name| log.activities.get(name));
    let mut counts: FxHashMap<Sym, u32> = FxHashMap::default();
    let keep: Vec<bool> = log
        .traces()
        .map(|trace| {
            counts.clear();
            for &activity in trace {
                *counts.entry(activity).or_default() += 1;
            }
            let repeated = counts.iter().any(|(activity, &count)| {
                count >= rule.min_occurrences && only.is_none_or(|o| o == Some(*activity))
            });
            repeated == rule.retain
        })
        .collect();
    Ok(log.select_cases(&keep))
}

fn follows(log: &EventLog, rule: &FollowsRule) -> EventLog {
    let pair = log
        .activities
        .get(&rule.from)
        .zip(log.activities.get(&rule.to));
    match pair {
        Some(pair) => mine::directly_follows(log, &[pair], rule.retain),
        // A pair of unknown activities never occurs.
        None if rule.retain => log.select_cases(&vec![false; log.case_count()]),
        None => log.clone(),
    }
}

fn variant_filter(log: &EventLog, filter: &VariantFilter) -> Result<EventLog, ProcessError> {
    let mut out = log.clone();
    if let Some(k) = filter.top_k {
        if k == 0 {
            return Err(ProcessError::bad(
                "filters.variants.top_k",
                "0 keeps no variant; give 1 or more, or leave it out to keep every variant",
            ));
        }
        out = mine::variants_top_k(&out, k);
    }
    if let Some(share) = filter.min_share {
        if !(0.0..=1.0).contains(&share) {
            return Err(ProcessError::bad(
                "filters.variants.min_share",
                format!("{share} is not a share; give a number from 0 to 1"),
            ));
        }
        out = mine::variants_by_coverage(&out, share);
    }
    if !filter.variants.is_empty() {
        out = exact_variants(&out, &filter.variants);
    }
    Ok(out)
}

fn exact_variants(log: &EventLog, wanted: &[Vec<String>]) -> EventLog {
    let mut keep = vec![false; log.case_count()];
    for variant in variants(log) {
        let names: Vec<&str> = variant
            .activities
            .iter()
            .map(|&a| log.activity_name(a))
            .collect();
        if wanted
            .iter()
            .any(|w| w.iter().map(String::as_str).eq(names.iter().copied()))
        {
            for case in variant.cases {
                keep[case as usize] = true;
            }
        }
    }
    log.select_cases(&keep)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rejected_field(filters: LogFilters) -> String {
        let range = TimeRange::new(0, 1_000).unwrap();
        match filters.apply(&EventLog::default(), range) {
            Err(ProcessError::BadRequest { field, .. }) => field,
            other => panic!("expected a bad request, got {other:?}"),
        }
    }

    fn throughput(min: Option<f64>, max: Option<f64>) -> LogFilters {
        LogFilters {
            throughput: Some(DurationFilter {
                min_seconds: min,
                max_seconds: max,
            }),
            ..LogFilters::default()
        }
    }

    #[test]
    fn impossible_filters_are_rejected() {
        assert_eq!(
            rejected_field(throughput(Some(500.0), Some(5.0))),
            "filters.throughput.min_seconds"
        );
        assert_eq!(
            rejected_field(throughput(Some(-1.0), None)),
            "filters.throughput.min_seconds"
        );
        assert_eq!(
            rejected_field(throughput(None, Some(-5.0))),
            "filters.throughput.max_seconds"
        );
        let top_zero = LogFilters {
            variants: Some(VariantFilter {
                top_k: Some(0),
                ..VariantFilter::default()
            }),
            ..LogFilters::default()
        };
        assert_eq!(rejected_field(top_zero), "filters.variants.top_k");
    }

    #[test]
    fn possible_bounds_are_accepted() {
        let range = TimeRange::new(0, 1_000).unwrap();
        for filters in [
            throughput(Some(5.0), Some(5.0)),
            throughput(None, Some(0.0)),
            throughput(Some(0.0), None),
        ] {
            assert!(filters.apply(&EventLog::default(), range).is_ok());
        }
    }
}

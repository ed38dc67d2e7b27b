//! Rework: activities done again in the same case, per activity, per case
//! attribute value (LOB) and per operator.
//!
//! A case has rework when any activity occurs in it more than once. A
//! repetition directly after itself is a self-loop; one with other
//! activities in between is a loop back. Operators are judged by the cases
//! they worked on (did any event of): their rework rate is the share of those
//! cases with rework.

use std::collections::BTreeMap;

use exos_mining::log::{Sym, NO_SYM};
use exos_mining::EventLog;
use rustc_hash::{FxHashMap, FxHashSet};
use serde::{Deserialize, Serialize};

use crate::load::attribute_text;
use crate::request::LogScope;

/// A rework request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReworkRequest {
    pub scope: LogScope,
    /// Case attribute to group by; `lob` by default.
    pub group_by: String,
    /// Operators with fewer cases are left out of the ranking (5 by default).
    pub min_cases: u64,
}

impl Default for ReworkRequest {
    fn default() -> Self {
        ReworkRequest {
            scope: LogScope::default(),
            group_by: "lob".into(),
            min_cases: 5,
        }
    }
}

/// Rework of one activity.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ActivityRework {
    pub activity: String,
    /// Cases where it occurs more than once.
    pub cases: u64,
    /// Occurrences beyond the first, over all cases.
    pub repetitions: u64,
    /// Repetitions directly after itself.
    pub self_loops: u64,
    /// Repetitions with other activities in between.
    pub loops_back: u64,
}

/// Rework of a group of cases (a LOB value, an operator).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GroupRework {
    pub name: String,
    pub cases: u64,
    pub rework_cases: u64,
    /// `rework_cases / cases`.
    pub rate: f64,
}

/// The rework response.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReworkAnswer {
    pub cases: u64,
    pub rework_cases: u64,
    pub activities: Vec<ActivityRework>,
    pub groups: Vec<GroupRework>,
    pub operators: Vec<GroupRework>,
}

#[derive(Default)]
struct Tally {
    cases: u64,
    rework_cases: u64,
}

impl Tally {
    fn add(&mut self, rework: bool) {
        self.cases += 1;
        self.rework_cases += u64::from(rework);
    }
}

/// Measures the rework of `log`.
pub fn rework(log: &EventLog, request: &ReworkRequest) -> ReworkAnswer {
    let mut activities: Vec<ActivityRework> = (0..log.activities.len() as Sym)
        .map(|a| ActivityRework {
            activity: log.activity_name(a).into(),
            cases: 0,
            repetitions: 0,
            self_loops: 0,
            loops_back: 0,
        })
        .collect();
    let mut groups: BTreeMap<String, Tally> = BTreeMap::new();
    let mut operators: BTreeMap<String, Tally> = BTreeMap::new();
    let mut total = Tally::default();
    for case in 0..log.case_count() {
        let has_rework = count_case(log, case, &mut activities);
        total.add(has_rework);
        let group = attribute_text(log, &log.case_attributes[case], &request.group_by);
        groups.entry(group.to_string()).or_default().add(has_rework);
        let workers: FxHashSet<Sym> = log.resource[log.case_range(case)]
            .iter()
            .copied()
            .filter(|&r| r != NO_SYM)
            .collect();
        for worker in workers {
            let name = log.resources.name(worker).to_string();
            operators.entry(name).or_default().add(has_rework);
        }
    }
    activities.retain(|a| a.repetitions > 0);
    activities.sort_by_key(|row| std::cmp::Reverse(row.repetitions));
    ReworkAnswer {
        cases: total.cases,
        rework_cases: total.rework_cases,
        activities,
        groups: ranked(groups, 0),
        operators: ranked(operators, request.min_cases),
    }
}

/// Counts the repetitions of case `case` into `activities`; true when it has any.
fn count_case(log: &EventLog, case: usize, activities: &mut [ActivityRework]) -> bool {
    let trace = log.trace(case);
    let mut seen: FxHashMap<Sym, u32> = FxHashMap::default();
    for (i, &activity) in trace.iter().enumerate() {
        let count = seen.entry(activity).or_default();
        *count += 1;
        if *count > 1 {
            let row = &mut activities[activity as usize];
            row.repetitions += 1;
            if i > 0 && trace[i - 1] == activity {
                row.self_loops += 1;
            } else {
                row.loops_back += 1;
            }
            if *count == 2 {
                row.cases += 1;
            }
        }
    }
    seen.values().any(|&c| c > 1)
}

/// Groups with at least `min_cases` cases, highest rework rate first.
fn ranked(groups: BTreeMap<String, Tally>, min_cases: u64) -> Vec<GroupRework> {
    let mut rows: Vec<GroupRework> = groups
        .into_iter()
        .filter(|(_, t)| t.cases >= min_cases.max(1))
        .map(|(name, t)| GroupRework {
            name,
            cases: t.cases,
            rework_cases: t.rework_cases,
            rate: t.rework_cases as f64 / t.cases as f64,
        })
        .collect();
    rows.sort_by(|a, b| b.rate.total_cmp(&a.rate).then(b.cases.cmp(&a.cases)));
    rows
}

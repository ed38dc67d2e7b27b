//! `GET /api/operators`: how each operator works, compared with the peers of their LOB.
//!
//! Computed from business spans (see [`crate::spans`]), case = `order.id`,
//! resource = `operator.id`. Per operator:
//!
//! - throughput: cases touched and steps done per day of the range;
//! - handling time: the duration of their steps' spans;
//! - waiting time: before each of their steps, the time since the previous
//!   step of the same order ended (the first step of an order has none);
//! - rework rate: the share of their orders in which some activity happens
//!   more than once (a loop), and `reworks`, their own steps that repeat an
//!   activity already done in the order;
//! - variants: the distinct activity sequences of the orders they touched.
//!
//! Peers are the operators with the same main LOB (the LOB of most of their
//! steps). Each figure gets a z-score against them, 0 with fewer than two peers.

use exos_analytics::params::{check_text, Params};
use exos_analytics::time::{format_ns, now_ns, RangeInfo};
use exos_analytics::TimeRange;
use exos_store::Store;
use rustc_hash::{FxHashMap, FxHashSet};
use serde::Serialize;

use crate::ocpm::median;
use crate::spans::{read_step_spans, StepSpan};
use crate::OcpmError;

/// Operators shown in the workload chart when none is picked.
pub const WORKLOAD_SERIES: usize = 8;
const NS_PER_MINUTE: f64 = 60e9;
const NS_PER_DAY: f64 = 86_400e9;

/// Orders of the operator's to rank rework with, at least (fewer are listed last).
pub const DEFAULT_MIN_CASES: usize = 5;

/// The figure the list is sorted by, worst first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    ReworkRate,
    Handling,
    Waiting,
    Throughput,
    Cases,
}

impl SortKey {
    fn parse(text: &str) -> Result<Self, OcpmError> {
        match text {
            "rework_rate" => Ok(Self::ReworkRate),
            "handling" => Ok(Self::Handling),
            "waiting" => Ok(Self::Waiting),
            "throughput" => Ok(Self::Throughput),
            "cases" => Ok(Self::Cases),
            other => Err(OcpmError::BadInput(format!(
                "invalid sort {other:?}: use rework_rate, handling, waiting, throughput or cases"
            ))),
        }
    }
}

/// The parameters of `/api/operators`.
#[derive(Debug, Clone, PartialEq)]
pub struct OperatorsRequest {
    pub range: TimeRange,
    pub lob: Option<String>,
    pub sort: SortKey,
    pub min_cases: usize,
    /// Operators whose workload series are returned; the busiest when empty.
    pub workload_operators: Vec<String>,
}

impl OperatorsRequest {
    /// Reads `from`, `to`, `lob`, `sort`, `min_cases` and `operator` (repeatable).
    pub fn from_query(pairs: &[(String, String)]) -> Result<Self, OcpmError> {
        let params = Params::new(
            pairs,
            &["from", "to", "lob", "sort", "min_cases", "operator"],
        )?;
        let lob = params.one("lob")?.map(str::to_string);
        if let Some(lob) = &lob {
            check_text("lob", lob)?;
        }
        let workload_operators: Vec<String> = params
            .all("operator")
            .iter()
            .filter(|o| !o.is_empty())
            .map(|o| o.to_string())
            .collect();
        for operator in &workload_operators {
            check_text("operator", operator)?;
        }
        Ok(Self {
            range: TimeRange::parse(params.one("from")?, params.one("to")?, now_ns())?,
            lob,
            sort: params
                .one("sort")?
                .map_or(Ok(SortKey::ReworkRate), SortKey::parse)?,
            min_cases: params.count("min_cases", DEFAULT_MIN_CASES, 100_000)?,
            workload_operators,
        })
    }
}

/// A figure with its z-score among the operator's peers.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Compared {
    pub value: f64,
    pub peer_mean: f64,
    pub z: f64,
    /// Share of peers with a lower value, 0 to 100.
    pub percentile: f64,
}

/// One operator's figures.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OperatorView {
    pub operator: String,
    pub lob: String,
    pub lobs: Vec<String>,
    pub cases: u64,
    pub steps: u64,
    pub cases_per_day: f64,
    pub steps_per_day: f64,
    pub handling_mean_min: f64,
    pub handling_median_min: f64,
    pub waiting_mean_min: f64,
    pub waiting_median_min: f64,
    pub rework_rate: f64,
    pub reworked_cases: u64,
    pub reworks: u64,
    pub variants: u64,
    pub top_variant: Vec<String>,
    pub top_variant_share: f64,
    /// Fewer cases than `min_cases`: ranked after the others.
    pub few_cases: bool,
    pub peers: u64,
    pub rework_vs_peers: Compared,
    pub handling_vs_peers: Compared,
    pub throughput_vs_peers: Compared,
    /// Up to three orders with a loop, for links.
    pub example_orders: Vec<String>,
}

/// One operator's steps per bucket.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WorkloadSeries {
    pub operator: String,
    pub steps: Vec<u64>,
}

/// Steps per operator over time.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Workload {
    pub buckets: Vec<String>,
    pub series: Vec<WorkloadSeries>,
}

/// Peer statistics of one LOB.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LobPeers {
    pub lob: String,
    pub operators: u64,
    pub rework_rate_mean: f64,
    pub handling_median_min: f64,
    pub cases_per_day_mean: f64,
}

/// The response body of `/api/operators`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OperatorsResponse {
    pub range: RangeInfo,
    pub sort: &'static str,
    pub min_cases: usize,
    pub truncated: bool,
    pub operators: Vec<OperatorView>,
    pub lobs: Vec<LobPeers>,
    pub workload: Workload,
}

/// Running sums of one operator.
#[derive(Default)]
struct Tally {
    cases: FxHashSet<usize>,
    lob_steps: FxHashMap<String, u64>,
    handling: Vec<f64>,
    waiting: Vec<f64>,
    reworks: u64,
}

fn mean(values: &[f64]) -> f64 {
    if values.is_empty() {
        0.0
    } else {
        values.iter().sum::<f64>() / values.len() as f64
    }
}

/// Splits the spans, which arrive sorted by order, into one index range per order.
fn case_ranges(spans: &[StepSpan]) -> Vec<std::ops::Range<usize>> {
    let mut ranges = Vec::new();
    let mut start = 0;
    for index in 1..=spans.len() {
        if index == spans.len() || spans[index].order != spans[start].order {
            ranges.push(start..index);
            start = index;
        }
    }
    ranges.retain(|r| !r.is_empty());
    ranges
}

/// Case facts shared by every operator of the case.
struct CaseFacts {
    variant: Vec<String>,
    has_loop: bool,
}

fn case_facts(spans: &[StepSpan]) -> CaseFacts {
    let variant: Vec<String> = spans.iter().map(|s| s.activity.clone()).collect();
    let distinct: FxHashSet<&String> = variant.iter().collect();
    CaseFacts {
        has_loop: distinct.len() < variant.len(),
        variant,
    }
}

/// Per-operator sums, per-case facts, and each operator's cases (indices into the facts).
type Tallies = (
    FxHashMap<String, Tally>,
    Vec<CaseFacts>,
    FxHashMap<String, Vec<usize>>,
);

fn tally_spans(spans: &[StepSpan]) -> Tallies {
    let mut tallies: FxHashMap<String, Tally> = FxHashMap::default();
    let mut facts = Vec::new();
    let mut cases_of: FxHashMap<String, Vec<usize>> = FxHashMap::default();
    for (case, range) in case_ranges(spans).into_iter().enumerate() {
        let steps = &spans[range];
        facts.push(case_facts(steps));
        let mut seen: FxHashSet<&str> = FxHashSet::default();
        let mut previous_end: Option<i64> = None;
        for step in steps {
            let tally = tallies.entry(step.operator.clone()).or_default();
            if tally.cases.insert(case) {
                cases_of
                    .entry(step.operator.clone())
                    .or_default()
                    .push(case);
            }
            *tally.lob_steps.entry(step.lob.clone()).or_default() += 1;
            tally.handling.push(step.duration_ns as f64 / NS_PER_MINUTE);
            if let Some(end) = previous_end {
                tally
                    .waiting
                    .push((step.start_ns - end).max(0) as f64 / NS_PER_MINUTE);
            }
            if !seen.insert(step.activity.as_str()) {
                tally.reworks += 1;
            }
            previous_end = Some(previous_end.map_or(step.start_ns + step.duration_ns, |e| {
                e.max(step.start_ns + step.duration_ns)
            }));
        }
    }
    (tallies, facts, cases_of)
}

fn main_lob(lob_steps: &FxHashMap<String, u64>) -> String {
    lob_steps
        .iter()
        .max_by(|a, b| a.1.cmp(b.1).then_with(|| b.0.cmp(a.0)))
        .map(|(lob, _)| lob.clone())
        .unwrap_or_default()
}

fn operator_view(
    operator: String,
    mut tally: Tally,
    cases: &[usize],
    facts: &[CaseFacts],
    orders: &[String],
    days: f64,
    min_cases: usize,
) -> OperatorView {
    let mut variants: FxHashMap<&[String], u64> = FxHashMap::default();
    let mut reworked = 0u64;
    let mut examples = Vec::new();
    for &case in cases {
        *variants.entry(&facts[case].variant).or_default() += 1;
        if facts[case].has_loop {
            reworked += 1;
            if examples.len() < 3 {
                examples.push(orders[case].clone());
            }
        }
    }
    let (top_variant, top_count) = variants
        .iter()
        .max_by(|a, b| a.1.cmp(b.1).then_with(|| b.0.cmp(a.0)))
        .map(|(v, c)| (v.to_vec(), *c))
        .unwrap_or_default();
    let case_count = cases.len() as u64;
    let share = |part: u64| {
        if case_count == 0 {
            0.0
        } else {
            part as f64 / case_count as f64
        }
    };
    let mut lobs: Vec<String> = tally.lob_steps.keys().cloned().collect();
    lobs.sort();
    let empty = Compared {
        value: 0.0,
        peer_mean: 0.0,
        z: 0.0,
        percentile: 0.0,
    };
    OperatorView {
        lob: main_lob(&tally.lob_steps),
        lobs,
        cases: case_count,
        steps: tally.handling.len() as u64,
        cases_per_day: case_count as f64 / days,
        steps_per_day: tally.handling.len() as f64 / days,
        handling_mean_min: mean(&tally.handling),
        handling_median_min: median(&mut tally.handling),
        waiting_mean_min: mean(&tally.waiting),
        waiting_median_min: median(&mut tally.waiting),
        rework_rate: share(reworked),
        reworked_cases: reworked,
        reworks: tally.reworks,
        variants: variants.len() as u64,
        top_variant,
        top_variant_share: share(top_count),
        few_cases: (case_count as usize) < min_cases,
        peers: 0,
        rework_vs_peers: empty.clone(),
        handling_vs_peers: empty.clone(),
        throughput_vs_peers: empty,
        example_orders: examples,
        operator,
    }
}

/// Compares `value` with the values of its peers (itself included).
fn compare(value: f64, peers: &[f64]) -> Compared {
    let peer_mean = mean(peers);
    let variance = if peers.len() < 2 {
        0.0
    } else {
        peers.iter().map(|v| (v - peer_mean).powi(2)).sum::<f64>() / (peers.len() - 1) as f64
    };
    let deviation = variance.sqrt();
    let below = peers.iter().filter(|&&v| v < value).count();
    Compared {
        value,
        peer_mean,
        z: if deviation > 0.0 {
            (value - peer_mean) / deviation
        } else {
            0.0
        },
        percentile: if peers.is_empty() {
            0.0
        } else {
            100.0 * below as f64 / peers.len() as f64
        },
    }
}

fn add_peer_comparison(operators: &mut [OperatorView]) -> Vec<LobPeers> {
    let mut by_lob: FxHashMap<String, Vec<usize>> = FxHashMap::default();
    for (index, operator) in operators.iter().enumerate() {
        by_lob.entry(operator.lob.clone()).or_default().push(index);
    }
    let mut lobs = Vec::new();
    for (lob, members) in by_lob {
        let values = |pick: fn(&OperatorView) -> f64| -> Vec<f64> {
            members.iter().map(|&i| pick(&operators[i])).collect()
        };
        let rework = values(|o| o.rework_rate);
        let handling = values(|o| o.handling_median_min);
        let throughput = values(|o| o.cases_per_day);
        for &index in &members {
            let operator = &mut operators[index];
            operator.peers = members.len() as u64 - 1;
            operator.rework_vs_peers = compare(operator.rework_rate, &rework);
            operator.handling_vs_peers = compare(operator.handling_median_min, &handling);
            operator.throughput_vs_peers = compare(operator.cases_per_day, &throughput);
        }
        let mut handling = handling;
        lobs.push(LobPeers {
            lob,
            operators: members.len() as u64,
            rework_rate_mean: mean(&rework),
            handling_median_min: median(&mut handling),
            cases_per_day_mean: mean(&throughput),
        });
    }
    lobs.sort_by(|a, b| a.lob.cmp(&b.lob));
    lobs
}

fn sort_operators(operators: &mut [OperatorView], key: SortKey) {
    let figure = |o: &OperatorView| match key {
        SortKey::ReworkRate => o.rework_rate,
        SortKey::Handling => o.handling_median_min,
        SortKey::Waiting => o.waiting_median_min,
        SortKey::Throughput => o.cases_per_day,
        SortKey::Cases => o.cases as f64,
    };
    operators.sort_by(|a, b| {
        a.few_cases
            .cmp(&b.few_cases)
            .then_with(|| figure(b).total_cmp(&figure(a)))
            .then_with(|| a.operator.cmp(&b.operator))
    });
}

fn workload(spans: &[StepSpan], range: &TimeRange, operators: &[String]) -> Workload {
    let starts = range.bucket_starts();
    let width = range.bucket_ns();
    let position: FxHashMap<&str, usize> = operators
        .iter()
        .enumerate()
        .map(|(i, o)| (o.as_str(), i))
        .collect();
    let mut series: Vec<Vec<u64>> = vec![vec![0; starts.len()]; operators.len()];
    for span in spans {
        let Some(&row) = position.get(span.operator.as_str()) else {
            continue;
        };
        let bucket =
            ((span.start_ns - starts.first().copied().unwrap_or(0)) / width.max(1)) as usize;
        if let Some(count) = series[row].get_mut(bucket) {
            *count += 1;
        }
    }
    Workload {
        buckets: starts.iter().map(|&s| format_ns(s)).collect(),
        series: operators
            .iter()
            .zip(series)
            .map(|(operator, steps)| WorkloadSeries {
                operator: operator.clone(),
                steps,
            })
            .collect(),
    }
}

/// Answers `/api/operators`.
pub fn operators(
    store: &dyn Store,
    request: &OperatorsRequest,
) -> Result<OperatorsResponse, OcpmError> {
    let (mut spans, truncated) = read_step_spans(store, request.range, &[])?;
    if let Some(lob) = &request.lob {
        spans.retain(|s| &s.lob == lob);
    }
    let (tallies, facts, cases_of) = tally_spans(&spans);
    let orders: Vec<String> = case_ranges(&spans)
        .iter()
        .map(|r| spans[r.start].order.clone())
        .collect();
    let days = (request.range.span_ns() as f64 / NS_PER_DAY).max(1.0 / 24.0);
    let mut views: Vec<OperatorView> = tallies
        .into_iter()
        .map(|(operator, tally)| {
            let cases = cases_of.get(&operator).cloned().unwrap_or_default();
            operator_view(
                operator,
                tally,
                &cases,
                &facts,
                &orders,
                days,
                request.min_cases,
            )
        })
        .collect();
    let lobs = add_peer_comparison(&mut views);
    sort_operators(&mut views, request.sort);
    let chosen: Vec<String> = if request.workload_operators.is_empty() {
        let mut busiest: Vec<&OperatorView> = views.iter().collect();
        busiest.sort_by(|a, b| {
            b.steps
                .cmp(&a.steps)
                .then_with(|| a.operator.cmp(&b.operator))
        });
        busiest
            .iter()
            .take(WORKLOAD_SERIES)
            .map(|o| o.operator.clone())
            .collect()
    } else {
        request.workload_operators.clone()
    };
    Ok(OperatorsResponse {
        range: request.range.info(),
        sort: match request.sort {
            SortKey::ReworkRate => "rework_rate",
            SortKey::Handling => "handling",
            SortKey::Waiting => "waiting",
            SortKey::Throughput => "throughput",
            SortKey::Cases => "cases",
        },
        min_cases: request.min_cases,
        truncated,
        workload: workload(&spans, &request.range, &chosen),
        operators: views,
        lobs,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(order: &str, operator: &str, activity: &str, start_min: i64) -> StepSpan {
        StepSpan {
            order: order.into(),
            operator: operator.into(),
            lob: "Title".into(),
            activity: activity.into(),
            start_ns: start_min * 60_000_000_000,
            duration_ns: 60_000_000_000,
            trace_id: String::new(),
            objects: Vec::new(),
        }
    }

    #[test]
    fn rework_rate_is_share_of_looping_cases() {
        let spans = vec![
            step("o1", "a", "Check", 0),
            step("o1", "a", "Fix", 10),
            step("o1", "a", "Check", 20),
            step("o2", "a", "Check", 0),
            step("o2", "b", "Approve", 5),
        ];
        let (tallies, facts, cases_of) = tally_spans(&spans);
        let orders = vec!["o1".to_string(), "o2".to_string()];
        let mut tallies = tallies;
        let a = operator_view(
            "a".into(),
            tallies.remove("a").unwrap(),
            &cases_of["a"],
            &facts,
            &orders,
            1.0,
            1,
        );
        assert_eq!(a.cases, 2);
        assert_eq!(a.reworked_cases, 1);
        assert_eq!(a.rework_rate, 0.5);
        assert_eq!(a.reworks, 1);
        assert_eq!(a.example_orders, vec!["o1".to_string()]);
    }

    #[test]
    fn waiting_is_gap_since_previous_step_end() {
        let spans = vec![step("o1", "a", "A", 0), step("o1", "b", "B", 11)];
        let (mut tallies, _, _) = tally_spans(&spans);
        let b = tallies.remove("b").unwrap();
        assert_eq!(b.waiting, vec![10.0]);
        assert!(tallies.remove("a").unwrap().waiting.is_empty());
    }

    #[test]
    fn z_score_marks_the_outlier() {
        let compared = compare(0.7, &[0.05, 0.06, 0.04, 0.7]);
        assert!(compared.z > 1.0, "{compared:?}");
        assert_eq!(compared.percentile, 75.0);
    }
}

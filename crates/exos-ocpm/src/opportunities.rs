//! `GET /api/opportunities`: automation candidates ranked by estimated hours saved.
//!
//! Two kinds of candidate, each with the evidence behind it:
//!
//! - rule-like steps: an activity of the business spans that is frequent
//!   (at least `min_count` executions), low-variance (coefficient of
//!   variation of its duration at most `max_cv`) and deterministic (one
//!   predecessor or one successor activity in at least `min_determinism` of
//!   its executions). The estimate is its total handling time in the range.
//! - repetitive click sequences: runs of `n` consecutive user interactions
//!   (browser spans with an `event_type` attribute, labelled by event and
//!   target) that repeat in at least `min_sessions` browser sessions. The
//!   estimate is the time from the first to the end of the last interaction,
//!   summed over every occurrence. A sequence is left out when a longer
//!   listed one contains it about as often (90%), when it only repeats a
//!   shorter cycle, and when it is a listed cycle started at another step.
//!
//! Both estimates assume the whole time would be saved: they are upper
//! bounds of what automation could save in the range, not forecasts.

use exos_analytics::params::Params;
use exos_analytics::rows::query;
use exos_analytics::sql::Sql;
use exos_analytics::time::{now_ns, RangeInfo};
use exos_analytics::TimeRange;
use exos_store::Store;
use rustc_hash::{FxHashMap, FxHashSet};
use serde::Serialize;

use crate::spans::{read_case_spans, StepSpan};
use crate::OcpmError;

/// User interactions read at most per request.
pub const MAX_INTERACTIONS: usize = 500_000;
/// Candidates returned at most.
pub const MAX_CANDIDATES: usize = 50;
/// Shortest and longest click sequences looked for.
pub const MIN_SEQUENCE: usize = 3;
pub const MAX_SEQUENCE: usize = 6;

/// The parameters of `/api/opportunities`.
#[derive(Debug, Clone, PartialEq)]
pub struct OpportunitiesRequest {
    pub range: TimeRange,
    pub min_count: usize,
    pub max_cv: f64,
    pub min_determinism: f64,
    pub min_sessions: usize,
}

fn fraction(params: &Params, name: &str, default: f64, max: f64) -> Result<f64, OcpmError> {
    let Some(text) = params.one(name)? else {
        return Ok(default);
    };
    match text.parse::<f64>() {
        Ok(value) if (0.0..=max).contains(&value) => Ok(value),
        _ => Err(OcpmError::BadInput(format!(
            "invalid {name} {text:?}: give a number from 0 to {max}"
        ))),
    }
}

impl OpportunitiesRequest {
    /// Reads `from`, `to`, `min_count`, `max_cv`, `min_determinism` and `min_sessions`.
    pub fn from_query(pairs: &[(String, String)]) -> Result<Self, OcpmError> {
        let params = Params::new(
            pairs,
            &[
                "from",
                "to",
                "min_count",
                "max_cv",
                "min_determinism",
                "min_sessions",
            ],
        )?;
        Ok(Self {
            range: TimeRange::parse(params.one("from")?, params.one("to")?, now_ns())?,
            min_count: params.count("min_count", 20, 10_000_000)?,
            max_cv: fraction(&params, "max_cv", 0.6, 10.0)?,
            min_determinism: fraction(&params, "min_determinism", 0.8, 1.0)?,
            min_sessions: params.count("min_sessions", 3, 10_000_000)?,
        })
    }
}

/// The most frequent neighbouring activity and its share of the executions.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Neighbour {
    pub activity: String,
    pub share: f64,
}

/// An example behind a candidate, with the page that shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Example {
    /// The order id or browser session id.
    pub id: String,
    pub link: String,
}

/// One automation candidate.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Candidate {
    /// `step` or `click_sequence`.
    pub kind: &'static str,
    /// The activity, or the interactions joined by ` → `.
    pub title: String,
    pub hours_saved: f64,
    pub count: u64,
    pub mean_duration_s: f64,
    /// Coefficient of variation of the duration (steps only).
    pub duration_cv: Option<f64>,
    pub predecessor: Option<Neighbour>,
    pub successor: Option<Neighbour>,
    /// Sessions the sequence occurs in (click sequences only).
    pub sessions: Option<u64>,
    pub steps: Vec<String>,
    pub examples: Vec<Example>,
}

/// The response body of `/api/opportunities`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OpportunitiesResponse {
    pub range: RangeInfo,
    pub truncated: bool,
    pub candidates: Vec<Candidate>,
    /// Activities considered and rejected, with the reason, for the evidence table.
    pub rejected_steps: Vec<RejectedStep>,
}

/// An activity that did not qualify, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RejectedStep {
    pub activity: String,
    pub count: u64,
    pub duration_cv: f64,
    pub determinism: f64,
    pub reason: String,
}

#[derive(Default)]
struct ActivityTally {
    durations: Vec<f64>,
    before: FxHashMap<String, u64>,
    after: FxHashMap<String, u64>,
    examples: Vec<(String, String)>,
}

fn top_neighbour(counts: &FxHashMap<String, u64>, total: u64) -> Option<Neighbour> {
    counts
        .iter()
        .max_by(|a, b| a.1.cmp(b.1).then_with(|| b.0.cmp(a.0)))
        .map(|(activity, count)| Neighbour {
            activity: activity.clone(),
            share: *count as f64 / total.max(1) as f64,
        })
}

/// Tallies the steps that start in `range`. `spans` also contains the steps of the same
/// orders outside it, so that a step's neighbours are the order's real ones, not the
/// range's edges.
fn tally_activities(spans: &[StepSpan], range: TimeRange) -> FxHashMap<String, ActivityTally> {
    let mut tallies: FxHashMap<String, ActivityTally> = FxHashMap::default();
    for (index, span) in spans.iter().enumerate() {
        if span.start_ns < range.from_ns || span.start_ns >= range.to_ns {
            continue;
        }
        let tally = tallies.entry(span.activity.clone()).or_default();
        tally.durations.push(span.duration_ns as f64 / 1e9);
        let same_order = |other: usize| spans[other].order == span.order;
        let before =
            (index > 0 && same_order(index - 1)).then(|| spans[index - 1].activity.clone());
        let after = (index + 1 < spans.len() && same_order(index + 1))
            .then(|| spans[index + 1].activity.clone());
        *tally
            .before
            .entry(before.unwrap_or_else(|| "(start)".into()))
            .or_default() += 1;
        *tally
            .after
            .entry(after.unwrap_or_else(|| "(end)".into()))
            .or_default() += 1;
        if tally.examples.len() < 3 && !tally.examples.iter().any(|(o, _)| o == &span.order) {
            tally
                .examples
                .push((span.order.clone(), span.trace_id.clone()));
        }
    }
    tallies
}

/// Formats `value` with at least `decimals` decimals, and more (up to 6) while it would
/// print as `limit` does, so that a rejection never reads "80% < 80%".
fn distinct_digits(value: f64, limit: f64, decimals: usize) -> String {
    let mut decimals = decimals;
    loop {
        let text = format!("{value:.decimals$}");
        if decimals >= 6 || text != format!("{limit:.decimals$}") {
            return text;
        }
        decimals += 1;
    }
}

fn coefficient_of_variation(values: &[f64]) -> f64 {
    let count = values.len() as f64;
    let mean = values.iter().sum::<f64>() / count.max(1.0);
    if values.len() < 2 || mean <= 0.0 {
        return 0.0;
    }
    let variance = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (count - 1.0);
    variance.sqrt() / mean
}

/// Splits activities into step candidates and rejected ones.
fn step_candidates(
    spans: &[StepSpan],
    request: &OpportunitiesRequest,
) -> (Vec<Candidate>, Vec<RejectedStep>) {
    let mut candidates = Vec::new();
    let mut rejected = Vec::new();
    for (activity, tally) in tally_activities(spans, request.range) {
        let count = tally.durations.len() as u64;
        let total_s: f64 = tally.durations.iter().sum();
        let cv = coefficient_of_variation(&tally.durations);
        let predecessor = top_neighbour(&tally.before, count);
        let successor = top_neighbour(&tally.after, count);
        let determinism = predecessor
            .iter()
            .chain(successor.iter())
            .map(|n| n.share)
            .fold(0.0, f64::max);
        let reason = if (count as usize) < request.min_count {
            Some(format!(
                "only {count} executions (min_count {})",
                request.min_count
            ))
        } else if cv > request.max_cv {
            Some(format!(
                "duration varies too much (cv {} > max_cv {})",
                distinct_digits(cv, request.max_cv, 2),
                request.max_cv
            ))
        } else if determinism < request.min_determinism {
            Some(format!(
                "no deterministic neighbour ({}% < min_determinism {}%)",
                distinct_digits(determinism * 100.0, request.min_determinism * 100.0, 0),
                request.min_determinism * 100.0
            ))
        } else {
            None
        };
        if let Some(reason) = reason {
            rejected.push(RejectedStep {
                activity,
                count,
                duration_cv: cv,
                determinism,
                reason,
            });
            continue;
        }
        candidates.push(Candidate {
            kind: "step",
            title: activity.clone(),
            hours_saved: total_s / 3600.0,
            count,
            mean_duration_s: total_s / count as f64,
            duration_cv: Some(cv),
            predecessor,
            successor,
            sessions: None,
            steps: vec![activity],
            examples: tally
                .examples
                .into_iter()
                .map(|(order, trace)| Example {
                    id: order,
                    link: format!("/engineering?trace={trace}"),
                })
                .collect(),
        });
    }
    rejected.sort_by(|a, b| {
        b.count
            .cmp(&a.count)
            .then_with(|| a.activity.cmp(&b.activity))
    });
    (candidates, rejected)
}

/// One user interaction of a browser session.
#[derive(Debug, Clone, PartialEq)]
pub struct Interaction {
    pub session: String,
    pub label: String,
    pub start_ns: i64,
    pub end_ns: i64,
}

/// Reads user interactions in the range, ordered by session and time.
pub fn read_interactions(
    store: &dyn Store,
    range: TimeRange,
) -> Result<(Vec<Interaction>, bool), OcpmError> {
    let sql = Sql::new(store.dialect());
    let event_type = sql.map_value("SpanAttributes", "event_type");
    let xpath = sql.map_value("SpanAttributes", "target_xpath");
    let element = sql.map_value("SpanAttributes", "target_element");
    let statement = format!(
        "SELECT RumSessionId, SpanName, {xpath}, {element}, {}, Duration FROM otel_traces \
         WHERE {} AND RumSessionId != '' AND {event_type} != '' \
         ORDER BY RumSessionId, Timestamp, SpanId LIMIT {}",
        sql.epoch_ns("Timestamp"),
        sql.time_range("Timestamp", range.from_ns, range.to_ns),
        MAX_INTERACTIONS + 1
    );
    let rows = query(store, &statement, MAX_INTERACTIONS + 1)?;
    let truncated = rows.len() > MAX_INTERACTIONS;
    let mut interactions = Vec::with_capacity(rows.len().min(MAX_INTERACTIONS));
    for row in rows.into_iter().take(MAX_INTERACTIONS) {
        let target = if row.text(2).is_empty() {
            row.text(3)
        } else {
            row.text(2)
        };
        let start_ns = row.int(4)?;
        interactions.push(Interaction {
            session: row.text(0),
            label: format!("{} {target}", row.text(1)).trim().to_string(),
            start_ns,
            end_ns: start_ns + row.int(5)?,
        });
    }
    Ok((interactions, truncated))
}

#[derive(Default)]
struct GramTally {
    occurrences: u64,
    seconds: f64,
    sessions: FxHashSet<String>,
}

/// Counts every run of `MIN_SEQUENCE..=MAX_SEQUENCE` interactions inside one session.
fn count_sequences(interactions: &[Interaction]) -> FxHashMap<Vec<String>, GramTally> {
    let mut grams: FxHashMap<Vec<String>, GramTally> = FxHashMap::default();
    let mut start = 0;
    while start < interactions.len() {
        let mut end = start;
        while end < interactions.len() && interactions[end].session == interactions[start].session {
            end += 1;
        }
        let session = &interactions[start..end];
        for n in MIN_SEQUENCE..=MAX_SEQUENCE {
            for window in session.windows(n) {
                let labels: Vec<String> = window.iter().map(|i| i.label.clone()).collect();
                let tally = grams.entry(labels).or_default();
                tally.occurrences += 1;
                tally.seconds += (window[n - 1].end_ns - window[0].start_ns).max(0) as f64 / 1e9;
                tally.sessions.insert(window[0].session.clone());
            }
        }
        start = end;
    }
    grams
}

/// Returns the smallest `p` for which every label equals the one `p` steps later.
fn shortest_period(labels: &[String]) -> usize {
    (1..labels.len())
        .find(|&p| labels.iter().zip(&labels[p..]).all(|(a, b)| a == b))
        .unwrap_or(labels.len())
}

/// Returns whether `b` is `a` started at another of its steps.
fn is_rotation(a: &[String], b: &[String]) -> bool {
    a.len() == b.len() && (0..a.len()).any(|shift| a[shift..].iter().chain(&a[..shift]).eq(b))
}

fn contains_run(longer: &[String], shorter: &[String]) -> bool {
    longer.windows(shorter.len()).any(|w| w == shorter)
}

fn sequence_candidates(interactions: &[Interaction], min_sessions: usize) -> Vec<Candidate> {
    // A run that only repeats a shorter cycle (edit save close edit save) is shown
    // by the cycle itself, or by MIN_SEQUENCE repeats of a shorter one (save save save).
    let mut grams: Vec<(Vec<String>, GramTally)> = count_sequences(interactions)
        .into_iter()
        .filter(|(labels, tally)| {
            tally.sessions.len() >= min_sessions
                && labels.len() <= shortest_period(labels).max(MIN_SEQUENCE)
        })
        .collect();
    // The most frequent first, so that of several shifts of one cycle the most
    // frequent is the one kept.
    grams.sort_by(|a, b| {
        b.1.occurrences
            .cmp(&a.1.occurrences)
            .then_with(|| a.0.cmp(&b.0))
    });
    let about_as_often =
        |more: &GramTally, fewer: &GramTally| more.occurrences * 10 >= fewer.occurrences * 9;
    let mut kept: Vec<&(Vec<String>, GramTally)> = Vec::new();
    for gram in &grams {
        // Left out when a longer repeated run contains it about as often.
        let covered = grams.iter().any(|other| {
            other.0.len() > gram.0.len()
                && about_as_often(&other.1, &gram.1)
                && contains_run(&other.0, &gram.0)
        });
        // Also when it is a kept run seen from another step of the same cycle
        // (B C A B C A of a repeated A B C), about as often.
        let shifted = kept
            .iter()
            .any(|other| is_rotation(&other.0, &gram.0) && about_as_often(&other.1, &gram.1));
        if !covered && !shifted {
            kept.push(gram);
        }
    }
    kept.into_iter()
        .map(|(labels, tally)| {
            let mut sessions: Vec<&String> = tally.sessions.iter().collect();
            sessions.sort();
            Candidate {
                kind: "click_sequence",
                title: labels.join(" → "),
                hours_saved: tally.seconds / 3600.0,
                count: tally.occurrences,
                mean_duration_s: tally.seconds / tally.occurrences.max(1) as f64,
                duration_cv: None,
                predecessor: None,
                successor: None,
                sessions: Some(tally.sessions.len() as u64),
                steps: labels.clone(),
                examples: sessions
                    .into_iter()
                    .take(3)
                    .map(|s| Example {
                        id: s.clone(),
                        link: format!("/replay?session={s}"),
                    })
                    .collect(),
            }
        })
        .collect()
}

/// Answers `/api/opportunities`.
pub fn opportunities(
    store: &dyn Store,
    request: &OpportunitiesRequest,
) -> Result<OpportunitiesResponse, OcpmError> {
    let (spans, spans_truncated) = read_case_spans(store, request.range)?;
    let (interactions, clicks_truncated) = read_interactions(store, request.range)?;
    let (mut candidates, rejected_steps) = step_candidates(&spans, request);
    candidates.extend(sequence_candidates(&interactions, request.min_sessions));
    candidates.sort_by(|a, b| {
        b.hours_saved
            .total_cmp(&a.hours_saved)
            .then_with(|| a.title.cmp(&b.title))
    });
    candidates.truncate(MAX_CANDIDATES);
    Ok(OpportunitiesResponse {
        range: request.range.info(),
        truncated: spans_truncated || clicks_truncated,
        candidates,
        rejected_steps,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(order: &str, activity: &str, start_s: i64, duration_s: i64) -> StepSpan {
        StepSpan {
            order: order.into(),
            operator: "op".into(),
            lob: "Title".into(),
            activity: activity.into(),
            start_ns: start_s * 1_000_000_000,
            duration_ns: duration_s * 1_000_000_000,
            trace_id: "t".into(),
            objects: Vec::new(),
        }
    }

    fn request() -> OpportunitiesRequest {
        OpportunitiesRequest {
            range: TimeRange::new(0, 1_000 * 1_000_000_000).unwrap(),
            min_count: 3,
            max_cv: 0.5,
            min_determinism: 0.8,
            min_sessions: 2,
        }
    }

    #[test]
    fn steady_step_after_fixed_step_qualifies() {
        let mut spans = Vec::new();
        for (index, order) in ["o1", "o2", "o3", "o4"].iter().enumerate() {
            spans.push(step(order, "Receive", 0, 5 + index as i64 * 20));
            spans.push(step(order, "Stamp", 100, 60));
        }
        let (candidates, rejected) = step_candidates(&spans, &request());
        let titles: Vec<&str> = candidates.iter().map(|c| c.title.as_str()).collect();
        assert_eq!(titles, vec!["Stamp"]);
        assert!((candidates[0].hours_saved - 240.0 / 3600.0).abs() < 1e-9);
        assert_eq!(rejected[0].activity, "Receive");
        assert!(
            rejected[0].reason.contains("varies"),
            "{}",
            rejected[0].reason
        );
    }

    #[test]
    fn neighbours_come_from_steps_outside_range() {
        let mut spans = Vec::new();
        for order in ["o1", "o2", "o3", "o4"] {
            spans.push(step(order, "Receive", 0, 5));
            spans.push(step(order, "Stamp", 100, 60));
            spans.push(step(order, "Close", 2_000, 5));
        }
        let request = OpportunitiesRequest {
            range: TimeRange::new(50 * 1_000_000_000, 1_000 * 1_000_000_000).unwrap(),
            ..request()
        };
        let (candidates, rejected) = step_candidates(&spans, &request);
        assert!(rejected.is_empty(), "{rejected:?}");
        assert_eq!(candidates.len(), 1);
        let stamp = &candidates[0];
        assert_eq!((stamp.title.as_str(), stamp.count), ("Stamp", 4));
        let before = stamp.predecessor.as_ref().unwrap();
        assert_eq!((before.activity.as_str(), before.share), ("Receive", 1.0));
        let after = stamp.successor.as_ref().unwrap();
        assert_eq!((after.activity.as_str(), after.share), ("Close", 1.0));
    }

    #[test]
    fn rejection_values_differ_from_limits() {
        assert_eq!(distinct_digits(79.7, 80.0, 0), "79.7");
        assert_eq!(distinct_digits(79.0, 80.0, 0), "79");
        assert_eq!(distinct_digits(0.605, 0.6, 2), "0.605");
        assert_eq!(distinct_digits(0.65, 0.6, 2), "0.65");
    }

    #[test]
    fn repeated_cycle_becomes_one_candidate() {
        let mut interactions = Vec::new();
        for session in ["s1", "s2", "s3"] {
            for index in 0..12 {
                let start_ns = index as i64 * 1_000_000_000;
                interactions.push(Interaction {
                    session: session.into(),
                    label: ["edit", "save", "close"][index % 3].to_string(),
                    start_ns,
                    end_ns: start_ns + 500_000_000,
                });
            }
        }
        let candidates = sequence_candidates(&interactions, 2);
        let titles: Vec<&str> = candidates.iter().map(|c| c.title.as_str()).collect();
        assert_eq!(titles, ["edit → save → close"]);
        assert_eq!(candidates[0].count, 3 * 4);
    }

    #[test]
    fn repeated_single_click_keeps_shortest_run() {
        let mut interactions = Vec::new();
        for session in ["s1", "s2"] {
            for index in 0..10 {
                let start_ns = index as i64 * 1_000_000_000;
                interactions.push(Interaction {
                    session: session.into(),
                    label: "click Save".to_string(),
                    start_ns,
                    end_ns: start_ns + 500_000_000,
                });
            }
        }
        let candidates = sequence_candidates(&interactions, 2);
        let titles: Vec<&str> = candidates.iter().map(|c| c.title.as_str()).collect();
        assert_eq!(titles, ["click Save → click Save → click Save"]);
        assert_eq!(
            shortest_period(&["a", "b", "a", "b", "a"].map(String::from)),
            2
        );
        assert_eq!(shortest_period(&["a", "b", "c"].map(String::from)), 3);
    }

    #[test]
    fn rotation_needs_every_step_in_turn() {
        let run = |labels: &[&str]| labels.iter().map(|l| l.to_string()).collect::<Vec<_>>();
        assert!(is_rotation(&run(&["a", "b", "c"]), &run(&["c", "a", "b"])));
        assert!(!is_rotation(&run(&["a", "b", "c"]), &run(&["a", "c", "b"])));
        assert!(!is_rotation(&run(&["a", "b"]), &run(&["a", "b", "a"])));
    }

    #[test]
    fn repeated_click_run_becomes_one_candidate() {
        let mut interactions = Vec::new();
        for session in ["s1", "s2", "s3"] {
            for (index, label) in ["click A", "click B", "click C", "click D"]
                .iter()
                .enumerate()
            {
                let start_ns = index as i64 * 1_000_000_000;
                interactions.push(Interaction {
                    session: session.into(),
                    label: label.to_string(),
                    start_ns,
                    end_ns: start_ns + 500_000_000,
                });
            }
        }
        let candidates = sequence_candidates(&interactions, 2);
        assert_eq!(candidates.len(), 1, "{candidates:?}");
        assert_eq!(candidates[0].steps.len(), 4);
        assert_eq!(candidates[0].sessions, Some(3));
        assert_eq!(candidates[0].count, 3);
    }
}

//! Conformance of the filtered log with the model the inductive miner finds
//! in it: token-based replay fitness and optimal alignments per variant.
//!
//! Alignments can take long on a log with many variants, so they run under
//! a time budget and report progress through a callback. Variants not
//! started within the budget are counted as skipped, and the response marks
//! itself incomplete.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use exos_mining::conformance::alignments::DEVIATION_COST;
use exos_mining::conformance::{
    align_variants, token_replay, AlignmentOptions, AlignmentReport, Replayer, VariantAlignment,
};
use exos_mining::discovery::{inductive_miner, tree_to_petri_net, ImfOptions};
use exos_mining::EventLog;
use serde::{Deserialize, Serialize};

use crate::error::ProcessError;
use crate::request::LogScope;

/// Time budget of the alignments by default, seconds.
const DEFAULT_BUDGET_S: f64 = 10.0;
/// Maximum time budget, seconds.
const MAX_BUDGET_S: f64 = 300.0;
/// Maximum number of variants listed in the response.
const LISTED_VARIANTS: usize = 200;

/// A conformance request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ConformanceRequest {
    pub scope: LogScope,
    /// Noise threshold of the inductive miner that finds the model.
    pub noise_threshold: f64,
    /// Seconds after which no new variant is aligned (10 by default, 300 at most).
    pub time_budget_seconds: f64,
}

impl Default for ConformanceRequest {
    fn default() -> Self {
        ConformanceRequest {
            scope: LogScope::default(),
            noise_threshold: 0.2,
            time_budget_seconds: DEFAULT_BUDGET_S,
        }
    }
}

/// Conformance of one variant.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VariantConformance {
    pub rank: usize,
    pub activities: Vec<String>,
    pub count: u64,
    /// Optimal alignment cost (10,000 per deviation, 1 per silent step); null when not aligned.
    pub cost: Option<u64>,
    /// Log and model moves of the alignment.
    pub deviations: Option<u64>,
    pub alignment_fitness: Option<f64>,
    pub replay_fitness: f64,
}

/// Deviations of one activity, weighted by cases.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ActivityDeviation {
    pub activity: String,
    /// Events the model could not follow.
    pub log_moves: u64,
    /// Steps the model needed that the log lacks.
    pub model_moves: u64,
}

/// The conformance response.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConformanceAnswer {
    pub cases: u64,
    pub total_variants: usize,
    pub aligned_variants: usize,
    pub skipped_variants: usize,
    /// False when the time budget ran out before every variant was aligned.
    pub complete: bool,
    /// Token replay: percentage of fitting cases, mean case fitness, log fitness.
    pub perc_fit_traces: f64,
    pub average_trace_fitness: f64,
    pub log_fitness: f64,
    /// Mean alignment fitness over aligned cases.
    pub alignment_fitness: f64,
    pub variants: Vec<VariantConformance>,
    pub deviations: Vec<ActivityDeviation>,
    pub elapsed_ms: u64,
}

/// Progress of the alignments: variants done of variants in total.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Progress {
    pub done: usize,
    pub total: usize,
}

impl ConformanceRequest {
    /// Checks the options.
    pub fn validate(&self) -> Result<(), ProcessError> {
        if !(0.0..=1.0).contains(&self.noise_threshold) {
            return Err(ProcessError::bad(
                "noise_threshold",
                format!(
                    "{} is not a share; give a number from 0 to 1",
                    self.noise_threshold
                ),
            ));
        }
        let budget = self.time_budget_seconds;
        if !(budget > 0.0 && budget <= MAX_BUDGET_S) {
            return Err(ProcessError::bad(
                "time_budget_seconds",
                format!("{budget} is out of range; give more than 0 and at most {MAX_BUDGET_S}"),
            ));
        }
        Ok(())
    }
}

/// Checks `log` against its discovered model, calling `progress` after each variant.
pub fn conformance(
    log: &EventLog,
    request: &ConformanceRequest,
    progress: &mut dyn FnMut(Progress),
) -> Result<ConformanceAnswer, ProcessError> {
    request.validate()?;
    let started = Instant::now();
    let tree = inductive_miner(
        log,
        ImfOptions {
            noise_threshold: request.noise_threshold,
        },
    );
    let net = tree_to_petri_net(&tree);
    let fitness = token_replay(log, &net);

    let options = AlignmentOptions {
        time_budget: Some(Duration::from_secs_f64(request.time_budget_seconds)),
        ..AlignmentOptions::default()
    };
    let mut report_progress = |done: usize, total: usize| progress(Progress { done, total });
    let report = align_variants(log, &net, options, Some(&mut report_progress));

    let replayer = Replayer::new(&net);
    let variants = variant_rows(log, &report, &replayer);
    let aligned: Vec<&VariantAlignment> = report
        .variants
        .iter()
        .filter(|v| v.cost.is_some())
        .collect();
    let aligned_cases: usize = aligned.iter().map(|v| v.cases.len()).sum();
    let fitness_sum: f64 = aligned
        .iter()
        .map(|v| v.fitness * v.cases.len() as f64)
        .sum();
    let aligned_variants = report.variants.len();
    Ok(ConformanceAnswer {
        cases: log.case_count() as u64,
        total_variants: aligned_variants + report.skipped_variants,
        aligned_variants,
        skipped_variants: report.skipped_variants,
        complete: report.skipped_variants == 0,
        perc_fit_traces: fitness.perc_fit_traces,
        average_trace_fitness: fitness.average_trace_fitness,
        log_fitness: fitness.log_fitness,
        alignment_fitness: if aligned_cases > 0 {
            fitness_sum / aligned_cases as f64
        } else {
            0.0
        },
        variants,
        deviations: deviation_rows(log, &report),
        elapsed_ms: started.elapsed().as_millis() as u64,
    })
}

fn names(log: &EventLog, activities: &[u32]) -> Vec<String> {
    activities
        .iter()
        .map(|&a| log.activity_name(a).to_string())
        .collect()
}

/// The first [`LISTED_VARIANTS`] aligned variants, most frequent first.
fn variant_rows(
    log: &EventLog,
    report: &AlignmentReport,
    replayer: &Replayer,
) -> Vec<VariantConformance> {
    report
        .variants
        .iter()
        .take(LISTED_VARIANTS)
        .enumerate()
        .map(|(rank, aligned)| VariantConformance {
            rank,
            activities: names(log, &aligned.activities),
            count: aligned.cases.len() as u64,
            cost: aligned.cost,
            deviations: aligned.cost.map(|c| c / DEVIATION_COST),
            alignment_fitness: aligned.cost.map(|_| aligned.fitness),
            replay_fitness: replayer.replay(&aligned.activities).fitness,
        })
        .collect()
}

/// Log and model moves per activity, most deviations first.
fn deviation_rows(log: &EventLog, report: &AlignmentReport) -> Vec<ActivityDeviation> {
    let activities: BTreeSet<u32> = report
        .log_moves
        .keys()
        .chain(report.model_moves.keys())
        .copied()
        .collect();
    let mut rows: Vec<ActivityDeviation> = activities
        .into_iter()
        .map(|a| ActivityDeviation {
            activity: log.activity_name(a).into(),
            log_moves: report.log_moves.get(&a).copied().unwrap_or(0),
            model_moves: report.model_moves.get(&a).copied().unwrap_or(0),
        })
        .collect();
    rows.sort_by_key(|row| std::cmp::Reverse(row.log_moves + row.model_moves));
    rows
}

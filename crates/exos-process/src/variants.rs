//! The variants answer: activity sequences with counts, shares and durations.

use exos_mining::analysis::{variants, Summary};
use exos_mining::EventLog;
use serde::{Deserialize, Serialize};

use crate::request::LogScope;

/// Variants listed at most by default.
const DEFAULT_LIMIT: usize = 50;
/// Variants listed at most on request.
const MAX_LIMIT: usize = 5_000;

/// A variants request.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct VariantsRequest {
    pub scope: LogScope,
    /// Variants listed, most frequent first (50 by default, 5,000 at most).
    pub limit: Option<usize>,
}

/// One variant.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VariantRow {
    /// 0 for the most frequent.
    pub rank: usize,
    pub activities: Vec<String>,
    pub count: u64,
    /// Share of cases, 0..=1.
    pub share: f64,
    /// Case durations in seconds.
    pub duration: Summary,
    /// A few of its cases, to open one.
    pub example_cases: Vec<String>,
}

/// The variants answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VariantsAnswer {
    pub cases: u64,
    pub total_variants: usize,
    pub variants: Vec<VariantRow>,
}

/// Lists the variants of `log`.
pub fn variant_list(log: &EventLog, request: &VariantsRequest) -> VariantsAnswer {
    let limit = request.limit.unwrap_or(DEFAULT_LIMIT).min(MAX_LIMIT);
    let all = variants(log);
    let rows = all
        .iter()
        .take(limit)
        .enumerate()
        .map(|(rank, variant)| VariantRow {
            rank,
            activities: variant
                .activities
                .iter()
                .map(|&a| log.activity_name(a).to_string())
                .collect(),
            count: variant.count,
            share: variant.share,
            duration: variant.duration,
            example_cases: variant
                .cases
                .iter()
                .take(5)
                .map(|&c| log.case_ids[c as usize].clone())
                .collect(),
        })
        .collect();
    VariantsAnswer {
        cases: log.case_count() as u64,
        total_variants: all.len(),
        variants: rows,
    }
}

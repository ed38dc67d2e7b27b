//! `POST /api/funnels/correlation`: which attribute values and which events
//! make conversion more or less likely, in the manner of PostHog's
//! correlation analysis.
//!
//! Every actor who entered the funnel is a success (reached the last step) or
//! a failure. For each event name and attribute value, the actors who had it
//! at least once in the range form a 2×2 table against success. The odds
//! ratio uses the Haldane–Anscombe correction (0.5 added to each cell) so
//! that empty cells give finite ratios. Significance is Fisher's exact test,
//! two-sided: the sum of the probabilities of every table with the same
//! margins that is no more likely than the observed one.

use std::collections::{BTreeMap, HashMap};

use exos_funnels::sql::Dialect;
use exos_funnels::{EventFilter, FunnelQuery, FunnelReport, Property};
use serde::{Deserialize, Serialize};

use super::request::{property, FunnelRequest};
use super::source::{dialect, for_each_actor, query_all_rows, store_name, SpanScope};
use crate::definitions::Library;
use crate::error::AnalyticsError;
use crate::sql::Sql;
use exos_store::Store;

/// Attribute keys analysed when a request names none.
pub const DEFAULT_PROPERTIES: [&str; 3] = ["lob", "operator.id", "service.name"];
/// Most attribute keys one request may analyse.
const MAX_PROPERTIES: usize = 10;
/// Most (actor, feature) rows read for one analysis.
const MAX_FEATURE_ROWS: usize = 5_000_000;
/// Rows returned when a request names no limit, and the most it may ask for.
const DEFAULT_ROWS: usize = 20;
const MAX_ROWS: usize = 200;
/// p-values below this mark a row significant.
pub const SIGNIFICANCE: f64 = 0.05;
/// The `kind` of event rows; attribute rows carry their key.
pub const EVENT_KIND: &str = "event";

/// A request of `POST /api/funnels/correlation`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CorrelationRequest {
    pub funnel: FunnelRequest,
    /// Attribute keys whose values are tested (default lob, operator.id, service.name).
    #[serde(default)]
    pub properties: Option<Vec<String>>,
    /// Whether span names are tested as events (default true).
    #[serde(default = "yes")]
    pub events: bool,
    /// Rows returned, the most significant first (default 20, at most 200).
    #[serde(default)]
    pub limit: Option<usize>,
}

fn yes() -> bool {
    true
}

/// The response body of `POST /api/funnels/correlation`.
#[derive(Debug, Clone, Serialize)]
pub struct CorrelationResponse {
    pub store: &'static str,
    /// Actors who entered and reached the last step.
    pub success_actors: u64,
    /// Actors who entered and did not reach the last step.
    pub failure_actors: u64,
    pub rows: Vec<CorrelationRow>,
    pub sql: Vec<String>,
}

/// One event or attribute value and its association with conversion.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CorrelationRow {
    /// `event` or the attribute key.
    pub kind: String,
    pub value: String,
    pub success_actors: u64,
    pub failure_actors: u64,
    /// Odds of converting with the value over the odds without it (0.5-corrected).
    pub odds_ratio: f64,
    /// Two-sided Fisher exact test.
    pub p_value: f64,
    pub significant: bool,
    /// `success` when the value goes with converting (odds ratio above 1), else `failure`.
    pub correlation: &'static str,
}

/// Computes the correlation of events and attribute values with conversion.
pub fn funnel_correlation(
    store: &dyn Store,
    request: &CorrelationRequest,
    library: &Library,
) -> Result<CorrelationResponse, AnalyticsError> {
    let mut query = request.funnel.query(library)?;
    let scope = request.funnel.scope(&Sql::new(store.dialect()), library)?;
    query.breakdown = None;
    let keys = property_keys(request)?;
    let limit = match request.limit {
        None => DEFAULT_ROWS,
        Some(limit) if (1..=MAX_ROWS).contains(&limit) => limit,
        Some(limit) => {
            return Err(AnalyticsError::bad(
                "limit",
                format!("{limit} is outside 1 to {MAX_ROWS}"),
            ))
        }
    };
    let (outcomes, funnel_sql) = actor_outcomes(store, &query, &scope)?;
    let success = outcomes.values().filter(|&&converted| converted).count() as u64;
    let failure = outcomes.len() as u64 - success;
    let features_sql = scope.apply(&features_sql(dialect(store), &query, &keys, request.events))?;
    let counts = count_features(store, &features_sql, &outcomes)?;
    let step_names = step_span_names(&query);
    let mut rows: Vec<CorrelationRow> = counts
        .into_iter()
        .filter(|((kind, value), _)| !(kind == EVENT_KIND && step_names.contains(value)))
        .map(|((kind, value), (with_success, with_failure))| {
            correlation_row(kind, value, [with_success, with_failure, success, failure])
        })
        .collect();
    rows.sort_by(|a, b| {
        a.p_value
            .total_cmp(&b.p_value)
            .then_with(|| b.odds_ratio.ln().abs().total_cmp(&a.odds_ratio.ln().abs()))
            .then_with(|| (&a.kind, &a.value).cmp(&(&b.kind, &b.value)))
    });
    rows.truncate(limit);
    Ok(CorrelationResponse {
        store: store_name(store),
        success_actors: success,
        failure_actors: failure,
        rows,
        sql: vec![funnel_sql, features_sql],
    })
}

fn property_keys(request: &CorrelationRequest) -> Result<Vec<(String, Property)>, AnalyticsError> {
    let keys: Vec<String> = match &request.properties {
        Some(keys) => keys.clone(),
        None => DEFAULT_PROPERTIES
            .iter()
            .map(|key| key.to_string())
            .collect(),
    };
    if keys.len() > MAX_PROPERTIES {
        return Err(AnalyticsError::bad(
            "properties",
            format!("{} keys given; name at most {MAX_PROPERTIES}", keys.len()),
        ));
    }
    keys.into_iter()
        .map(|key| Ok((key.clone(), property(&key)?)))
        .collect()
}

/// Returns whether each actor who entered the funnel converted.
fn actor_outcomes(
    store: &dyn Store,
    query: &FunnelQuery,
    scope: &SpanScope,
) -> Result<(HashMap<String, bool>, String), AnalyticsError> {
    let mut report = FunnelReport::new(query)
        .map_err(|error| AnalyticsError::bad("funnel", error.to_string()))?;
    let steps = query.steps.len();
    let mut outcomes = HashMap::new();
    let text = for_each_actor(store, query, scope, |spans| {
        let outcome = report.evaluate(spans.timestamps_ns, spans.steps, spans.exclusions);
        if outcome.level > 0 && !outcome.excluded {
            outcomes.insert(spans.actor.to_string(), outcome.level == steps);
        }
    })?;
    Ok((outcomes, text))
}

/// Renders one row per (actor, kind, value) the actor had in the range.
fn features_sql(
    dialect: Dialect,
    query: &FunnelQuery,
    keys: &[(String, Property)],
    events: bool,
) -> String {
    let actor = query.actor.name();
    let range = dialect.time_range(&query.time_range);
    let mut parts = Vec::new();
    if events {
        parts.push(format!(
            "SELECT DISTINCT {actor} AS actor, {kind} AS kind, SpanName AS value \
             FROM otel_traces WHERE {range} AND {actor} <> ''",
            kind = dialect.string_literal(EVENT_KIND),
        ));
    }
    for (key, property) in keys {
        let value = dialect.property(property);
        parts.push(format!(
            "SELECT DISTINCT {actor} AS actor, {kind} AS kind, {value} AS value \
             FROM otel_traces WHERE {range} AND {actor} <> '' AND {value} <> ''",
            kind = dialect.string_literal(key),
        ));
    }
    if parts.is_empty() {
        return "SELECT '' AS actor, '' AS kind, '' AS value FROM otel_traces WHERE false"
            .to_string();
    }
    parts.join("\nUNION ALL\n")
}

/// Converted and not converted actors per (kind, value).
type FeatureCounts = BTreeMap<(String, String), (u64, u64)>;

/// Counts successful and failed actors per (kind, value).
fn count_features(
    store: &dyn Store,
    text: &str,
    outcomes: &HashMap<String, bool>,
) -> Result<FeatureCounts, AnalyticsError> {
    let mut counts = FeatureCounts::new();
    for row in query_all_rows(store, text, MAX_FEATURE_ROWS, "actor attribute values")? {
        let Some(&converted) = outcomes.get(&row.text(0)) else {
            continue;
        };
        let entry = counts.entry((row.text(1), row.text(2))).or_default();
        if converted {
            entry.0 += 1;
        } else {
            entry.1 += 1;
        }
    }
    Ok(counts)
}

fn step_span_names(query: &FunnelQuery) -> Vec<String> {
    query
        .steps
        .iter()
        .filter_map(|step| match step {
            EventFilter::SpanName(name) => Some(name.clone()),
            _ => None,
        })
        .collect()
}

/// Builds a row from `[success with, failure with, success total, failure total]`.
fn correlation_row(kind: String, value: String, counts: [u64; 4]) -> CorrelationRow {
    let [with_success, with_failure, success, failure] = counts;
    let without_success = success - with_success;
    let without_failure = failure - with_failure;
    let odds_ratio = odds_ratio(with_success, with_failure, without_success, without_failure);
    let p_value = fisher_two_sided(with_success, with_failure, without_success, without_failure);
    CorrelationRow {
        kind,
        value,
        success_actors: with_success,
        failure_actors: with_failure,
        odds_ratio,
        p_value,
        significant: p_value < SIGNIFICANCE,
        correlation: if odds_ratio >= 1.0 {
            "success"
        } else {
            "failure"
        },
    }
}

/// Returns the odds ratio of the table [[a, b], [c, d]] with 0.5 added to each cell.
pub fn odds_ratio(a: u64, b: u64, c: u64, d: u64) -> f64 {
    let [a, b, c, d] = [a, b, c, d].map(|cell| cell as f64 + 0.5);
    (a * d) / (b * c)
}

/// Returns the two-sided p-value of Fisher's exact test for [[a, b], [c, d]].
pub fn fisher_two_sided(a: u64, b: u64, c: u64, d: u64) -> f64 {
    let total = (a + b + c + d) as usize;
    let log_factorial = log_factorials(total);
    let row = (a + b) as usize;
    let column = (a + c) as usize;
    let log_probability = |x: usize| {
        log_factorial[row]
            + log_factorial[total - row]
            + log_factorial[column]
            + log_factorial[total - column]
            - log_factorial[total]
            - log_factorial[x]
            - log_factorial[row - x]
            - log_factorial[column - x]
            - log_factorial[total + x - row - column]
    };
    let observed = log_probability(a as usize);
    // Tables within a relative 1e-7 of the observed probability count as equally likely,
    // so rounding in the logarithms does not drop the observed table's twins.
    let threshold = observed + 1e-7_f64.ln_1p();
    let lowest = (row + column).saturating_sub(total);
    let highest = row.min(column);
    let p: f64 = (lowest..=highest)
        .map(log_probability)
        .filter(|&log_p| log_p <= threshold)
        .map(f64::exp)
        .sum();
    p.min(1.0)
}

/// Returns ln(k!) for k = 0 to `n`.
fn log_factorials(n: usize) -> Vec<f64> {
    let mut table = Vec::with_capacity(n + 1);
    let mut sum = 0.0;
    table.push(0.0);
    for k in 1..=n {
        sum += (k as f64).ln();
        table.push(sum);
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fisher_matches_reference_values() {
        // Expected values summed exactly from binomial coefficients (Python's math.comb).
        // Fisher's tea-tasting table.
        assert!((fisher_two_sided(3, 1, 1, 3) - 0.485_714_3).abs() < 1e-6);
        assert!((fisher_two_sided(10, 3, 2, 15) - 0.000_536_724_1).abs() < 1e-9);
        // A table with no association at all.
        assert!((fisher_two_sided(5, 5, 5, 5) - 1.0).abs() < 1e-9);
    }

    #[test]
    fn odds_ratio_is_corrected() {
        assert!((odds_ratio(9, 1, 1, 9) - (9.5 * 9.5) / (1.5 * 1.5)).abs() < 1e-12);
        assert!(odds_ratio(0, 5, 5, 0).is_finite());
    }

    #[test]
    fn row_sides_with_success_or_failure() {
        let good = correlation_row("lob".into(), "Flood".into(), [40, 2, 50, 50]);
        assert_eq!(good.correlation, "success");
        assert!(good.significant);
        let bad = correlation_row("event".into(), "Rework".into(), [2, 40, 50, 50]);
        assert_eq!(bad.correlation, "failure");
        assert!(bad.significant);
    }
}

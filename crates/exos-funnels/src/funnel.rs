//! Funnel reports: per-step counts, conversion rates, times to convert,
//! breakdowns and conversion over time, from per-actor event lists.
//!
//! [`FunnelReport`] takes one actor (per breakdown value) at a time, from
//! whichever store produced the lists, and keeps only counters and the
//! durations that medians need. Levels come from [`WindowFunnel`] for
//! sequential and strict funnels and from [`any_order_match`] otherwise.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::any_order::any_order_match;
use crate::query::{Exclusion, FunnelKind, FunnelQuery, Period};
use crate::sql::{funnel_modes, period_number, period_start_ns};
use crate::window_funnel::{FunnelError, FunnelScratch, StepEvent, WindowFunnel};

/// Invalid funnel definition.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum DefinitionError {
    #[error(transparent)]
    Funnel(#[from] FunnelError),
    #[error(
        "invalid exclusion from step {from_step} to step {to_step}: steps are numbered 1 to {steps} \
         and from_step must be lower than to_step"
    )]
    Exclusion {
        from_step: usize,
        to_step: usize,
        steps: usize,
    },
    #[error("a funnel takes at most 32 exclusions, got {0}")]
    ExclusionCount(usize),
}

/// Number of equal-width bins of the time-to-convert distribution.
pub const TIME_TO_CONVERT_BINS: usize = 10;

/// Funnel results, one series per breakdown value (one series with value `''`
/// without a breakdown), ordered by value.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FunnelResult {
    pub series: Vec<FunnelSeries>,
}

/// Results for one breakdown value.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FunnelSeries {
    pub breakdown: String,
    pub steps: Vec<StepResult>,
    /// Actors left out by an exclusion.
    pub excluded_actors: u64,
    /// From the first to the last step, for actors who reached the last step.
    pub time_to_convert: TimeToConvert,
    /// Entered and converted actors by the period of their chain's first step.
    pub trend: Vec<TrendPoint>,
}

/// Counts of one step.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StepResult {
    /// 1-based.
    pub step: usize,
    /// Actors who reached this step.
    pub actors: u64,
    /// `actors` over the previous step's actors (1 for step 1, 0 when that is 0).
    pub conversion_from_previous: f64,
    /// `actors` over step 1's actors (0 when that is 0).
    pub conversion_from_first: f64,
    /// Median nanoseconds from the previous step, over actors who reached this
    /// one; `None` for step 1 and for any-order funnels.
    pub median_time_from_previous_ns: Option<i64>,
}

/// Distribution of the time from the first to the last step.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TimeToConvert {
    /// Lower median in nanoseconds, or `None` when no actor converted.
    pub median_ns: Option<i64>,
    pub bins: Vec<TimeBin>,
}

/// Actors whose time to convert is in `[from_ns, to_ns)`; the last bin includes `to_ns`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TimeBin {
    pub from_ns: i64,
    pub to_ns: i64,
    pub actors: u64,
}

/// Conversion of the chains that started in one period.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrendPoint {
    pub period_start_ns: i64,
    pub entered: u64,
    pub converted: u64,
    pub conversion: f64,
}

/// Outcome for one actor: the level and, when known, each step's timestamp.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActorOutcome {
    pub level: usize,
    /// Steps 1 to `level` for sequential and strict funnels; for any-order
    /// funnels only the window start and the completing event.
    pub step_times_ns: Vec<i64>,
    pub excluded: bool,
}

/// Accumulates actors into a [`FunnelResult`].
pub struct FunnelReport {
    query: FunnelQuery,
    window_funnel: WindowFunnel,
    scratch: FunnelScratch,
    events: Vec<StepEvent>,
    /// Slot of each breakdown value in `counters`.
    slots: BTreeMap<String, usize>,
    /// Index: slot; the value and its counters.
    counters: Vec<(String, SeriesCounters)>,
}

/// Running totals of one breakdown value.
#[derive(Default)]
struct SeriesCounters {
    /// Index k: actors whose level is exactly k.
    level_actors: Vec<u64>,
    excluded_actors: u64,
    /// Index k: durations from step k to step k + 1 (0-based).
    step_gaps_ns: Vec<Vec<i64>>,
    convert_times_ns: Vec<i64>,
    /// Period number of the first step: (entered, converted).
    trend: BTreeMap<i64, (u64, u64)>,
}

impl FunnelReport {
    /// Checks the definition and prepares empty counters.
    pub fn new(query: &FunnelQuery) -> Result<Self, DefinitionError> {
        let window_funnel =
            WindowFunnel::new(query.window_ns, query.steps.len(), funnel_modes(query))?;
        check_exclusions(query)?;
        Ok(FunnelReport {
            query: query.clone(),
            window_funnel,
            scratch: FunnelScratch::default(),
            events: Vec::new(),
            slots: BTreeMap::new(),
            counters: Vec::new(),
        })
    }

    /// Evaluates one actor from parallel lists (timestamps in nanoseconds,
    /// step and exclusion bitmasks), in any order.
    pub fn evaluate(
        &mut self,
        timestamps_ns: &[i64],
        steps: &[u32],
        exclusions: &[u32],
    ) -> ActorOutcome {
        let mut outcome = ActorOutcome {
            level: 0,
            step_times_ns: Vec::new(),
            excluded: false,
        };
        self.evaluate_into(timestamps_ns, steps, exclusions, &mut outcome);
        outcome
    }

    /// [`FunnelReport::evaluate`] into `outcome`, whose list is reused: a
    /// pass over a million actors allocates nothing per actor.
    pub fn evaluate_into(
        &mut self,
        timestamps_ns: &[i64],
        steps: &[u32],
        exclusions: &[u32],
        outcome: &mut ActorOutcome,
    ) {
        self.events.clear();
        self.events.extend(
            timestamps_ns
                .iter()
                .zip(steps)
                .map(|(&timestamp_ns, &steps)| StepEvent {
                    timestamp_ns,
                    steps,
                }),
        );
        outcome.step_times_ns.clear();
        outcome.level = if self.query.kind == FunnelKind::AnyOrder {
            let found = any_order_match(
                &mut self.events,
                self.query.steps.len(),
                self.query.window_ns,
            );
            outcome.step_times_ns.extend([found.start_ns, found.end_ns]);
            found.level
        } else {
            let found = self
                .window_funnel
                .evaluate(&mut self.events, &mut self.scratch);
            outcome.step_times_ns.extend_from_slice(found.step_times_ns);
            found.level
        };
        outcome.excluded = self.is_excluded(
            outcome.level,
            &outcome.step_times_ns,
            timestamps_ns,
            exclusions,
        );
    }

    /// Evaluates one actor and adds it to the series of `breakdown`.
    pub fn add_actor(
        &mut self,
        breakdown: &str,
        timestamps_ns: &[i64],
        steps: &[u32],
        exclusions: &[u32],
    ) {
        let outcome = self.evaluate(timestamps_ns, steps, exclusions);
        self.add_outcome(breakdown, &outcome);
    }

    /// Adds an actor that [`FunnelReport::evaluate`] (of this report or of
    /// one with the same definition) already evaluated, to the series of `breakdown`.
    pub fn add_outcome(&mut self, breakdown: &str, outcome: &ActorOutcome) {
        let slot = self.series_slot(breakdown);
        self.add_outcome_at(slot, outcome);
    }

    /// Returns the slot of the series of `breakdown`, creating the series when
    /// it is new, for [`FunnelReport::add_outcome_at`]. A caller that numbers
    /// its values looks each one up once, instead of once per actor.
    pub fn series_slot(&mut self, breakdown: &str) -> usize {
        if let Some(&slot) = self.slots.get(breakdown) {
            return slot;
        }
        let slot = self.counters.len();
        let counters = SeriesCounters::new(self.query.steps.len());
        self.counters.push((breakdown.to_string(), counters));
        self.slots.insert(breakdown.to_string(), slot);
        slot
    }

    /// Adds an evaluated actor to the series in `slot` (from [`FunnelReport::series_slot`]).
    pub fn add_outcome_at(&mut self, slot: usize, outcome: &ActorOutcome) {
        let step_count = self.query.steps.len();
        let trend_period = self.query.trend_period;
        let any_order = self.query.kind == FunnelKind::AnyOrder;
        self.counters[slot]
            .1
            .add(outcome, step_count, any_order, trend_period);
    }

    /// Adds the actors of `other`, a report of the same definition that
    /// counted other actors (another thread's share).
    pub fn merge(&mut self, other: FunnelReport) {
        for (breakdown, counters) in other.counters {
            let slot = self.series_slot(&breakdown);
            self.counters[slot].1.merge(counters);
        }
    }

    /// Adds actors already counted by level, as ClickHouse's native query
    /// returns them: `actors` actors of `breakdown` reached exactly `level`.
    /// Such actors add nothing to times to convert and trends, which need
    /// [`FunnelReport::add_actor`] with the per-actor lists.
    pub fn add_level_count(&mut self, breakdown: &str, level: usize, actors: u64) {
        let step_count = self.query.steps.len();
        let slot = self.series_slot(breakdown);
        self.counters[slot].1.level_actors[level.min(step_count)] += actors;
    }

    /// Returns the results, consuming the counters.
    pub fn finish(self) -> FunnelResult {
        let any_order = self.query.kind == FunnelKind::AnyOrder;
        let period = self.query.trend_period;
        let mut counters = self.counters;
        counters.sort_by(|a, b| a.0.cmp(&b.0));
        let series = counters
            .into_iter()
            .map(|(breakdown, counters)| counters.into_series(breakdown, any_order, period))
            .collect();
        FunnelResult { series }
    }

    /// Returns whether an exclusion event lies strictly between the steps the
    /// exclusion names, in the actor's chain.
    fn is_excluded(
        &self,
        level: usize,
        step_times_ns: &[i64],
        timestamps_ns: &[i64],
        exclusions: &[u32],
    ) -> bool {
        if self.query.kind == FunnelKind::AnyOrder {
            return false;
        }
        self.query
            .exclusions
            .iter()
            .enumerate()
            .any(|(bit, exclusion)| {
                let Some((after_ns, before_ns)) =
                    self.exclusion_span(exclusion, level, step_times_ns)
                else {
                    return false;
                };
                timestamps_ns
                    .iter()
                    .zip(exclusions)
                    .any(|(&timestamp_ns, &mask)| {
                        mask & (1 << bit) != 0
                            && after_ns < timestamp_ns
                            && timestamp_ns < before_ns
                    })
            })
    }

    /// Returns the open interval in which `exclusion` counts, or `None` when
    /// the actor never reached its first step.
    fn exclusion_span(
        &self,
        exclusion: &Exclusion,
        level: usize,
        step_times_ns: &[i64],
    ) -> Option<(i64, i64)> {
        if level < exclusion.from_step {
            return None;
        }
        let after_ns = step_times_ns[exclusion.from_step - 1];
        let before_ns = if level >= exclusion.to_step {
            step_times_ns[exclusion.to_step - 1]
        } else {
            let window_end = i128::from(step_times_ns[0]) + i128::from(self.query.window_ns) + 1;
            window_end.min(i128::from(i64::MAX)) as i64
        };
        Some((after_ns, before_ns))
    }
}

impl SeriesCounters {
    fn new(step_count: usize) -> Self {
        SeriesCounters {
            level_actors: vec![0; step_count + 1],
            step_gaps_ns: vec![Vec::new(); step_count.saturating_sub(1)],
            ..SeriesCounters::default()
        }
    }

    fn merge(&mut self, other: SeriesCounters) {
        for (mine, theirs) in self.level_actors.iter_mut().zip(other.level_actors) {
            *mine += theirs;
        }
        self.excluded_actors += other.excluded_actors;
        for (mine, theirs) in self.step_gaps_ns.iter_mut().zip(other.step_gaps_ns) {
            mine.extend(theirs);
        }
        self.convert_times_ns.extend(other.convert_times_ns);
        for (period, (entered, converted)) in other.trend {
            let point = self.trend.entry(period).or_default();
            point.0 += entered;
            point.1 += converted;
        }
    }

    fn add(
        &mut self,
        outcome: &ActorOutcome,
        step_count: usize,
        any_order: bool,
        trend_period: Option<Period>,
    ) {
        if outcome.excluded {
            self.excluded_actors += 1;
            return;
        }
        self.level_actors[outcome.level] += 1;
        if outcome.level == 0 {
            return;
        }
        let first_ns = outcome.step_times_ns[0];
        let converted = outcome.level == step_count;
        if converted {
            let last_ns = *outcome.step_times_ns.last().unwrap_or(&first_ns);
            self.convert_times_ns.push(last_ns - first_ns);
        }
        if !any_order {
            for (gap, pair) in outcome.step_times_ns.windows(2).enumerate() {
                self.step_gaps_ns[gap].push(pair[1] - pair[0]);
            }
        }
        if let Some(period) = trend_period {
            let point = self
                .trend
                .entry(period_number(period, first_ns))
                .or_default();
            point.0 += 1;
            point.1 += u64::from(converted);
        }
    }

    fn into_series(
        mut self,
        breakdown: String,
        any_order: bool,
        period: Option<Period>,
    ) -> FunnelSeries {
        let step_count = self.level_actors.len() - 1;
        let reached: Vec<u64> = (1..=step_count)
            .map(|step| self.level_actors[step..].iter().sum())
            .collect();
        let steps = (0..step_count)
            .map(|index| StepResult {
                step: index + 1,
                actors: reached[index],
                conversion_from_previous: match index {
                    0 => 1.0,
                    _ => ratio(reached[index], reached[index - 1]),
                },
                conversion_from_first: ratio(reached[index], reached[0]),
                median_time_from_previous_ns: match (index, any_order) {
                    (0, _) | (_, true) => None,
                    _ => lower_median(&mut self.step_gaps_ns[index - 1]),
                },
            })
            .collect();
        let trend = match period {
            Some(period) => trend_points(&self.trend, period),
            None => Vec::new(),
        };
        FunnelSeries {
            breakdown,
            steps,
            excluded_actors: self.excluded_actors,
            time_to_convert: time_to_convert(&mut self.convert_times_ns),
            trend,
        }
    }
}

/// Checks that each exclusion names two steps of the funnel in order, and
/// that the exclusions fit the 32-bit exclusion bitmask.
fn check_exclusions(query: &FunnelQuery) -> Result<(), DefinitionError> {
    if query.exclusions.len() > 32 {
        return Err(DefinitionError::ExclusionCount(query.exclusions.len()));
    }
    let steps = query.steps.len();
    for exclusion in &query.exclusions {
        let valid = exclusion.from_step >= 1
            && exclusion.from_step < exclusion.to_step
            && exclusion.to_step <= steps;
        if !valid {
            return Err(DefinitionError::Exclusion {
                from_step: exclusion.from_step,
                to_step: exclusion.to_step,
                steps,
            });
        }
    }
    Ok(())
}

fn trend_points(trend: &BTreeMap<i64, (u64, u64)>, period: Period) -> Vec<TrendPoint> {
    trend
        .iter()
        .map(|(&number, &(entered, converted))| TrendPoint {
            period_start_ns: period_start_ns(period, number),
            entered,
            converted,
            conversion: ratio(converted, entered),
        })
        .collect()
}

fn ratio(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

/// Returns the lower median: the element at index `(len - 1) / 2` once sorted.
fn lower_median(values: &mut [i64]) -> Option<i64> {
    if values.is_empty() {
        return None;
    }
    let middle = (values.len() - 1) / 2;
    Some(*values.select_nth_unstable(middle).1)
}

fn time_to_convert(times_ns: &mut [i64]) -> TimeToConvert {
    let Some(median_ns) = lower_median(times_ns) else {
        return TimeToConvert::default();
    };
    let min = *times_ns.iter().min().unwrap_or(&0);
    let max = *times_ns.iter().max().unwrap_or(&0);
    let width = ((max - min) / TIME_TO_CONVERT_BINS as i64).max(1);
    let mut bins: Vec<TimeBin> = (0..TIME_TO_CONVERT_BINS as i64)
        .map(|index| TimeBin {
            from_ns: min + index * width,
            to_ns: min + (index + 1) * width,
            actors: 0,
        })
        .collect();
    if let Some(last) = bins.last_mut() {
        last.to_ns = last.to_ns.max(max);
    }
    for &time in times_ns.iter() {
        let index = (((time - min) / width) as usize).min(TIME_TO_CONVERT_BINS - 1);
        bins[index].actors += 1;
    }
    TimeToConvert {
        median_ns: Some(median_ns),
        bins,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::{Column, EventFilter, TimeRange};

    fn query(kind: FunnelKind, exclusions: Vec<Exclusion>) -> FunnelQuery {
        FunnelQuery {
            actor: Column::UserId,
            steps: ["a", "b", "c"]
                .iter()
                .map(|name| EventFilter::SpanName(name.to_string()))
                .collect(),
            kind,
            window_ns: 100,
            modes: Default::default(),
            exclusions,
            breakdown: None,
            time_range: TimeRange {
                from_ns: 0,
                to_ns: 1_000,
            },
            trend_period: Some(Period::Day),
        }
    }

    #[test]
    fn report_counts_steps_and_times() {
        let mut report = FunnelReport::new(&query(FunnelKind::Sequential, Vec::new())).unwrap();
        report.add_actor("", &[0, 10, 30], &[1, 2, 4], &[0, 0, 0]);
        report.add_actor("", &[0, 20, 60], &[1, 2, 4], &[0, 0, 0]);
        report.add_actor("", &[0, 40], &[1, 2], &[0, 0]);
        report.add_actor("", &[5], &[1], &[0]);
        let result = report.finish();
        let series = &result.series[0];
        let actors: Vec<u64> = series.steps.iter().map(|step| step.actors).collect();
        assert_eq!(actors, [4, 3, 2]);
        assert_eq!(series.steps[1].conversion_from_previous, 0.75);
        assert_eq!(series.steps[2].conversion_from_first, 0.5);
        assert_eq!(series.steps[1].median_time_from_previous_ns, Some(20));
        assert_eq!(series.steps[2].median_time_from_previous_ns, Some(20));
        assert_eq!(series.time_to_convert.median_ns, Some(30));
        let binned: u64 = series
            .time_to_convert
            .bins
            .iter()
            .map(|bin| bin.actors)
            .sum();
        assert_eq!(binned, 2);
        assert_eq!(series.trend.len(), 1);
        assert_eq!((series.trend[0].entered, series.trend[0].converted), (4, 2));
    }

    #[test]
    fn exclusion_between_steps_drops_actor() {
        let exclusion = Exclusion {
            event: EventFilter::SpanName("x".into()),
            from_step: 1,
            to_step: 2,
        };
        let mut report =
            FunnelReport::new(&query(FunnelKind::Sequential, vec![exclusion])).unwrap();
        // Exclusion event at 5, between step 1 (0) and step 2 (10).
        let excluded = report.evaluate(&[0, 5, 10], &[1, 0, 2], &[0, 1, 0]);
        assert!(excluded.excluded);
        // Exclusion event at 20, after step 2: kept.
        let after_step_two = report.evaluate(&[0, 10, 20], &[1, 2, 0], &[0, 0, 1]);
        assert!(!after_step_two.excluded);
        // Step 2 never reached: the exclusion counts until the window ends (100).
        let open = report.evaluate(&[0, 99], &[1, 0], &[0, 1]);
        assert!(open.excluded);
        let after_window = report.evaluate(&[0, 101], &[1, 0], &[0, 1]);
        assert!(!after_window.excluded);
    }

    #[test]
    fn exclusion_steps_are_checked() {
        let backwards = Exclusion {
            event: EventFilter::SpanName("x".into()),
            from_step: 2,
            to_step: 1,
        };
        let error = FunnelReport::new(&query(FunnelKind::Sequential, vec![backwards])).err();
        assert_eq!(
            error,
            Some(DefinitionError::Exclusion {
                from_step: 2,
                to_step: 1,
                steps: 3
            })
        );
        let past_end = Exclusion {
            event: EventFilter::SpanName("x".into()),
            from_step: 1,
            to_step: 4,
        };
        assert!(FunnelReport::new(&query(FunnelKind::Sequential, vec![past_end])).is_err());
    }

    #[test]
    fn any_order_report_has_no_step_gaps() {
        let mut report = FunnelReport::new(&query(FunnelKind::AnyOrder, Vec::new())).unwrap();
        report.add_actor("", &[0, 10, 20], &[4, 2, 1], &[0, 0, 0]);
        let result = report.finish();
        let series = &result.series[0];
        assert_eq!(series.steps[2].actors, 1);
        assert_eq!(series.steps[1].median_time_from_previous_ns, None);
        assert_eq!(series.time_to_convert.median_ns, Some(20));
    }
}

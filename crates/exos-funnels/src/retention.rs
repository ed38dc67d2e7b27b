//! `retention(cond1, cond2, …)` with ClickHouse's semantics, and retention
//! tables built on it.
//!
//! ClickHouse's `retention` returns one flag per condition. The first flag is
//! 1 when some row met `cond1`. Flag k is 1 when some row met `cond1` and some
//! row, possibly another one, met `cond(k+1)`. It takes 2 to 32 conditions (checked
//! with chdb 4.4.0, ClickHouse 26.9). A retention table calls it once per
//! cohort entry with `cond1` = start event in the cohort period and
//! `cond(k+1)` = return event k periods later.

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::query::{RetentionKind, RetentionQuery};
use crate::sql::{period_number, period_start_ns};

/// Limits of ClickHouse's `retention` on its number of conditions.
pub const MIN_CONDITIONS: usize = 2;
pub const MAX_CONDITIONS: usize = 32;

/// Invalid retention definition.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum RetentionError {
    #[error("a retention table needs {MIN_CONDITIONS} to {MAX_CONDITIONS} periods, got {0}")]
    PeriodCount(usize),
}

/// Returns `retention`'s flags from whether each condition held on some row.
pub fn retention_flags(condition_held: &[bool]) -> Vec<u8> {
    let first = condition_held.first().copied().unwrap_or(false);
    condition_held
        .iter()
        .enumerate()
        .map(|(index, &held)| u8::from(first && (index == 0 || held)))
        .collect()
}

/// A retention table: one row per cohort period.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetentionTable {
    pub cohorts: Vec<RetentionCohort>,
}

/// Cohort entries of one period and how many came back in each later period.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetentionCohort {
    /// Index of the cohort's period, 0 for the first.
    pub period: usize,
    pub period_start_ns: i64,
    /// `returned[k]`: entries that did the return event k periods after the
    /// cohort's; `returned[0]` is the cohort size.
    pub returned: Vec<u64>,
}

/// Accumulates actors' period bitmasks into a [`RetentionTable`].
pub struct RetentionReport {
    kind: RetentionKind,
    periods: usize,
    first_period_start: i64,
    period: crate::query::Period,
    /// Index c: sums of the flags of cohort c's entries.
    sums: Vec<Vec<u64>>,
    conditions: Vec<bool>,
}

impl RetentionReport {
    /// Checks the definition and prepares empty counters.
    pub fn new(query: &RetentionQuery) -> Result<Self, RetentionError> {
        if !(MIN_CONDITIONS..=MAX_CONDITIONS).contains(&query.periods) {
            return Err(RetentionError::PeriodCount(query.periods));
        }
        Ok(RetentionReport {
            kind: query.kind,
            periods: query.periods,
            first_period_start: period_number(query.period, query.from_ns),
            period: query.period,
            sums: vec![vec![0; query.periods]; query.periods],
            conditions: Vec::with_capacity(query.periods),
        })
    }

    /// Adds one actor: bit p of `starts` (of `returns`) is set when the actor
    /// did the start (return) event in period p. Bits of periods past the
    /// table are ignored.
    pub fn add_actor(&mut self, starts: u64, returns: u64) {
        self.add_actors(starts, returns, 1);
    }

    /// Adds `count` actors that all have these `starts` and `returns` bits.
    pub fn add_actors(&mut self, starts: u64, returns: u64, count: u64) {
        let in_table = if self.periods >= 64 {
            u64::MAX
        } else {
            (1u64 << self.periods) - 1
        };
        let starts = starts & in_table;
        match self.kind {
            RetentionKind::FirstTime if starts != 0 => {
                self.add_entry(starts.trailing_zeros() as usize, returns, count)
            }
            RetentionKind::FirstTime => {}
            RetentionKind::Recurring => {
                let mut remaining = starts;
                while remaining != 0 {
                    self.add_entry(remaining.trailing_zeros() as usize, returns, count);
                    remaining &= remaining - 1;
                }
            }
        }
    }

    /// Adds `count` equal cohort entries through `retention`'s flags, as the native
    /// ClickHouse query computes them.
    fn add_entry(&mut self, cohort: usize, returns: u64, count: u64) {
        self.conditions.clear();
        self.conditions.push(true);
        self.conditions.extend(
            (1..self.periods)
                .map(|offset| cohort + offset < 64 && returns & (1u64 << (cohort + offset)) != 0),
        );
        let flags = retention_flags(&self.conditions);
        for (sum, flag) in self.sums[cohort].iter_mut().zip(flags) {
            *sum += u64::from(flag) * count;
        }
    }

    /// Returns the table with a row per cohort that has entries.
    pub fn finish(self) -> RetentionTable {
        let cohorts = self
            .sums
            .into_iter()
            .enumerate()
            .filter(|(_, sums)| sums[0] > 0)
            .map(|(cohort, sums)| RetentionCohort {
                period: cohort,
                period_start_ns: period_start_ns(
                    self.period,
                    self.first_period_start + cohort as i64,
                ),
                returned: sums,
            })
            .collect();
        RetentionTable { cohorts }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_need_the_first_condition() {
        // chdb: retention(e=1, e=2, e=3) over rows 2, 3 returns [0,0,0].
        assert_eq!(retention_flags(&[false, true, true]), [0, 0, 0]);
        // Over rows 1, 3: [1,0,1].
        assert_eq!(retention_flags(&[true, false, true]), [1, 0, 1]);
        assert_eq!(retention_flags(&[true, true, true]), [1, 1, 1]);
    }

    fn query(kind: RetentionKind, periods: usize) -> RetentionQuery {
        RetentionQuery {
            actor: crate::query::Column::UserId,
            start_event: crate::query::EventFilter::SpanName("signup".into()),
            return_event: crate::query::EventFilter::SpanName("login".into()),
            kind,
            period: crate::query::Period::Day,
            periods,
            from_ns: 0,
        }
    }

    #[test]
    fn first_time_uses_first_start_period() {
        let mut report = RetentionReport::new(&query(RetentionKind::FirstTime, 4)).unwrap();
        report.add_actor(0b0110, 0b1000);
        let table = report.finish();
        assert_eq!(table.cohorts.len(), 1);
        assert_eq!(table.cohorts[0].period, 1);
        assert_eq!(table.cohorts[0].returned, [1, 0, 1, 0]);
    }

    #[test]
    fn recurring_counts_every_start_period() {
        let mut report = RetentionReport::new(&query(RetentionKind::Recurring, 4)).unwrap();
        report.add_actor(0b0110, 0b1000);
        let table = report.finish();
        let returned: Vec<_> = table
            .cohorts
            .iter()
            .map(|cohort| cohort.returned.clone())
            .collect();
        assert_eq!(returned, [vec![1, 0, 1, 0], vec![1, 1, 0, 0]]);
    }

    #[test]
    fn period_count_is_checked() {
        assert!(RetentionReport::new(&query(RetentionKind::FirstTime, 1)).is_err());
        assert!(RetentionReport::new(&query(RetentionKind::FirstTime, 33)).is_err());
    }
}

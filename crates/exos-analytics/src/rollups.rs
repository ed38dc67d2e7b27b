//! Reading the span rollups (`exos_store::rollup`) instead of every span of a range.
//!
//! A range is split in two: the whole rollup slots inside it, read from a
//! rollup table, and the partial slots at its two edges, read from
//! `otel_traces`. The two parts never overlap, so adding their rows gives
//! exactly what one scan of `otel_traces` over the range gives. Only
//! questions without filters can use the rollups, since they keep no attributes.

use exos_store::rollup::{ENDPOINT_SLOT_NS, SPAN_SLOT_NS};
use exos_store::Dialect;

use crate::scope::Scope;
use crate::sql::Sql;
use crate::time::TimeRange;

/// The source of a question's span counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Read {
    /// The rollups where the question allows it, `otel_traces` elsewhere.
    Rollups,
    /// `otel_traces` only (tests compare both).
    Spans,
}

/// A range split into the rollup slots inside it and the edges outside them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Split {
    range: TimeRange,
    /// Start of the first whole slot.
    first_slot: i64,
    /// End of the last whole slot.
    end_slot: i64,
}

impl Split {
    /// Splits `range` on `slot_ns`; `None` when no whole slot fits inside it.
    pub fn new(range: TimeRange, slot_ns: i64) -> Option<Self> {
        let first_slot = range.from_ns.div_euclid(slot_ns) * slot_ns
            + if range.from_ns.rem_euclid(slot_ns) == 0 {
                0
            } else {
                slot_ns
            };
        let end_slot = range.to_ns.div_euclid(slot_ns) * slot_ns;
        (first_slot < end_slot).then_some(Self {
            range,
            first_slot,
            end_slot,
        })
    }

    /// Returns the split a per-bucket series over `scope` uses: the span rollup's, when
    /// the scope has no filters and each chart bucket is a whole number of slots.
    pub fn for_series(scope: &Scope, read: Read) -> Option<Self> {
        if scope.range.bucket_ns() % SPAN_SLOT_NS != 0 {
            return None;
        }
        Self::for_slots(scope, read)
    }

    /// Returns the split on 5-minute slots of a question over `scope` that keeps no
    /// time series, when the scope has no filters.
    pub fn for_slots(scope: &Scope, read: Read) -> Option<Self> {
        let usable = read == Read::Rollups && scope.filters.is_empty();
        usable
            .then(|| Self::new(scope.range, SPAN_SLOT_NS))
            .flatten()
    }

    /// Returns the split of a question over `scope` that keeps no time series: the
    /// endpoint rollup's, when the scope has no filters.
    pub fn for_totals(scope: &Scope, read: Read) -> Option<Self> {
        let usable = read == Read::Rollups && scope.filters.is_empty();
        usable
            .then(|| Self::new(scope.range, ENDPOINT_SLOT_NS))
            .flatten()
    }

    /// Renders the condition on a rollup's `Slot` column that selects the whole slots.
    pub fn slots(&self) -> String {
        format!("Slot >= {} AND Slot < {}", self.first_slot, self.end_slot)
    }

    /// Returns the edges as [start, end) in epoch ns. The edges are the parts of the
    /// range outside the whole slots. A range that starts or ends on a slot has fewer.
    pub fn edge_windows(&self) -> Vec<(i64, i64)> {
        let mut windows = Vec::new();
        if self.range.from_ns < self.first_slot {
            windows.push((self.range.from_ns, self.first_slot));
        }
        if self.end_slot < self.range.to_ns {
            windows.push((self.end_slot, self.range.to_ns));
        }
        windows
    }

    /// Renders one condition on `otel_traces` per edge that selects its spans.
    ///
    /// One per edge, not one with `OR`. For one time range, DuckDB 1.5 skips the row
    /// groups outside it. For two ranges joined by `OR` beside another condition, it
    /// reads every row group. Over 10M spans that took 36–67 ms, against 3–4 ms
    /// for the two ranges apart (measured).
    pub fn edge_conditions(&self, sql: &Sql) -> Vec<String> {
        self.edge_windows()
            .into_iter()
            .map(|(start, end)| sql.time_range("Timestamp", start, end))
            .collect()
    }
}

/// Returns true when a question over `scope` may read the embedded store's order,
/// session and error summaries: they keep no attributes, and only DuckDB keeps them.
pub fn use_summaries(dialect: Dialect, scope: &Scope, read: Read) -> bool {
    read == Read::Rollups && scope.filters.is_empty() && dialect == Dialect::DuckDb
}

/// Renders a question over spans as one scan of the spans that meet `condition`,
/// or, with a split, as a query of the rollup's whole slots plus a scan of each edge.
/// `scan` renders the scan for a condition, and `rollup` renders the rollup query.
/// `extra` (empty or ` AND …`) narrows the edges as it narrows `condition`.
pub fn queries(
    split: Option<&Split>,
    sql: &Sql,
    condition: &str,
    extra: &str,
    scan: impl Fn(&str) -> String,
    rollup: impl Fn(&Split) -> String,
) -> Vec<String> {
    match split {
        None => vec![scan(condition)],
        Some(split) => std::iter::once(rollup(split))
            .chain(
                split
                    .edge_conditions(sql)
                    .iter()
                    .map(|edge| scan(&format!("{edge}{extra}"))),
            )
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: i64 = 60_000_000_000;

    #[test]
    fn whole_slots_inside_the_range() {
        let split = Split::new(TimeRange::new(7 * MIN + 1, 23 * MIN).unwrap(), 5 * MIN).unwrap();
        assert_eq!((split.first_slot, split.end_slot), (10 * MIN, 20 * MIN));
        assert_eq!(
            split.edge_windows(),
            vec![(7 * MIN + 1, 10 * MIN), (20 * MIN, 23 * MIN)]
        );
        let aligned = Split::new(TimeRange::new(10 * MIN, 20 * MIN).unwrap(), 5 * MIN).unwrap();
        assert!(aligned
            .edge_conditions(&Sql::new(exos_store::Dialect::DuckDb))
            .is_empty());
        assert!(Split::new(TimeRange::new(11 * MIN, 19 * MIN).unwrap(), 5 * MIN).is_none());
    }
}

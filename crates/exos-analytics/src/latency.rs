//! Latency percentiles from a log-scale histogram counted in SQL.
//!
//! Exact percentiles (`quantile_cont`, `quantileExactInclusive`) sort every
//! duration of a group: over ten million spans one such query took 244 ms on
//! DuckDB (`exos bench queries`, docs/BENCHMARKS.md). ClickHouse's cheaper
//! `quantile` samples, so the two stores would disagree. Instead the SQL counts spans per bin of the OpenTelemetry
//! exponential histogram mapping at scale 3 (eight bins per doubling), which
//! is integer data both stores compute alike, and the percentile is read from
//! the counts here. The estimate lies inside the bin holding the true
//! nearest-rank percentile, so its relative error is below 2^(1/8) - 1 = 9.1%,
//! and it is clamped to the group's exact minimum and maximum.

use std::collections::BTreeMap;

use crate::time::ns_to_ms;

/// Bins per doubling of the duration (the exponential histogram's 2^scale, scale 3).
pub use exos_store::rollup::BINS_PER_DOUBLING;

/// Span counts per latency bin, with the exact extremes of the group.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Histogram {
    bins: BTreeMap<i64, u64>,
    total: u64,
    min_ns: Option<u64>,
    max_ns: Option<u64>,
}

impl Histogram {
    /// Adds `count` spans of bin `bin`.
    pub fn add(&mut self, bin: i64, count: u64) {
        *self.bins.entry(bin).or_default() += count;
        self.total += count;
    }

    /// Records the group's exact shortest and longest duration, in nanoseconds.
    pub fn bound(&mut self, min_ns: u64, max_ns: u64) {
        self.min_ns = Some(self.min_ns.map_or(min_ns, |m| m.min(min_ns)));
        self.max_ns = Some(self.max_ns.map_or(max_ns, |m| m.max(max_ns)));
    }

    /// Merges another group's counts into this one.
    pub fn merge(&mut self, other: &Histogram) {
        for (bin, count) in &other.bins {
            self.add(*bin, *count);
        }
        if let (Some(min), Some(max)) = (other.min_ns, other.max_ns) {
            self.bound(min, max);
        }
    }

    /// Returns the number of spans counted.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// Estimates the `q` percentile (0 < q ≤ 1) in milliseconds; 0 when empty.
    ///
    /// Takes the bin of the nearest-rank percentile (rank ⌈q·n⌉) and returns its
    /// geometric midpoint, clamped to the exact minimum and maximum when known.
    pub fn quantile_ms(&self, q: f64) -> f64 {
        if self.total == 0 {
            return 0.0;
        }
        let rank = ((q * self.total as f64).ceil() as u64).clamp(1, self.total);
        let mut seen = 0;
        let mut chosen = *self.bins.keys().next_back().expect("non-empty");
        for (bin, count) in &self.bins {
            seen += count;
            if seen >= rank {
                chosen = *bin;
                break;
            }
        }
        let mut estimate = 2f64.powf((chosen as f64 + 0.5) / BINS_PER_DOUBLING as f64);
        if let Some(min) = self.min_ns {
            estimate = estimate.max(min as f64);
        }
        if let Some(max) = self.max_ns {
            estimate = estimate.min(max as f64);
        }
        ns_to_ms(estimate)
    }
}

/// Returns the bin of a duration, as `Sql::duration_bin` computes it.
pub use exos_store::rollup::duration_bin as bin_of;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_value_is_exact() {
        let mut histogram = Histogram::default();
        histogram.add(bin_of(1_500_000), 1);
        histogram.bound(1_500_000, 1_500_000);
        assert_eq!(histogram.quantile_ms(0.5), 1.5);
        assert_eq!(histogram.quantile_ms(0.95), 1.5);
    }

    #[test]
    fn estimate_stays_within_a_bin() {
        let durations: Vec<u64> = (1..=1000).map(|i| i * 1_000_000).collect();
        let mut histogram = Histogram::default();
        for d in &durations {
            histogram.add(bin_of(*d), 1);
        }
        histogram.bound(durations[0], durations[999]);
        for (q, exact) in [(0.5, 500.0), (0.95, 950.0), (0.99, 990.0)] {
            let estimate = histogram.quantile_ms(q);
            let error = (estimate - exact).abs() / exact;
            assert!(error < 0.091, "q {q}: {estimate} vs {exact}");
        }
    }

    #[test]
    fn powers_of_two_start_their_bin() {
        assert_eq!(bin_of(1 << 20), 160);
        assert_eq!(bin_of((1 << 20) - 1), 159);
        assert_eq!(bin_of(0), 0);
    }

    #[test]
    fn empty_histogram_is_zero() {
        assert_eq!(Histogram::default().quantile_ms(0.5), 0.0);
    }
}

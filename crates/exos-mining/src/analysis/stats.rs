//! Summary statistics of a list of durations in seconds.

/// Count, mean, median, 95th percentile, extremes, sum and sample standard
/// deviation of a set of values.
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize)]
pub struct Summary {
    /// Number of values.
    pub count: u64,
    /// Arithmetic mean.
    pub mean: f64,
    /// Median (mean of the two middle values for an even count, as pandas).
    pub median: f64,
    /// 95th percentile with linear interpolation (NumPy's default method).
    pub p95: f64,
    /// Smallest value.
    pub min: f64,
    /// Largest value.
    pub max: f64,
    /// Sum of values.
    pub sum: f64,
    /// Sample standard deviation (n - 1 in the denominator, as pandas);
    /// 0 for fewer than two values.
    pub stdev: f64,
}

impl Summary {
    /// Summarizes `values`, reordering them in place; zeros for no values.
    pub fn of(values: &mut [f64]) -> Summary {
        if values.is_empty() {
            return Summary::default();
        }
        values.sort_unstable_by(f64::total_cmp);
        let count = values.len();
        let sum: f64 = values.iter().sum();
        let mean = sum / count as f64;
        let variance = if count > 1 {
            values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / (count - 1) as f64
        } else {
            0.0
        };
        Summary {
            count: count as u64,
            mean,
            median: percentile_sorted(values, 0.5),
            p95: percentile_sorted(values, 0.95),
            min: values[0],
            max: values[count - 1],
            sum,
            stdev: variance.sqrt(),
        }
    }
}

/// Percentile `q` (0..=1) of sorted values with linear interpolation
/// between the closest ranks.
pub fn percentile_sorted(sorted: &[f64], q: f64) -> f64 {
    let rank = q * (sorted.len() - 1) as f64;
    let below = rank.floor() as usize;
    let above = rank.ceil() as usize;
    let weight = rank - below as f64;
    sorted[below] + (sorted[above] - sorted[below]) * weight
}

//! Seeded random streams: the only source of randomness in the simulator.
//!
//! Every order, lifecycle step, browser session and time slot draws from its own
//! stream, derived from the run's seed and the item's index. An item therefore
//! comes out the same whether it is generated in a backfill, in live mode or
//! alone in a test, and one item's draws never shift another's. ChaCha8 is used
//! because its output for a given seed is fixed across `rand_chacha` releases.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Purpose of a stream. It is part of the stream's derivation, so streams of
/// different kinds never coincide.
#[derive(Debug, Clone, Copy)]
#[repr(u64)]
pub enum Purpose {
    Model = 1,
    Order = 2,
    Step = 3,
    Session = 4,
    Job = 5,
    Metrics = 6,
    Arrival = 7,
    Documents = 8,
}

/// One seeded random stream.
pub struct Random(ChaCha8Rng);

impl Random {
    /// Opens the stream of item `index` of kind `purpose` in the run seeded with `seed`.
    pub fn stream(seed: u64, purpose: Purpose, index: u64) -> Self {
        let mixed =
            splitmix64(seed ^ splitmix64(purpose as u64) ^ splitmix64(index).rotate_left(17));
        Self(ChaCha8Rng::seed_from_u64(mixed))
    }

    /// Returns true with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        self.0.gen::<f64>() < p
    }

    /// Returns a uniform value in `[low, high)`.
    pub fn uniform(&mut self, low: f64, high: f64) -> f64 {
        low + (high - low) * self.0.gen::<f64>()
    }

    /// Returns a uniform integer in `[low, high)`.
    pub fn below(&mut self, low: u64, high: u64) -> u64 {
        self.0.gen_range(low..high)
    }

    /// Returns a standard normal value (Box-Muller transform).
    pub fn normal(&mut self) -> f64 {
        let u1 = self.0.gen::<f64>().max(f64::MIN_POSITIVE);
        let u2 = self.0.gen::<f64>();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }

    /// Returns a log-normal value with the given median and shape `sigma`.
    ///
    /// Task and wait times are right-skewed (most are short, a few are very
    /// long), which is the shape a log-normal gives.
    pub fn lognormal(&mut self, median: f64, sigma: f64) -> f64 {
        median * (sigma * self.normal()).exp()
    }

    /// Picks one element of a non-empty slice.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.0.gen_range(0..items.len())]
    }

    /// Picks an index with probability proportional to its weight; weights must not all be zero.
    pub fn weighted(&mut self, weights: &[f64]) -> usize {
        let total: f64 = weights.iter().sum();
        let mut target = self.0.gen::<f64>() * total;
        for (index, weight) in weights.iter().enumerate() {
            if target < *weight {
                return index;
            }
            target -= weight;
        }
        weights.len() - 1
    }

    /// Returns `N` random bytes that are not all zero (OTLP treats all-zero ids as invalid).
    pub fn id<const N: usize>(&mut self) -> [u8; N] {
        loop {
            let bytes: [u8; N] = std::array::from_fn(|_| self.0.gen());
            if bytes.iter().any(|byte| *byte != 0) {
                return bytes;
            }
        }
    }

    /// Returns `chars` random lowercase hex characters.
    pub fn hex(&mut self, chars: usize) -> String {
        (0..chars)
            .map(|_| char::from_digit(self.0.gen_range(0..16), 16).unwrap_or('0'))
            .collect()
    }
}

/// SplitMix64 finalizer (Steele, Lea and Flood, "Fast splittable pseudorandom
/// number generators", 2014): spreads nearby inputs over the whole 64-bit range.
fn splitmix64(value: u64) -> u64 {
    let mut z = value.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_stream_same_draws() {
        let mut first = Random::stream(42, Purpose::Order, 7);
        let mut second = Random::stream(42, Purpose::Order, 7);
        assert_eq!(first.id::<16>(), second.id::<16>());
        assert_eq!(first.uniform(0.0, 1.0), second.uniform(0.0, 1.0));
    }

    #[test]
    fn neighbouring_streams_differ() {
        let mut order = Random::stream(42, Purpose::Order, 7);
        let mut next = Random::stream(42, Purpose::Order, 8);
        let mut step = Random::stream(42, Purpose::Step, 7);
        let first = order.id::<16>();
        assert_ne!(first, next.id::<16>());
        assert_ne!(first, step.id::<16>());
    }

    #[test]
    fn lognormal_median_holds() {
        let mut random = Random::stream(1, Purpose::Model, 0);
        let mut values: Vec<f64> = (0..4001).map(|_| random.lognormal(10.0, 0.8)).collect();
        values.sort_by(f64::total_cmp);
        let median = values[2000];
        assert!((8.5..11.5).contains(&median), "median {median}");
    }
}

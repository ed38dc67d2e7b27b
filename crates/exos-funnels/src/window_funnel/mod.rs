//! `windowFunnel` with ClickHouse's semantics, over one actor's events.
//!
//! Each event is a timestamp in nanoseconds and a bitmask of the funnel steps
//! its row matches (bit 0 is step 1). The engine returns the funnel level, the
//! same number ClickHouse's `windowFunnel(window, modes…)(timestamp, cond1, …)`
//! returns for those rows, plus the timestamps of the chain that reached it.
//! It must not know where the events come from: the DuckDB and ClickHouse
//! runners feed it.
//!
//! Semantics, established by running ClickHouse 26.9 (chdb 4.4.0) on random
//! histories, which `tests/python/test_funnels_chdb.py` does on every run:
//!
//! - Events are taken in (timestamp, step) order: rows with equal timestamps
//!   are not ordered among themselves, and a row matching several steps acts as
//!   one event per step, lower steps first.
//! - Step 1 (re)starts the chain: its timestamp becomes the window start of
//!   level 1. Later levels keep what they reached, so a restart never lowers
//!   the result.
//! - Step k+1 advances when level k is reached and `t <= start + window`, the
//!   start being that of level k's chain: the window end is inclusive.
//! - The result is the number of consecutive levels reached from level 1.
//! - `strict_order` treats rows matching no step as events too (they sort
//!   before step events of the same timestamp). See [`FunnelMode`] for the
//!   other modes; every combination ClickHouse accepts is supported.
//! - Without `strict_once` one chain per level is enough (`greedy.rs`);
//!   with it, a level keeps several (`once_scan.rs`).
//!
//! ClickHouse takes `UInt*`, `Date` and `DateTime` timestamps, not
//! `DateTime64`, so its native queries pass `toUnixTimestamp64Nano(Timestamp)`
//! and the window in nanoseconds (see `sql::clickhouse`).
//!
//! [`FunnelMode`]: crate::FunnelMode

mod greedy;
mod once_scan;
#[cfg(test)]
mod tests;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::modes::{FunnelMode, FunnelModes, ModeError};

/// Maximum number of steps, as in ClickHouse's `windowFunnel`.
pub const MAX_STEPS: usize = 32;

/// One row of an actor's history, reduced to what a funnel needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepEvent {
    /// Nanoseconds since the Unix epoch.
    pub timestamp_ns: i64,
    /// Bit `k` is set when the row matches step `k + 1`.
    pub steps: u32,
}

/// Invalid funnel definition.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum FunnelError {
    #[error("a funnel needs 1 to {MAX_STEPS} steps, got {0}")]
    StepCount(usize),
    #[error(transparent)]
    Mode(#[from] ModeError),
}

/// `windowFunnel(window, modes…)` with its parameters checked.
#[derive(Clone, Copy, Debug)]
pub struct WindowFunnel {
    window_ns: u64,
    steps: usize,
    modes: FunnelModes,
}

/// Result for one actor: the level and the timestamps of the chain behind it.
#[derive(Debug, PartialEq, Eq)]
pub struct FunnelMatch<'a> {
    /// Steps reached in order within the window, 0 to the step count.
    pub level: usize,
    /// Timestamps of steps 1 to `level` in the chain that reached `level`.
    pub step_times_ns: &'a [i64],
}

/// Per-level state, reused from one actor to the next to avoid allocations.
#[derive(Debug, Default)]
pub struct FunnelScratch {
    /// Whether level `k + 1` has been reached.
    reached: Vec<bool>,
    /// Timestamp of the last step of the chain at level `k + 1`.
    last_ns: Vec<i64>,
    /// Row `k` contains the `k + 1` step timestamps of the chain at level `k + 1`;
    /// its first entry is the window start.
    chains: Vec<i64>,
    steps: usize,
}

/// A chain's step timestamps, copied out of [`FunnelScratch`].
#[derive(Clone, Copy)]
struct ChainCopy {
    times_ns: [i64; MAX_STEPS],
    len: usize,
}

impl ChainCopy {
    fn as_slice(&self) -> &[i64] {
        &self.times_ns[..self.len]
    }
}

impl WindowFunnel {
    /// Checks a funnel of `steps` steps over a window of `window_ns` nanoseconds.
    pub fn new(window_ns: u64, steps: usize, modes: FunnelModes) -> Result<Self, FunnelError> {
        if steps == 0 || steps > MAX_STEPS {
            return Err(FunnelError::StepCount(steps));
        }
        modes.validate()?;
        Ok(WindowFunnel {
            window_ns,
            steps,
            modes,
        })
    }

    /// Returns the number of steps.
    pub fn steps(&self) -> usize {
        self.steps
    }

    /// Computes the level of one actor; sorts `events` in place by timestamp,
    /// then by step bitmask so that the result never depends on row order.
    pub fn evaluate<'s>(
        &self,
        events: &mut [StepEvent],
        scratch: &'s mut FunnelScratch,
    ) -> FunnelMatch<'s> {
        events.sort_unstable_by_key(|event| (clickhouse_order(event.timestamp_ns), event.steps));
        scratch.reset(self.steps);
        let level = if self.uses_once_scan() {
            once_scan::run(self, events, scratch)
        } else {
            greedy::run(self, events, scratch)
        };
        scratch.result(level)
    }

    /// `strict_once` needs every chain that could still be extended, where
    /// the greedy scan keeps one per level.
    fn uses_once_scan(&self) -> bool {
        self.modes.contains(FunnelMode::StrictOnce)
    }

    fn step_mask(&self) -> u32 {
        u32::MAX >> (MAX_STEPS - self.steps)
    }

    /// Returns whether `timestamp_ns` is within the window opened at `start_ns`.
    ///
    /// ClickHouse compares `UInt64` timestamps with `start + window` computed
    /// in `UInt64`, which wraps: with chdb 4.4.0, `windowFunnel(2^64 - 1)`
    /// over events at 5 and 7 returns 1. The same arithmetic here keeps the
    /// results equal for any window.
    fn in_window(&self, start_ns: i64, timestamp_ns: i64) -> bool {
        clickhouse_order(timestamp_ns) <= clickhouse_order(start_ns).wrapping_add(self.window_ns)
    }
}

/// Returns the timestamp as the `UInt64` that ClickHouse's native query passes
/// (`toUInt64` of the signed nanoseconds), so that order and window
/// arithmetic match it even before 1970.
fn clickhouse_order(timestamp_ns: i64) -> u64 {
    timestamp_ns as u64
}

impl FunnelScratch {
    fn reset(&mut self, steps: usize) {
        self.steps = steps;
        self.reached.clear();
        self.reached.resize(steps, false);
        self.last_ns.clear();
        self.last_ns.resize(steps, 0);
        self.chains.resize(steps * steps, 0);
    }

    fn reached(&self, level_index: usize) -> bool {
        self.reached[level_index]
    }

    fn start_ns(&self, level_index: usize) -> i64 {
        self.chains[level_index * self.steps]
    }

    /// Copies the chain of level `level_index + 1` to the stack, so that it
    /// can be extended into another level of the same scratch.
    fn chain_copy(&self, level_index: usize) -> ChainCopy {
        let mut copy = ChainCopy {
            times_ns: [0; MAX_STEPS],
            len: level_index + 1,
        };
        copy.times_ns[..copy.len].copy_from_slice(self.chain(level_index));
        copy
    }

    fn chain(&self, level_index: usize) -> &[i64] {
        let row = level_index * self.steps;
        &self.chains[row..row + level_index + 1]
    }

    /// Opens level 1 with a new chain at `timestamp_ns`.
    fn start_chain(&mut self, timestamp_ns: i64) {
        self.reached[0] = true;
        self.last_ns[0] = timestamp_ns;
        self.chains[0] = timestamp_ns;
    }

    /// Sets level `level_index + 1` to the chain `base` followed by steps at
    /// `timestamp_ns` up to that level; an empty `base` starts a new chain.
    fn extend_chain(&mut self, level_index: usize, base: &[i64], timestamp_ns: i64) {
        let row = level_index * self.steps;
        self.chains[row..row + base.len()].copy_from_slice(base);
        self.chains[row + base.len()..=row + level_index].fill(timestamp_ns);
        self.reached[level_index] = true;
        self.last_ns[level_index] = timestamp_ns;
    }

    fn result(&self, level: usize) -> FunnelMatch<'_> {
        let step_times_ns = if level == 0 {
            &[][..]
        } else {
            self.chain(level - 1)
        };
        FunnelMatch {
            level,
            step_times_ns,
        }
    }

    /// Returns the number of consecutive levels reached from level 1.
    fn level(&self) -> usize {
        self.reached.iter().take_while(|reached| **reached).count()
    }
}

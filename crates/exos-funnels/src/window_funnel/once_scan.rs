//! `windowFunnel` with `strict_once`, alone or combined with any other mode.
//!
//! The scan takes events in the same order and stops under the same rules as
//! the greedy scan (`greedy.rs`). The difference is that each level keeps
//! every chain that could still be extended, not only the latest, because a
//! chain may not use one row for two steps. Two chains compete only within
//! one timestamp, since all the events of a row share its timestamp. So when
//! the timestamp moves on, each level keeps just the chain with the latest
//! window start, which dominates the others for every later event.
//!
//! With chdb 4.4.0 (ClickHouse 26.9), this matches every `strict_once`
//! combination on random histories with ties. For `strict_once` alone it
//! returns the longest chain that uses each row at most once.
//!
//! NOTE: with `strict_deduplication` too, ClickHouse's level depends on the
//! order in which it reads two rows of one timestamp that match the same
//! step, so no engine can match it for such actors; this scan takes those
//! rows ordered by step bitmask.

use super::{clickhouse_order, FunnelScratch, StepEvent, WindowFunnel, MAX_STEPS};
use crate::modes::FunnelMode;

/// A chain that reached a level.
#[derive(Clone)]
struct Chain {
    /// Step timestamps; the first is the window start.
    times_ns: Vec<i64>,
    /// Rows (indexes into the sorted events) that the chain used at its last timestamp.
    rows_at_last: Vec<usize>,
}

impl Chain {
    fn start_ns(&self) -> i64 {
        self.times_ns[0]
    }

    fn last_ns(&self) -> i64 {
        self.times_ns[self.times_ns.len() - 1]
    }

    /// Returns whether `self` extends in every case where `other` does.
    fn dominates(&self, other: &Chain, increase: bool) -> bool {
        let start_ok = clickhouse_order(self.start_ns()) >= clickhouse_order(other.start_ns());
        let last_order = clickhouse_order(self.last_ns()).cmp(&clickhouse_order(other.last_ns()));
        let last_ok = !increase || last_order.is_le();
        // Rows only block events of the chain's last timestamp, so a chain
        // that ended earlier blocks nothing that the other chain allows.
        let rows_ok = match last_order {
            std::cmp::Ordering::Less => true,
            std::cmp::Ordering::Equal => self
                .rows_at_last
                .iter()
                .all(|row| other.rows_at_last.contains(row)),
            std::cmp::Ordering::Greater => false,
        };
        start_ok && last_ok && rows_ok
    }
}

/// Mode flags read once per actor.
struct Rules {
    deduplication: bool,
    order: bool,
    increase: bool,
    reentry: bool,
}

/// Scans `events` (sorted by timestamp, then step bitmask) and returns the level reached.
pub(super) fn run(
    funnel: &WindowFunnel,
    events: &[StepEvent],
    scratch: &mut FunnelScratch,
) -> usize {
    let rules = Rules {
        deduplication: funnel.modes.contains(FunnelMode::StrictDeduplication),
        order: funnel.modes.contains(FunnelMode::StrictOrder),
        increase: funnel.modes.contains(FunnelMode::StrictIncrease),
        reentry: funnel.modes.contains(FunnelMode::AllowReentry),
    };
    let step_mask = funnel.step_mask();
    let mut levels: Vec<Vec<Chain>> = vec![Vec::new(); funnel.steps];
    let mut started = false;
    let mut group_start = 0;

    for group in events.chunk_by(|a, b| a.timestamp_ns == b.timestamp_ns) {
        let timestamp_ns = group[0].timestamp_ns;
        keep_latest_start(&mut levels);

        if rules.order && started && group.iter().any(|event| event.steps & step_mask == 0) {
            break;
        }
        for step in 0..funnel.steps {
            for (offset, event) in group.iter().enumerate() {
                if event.steps & step_mask & (1 << step) == 0 {
                    continue;
                }
                let row = group_start + offset;
                match take_event(
                    funnel,
                    &rules,
                    &mut levels,
                    step,
                    row,
                    timestamp_ns,
                    &mut started,
                ) {
                    Flow::Continue => {}
                    Flow::Stop => return finish(&levels, scratch),
                }
            }
        }
        group_start += group.len();
    }
    finish(&levels, scratch)
}

enum Flow {
    Continue,
    Stop,
}

/// Applies the event of row `row` for step `step + 1` at `timestamp_ns`.
fn take_event(
    funnel: &WindowFunnel,
    rules: &Rules,
    levels: &mut [Vec<Chain>],
    step: usize,
    row: usize,
    timestamp_ns: i64,
    started: &mut bool,
) -> Flow {
    if step == 0 {
        let chain = Chain {
            times_ns: vec![timestamp_ns],
            rows_at_last: vec![row],
        };
        add_chain(&mut levels[0], chain, rules.increase);
        *started = true;
        return Flow::Continue;
    }
    if rules.deduplication && !levels[step].is_empty() {
        return Flow::Stop;
    }
    if rules.order && *started && levels[step - 1].is_empty() {
        return if rules.reentry {
            Flow::Continue
        } else {
            Flow::Stop
        };
    }

    let extended: Vec<Chain> = levels[step - 1]
        .iter()
        .filter(|chain| can_extend(funnel, rules, chain, row, timestamp_ns))
        .map(|chain| extend(chain, row, timestamp_ns))
        .collect();
    for chain in extended {
        add_chain(&mut levels[step], chain, rules.increase);
    }
    if !levels[funnel.steps - 1].is_empty() {
        return Flow::Stop;
    }
    Flow::Continue
}

fn can_extend(
    funnel: &WindowFunnel,
    rules: &Rules,
    chain: &Chain,
    row: usize,
    timestamp_ns: i64,
) -> bool {
    let same_timestamp = chain.last_ns() == timestamp_ns;
    if same_timestamp && chain.rows_at_last.contains(&row) {
        return false;
    }
    if !funnel.in_window(chain.start_ns(), timestamp_ns) {
        return false;
    }
    !rules.increase || clickhouse_order(chain.last_ns()) < clickhouse_order(timestamp_ns)
}

fn extend(chain: &Chain, row: usize, timestamp_ns: i64) -> Chain {
    let mut times_ns = chain.times_ns.clone();
    times_ns.push(timestamp_ns);
    let rows_at_last = if chain.last_ns() == timestamp_ns {
        let mut rows = chain.rows_at_last.clone();
        rows.push(row);
        rows
    } else {
        vec![row]
    };
    Chain {
        times_ns,
        rows_at_last,
    }
}

/// Adds `chain` to a level unless another chain there dominates it, and
/// drops the chains it dominates.
fn add_chain(level: &mut Vec<Chain>, chain: Chain, increase: bool) {
    if level
        .iter()
        .any(|existing| existing.dominates(&chain, increase))
    {
        return;
    }
    level.retain(|existing| !chain.dominates(existing, increase));
    level.push(chain);
}

/// Keeps, per level, the chain with the latest window start: once the
/// timestamp moves past every chain's last step, rows can no longer
/// conflict and a later start is never worse.
fn keep_latest_start(levels: &mut [Vec<Chain>]) {
    for level in levels.iter_mut() {
        if level.len() < 2 {
            continue;
        }
        let best = level
            .iter()
            .enumerate()
            .max_by_key(|(index, chain)| {
                (
                    clickhouse_order(chain.start_ns()),
                    std::cmp::Reverse(*index),
                )
            })
            .map(|(index, _)| index)
            .unwrap_or(0);
        let chain = level.swap_remove(best);
        level.clear();
        level.push(chain);
    }
}

/// Copies the chain of the highest consecutive level into `scratch` and returns the level.
fn finish(levels: &[Vec<Chain>], scratch: &mut FunnelScratch) -> usize {
    let level = levels
        .iter()
        .take_while(|chains| !chains.is_empty())
        .count();
    debug_assert!(level <= MAX_STEPS);
    for (index, chains) in levels.iter().enumerate().take(level) {
        if let Some(chain) = chains
            .iter()
            .max_by_key(|chain| clickhouse_order(chain.start_ns()))
        {
            scratch.extend_chain(index, &chain.times_ns, chain.last_ns());
        }
    }
    level
}

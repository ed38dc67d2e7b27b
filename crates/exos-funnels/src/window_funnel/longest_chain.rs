//! `strict_once`: the longest chain in which no row serves two steps. With
//! `strict_increase`, consecutive steps also need strictly increasing
//! timestamps, so a timestamp serves at most one step of a chain.
//!
//! ClickHouse 26.9 returns exactly that length (checked against an exhaustive
//! search on random histories with ties); it is not the greedy scan's level. Rows of different timestamps never
//! conflict, so the search goes timestamp by timestamp. For each level reached
//! before the timestamp (and for a chain starting at it), the steps that follow
//! are assigned to distinct rows of the timestamp by bipartite matching with
//! augmenting paths, for as many steps as can be matched. As in the greedy
//! scan, each level keeps the chain with the latest window start, which
//! dominates for every later event.

use crate::modes::FunnelMode;

use super::{clickhouse_order, ChainCopy, FunnelScratch, StepEvent, WindowFunnel, MAX_STEPS};

const UNMATCHED: u8 = u8::MAX;

/// Level state as it was before the current timestamp.
struct Snapshot {
    reached: [bool; MAX_STEPS],
    chains: [Option<ChainCopy>; MAX_STEPS],
}

/// Rows of one timestamp and their current assignment to steps.
struct Matching<'a> {
    row_steps: &'a [u32],
    step_of_row: Vec<u8>,
    visited: Vec<bool>,
}

/// Searches `events` (sorted by timestamp) and returns the longest chain's level.
pub(super) fn run(
    funnel: &WindowFunnel,
    events: &[StepEvent],
    scratch: &mut FunnelScratch,
) -> usize {
    let step_mask = funnel.step_mask();
    let steps_per_timestamp = if funnel.modes.contains(FunnelMode::StrictIncrease) {
        1
    } else {
        funnel.steps
    };
    let mut row_steps = Vec::new();

    for group in events.chunk_by(|a, b| a.timestamp_ns == b.timestamp_ns) {
        let timestamp_ns = group[0].timestamp_ns;
        collect_rows(group, step_mask, funnel.steps, &mut row_steps);
        if row_steps.is_empty() {
            continue;
        }
        let snapshot = take_snapshot(funnel.steps, scratch);
        for done in 0..funnel.steps {
            let extension = Extension {
                done,
                max_steps: steps_per_timestamp,
            };
            extend_from(
                funnel,
                &snapshot,
                extension,
                &row_steps,
                timestamp_ns,
                scratch,
            );
        }
        if scratch.reached(funnel.steps - 1) {
            return funnel.steps;
        }
    }
    scratch.level()
}

/// Collects the step masks of one timestamp's rows, keeping at most `steps`
/// rows of each mask: a matching never uses more.
fn collect_rows(group: &[StepEvent], step_mask: u32, steps: usize, rows: &mut Vec<u32>) {
    rows.clear();
    for event in group {
        let mask = event.steps & step_mask;
        if mask == 0 {
            continue;
        }
        let copies = rows.iter().filter(|row| **row == mask).count();
        if copies < steps {
            rows.push(mask);
        }
    }
}

fn take_snapshot(steps: usize, scratch: &FunnelScratch) -> Snapshot {
    let mut snapshot = Snapshot {
        reached: [false; MAX_STEPS],
        chains: [None; MAX_STEPS],
    };
    for level_index in 0..steps {
        if scratch.reached(level_index) {
            snapshot.reached[level_index] = true;
            snapshot.chains[level_index] = Some(scratch.chain_copy(level_index));
        }
    }
    snapshot
}

/// Chain to extend at one timestamp, and the maximum number of steps to add.
#[derive(Clone, Copy)]
struct Extension {
    /// Steps the chain had completed before the timestamp; 0 starts a new chain.
    done: usize,
    max_steps: usize,
}

/// Extends the chain that had completed `done` steps before this timestamp
/// by as many steps as distinct rows allow, up to `max_steps`.
fn extend_from(
    funnel: &WindowFunnel,
    snapshot: &Snapshot,
    Extension { done, max_steps }: Extension,
    row_steps: &[u32],
    timestamp_ns: i64,
    scratch: &mut FunnelScratch,
) {
    let base = match done {
        0 => None,
        _ => match snapshot.chains[done - 1] {
            Some(chain) if snapshot.reached[done - 1] => Some(chain),
            _ => return,
        },
    };
    let start_ns = base.map_or(timestamp_ns, |chain| chain.times_ns[0]);
    if !funnel.in_window(start_ns, timestamp_ns) {
        return;
    }

    let mut matching = Matching {
        row_steps,
        step_of_row: vec![UNMATCHED; row_steps.len()],
        visited: vec![false; row_steps.len()],
    };
    for step in done..funnel.steps.min(done + max_steps) {
        matching.visited.fill(false);
        if !matching.augment(step) {
            break;
        }
        let improves = !scratch.reached(step)
            || clickhouse_order(scratch.start_ns(step)) < clickhouse_order(start_ns);
        if improves {
            let base_times = base.as_ref().map_or(&[][..], ChainCopy::as_slice);
            scratch.extend_chain(step, base_times, timestamp_ns);
        }
    }
}

impl Matching<'_> {
    /// Finds a row for `step`, moving earlier assignments along an augmenting path.
    fn augment(&mut self, step: usize) -> bool {
        for row in 0..self.row_steps.len() {
            if self.row_steps[row] & (1 << step) == 0 || self.visited[row] {
                continue;
            }
            self.visited[row] = true;
            let holder = self.step_of_row[row];
            if holder == UNMATCHED || self.augment(usize::from(holder)) {
                self.step_of_row[row] = step as u8;
                return true;
            }
        }
        false
    }
}

//! Any-order funnels: how many distinct steps an actor did within one window.
//!
//! ClickHouse has no native function for this, so EXOS defines the level and
//! computes it in Rust on both stores. The level is the maximum number of
//! distinct steps among the events in `[t, t + window]`, where `t` ranges over
//! the timestamps of the actor's step events.

use crate::window_funnel::StepEvent;

/// Best window of one actor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AnyOrderMatch {
    /// Distinct steps done within the best window.
    pub level: usize,
    /// Timestamp of the event that opens the best window.
    pub start_ns: i64,
    /// Timestamp of the event that completes `level` distinct steps in it.
    pub end_ns: i64,
}

/// Finds the best window; sorts `events` by timestamp in place.
pub fn any_order_match(events: &mut [StepEvent], steps: usize, window_ns: u64) -> AnyOrderMatch {
    events.sort_unstable_by_key(|event| event.timestamp_ns);
    let step_mask = u32::MAX >> (32 - steps);
    let mut counts = [0u32; 32];
    let mut distinct = 0usize;
    let mut best = AnyOrderMatch {
        level: 0,
        start_ns: 0,
        end_ns: 0,
    };
    let mut end = 0;

    for start in 0..events.len() {
        let start_ns = events[start].timestamp_ns;
        if events[start].steps & step_mask == 0 {
            continue;
        }
        end = end.max(start);
        let window_end = i128::from(start_ns) + i128::from(window_ns);
        while end < events.len() && i128::from(events[end].timestamp_ns) <= window_end {
            distinct += add_steps(&mut counts, events[end].steps & step_mask);
            end += 1;
        }
        if distinct > best.level {
            best = AnyOrderMatch {
                level: distinct,
                start_ns,
                end_ns: completion_time(&events[start..end], step_mask, distinct),
            };
        }
        distinct -= remove_steps(&mut counts, events[start].steps & step_mask);
    }
    best
}

/// Counts each step of `mask` and returns how many were new.
fn add_steps(counts: &mut [u32; 32], mask: u32) -> usize {
    let mut new = 0;
    for_each_bit(mask, |step| {
        new += usize::from(counts[step] == 0);
        counts[step] += 1;
    });
    new
}

/// Uncounts each step of `mask` and returns how many steps reached zero.
fn remove_steps(counts: &mut [u32; 32], mask: u32) -> usize {
    let mut emptied = 0;
    for_each_bit(mask, |step| {
        counts[step] -= 1;
        emptied += usize::from(counts[step] == 0);
    });
    emptied
}

/// Returns the timestamp at which `target` distinct steps are first done in `window`.
fn completion_time(window: &[StepEvent], step_mask: u32, target: usize) -> i64 {
    let mut seen = 0u32;
    for event in window {
        seen |= event.steps & step_mask;
        if seen.count_ones() as usize >= target {
            return event.timestamp_ns;
        }
    }
    window.last().map_or(0, |event| event.timestamp_ns)
}

fn for_each_bit(mut mask: u32, mut action: impl FnMut(usize)) {
    while mask != 0 {
        action(mask.trailing_zeros() as usize);
        mask &= mask - 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(timestamp_ns: i64, steps: u32) -> StepEvent {
        StepEvent {
            timestamp_ns,
            steps,
        }
    }

    #[test]
    fn any_order_counts_reverse_order() {
        let mut events = vec![event(3, 0b001), event(1, 0b100), event(2, 0b010)];
        let found = any_order_match(&mut events, 3, 10);
        assert_eq!(
            found,
            AnyOrderMatch {
                level: 3,
                start_ns: 1,
                end_ns: 3
            }
        );
    }

    #[test]
    fn any_order_window_end_is_inclusive() {
        let mut events = vec![event(0, 0b01), event(10, 0b10), event(11, 0b01)];
        assert_eq!(any_order_match(&mut events, 2, 10).level, 2);
        let mut events = vec![event(0, 0b01), event(11, 0b10)];
        assert_eq!(any_order_match(&mut events, 2, 10).level, 1);
        let mut events = vec![event(0, 0b01), event(11, 0b01), event(22, 0b10)];
        assert_eq!(any_order_match(&mut events, 2, 10).level, 1);
    }

    #[test]
    fn any_order_ignores_rows_without_steps() {
        let mut events = vec![event(0, 0), event(5, 0b10), event(30, 0)];
        let found = any_order_match(&mut events, 2, 10);
        assert_eq!(
            found,
            AnyOrderMatch {
                level: 1,
                start_ns: 5,
                end_ns: 5
            }
        );
    }
}

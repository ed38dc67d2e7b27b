//! The single scan that ClickHouse's `windowFunnel` results follow for every
//! mode combination without `strict_once`.
//!
//! Each step has one level, which keeps the latest chain that reached it.
//! Events of one timestamp are taken step by step. A step that several rows of
//! that timestamp match is taken twice: a repeat only matters to
//! `strict_deduplication`, and a third repeat acts like the second.

use super::{clickhouse_order, FunnelScratch, StepEvent, WindowFunnel};
use crate::modes::FunnelMode;

/// Next action of the scan after one event.
enum Flow {
    Continue,
    /// `strict_order` or `strict_deduplication` ended the search.
    Stop,
    /// The last step was reached.
    Complete,
}

/// Mode flags read once per actor.
struct Rules {
    deduplication: bool,
    order: bool,
    increase: bool,
    reentry: bool,
}

/// Scans `events` (sorted by timestamp) and returns the level reached.
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
    let mut started = false;

    for group in events.chunk_by(|a, b| a.timestamp_ns == b.timestamp_ns) {
        let timestamp_ns = group[0].timestamp_ns;

        // Under strict_order a row matching no step is an event of its own,
        // ordered before the step events of its timestamp.
        if rules.order && started && group.iter().any(|event| event.steps & step_mask == 0) {
            return scratch.level();
        }

        let mut present = 0u32;
        let mut repeated = 0u32;
        for event in group {
            let steps = event.steps & step_mask;
            repeated |= present & steps;
            present |= steps;
        }

        let mut remaining = present;
        while remaining != 0 {
            let step = remaining.trailing_zeros() as usize;
            remaining &= remaining - 1;
            let times = if repeated & (1 << step) != 0 { 2 } else { 1 };
            for _ in 0..times {
                match take_event(funnel, &rules, step, timestamp_ns, scratch, &mut started) {
                    Flow::Continue => {}
                    Flow::Stop => return scratch.level(),
                    Flow::Complete => return funnel.steps,
                }
            }
        }
    }
    scratch.level()
}

/// Applies one event of step `step + 1` at `timestamp_ns`.
fn take_event(
    funnel: &WindowFunnel,
    rules: &Rules,
    step: usize,
    timestamp_ns: i64,
    scratch: &mut FunnelScratch,
    started: &mut bool,
) -> Flow {
    if step == 0 {
        scratch.start_chain(timestamp_ns);
        *started = true;
        return Flow::Continue;
    }
    if rules.deduplication && scratch.reached(step) {
        return Flow::Stop;
    }
    if rules.order && *started && !scratch.reached(step - 1) {
        return if rules.reentry {
            Flow::Continue
        } else {
            Flow::Stop
        };
    }
    if !scratch.reached(step - 1) {
        return Flow::Continue;
    }

    let start_ns = scratch.start_ns(step - 1);
    let mut matched = funnel.in_window(start_ns, timestamp_ns);
    if rules.increase {
        matched &= clickhouse_order(scratch.last_ns[step - 1]) < clickhouse_order(timestamp_ns);
    }
    if !matched {
        return Flow::Continue;
    }
    let base = scratch.chain_copy(step - 1);
    scratch.extend_chain(step, base.as_slice(), timestamp_ns);
    if step + 1 == funnel.steps {
        Flow::Complete
    } else {
        Flow::Continue
    }
}

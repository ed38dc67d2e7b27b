//! Hand-written edge cases of `windowFunnel`. Each expected level is what
//! chdb 4.4.0 (ClickHouse 26.9) returned for the same rows, with bit k of a
//! mask written as condition k + 1 (`bitTest(m, k)`).

use super::*;

struct Case {
    name: &'static str,
    window: u64,
    modes: &'static [&'static str],
    steps: usize,
    rows: &'static [(i64, u32)],
    expected: usize,
}

const fn case(
    name: &'static str,
    window: u64,
    modes: &'static [&'static str],
    steps: usize,
    rows: &'static [(i64, u32)],
    expected: usize,
) -> Case {
    Case {
        name,
        window,
        modes,
        steps,
        rows,
        expected,
    }
}

const CASES: &[Case] = &[
    case(
        "steps_in_order",
        10,
        &[],
        4,
        &[(1, 0b1), (2, 0b10), (3, 0b100), (4, 0b1000)],
        4,
    ),
    case(
        "steps_in_reverse_order",
        10,
        &[],
        4,
        &[(1, 0b1000), (2, 0b100), (3, 0b10), (4, 0b1)],
        1,
    ),
    case(
        "window_end_is_inclusive",
        10,
        &[],
        2,
        &[(0, 0b1), (10, 0b10)],
        2,
    ),
    case(
        "window_end_plus_one_misses",
        10,
        &[],
        2,
        &[(0, 0b1), (11, 0b10)],
        1,
    ),
    case(
        "restart_on_later_first_step",
        10,
        &[],
        2,
        &[(0, 0b1), (5, 0b1), (12, 0b10)],
        2,
    ),
    case(
        "restart_keeps_higher_levels",
        100,
        &["strict_order"],
        3,
        &[(1, 0b1), (2, 0b10), (3, 0b1), (4, 0b100)],
        3,
    ),
    case(
        "tie_takes_lower_step_first",
        0,
        &[],
        2,
        &[(5, 0b10), (5, 0b1)],
        2,
    ),
    case("one_row_matches_every_step", 10, &[], 4, &[(1, 0b1111)], 4),
    case("empty_history", 10, &[], 3, &[], 0),
    case("no_first_step", 10, &[], 3, &[(1, 0b10), (2, 0b100)], 0),
    case("single_step_funnel", 10, &[], 1, &[(1, 0b1)], 1),
    case(
        "bits_beyond_steps_ignored",
        10,
        &[],
        2,
        &[(1, 0b1), (2, 0b100), (3, 0b10)],
        2,
    ),
    case(
        "huge_window",
        18446744073709551615,
        &[],
        2,
        &[(5, 0b1), (7, 0b10)],
        1,
    ),
    case(
        "increase_rejects_tie",
        10,
        &["strict_increase"],
        2,
        &[(5, 0b1), (5, 0b10)],
        1,
    ),
    case(
        "increase_accepts_later",
        10,
        &["strict_increase"],
        2,
        &[(5, 0b1), (6, 0b10)],
        2,
    ),
    case(
        "increase_row_with_two_steps",
        10,
        &["strict_increase"],
        3,
        &[(1, 0b11), (2, 0b100)],
        1,
    ),
    case(
        "dedup_repeat_stops",
        100,
        &["strict_deduplication"],
        4,
        &[(1, 0b1), (2, 0b10), (3, 0b100), (4, 0b10), (5, 0b1000)],
        3,
    ),
    case(
        "dedup_repeat_after_restart",
        100,
        &["strict_deduplication"],
        4,
        &[
            (1, 0b1),
            (2, 0b10),
            (3, 0b1),
            (4, 0b10),
            (5, 0b100),
            (6, 0b1000),
        ],
        2,
    ),
    case(
        "dedup_repeated_first_step",
        100,
        &["strict_deduplication"],
        3,
        &[(1, 0b1), (2, 0b1), (3, 0b10)],
        2,
    ),
    case(
        "dedup_two_rows_same_time",
        100,
        &["strict_deduplication"],
        3,
        &[(1, 0b1), (2, 0b10), (2, 0b10), (3, 0b100)],
        2,
    ),
    case(
        "order_other_step_stops",
        100,
        &["strict_order"],
        4,
        &[(1, 0b1), (2, 0b10), (3, 0b1000), (4, 0b100)],
        2,
    ),
    case(
        "order_unmatched_row_stops",
        100,
        &["strict_order"],
        3,
        &[(1, 0b1), (2, 0b10), (3, 0b0), (4, 0b100)],
        2,
    ),
    case(
        "order_unmatched_before_start",
        100,
        &["strict_order"],
        2,
        &[(0, 0b0), (1, 0b1), (2, 0b10)],
        2,
    ),
    case(
        "order_unmatched_same_time",
        100,
        &["strict_order"],
        3,
        &[(1, 0b1), (2, 0b10), (3, 0b0), (3, 0b100)],
        2,
    ),
    case(
        "reentry_skips_other_step",
        100,
        &["strict_order", "allow_reentry"],
        4,
        &[(1, 0b1), (2, 0b10), (3, 0b1000), (4, 0b100)],
        3,
    ),
    case(
        "reentry_unmatched_row_stops",
        100,
        &["strict_order", "allow_reentry"],
        3,
        &[(1, 0b1), (2, 0b10), (3, 0b0), (4, 0b100)],
        2,
    ),
    case(
        "once_row_serves_one_step",
        10,
        &["strict_once"],
        2,
        &[(1, 0b11)],
        1,
    ),
    case(
        "once_other_row_same_time",
        0,
        &["strict_once"],
        2,
        &[(1, 0b11), (1, 0b1)],
        2,
    ),
    case(
        "once_three_rows_three_steps",
        0,
        &["strict_once"],
        4,
        &[(1, 0b111), (1, 0b111), (1, 0b111)],
        3,
    ),
    case(
        "once_reused_row_in_chain",
        0,
        &["strict_once"],
        3,
        &[(1, 0b111), (1, 0b110)],
        2,
    ),
    case(
        "once_earlier_start_wins",
        2,
        &["strict_once"],
        4,
        &[(2, 0b111), (1, 0b1111), (0, 0b100)],
        2,
    ),
    case(
        "once_window_from_earlier_row",
        2,
        &["strict_once"],
        2,
        &[(1, 0b1), (2, 0b11)],
        2,
    ),
    case(
        "once_window_too_short",
        0,
        &["strict_once"],
        2,
        &[(1, 0b1), (2, 0b11)],
        1,
    ),
    case(
        "once_with_increase",
        10,
        &["strict_increase", "strict_once"],
        3,
        &[(1, 0b11), (2, 0b110), (3, 0b100)],
        3,
    ),
    case(
        "once_order_matches_rows",
        10,
        &["strict_order", "strict_once"],
        3,
        &[(0, 0b1), (1, 0b110), (1, 0b10)],
        3,
    ),
    case(
        "once_order_other_step_stops",
        10,
        &["strict_order", "strict_once"],
        3,
        &[(0, 0b1), (1, 0b10), (2, 0b1000), (3, 0b100)],
        2,
    ),
    case(
        "once_dedup_repeat_stops",
        10,
        &["strict_deduplication", "strict_once"],
        3,
        &[(0, 0b1), (1, 0b10), (2, 0b10), (3, 0b100)],
        2,
    ),
    case(
        "once_dedup_row_two_steps",
        10,
        &["strict_deduplication", "strict_once"],
        3,
        &[(0, 0b11), (1, 0b10), (2, 0b100)],
        3,
    ),
    case(
        "once_reentry_skips_step",
        10,
        &["strict_order", "strict_once", "allow_reentry"],
        4,
        &[(0, 0b1), (1, 0b11), (2, 0b1000), (3, 0b100)],
        3,
    ),
    case(
        "dedup_and_order",
        100,
        &["strict_deduplication", "strict_order"],
        3,
        &[(1, 0b1), (2, 0b10), (3, 0b10), (4, 0b100)],
        2,
    ),
];

fn level_of(case: &Case) -> usize {
    let modes = FunnelModes::parse(case.modes.iter().copied()).unwrap();
    let funnel = WindowFunnel::new(case.window, case.steps, modes).unwrap();
    let mut events: Vec<StepEvent> = case
        .rows
        .iter()
        .map(|&(timestamp_ns, steps)| StepEvent {
            timestamp_ns,
            steps,
        })
        .collect();
    funnel
        .evaluate(&mut events, &mut FunnelScratch::default())
        .level
}

#[test]
fn edge_cases_match_clickhouse() {
    let failures: Vec<String> = CASES
        .iter()
        .filter_map(|case| {
            let level = level_of(case);
            (level != case.expected)
                .then(|| format!("{}: level {level}, ClickHouse {}", case.name, case.expected))
        })
        .collect();
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn edge_cases_hold_in_any_row_order() {
    for case in CASES {
        let mut reversed: Vec<(i64, u32)> = case.rows.to_vec();
        reversed.reverse();
        let reversed_case = Case {
            rows: Box::leak(reversed.into_boxed_slice()),
            ..*case
        };
        assert_eq!(
            level_of(&reversed_case),
            case.expected,
            "{} with rows reversed",
            case.name
        );
    }
}

#[test]
fn chain_times_follow_latest_chain() {
    let funnel = WindowFunnel::new(10, 3, FunnelModes::default()).unwrap();
    let mut events = vec![
        StepEvent {
            timestamp_ns: 0,
            steps: 0b001,
        },
        StepEvent {
            timestamp_ns: 4,
            steps: 0b010,
        },
        StepEvent {
            timestamp_ns: 6,
            steps: 0b001,
        },
        StepEvent {
            timestamp_ns: 12,
            steps: 0b010,
        },
        StepEvent {
            timestamp_ns: 15,
            steps: 0b100,
        },
    ];
    let mut scratch = FunnelScratch::default();
    let found = funnel.evaluate(&mut events, &mut scratch);
    assert_eq!(found.level, 3);
    assert_eq!(found.step_times_ns, [6, 12, 15]);
}

#[test]
fn step_count_is_checked() {
    assert_eq!(
        WindowFunnel::new(1, 0, FunnelModes::default()).unwrap_err(),
        FunnelError::StepCount(0)
    );
    assert_eq!(
        WindowFunnel::new(1, 33, FunnelModes::default()).unwrap_err(),
        FunnelError::StepCount(33)
    );
}

/// Returns the longest chain of steps 1, 2, … in (timestamp, step) order
/// within the window that uses each row at most once, by exhaustive search.
fn longest_chain(rows: &[(i64, u32)], steps: usize, window: u64) -> usize {
    let mut events: Vec<(i64, usize, usize)> = Vec::new();
    for (row, &(timestamp, mask)) in rows.iter().enumerate() {
        for step in 0..steps {
            if mask & (1 << step) != 0 {
                events.push((timestamp, step, row));
            }
        }
    }
    events.sort();
    let mut best = 0;
    let mut stack: Vec<(usize, usize, i64, Vec<usize>)> = vec![(0, 0, 0, Vec::new())];
    while let Some((position, level, start, used)) = stack.pop() {
        best = best.max(level);
        if level == steps {
            continue;
        }
        for (index, &(timestamp, step, row)) in events.iter().enumerate().skip(position) {
            let in_window = level == 0 || timestamp as u64 <= start as u64 + window;
            if step == level && in_window && !used.contains(&row) {
                let mut next_used = used.clone();
                next_used.push(row);
                let next_start = if level == 0 { timestamp } else { start };
                stack.push((index + 1, level + 1, next_start, next_used));
            }
        }
    }
    best
}

#[test]
fn strict_once_alone_is_longest_chain() {
    use rand::{Rng, SeedableRng};

    let mut rng = rand::rngs::StdRng::seed_from_u64(11);
    let modes = FunnelModes::parse(["strict_once"]).unwrap();
    for _ in 0..3000 {
        let steps = rng.gen_range(2..=4);
        let window = rng.gen_range(0..3);
        let rows: Vec<(i64, u32)> = (0..rng.gen_range(1..8))
            .map(|_| (rng.gen_range(0..4), rng.gen_range(0..1u32 << steps)))
            .collect();
        let funnel = WindowFunnel::new(window, steps, modes).unwrap();
        let mut events: Vec<StepEvent> = rows
            .iter()
            .map(|&(timestamp_ns, steps)| StepEvent {
                timestamp_ns,
                steps,
            })
            .collect();
        let level = funnel
            .evaluate(&mut events, &mut FunnelScratch::default())
            .level;
        assert_eq!(
            level,
            longest_chain(&rows, steps, window),
            "rows {rows:?}, window {window}"
        );
    }
}

//! The demo's simulated recordings carry the frustration signals the simulator
//! means to show: rage clicks on Save in a rage visit, and nothing in an ordinary
//! one, where every click changes the page.

use exos_replay::{detect, EventHead, SignalKind, SignalSettings};
use exos_sim::random::{Purpose, Random};
use exos_sim::rrweb;

fn signal_kinds(seed: u64, rage: bool) -> Vec<SignalKind> {
    let mut random = Random::stream(seed, Purpose::Session, 0);
    let page = rrweb::Page {
        href: "https://ops.example/orders",
        order_id: "ORD-2026-000001",
        lob: "Appraisal",
        operator_email: "operator7@example.com",
        table_rows: rrweb::ORDINARY_ROWS,
    };
    let schedule = rrweb::Schedule::brisk(&mut random, 1_796_000_000_000, rage);
    let events = rrweb::record(&mut random, &page, &schedule);
    let heads: Vec<EventHead> = events
        .iter()
        .map(|event| EventHead::parse(&event.to_string()).expect("an rrweb event"))
        .collect();
    detect(&heads, &[], &SignalSettings::default())
        .into_iter()
        .map(|signal| signal.kind)
        .collect()
}

#[test]
fn ordinary_visit_has_no_signal() {
    for seed in 0..50 {
        assert_eq!(signal_kinds(seed, false), [], "seed {seed}");
    }
}

#[test]
fn rage_visit_has_one_rage_click() {
    for seed in 0..50 {
        assert_eq!(
            signal_kinds(seed, true),
            [SignalKind::RageClick],
            "seed {seed}"
        );
    }
}

//! Import and analyses compared figure for figure with PM4Py 2.7.23.11 on the
//! shared logs (reference JSON from `tests/reference/make_reference.py`).

mod common;

use std::collections::BTreeMap;

use exos_mining::analysis::{self, filter};
use exos_mining::EventLog;
use serde_json::Value;
use sha2::{Digest, Sha256};

fn names(log: &EventLog, ids: &[u32]) -> Vec<String> {
    ids.iter()
        .map(|&a| log.activity_name(a).to_string())
        .collect()
}

fn id(log: &EventLog, name: &str) -> u32 {
    log.activities
        .get(name)
        .unwrap_or_else(|| panic!("activity {name} not in log"))
}

fn check_counts(name: &str, log: &EventLog, reference: &Value) {
    assert_eq!(
        log.event_count() as u64,
        reference["events"].as_u64().unwrap(),
        "{name} events"
    );
    assert_eq!(
        log.case_count() as u64,
        reference["cases"].as_u64().unwrap(),
        "{name} cases"
    );
    assert_eq!(
        log.activities.len() as u64,
        reference["activities"].as_u64().unwrap(),
        "{name} activities"
    );
}

fn check_dfg(name: &str, log: &EventLog, reference: &Value) {
    let dfg = analysis::directly_follows(log);
    let mut ours: Vec<(String, String, u64)> = dfg
        .edges
        .iter()
        .map(|(&(a, b), &c)| {
            (
                log.activity_name(a).to_string(),
                log.activity_name(b).to_string(),
                c,
            )
        })
        .collect();
    ours.sort();
    let theirs: Vec<(String, String, u64)> = reference["dfg"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e[0].as_str().unwrap().into(),
                e[1].as_str().unwrap().into(),
                e[2].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(ours.len(), theirs.len(), "{name} edge count");
    assert_eq!(ours, theirs, "{name} edges");

    for (key, ours) in [
        ("start_activities", &dfg.start_activities),
        ("end_activities", &dfg.end_activities),
    ] {
        let ours: BTreeMap<String, u64> = ours
            .iter()
            .map(|(&a, &c)| (log.activity_name(a).to_string(), c))
            .collect();
        let theirs: BTreeMap<String, u64> = reference[key]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.as_u64().unwrap()))
            .collect();
        assert_eq!(ours, theirs, "{name} {key}");
    }
}

fn check_variants(name: &str, log: &EventLog, reference: &Value) {
    let variants = analysis::variants(log);
    assert_eq!(
        variants.len() as u64,
        reference["variant_count"].as_u64().unwrap(),
        "{name} variant count"
    );
    let mut lines: Vec<String> = variants
        .iter()
        .map(|v| format!("{}\t{}", v.count, names(log, &v.activities).join(",")))
        .collect();
    lines.sort();
    let digest = format!("{:x}", Sha256::digest(lines.join("\n").as_bytes()));
    assert_eq!(
        digest,
        reference["variants_sha256"].as_str().unwrap(),
        "{name} variants and counts"
    );

    // The reference lists ties by ascending names; the API by descending
    // names, as PM4Py's top-k filter picks them.
    let mut by_count: Vec<_> = variants.iter().collect();
    by_count.sort_by(|a, b| {
        b.count
            .cmp(&a.count)
            .then_with(|| names(log, &a.activities).cmp(&names(log, &b.activities)))
    });
    for (ours, theirs) in by_count
        .iter()
        .zip(reference["top_variants"].as_array().unwrap())
    {
        assert_eq!(
            ours.count,
            theirs["count"].as_u64().unwrap(),
            "{name} top variant count"
        );
        let expected: Vec<String> = serde_json::from_value(theirs["activities"].clone()).unwrap();
        assert_eq!(
            names(log, &ours.activities),
            expected,
            "{name} top variant order"
        );
    }
    let shares: f64 = variants.iter().map(|v| v.share).sum();
    assert!(common::close(shares, 1.0), "{name} shares sum to one");
}

fn check_durations(name: &str, log: &EventLog, reference: &Value) {
    let durations = analysis::case_durations(log);
    let expected = &reference["case_durations"];
    assert_eq!(
        durations.len() as u64,
        expected["count"].as_u64().unwrap(),
        "{name} duration count"
    );
    assert!(
        common::close(durations.iter().sum(), expected["sum"].as_f64().unwrap()),
        "{name} duration sum"
    );
    let sampled: Vec<f64> = durations.iter().step_by(100).copied().collect();
    let expected_sampled: Vec<f64> =
        serde_json::from_value(expected["every_100th"].clone()).unwrap();
    assert_eq!(
        sampled.len(),
        expected_sampled.len(),
        "{name} sampled durations"
    );
    for (ours, theirs) in sampled.iter().zip(&expected_sampled) {
        assert!(
            common::close(*ours, *theirs),
            "{name} duration {ours} vs {theirs}"
        );
    }
}

fn check_performance(name: &str, log: &EventLog, reference: &Value) {
    let performance = analysis::performance_dfg(log, false);
    let expected = reference["performance_dfg"].as_object().unwrap();
    assert_eq!(
        performance.len(),
        expected.len(),
        "{name} performance edges"
    );
    for (&(a, b), summary) in &performance {
        let key = format!("{}\u{2192}{}", log.activity_name(a), log.activity_name(b));
        let theirs = &expected[&key];
        for (field, ours) in [
            ("mean", summary.mean),
            ("median", summary.median),
            ("min", summary.min),
            ("max", summary.max),
            ("sum", summary.sum),
            ("p95", summary.p95),
        ] {
            let theirs = theirs[field].as_f64().unwrap();
            assert!(
                common::close(ours, theirs),
                "{name} {key} {field}: {ours} vs {theirs}"
            );
        }
    }
}

fn check_rework(name: &str, log: &EventLog, reference: &Value) {
    let rework = analysis::rework_per_activity(log);
    let ours: BTreeMap<String, u64> = rework
        .iter()
        .enumerate()
        .filter(|(_, r)| r.cases > 0)
        .map(|(a, r)| (log.activity_name(a as u32).to_string(), r.cases))
        .collect();
    let theirs: BTreeMap<String, u64> = reference["rework_cases"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_u64().unwrap()))
        .collect();
    assert_eq!(ours, theirs, "{name} rework cases per activity");
}

fn check_filters(name: &str, log: &EventLog, reference: &Value) {
    let args = &reference["filter_args"];
    let start = args["start"].as_str().unwrap();
    let end = args["end"].as_str().unwrap();
    let edge = (
        id(log, args["edge"][0].as_str().unwrap()),
        id(log, args["edge"][1].as_str().unwrap()),
    );
    let results = [
        ("top_k_3".to_string(), filter::variants_top_k(log, 3)),
        (
            "coverage_0_05".to_string(),
            filter::variants_by_coverage(log, 0.05),
        ),
        (
            format!("start_{start}"),
            filter::start_activities(log, &[id(log, start)], true),
        ),
        (
            format!("end_{end}"),
            filter::end_activities(log, &[id(log, end)], true),
        ),
        (
            "performance_1d_30d".to_string(),
            filter::throughput_time(log, 86400.0, 30.0 * 86400.0),
        ),
        (
            "directly_follows_top".to_string(),
            filter::directly_follows(log, &[edge], true),
        ),
        (
            format!("activity_{start}"),
            filter::activities(log, &[id(log, start)], true),
        ),
    ];
    for (key, filtered) in results {
        let expected = &reference["filters"][&key];
        assert_eq!(
            filtered.case_count() as u64,
            expected[0].as_u64().unwrap(),
            "{name} filter {key} cases"
        );
        assert_eq!(
            filtered.event_count() as u64,
            expected[1].as_u64().unwrap(),
            "{name} filter {key} events"
        );
    }
}

fn check_all(name: &str, log: &EventLog) {
    let reference = common::reference(name);
    check_counts(name, log, &reference);
    check_dfg(name, log, &reference);
    check_variants(name, log, &reference);
    check_durations(name, log, &reference);
    check_performance(name, log, &reference);
    check_rework(name, log, &reference);
    check_filters(name, log, &reference);
}

#[test]
fn running_example_matches_pm4py() {
    check_all("running-example", &common::load("running-example"));
}

#[test]
fn receipt_csv_matches_pm4py() {
    check_all("receipt", &common::load("receipt"));
}

#[test]
fn bpic2012_matches_pm4py() {
    let log = common::bpic();
    assert_eq!(
        analysis::directly_follows(log).edges.len(),
        125,
        "BPIC 2012 edges"
    );
    assert_eq!(analysis::variants(log).len(), 4366, "BPIC 2012 variants");
    check_all("bpic2012", log);
}

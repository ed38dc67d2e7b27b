//! IMf trees, their Petri nets, token-replay fitness and alignment costs
//! compared with PM4Py 2.7.23.11 (reference JSON from
//! `tests/reference/make_reference.py`).

mod common;

use exos_mining::conformance::alignments::Aligner;
use exos_mining::conformance::token_replay;
use exos_mining::discovery::{inductive_miner, tree_to_petri_net, ImfOptions};
use exos_mining::EventLog;
use serde_json::Value;

fn check_imf(name: &str, log: &EventLog, noise: &str) {
    let reference = common::reference(name);
    let expected = &reference["imf"][noise];
    let options = ImfOptions {
        noise_threshold: noise.parse().unwrap(),
    };
    let tree = inductive_miner(log, options);
    assert_eq!(
        tree.render(&log.activities),
        expected["tree"].as_str().unwrap(),
        "{name} IMf({noise}) tree"
    );

    let net = tree_to_petri_net(&tree);
    assert_eq!(
        net.places.len() as u64,
        expected["places"].as_u64().unwrap(),
        "{name} IMf({noise}) places"
    );
    assert_eq!(
        net.transitions.len() as u64,
        expected["transitions"].as_u64().unwrap(),
        "{name} IMf({noise}) transitions"
    );

    let fitness = token_replay(log, &net);
    let replay = &expected["token_replay"];
    for (field, ours) in [
        ("log_fitness", fitness.log_fitness),
        ("average_trace_fitness", fitness.average_trace_fitness),
        ("perc_fit_traces", fitness.perc_fit_traces),
    ] {
        let theirs = replay[field].as_f64().unwrap();
        assert!(
            common::close(ours, theirs),
            "{name} IMf({noise}) token replay {field}: {ours} vs {theirs}"
        );
    }
}

fn check_alignments(name: &str, log: &EventLog) {
    let reference = common::reference(name);
    let expected = &reference["imf"]["0.2"];
    let tree = inductive_miner(log, ImfOptions::default());
    let net = tree_to_petri_net(&tree);
    let mut aligner = Aligner::new(&net);
    let variants = expected["alignments"].as_array().unwrap();
    assert!(!variants.is_empty(), "{name} has aligned variants");
    for variant in variants {
        let trace: Vec<u32> = variant["activities"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| log.activities.get(a.as_str().unwrap()).unwrap())
            .collect();
        let aligned = aligner.align(&trace, 5_000_000);
        let theirs = variant["cost"].as_u64().unwrap();
        assert_eq!(
            aligned.cost,
            Some(theirs),
            "{name} alignment cost of {:?}",
            variant["activities"]
        );
    }
}

fn reference_noise_levels(name: &str) -> Vec<String> {
    let reference: Value = common::reference(name);
    reference["imf"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect()
}

#[test]
fn running_example_imf_matches_pm4py() {
    let log = common::load("running-example");
    for noise in reference_noise_levels("running-example") {
        check_imf("running-example", &log, &noise);
    }
    check_alignments("running-example", &log);
}

#[test]
fn receipt_imf_matches_pm4py() {
    let log = common::load("receipt");
    for noise in reference_noise_levels("receipt") {
        check_imf("receipt", &log, &noise);
    }
    check_alignments("receipt", &log);
}

#[test]
fn bpic2012_imf_matches_pm4py() {
    let log = common::bpic();
    for noise in reference_noise_levels("bpic2012") {
        check_imf("bpic2012", log, &noise);
    }
    check_alignments("bpic2012", log);
}

#[test]
fn alignment_budget_and_progress() {
    use exos_mining::conformance::{align_variants, AlignmentOptions};
    use std::time::Duration;
    let log = common::load("receipt");
    let net = tree_to_petri_net(&inductive_miner(&log, ImfOptions::default()));

    let mut calls = Vec::new();
    let mut progress = |done: usize, total: usize| calls.push((done, total));
    let report = align_variants(&log, &net, AlignmentOptions::default(), Some(&mut progress));
    assert_eq!(report.variants.len(), 116);
    assert_eq!(calls.len(), 116, "one progress call per variant");
    assert_eq!(calls.last(), Some(&(116, 116)));
    let costs = report.case_costs(log.case_count());
    assert!(
        costs.iter().all(Option::is_some),
        "every case gets its variant's cost"
    );
    let deviations: u64 = report
        .log_moves
        .values()
        .chain(report.model_moves.values())
        .sum();
    assert!(
        deviations > 0,
        "the receipt log deviates from its IMf model"
    );

    let budget = AlignmentOptions {
        time_budget: Some(Duration::ZERO),
        ..AlignmentOptions::default()
    };
    let partial = align_variants(&log, &net, budget, None);
    assert_eq!(
        partial.variants.len() + partial.skipped_variants,
        116,
        "skipped variants are counted"
    );
    assert!(partial.skipped_variants > 0, "a zero budget stops early");
}

#[test]
fn mermaid_names_every_activity() {
    let log = common::load("running-example");
    let tree = inductive_miner(&log, ImfOptions::default());
    let mermaid = tree.to_mermaid(&log.activities);
    assert!(mermaid.starts_with("flowchart TD\n"));
    for activity in [
        "register request",
        "decide",
        "pay compensation",
        "reinitiate request",
    ] {
        assert!(
            mermaid.contains(activity),
            "{activity} missing from:\n{mermaid}"
        );
    }
    assert_eq!(
        mermaid.matches(" --> ").count(),
        tree.size() - 1,
        "one edge per child"
    );
}

//! Side-by-side benchmark of this crate and PM4Py 2.7.
//!
//! ```text
//! cargo run -p exos-mining --release --example bench -- [--runs 5] [--pm4py-runs 1]
//!     [--align-sample 200] [--skip-pm4py] [--python .venv-mining/bin/python]
//!     [--logs ../shared/data/event-logs] [--generated /tmp/exos-mining-generated.xes]
//! ```
//!
//! The generated log has about 1.2 million events in 100,000 cases and is
//! written once as XES to `--generated`. On it and on BPIC 2012 the example
//! times XES import, DFG,
//! performance DFG, variants, the inductive miner (noise 0.2), token replay
//! and alignments, here and in PM4Py (through `tests/reference/bench_pm4py.py`
//! run by the venv's Python), and prints the median of each and the ratio.
//! Alignments are compared on the same most frequent `--align-sample`
//! variants; all variants are also aligned here.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use exos_mining::analysis::{directly_follows, performance_dfg, variants};
use exos_mining::conformance::alignments::{align_variants, Aligner, AlignmentOptions};
use exos_mining::conformance::token_replay;
use exos_mining::discovery::{inductive_miner, tree_to_petri_net, ImfOptions};
use exos_mining::export::write_xes;
use exos_mining::import::xes::read_xes;
use exos_mining::log::{EventFields, LogBuilder};
use exos_mining::{EventLog, ImportOptions};

struct Settings {
    runs: usize,
    pm4py_runs: usize,
    align_sample: usize,
    skip_pm4py: bool,
    python: PathBuf,
    logs: PathBuf,
    generated: PathBuf,
}

fn parse_args() -> Settings {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut settings = Settings {
        runs: 5,
        pm4py_runs: 1,
        align_sample: 200,
        skip_pm4py: false,
        python: root.join(".venv-mining/bin/python"),
        logs: root.join("../shared/data/event-logs"),
        generated: PathBuf::from("/tmp/exos-mining-generated.xes"),
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || {
            args.next()
                .unwrap_or_else(|| panic!("{flag} needs a value"))
        };
        match flag.as_str() {
            "--runs" => settings.runs = value().parse().expect("--runs takes a count"),
            "--pm4py-runs" => {
                settings.pm4py_runs = value().parse().expect("--pm4py-runs takes a count")
            }
            "--align-sample" => {
                settings.align_sample = value().parse().expect("--align-sample takes a count")
            }
            "--skip-pm4py" => settings.skip_pm4py = true,
            "--python" => settings.python = value().into(),
            "--logs" => settings.logs = value().into(),
            "--generated" => settings.generated = value().into(),
            other => panic!("unknown option {other}; see the header of examples/bench.rs"),
        }
    }
    settings
}

/// Median wall time in seconds of `runs` calls, and the last result.
fn timed<T>(runs: usize, mut step: impl FnMut() -> T) -> (f64, T) {
    let mut durations = Vec::new();
    let mut result = None;
    for _ in 0..runs.max(1) {
        let started = Instant::now();
        result = Some(step());
        durations.push(started.elapsed().as_secs_f64());
    }
    durations.sort_by(f64::total_cmp);
    (
        durations[durations.len() / 2],
        result.expect("at least one run"),
    )
}

const STEPS: [&str; 8] = [
    "xes_import",
    "dfg",
    "performance_dfg",
    "variants",
    "inductive_miner",
    "token_replay",
    "alignments_sample",
    "alignments_all",
];

fn bench_rust(path: &Path, settings: &Settings) -> Vec<(String, f64)> {
    let runs = settings.runs;
    let options = ImportOptions::default();
    let (import, (log, _)) = timed(runs, || read_xes(path, &options).expect("log imports"));
    eprintln!(
        "  rust: imported {} events, {} cases",
        log.event_count(),
        log.case_count()
    );
    let (dfg, _) = timed(runs, || directly_follows(&log));
    let (performance, _) = timed(runs, || performance_dfg(&log, false));
    let (variant_time, all_variants) = timed(runs, || variants(&log));
    let (miner, tree) = timed(runs, || {
        inductive_miner(
            &log,
            ImfOptions {
                noise_threshold: 0.2,
            },
        )
    });
    let net = tree_to_petri_net(&tree);
    let (replay, fitness) = timed(runs, || token_replay(&log, &net));
    eprintln!(
        "  rust: {} variants, log fitness {:.4}",
        all_variants.len(),
        fitness.log_fitness
    );

    let sample = pm4py_order_sample(&log, settings.align_sample);
    let (aligned_sample, _) = timed(runs, || {
        let mut aligner = Aligner::new(&net);
        sample
            .iter()
            .map(|trace| aligner.align(trace, 5_000_000).cost)
            .collect::<Vec<_>>()
    });
    // All variants, within a budget so a net with a huge state space
    // cannot stall the run; the variants left over are reported.
    let budget = AlignmentOptions {
        time_budget: Some(std::time::Duration::from_secs(120)),
        ..AlignmentOptions::default()
    };
    let (aligned_all, report) = timed(1, || align_variants(&log, &net, budget, None));
    let unaligned = report.variants.iter().filter(|v| v.cost.is_none()).count();
    eprintln!(
        "  rust: aligned {} variants ({} over the state limit, {} left when the 120 s budget ran out)",
        report.variants.len(),
        unaligned,
        report.skipped_variants
    );
    vec![
        ("xes_import".into(), import),
        ("dfg".into(), dfg),
        ("performance_dfg".into(), performance),
        ("variants".into(), variant_time),
        ("inductive_miner".into(), miner),
        ("token_replay".into(), replay),
        ("alignments_sample".into(), aligned_sample),
        ("alignments_all".into(), aligned_all),
    ]
}

/// Returns the most frequent variants, ties by ascending names: PM4Py's
/// order in `bench_pm4py.py`, so both align the same traces.
fn pm4py_order_sample(log: &EventLog, count: usize) -> Vec<Vec<u32>> {
    let names = |v: &[u32]| {
        v.iter()
            .map(|&a| log.activity_name(a).to_string())
            .collect::<Vec<_>>()
    };
    let mut all = variants(log);
    all.sort_by(|a, b| {
        b.count
            .cmp(&a.count)
            .then_with(|| names(&a.activities).cmp(&names(&b.activities)))
    });
    all.into_iter().take(count).map(|v| v.activities).collect()
}

fn bench_pm4py(path: &Path, settings: &Settings) -> Option<serde_json::Value> {
    if settings.skip_pm4py {
        return None;
    }
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/reference/bench_pm4py.py");
    let output = Command::new(&settings.python)
        .arg(&script)
        .arg(path)
        .arg(settings.pm4py_runs.to_string())
        .arg(settings.align_sample.to_string())
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "failed to run {}: {e}; pass --python or --skip-pm4py",
                settings.python.display()
            )
        });
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout.lines().rev().find(|l| l.starts_with('{'));
    match line.map(serde_json::from_str::<serde_json::Value>) {
        Some(Ok(value)) => Some(value),
        _ => {
            eprintln!(
                "PM4Py run failed: {}",
                String::from_utf8_lossy(&output.stderr)
            );
            None
        }
    }
}

fn print_table(name: &str, rust: &[(String, f64)], pm4py: Option<&serde_json::Value>) {
    println!("\n{name}");
    println!("| step | exos-mining (s) | PM4Py (s) | PM4Py / exos |");
    println!("|---|---:|---:|---:|");
    for step in STEPS {
        let ours = rust
            .iter()
            .find(|(s, _)| s == step)
            .map_or(f64::NAN, |(_, t)| *t);
        let theirs = pm4py
            .and_then(|p| p.get(step))
            .and_then(serde_json::Value::as_f64);
        let (theirs_text, ratio) = match theirs {
            Some(t) => (format!("{t:.3}"), format!("{:.0}×", t / ours)),
            None => ("—".to_string(), "—".to_string()),
        };
        println!("| {step} | {ours:.4} | {theirs_text} | {ratio} |");
    }
}

fn main() {
    let settings = parse_args();
    if !settings.generated.exists() {
        eprintln!(
            "writing the generated log to {} …",
            settings.generated.display()
        );
        let log = generate_log(100_000, 42);
        let file =
            std::fs::File::create(&settings.generated).expect("generated log path is writable");
        write_xes(&log, &mut std::io::BufWriter::new(file)).expect("generated log written");
    }
    let logs = [
        ("BPIC 2012", settings.logs.join("bpic2012.xes.gz")),
        ("generated (100k cases)", settings.generated.clone()),
    ];
    for (name, path) in &logs {
        eprintln!("{name}: exos-mining, {} runs …", settings.runs);
        let rust = bench_rust(path, &settings);
        eprintln!("{name}: PM4Py, {} run(s) …", settings.pm4py_runs);
        let pm4py = bench_pm4py(path, &settings);
        print_table(name, &rust, pm4py.as_ref());
    }
}

/// Generates a deterministic order-to-delivery log: a choice of credit check or
/// manual review, two parallel two-step branches, a quality loop, a
/// delivery-or-return choice, and 3% noise (two neighbouring events
/// swapped, or one dropped). About 12 events per case.
fn generate_log(cases: usize, seed: u64) -> EventLog {
    let mut random = XorShift(seed);
    let mut builder = LogBuilder::default();
    let resources: Vec<u32> = (0..40)
        .map(|r| builder.log_mut().resources.intern(&format!("R{r:02}")))
        .collect();
    let complete = builder.log_mut().lifecycles.intern("complete");
    let intern = |builder: &mut LogBuilder, name: &str| builder.intern_activity(name);
    let names = [
        "Receive order",
        "Validate order",
        "Check credit",
        "Manual review",
        "Approve order",
        "Pick items",
        "Pack items",
        "Create invoice",
        "Send invoice",
        "Quality check",
        "Rework",
        "Ship order",
        "Deliver",
        "Return goods",
        "Refund",
        "Close case",
    ];
    let ids: Vec<u32> = names.iter().map(|n| intern(&mut builder, n)).collect();
    let id = |name: &str| {
        ids[names
            .iter()
            .position(|n| *n == name)
            .expect("known activity")]
    };
    let start_2024 = 1_704_067_200_000_000i64;
    for case in 0..cases {
        let mut trace: Vec<u32> = vec![id("Receive order"), id("Validate order")];
        if random.chance(0.7) {
            trace.push(id("Check credit"));
        } else {
            trace.extend([id("Manual review"), id("Approve order")]);
        }
        let mut left = vec![id("Pick items"), id("Pack items")];
        let mut right = vec![id("Create invoice"), id("Send invoice")];
        while !left.is_empty() || !right.is_empty() {
            let from_left = right.is_empty() || (!left.is_empty() && random.chance(0.5));
            trace.push(if from_left {
                left.remove(0)
            } else {
                right.remove(0)
            });
        }
        trace.push(id("Quality check"));
        while random.chance(0.15) {
            trace.extend([id("Rework"), id("Quality check")]);
        }
        trace.push(id("Ship order"));
        if random.chance(0.9) {
            trace.push(id("Deliver"));
        } else {
            trace.extend([id("Return goods"), id("Refund")]);
        }
        trace.push(id("Close case"));
        if random.chance(0.02) {
            let at = random.below(trace.len() - 1);
            trace.swap(at, at + 1);
        }
        if random.chance(0.01) {
            let at = random.below(trace.len());
            trace.remove(at);
        }

        builder.begin_case(format!("order-{case:06}"), Vec::new());
        let mut time = start_2024 + random.below(365 * 86_400) as i64 * 1_000_000;
        for activity in trace {
            time += (60 + random.below(3 * 86_400)) as i64 * 1_000_000;
            let fields = EventFields {
                activity,
                timestamp: time,
                start: exos_mining::log::NO_TIME,
                resource: resources[random.below(resources.len())],
                lifecycle: complete,
            };
            builder.push_event(&fields, &mut Vec::new());
        }
        builder.end_case();
    }
    builder.finish()
}

/// Small deterministic pseudo-random generator (xorshift64).
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, bound: usize) -> usize {
        (self.next() % bound as u64) as usize
    }

    fn chance(&mut self, probability: f64) -> bool {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64 <= probability
    }
}

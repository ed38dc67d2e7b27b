//! Shared helpers of the integration tests: where the shared event logs and
//! the PM4Py reference outputs live, and loading them.

#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::OnceLock;

use exos_mining::import::csv::{read_csv, CsvMapping};
use exos_mining::import::xes::read_xes;
use exos_mining::{EventLog, ImportOptions};

/// Folder of the shared event logs: `EXOS_EVENT_LOGS`, or `shared/` beside
/// the repository.
pub fn logs_dir() -> PathBuf {
    if let Ok(dir) = std::env::var("EXOS_EVENT_LOGS") {
        return PathBuf::from(dir);
    }
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/event-logs");
    assert!(
        dir.is_dir(),
        "shared event logs not found at {}; set EXOS_EVENT_LOGS",
        dir.display()
    );
    dir
}

/// Loads the PM4Py reference output of one log.
pub fn reference(name: &str) -> serde_json::Value {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("tests/reference/{name}.json"));
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("missing reference {}: {e}", path.display()));
    serde_json::from_str(&text).expect("reference JSON is valid")
}

/// Loads one of the shared logs by its reference name.
pub fn load(name: &str) -> EventLog {
    let options = ImportOptions::default();
    let dir = logs_dir();
    let (log, report) = match name {
        "running-example" => read_xes(&dir.join("running-example.xes"), &options).unwrap(),
        "bpic2012" => read_xes(&dir.join("bpic2012.xes.gz"), &options).unwrap(),
        "receipt" => read_csv(&dir.join("receipt.csv"), &CsvMapping::default(), &options).unwrap(),
        other => panic!("unknown log {other}"),
    };
    // BPIC 2012's header has five nested meta-attributes without a key,
    // which XES requires; they are reported and left out.
    let expected_issues = if name == "bpic2012" { 5 } else { 0 };
    assert_eq!(
        report.issue_count, expected_issues,
        "{name} issues: {:?}",
        report.issues
    );
    assert!(
        report
            .issues
            .iter()
            .all(|i| i.message.contains("has no key")),
        "{name} issues: {:?}",
        report.issues
    );
    log
}

/// BPIC 2012, loaded once per test binary.
pub fn bpic() -> &'static EventLog {
    static LOG: OnceLock<EventLog> = OnceLock::new();
    LOG.get_or_init(|| load("bpic2012"))
}

/// Relative closeness for figures PM4Py computes in floating point.
pub fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-6 * a.abs().max(b.abs()).max(1.0)
}

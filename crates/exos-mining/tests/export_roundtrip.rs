//! XES export read back by this crate and, when the PM4Py venv exists, by
//! PM4Py; OCEL JSON export read back by PM4Py.

mod common;

use std::path::PathBuf;
use std::process::Command;

use exos_mining::analysis;
use exos_mining::export::write_xes;
use exos_mining::import::xes::{parse_xes, read_xes};
use exos_mining::ocel::export::write_ocel_json;
use exos_mining::ocel::json::read_ocel_json;
use exos_mining::{ImportOptions, OnError};

fn strict() -> ImportOptions {
    ImportOptions {
        on_error: OnError::Fail,
        ..ImportOptions::default()
    }
}

#[test]
fn xes_round_trip_keeps_content() {
    for name in ["running-example.xes", "bpic2012.xes.gz"] {
        let (log, _) = read_xes(&common::logs_dir().join(name), &ImportOptions::default()).unwrap();
        let mut bytes = Vec::new();
        write_xes(&log, &mut bytes).unwrap();
        let (back, report) = parse_xes(&bytes, &strict()).unwrap();
        assert_eq!(report.issue_count, 0);
        assert_eq!(back.case_ids, log.case_ids, "{name} case ids");
        assert_eq!(back.timestamp, log.timestamp, "{name} timestamps");
        let names = |l: &exos_mining::EventLog| {
            l.activity
                .iter()
                .map(|&a| l.activity_name(a).to_string())
                .collect::<Vec<_>>()
        };
        assert_eq!(names(&back), names(&log), "{name} activities");
        assert_eq!(back.case_attributes.len(), log.case_attributes.len());
        assert_eq!(
            back.log_attributes.len(),
            log.log_attributes.len(),
            "{name} log attributes incl. nested"
        );
        assert_eq!(
            analysis::variants(&back).len(),
            analysis::variants(&log).len()
        );
    }
}

/// Returns the Python of the PM4Py venv when it is installed.
fn pm4py_python() -> Option<PathBuf> {
    let python = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.venv-mining/bin/python");
    python.exists().then_some(python)
}

#[test]
#[ignore = "needs the PM4Py venv (.venv-mining with pm4py==2.7.23.11); run with --ignored"]
fn pm4py_reads_exports_back() {
    let python =
        pm4py_python().expect("create .venv-mining as tests/reference/make_reference.py says");
    let dir = tempfile::tempdir().unwrap();

    let (log, _) = read_xes(&common::logs_dir().join("running-example.xes"), &strict()).unwrap();
    let xes = dir.path().join("running.xes");
    write_xes(&log, &mut std::fs::File::create(&xes).unwrap()).unwrap();
    let script = "import sys, pm4py; df = pm4py.read_xes(sys.argv[1]); d = pm4py.discover_dfg(df)[0]; \
                  print(len(df), df['case:concept:name'].nunique(), len(d), len(pm4py.get_variants(df)))";
    let output = Command::new(&python)
        .args(["-c", script])
        .arg(&xes)
        .output()
        .unwrap();
    let printed = String::from_utf8_lossy(&output.stdout);
    let expected = format!(
        "{} {} {} {}",
        log.event_count(),
        log.case_count(),
        analysis::directly_follows(&log).edges.len(),
        analysis::variants(&log).len()
    );
    assert_eq!(
        printed.trim().lines().last().unwrap_or(""),
        expected,
        "PM4Py reads the XES export: {}",
        String::from_utf8_lossy(&output.stderr)
    );

    let (mut ocel, _) = read_ocel_json(
        &common::logs_dir().join("ocel20_example.jsonocel"),
        &strict(),
    )
    .unwrap();
    let mut extra = ocel.event_object[0].clone();
    extra.qualifier = "second qualifier".into();
    ocel.event_object.push(extra);
    let mut extra = ocel.object_object[0].clone();
    extra.qualifier = "second qualifier".into();
    ocel.object_object.push(extra);
    let json = dir.path().join("ocel.jsonocel");
    write_ocel_json(&ocel, &mut std::fs::File::create(&json).unwrap()).unwrap();
    let checker =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/reference/ocel_reference.py");
    let output = Command::new(&python)
        .arg(&checker)
        .arg(&json)
        .output()
        .unwrap();
    let described: serde_json::Value = serde_json::from_slice(
        output
            .stdout
            .split(|&b| b == b'\n')
            .rfind(|l| l.starts_with(b"{"))
            .expect("checker prints JSON"),
    )
    .unwrap();
    assert_eq!(described["events"], 13);
    // PM4Py 2.7's JSON reader keeps one qualifier per event-object pair
    // (it builds the links from a set of object ids), but every qualified
    // object-object link.
    assert_eq!(described["event_object_links"], 20);
    assert_eq!(
        described["object_object_links"], 8,
        "both qualifiers of one object pair read back"
    );
    let reference = common::reference("ocel20");
    assert_eq!(
        described["objects_per_type"],
        reference["json"]["objects_per_type"]
    );
}

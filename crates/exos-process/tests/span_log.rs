//! Span logs on a real store: DuckDB in a temporary folder, or ClickHouse (the
//! real engine through `tests/clickhouse/chdb_server.py`) when
//! `EXOS_TEST_STORE=clickhouse`. The same spans give the same log on both.
//!
//! The fixture has three orders in the range [T0, T0 + 1 h). Order A has a
//! repeated `Check`, HTTP child spans and a browser span that also carry its
//! `order.id`, and a log in one trace; order C started two hours before the
//! range, so only some time frames keep it.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;

use exos_analytics::TimeRange;
use exos_core::{Batch, BusinessKeys, LogRow, SpanRow};
use exos_process::case_trace::case_trace;
use exos_process::filter::TimeFrame;
use exos_process::map::{process_map, MapRequest};
use exos_process::{load_span_log, LogDefinition, LogFilters};
use exos_store::{ClickHouseSettings, ClickHouseStore, DuckOptions, DuckStore, Store};

/// 2026-12-01 10:00:00 UTC in ns.
const T0: i64 = 1_796_119_200_000_000_000;
const MINUTE: i64 = 60_000_000_000;
const HOUR: i64 = 60 * MINUTE;
const SESSION: &str = "5e55107100000000000000000000000a";

fn on_clickhouse() -> bool {
    std::env::var("EXOS_TEST_STORE").is_ok_and(|store| store == "clickhouse")
}

/// The chdb harness on loopback, stopped when dropped.
struct ChdbServer {
    child: Child,
    url: String,
}

impl ChdbServer {
    #[allow(clippy::zombie_processes)]
    fn start(data_dir: &Path) -> Self {
        let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let python = std::env::var("EXOS_PYTHON")
            .map(PathBuf::from)
            .unwrap_or_else(|_| repo.join(".venv/bin/python"));
        let mut child = Command::new(python)
            .arg(repo.join("tests/clickhouse/chdb_server.py"))
            .arg("--data-dir")
            .arg(data_dir)
            .args(["--host", "127.0.0.1", "--port", "0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("chdb harness starts (run scripts/test.sh once to create .venv)");
        let stdout = child.stdout.take().expect("piped stdout");
        let mut lines = BufReader::new(stdout).lines();
        let line = lines.next().expect("address line").expect("utf-8");
        let address = line
            .strip_prefix("chdb-server listening on ")
            .expect("harness address line")
            .to_string();
        std::thread::spawn(move || for _ in lines {});
        ChdbServer {
            child,
            url: format!("http://{address}"),
        }
    }
}

impl Drop for ChdbServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A store of the kind under test holding the fixture, with what keeps it alive.
struct TestStore {
    store: Arc<dyn Store>,
    _chdb: Option<ChdbServer>,
    _dir: tempfile::TempDir,
}

impl TestStore {
    fn with_fixture() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let (store, chdb): (Arc<dyn Store>, _) = if on_clickhouse() {
            let chdb = ChdbServer::start(&dir.path().join("chdb"));
            let settings = ClickHouseSettings {
                url: chdb.url.clone(),
                user: "default".into(),
                password: String::new(),
                database: "exos_process_test".into(),
                retention_days: 0,
                replay_retention_days: None,
                max_query_memory_bytes: 2 << 30,
            };
            let store = ClickHouseStore::open(&settings).expect("ClickHouse store opens");
            (Arc::new(store), Some(chdb))
        } else {
            let store = DuckStore::open(dir.path(), &DuckOptions::default()).expect("DuckDB opens");
            (Arc::new(store), None)
        };
        store.write(&fixture()).expect("fixture written");
        TestStore {
            store,
            _chdb: chdb,
            _dir: dir,
        }
    }
}

fn attrs(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// A span: (trace, span id, parent, name, start, minutes long, attributes).
fn span(
    trace: &str,
    id: &str,
    parent: &str,
    name: &str,
    start_ns: i64,
    minutes: i64,
    pairs: &[(&str, &str)],
) -> SpanRow {
    let resource = Arc::new(attrs(&[("service.name", "order-api")]));
    let span_attributes = attrs(pairs);
    SpanRow {
        timestamp_ns: start_ns,
        trace_id: trace.into(),
        span_id: id.into(),
        parent_span_id: parent.into(),
        span_name: name.into(),
        span_kind: "Internal",
        service_name: "order-api".into(),
        keys: BusinessKeys::extract(&span_attributes, &resource),
        resource_attributes: resource,
        span_attributes,
        duration_ns: (minutes * MINUTE) as u64,
        status_code: "Ok",
        ..Default::default()
    }
}

fn trace_id(n: u32) -> String {
    format!("{n:032x}")
}

/// A business step: (name, start minute from T0, minutes long, attributes).
type Step<'a> = (&'a str, i64, i64, &'a [(&'a str, &'a str)]);

fn fixture() -> Batch {
    let a = [("order.id", "A"), ("operator.id", "op-1"), ("lob", "Title")];
    let b = [("order.id", "B"), ("operator.id", "op-2"), ("lob", "Flood")];
    let c = [("order.id", "C"), ("operator.id", "op-2"), ("lob", "Flood")];
    let steps: [Step; 8] = [
        ("Receive", 0, 1, &a),
        ("Check", 10, 5, &a),
        ("Check", 30, 5, &a),
        ("Close", 50, 1, &a),
        ("Receive", 5, 1, &b),
        ("Close", 20, 1, &b),
        ("Receive", -120, 1, &c),
        ("Close", 10, 1, &c),
    ];
    let mut spans = Vec::new();
    for (n, (name, minute, length, pairs)) in steps.iter().enumerate() {
        let trace = trace_id(n as u32 + 1);
        let root = format!("{:016x}", n + 1);
        let start = T0 + minute * MINUTE;
        spans.push(span(&trace, &root, "", name, start, *length, pairs));
        // A child request of the step; it carries the order id too and is no event.
        let child = format!("{:016x}", n + 101);
        spans.push(span(
            &trace,
            &child,
            &root,
            "POST /api/orders",
            start,
            0,
            pairs,
        ));
    }
    let browser = [
        ("order.id", "A"),
        ("operator.id", "op-1"),
        ("rum.session_id", SESSION),
    ];
    spans.push(span(
        &trace_id(99),
        "00000000000000ff",
        "",
        "documentLoad",
        T0 + 9 * MINUTE,
        0,
        &browser,
    ));
    let log = LogRow {
        timestamp_ns: T0 + 12 * MINUTE,
        trace_id: trace_id(2),
        span_id: format!("{:016x}", 2),
        service_name: "order-api".into(),
        body: "check done".into(),
        severity_text: "INFO".into(),
        severity_number: 9,
        ..Default::default()
    };
    Batch {
        spans,
        logs: vec![log],
        ..Default::default()
    }
}

fn range() -> TimeRange {
    TimeRange::new(T0, T0 + HOUR).unwrap()
}

fn trace_names(log: &exos_mining::EventLog, case: &str) -> Vec<String> {
    let index = log.case_ids.iter().position(|c| c == case).expect("case");
    log.trace(index)
        .iter()
        .map(|&a| log.activity_name(a).to_string())
        .collect()
}

#[test]
fn business_spans_become_events_and_children_do_not() {
    let store = TestStore::with_fixture();
    let loaded = load_span_log(store.store.as_ref(), &LogDefinition::default(), range()).unwrap();
    assert_eq!(loaded.log.case_ids, ["A", "B", "C"]);
    assert_eq!(
        trace_names(&loaded.log, "A"),
        ["Receive", "Check", "Check", "Close"]
    );
    assert_eq!(trace_names(&loaded.log, "C"), ["Receive", "Close"]);
    assert_eq!(loaded.log.event_count(), 8);
}

#[test]
fn time_frames_judge_cases_by_all_their_events() {
    let store = TestStore::with_fixture();
    let loaded = load_span_log(store.store.as_ref(), &LogDefinition::default(), range()).unwrap();
    let cases = |frame| {
        let filters = LogFilters {
            time_frame: frame,
            ..LogFilters::default()
        };
        filters.apply(&loaded.log, range()).unwrap().case_ids
    };
    assert_eq!(cases(TimeFrame::Intersecting), ["A", "B", "C"]);
    assert_eq!(cases(TimeFrame::Contained), ["A", "B"]);
    assert_eq!(cases(TimeFrame::Started), ["A", "B"]);
    assert_eq!(cases(TimeFrame::Completed), ["A", "B", "C"]);
}

#[test]
fn map_waits_run_from_one_end_to_the_next_start() {
    let store = TestStore::with_fixture();
    let loaded = load_span_log(store.store.as_ref(), &LogDefinition::default(), range()).unwrap();
    let map = process_map(&loaded.log, &MapRequest::default()).unwrap();
    let edge = |from: &str, to: &str| {
        map.edges
            .iter()
            .find(|e| e.from == from && e.to == to)
            .unwrap_or_else(|| panic!("{from} -> {to}"))
    };
    // A: Receive ends at minute 1, Check starts at minute 10.
    assert_eq!(edge("Receive", "Check").wait.mean, 540.0);
    // A: Check ends at 15, Check starts at 30.
    assert_eq!(edge("Check", "Check").count, 1);
    assert_eq!(edge("Check", "Check").wait.mean, 900.0);
    // B waits 14 min, C 129 min.
    let close = edge("Receive", "Close");
    assert_eq!(
        (close.count, close.wait.min, close.wait.max),
        (2, 840.0, 7740.0)
    );
    let check = map.nodes.iter().find(|n| n.name == "Check").unwrap();
    assert_eq!((check.count, check.duration.mean), (2, 300.0));
}

#[test]
fn case_attributes_come_from_a_chosen_attribute() {
    let store = TestStore::with_fixture();
    let definition = LogDefinition {
        case: "operator.id".into(),
        ..LogDefinition::default()
    };
    let loaded = load_span_log(store.store.as_ref(), &definition, range()).unwrap();
    assert_eq!(loaded.log.case_ids, ["op-1", "op-2"]);
    let filters: LogFilters =
        serde_json::from_value(serde_json::json!({"case_attributes": {"lob": ["Flood"]}})).unwrap();
    assert_eq!(
        filters.apply(&loaded.log, range()).unwrap().case_ids,
        ["op-2"]
    );
}

#[test]
fn case_trace_links_logs_and_the_browser_session() {
    let store = TestStore::with_fixture();
    let loaded = load_span_log(store.store.as_ref(), &LogDefinition::default(), range()).unwrap();
    let trace = case_trace(store.store.as_ref(), &loaded, "A").unwrap();
    let logs: Vec<u64> = trace.events.iter().map(|e| e.logs).collect();
    assert_eq!(logs, [0, 1, 0, 0]);
    assert_eq!(trace.events[1].trace_id, trace_id(2));
    assert_eq!(trace.attributes["lob"], "Title");
    assert_eq!(trace.sessions.len(), 1);
    assert_eq!(trace.sessions[0].session_id, SESSION);
    assert!(trace.sessions[0].on_case);
    assert_eq!(trace.sessions_total, 1);
    assert_eq!(trace.sessions[0].case, "A");
    let missing = case_trace(store.store.as_ref(), &loaded, "Z").unwrap_err();
    assert!(missing.to_string().contains("\"Z\""), "{missing}");
}

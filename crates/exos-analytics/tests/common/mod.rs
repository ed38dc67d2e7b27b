//! A real store with known rows, for the route tests.
//!
//! The store is DuckDB in a temporary folder, or ClickHouse (the real engine
//! through `tests/clickhouse/chdb_server.py` on loopback) when
//! `EXOS_TEST_STORE=clickhouse`. Every test writes the same fixture, so each
//! expected number holds on both stores.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;

use exos_analytics::{Scope, TimeRange};
use exos_core::{
    Batch, BusinessKeys, GaugeRow, LogRow, MetricMeta, PointCommon, SpanEvent, SpanRow,
};
use exos_store::{ClickHouseSettings, ClickHouseStore, DuckOptions, DuckStore, Store};

/// 2026-12-01 10:00:00 UTC, the start of the fixture's range, in ns.
pub const T0: i64 = 1_796_119_200_000_000_000;
pub const MS: i64 = 1_000_000;
pub const SECOND: i64 = 1_000_000_000;
/// One hour: the fixture's range is [T0, T0 + HOUR), with one-minute buckets.
pub const HOUR: i64 = 3600 * SECOND;

pub const TRACE_A: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1";
pub const TRACE_B: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb2";
pub const TRACE_C: &str = "ccccccccccccccccccccccccccccccc3";
pub const TRACE_D: &str = "ddddddddddddddddddddddddddddddd4";
pub const TRACE_E: &str = "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeee5";
pub const TRACE_OLD: &str = "fffffffffffffffffffffffffffffff6";
pub const SESSION_1: &str = "5e55107100000000000000000000000a";
pub const SESSION_2: &str = "5e55107200000000000000000000000b";

/// The fingerprint of the two `TimeoutError` spans (MD5 of type, normalised message, frame).
pub const TIMEOUT_FINGERPRINT: &str = "898685bd9cf2da2d";
/// The fingerprint of the `ValueError` span.
pub const VALUE_FINGERPRINT: &str = "5c406a2b583a0e6d";

/// Returns true when the tests run on ClickHouse (`EXOS_TEST_STORE=clickhouse`).
pub fn on_clickhouse() -> bool {
    std::env::var("EXOS_TEST_STORE").is_ok_and(|store| store == "clickhouse")
}

/// A store for one test, with whatever keeps it alive.
pub struct TestStore {
    pub store: Arc<dyn Store>,
    _chdb: Option<ChdbServer>,
    _dir: tempfile::TempDir,
}

impl TestStore {
    /// Opens an empty store of the kind under test.
    pub fn empty() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        if on_clickhouse() {
            let chdb = ChdbServer::start(&dir.path().join("chdb"));
            let store = ClickHouseStore::open(&clickhouse_settings(&chdb.url))
                .expect("ClickHouse store opens");
            return Self {
                store: Arc::new(store),
                _chdb: Some(chdb),
                _dir: dir,
            };
        }
        let store =
            DuckStore::open(dir.path(), &DuckOptions::default()).expect("DuckDB store opens");
        Self {
            store: Arc::new(store),
            _chdb: None,
            _dir: dir,
        }
    }

    /// Opens a store holding the fixture rows.
    pub fn with_fixture() -> Self {
        let store = Self::empty();
        store.store.write(&fixture()).expect("fixture written");
        store
    }

    pub fn get(&self) -> &dyn Store {
        self.store.as_ref()
    }

    /// Writes `spans` in one batch.
    #[allow(dead_code)]
    pub fn write_spans(&self, spans: Vec<exos_core::SpanRow>) {
        self.get()
            .write(&exos_core::Batch {
                spans,
                ..Default::default()
            })
            .unwrap();
    }

    /// On ClickHouse, opens a second store on the same database, as a restarted
    /// server would; `None` on DuckDB, whose file one process locks at a time.
    pub fn reopen(&self) -> Option<Arc<dyn Store>> {
        let chdb = self._chdb.as_ref()?;
        let store = ClickHouseStore::open(&clickhouse_settings(&chdb.url))
            .expect("ClickHouse store opens again");
        Some(Arc::new(store))
    }
}

impl TestStore {
    /// On ClickHouse, runs one statement outside the store's read-only queries
    /// (a plain HTTP POST to the harness); `false` on DuckDB.
    pub fn clickhouse_statement(&self, sql: &str) -> bool {
        use std::io::{Read, Write};
        let Some(chdb) = self._chdb.as_ref() else {
            return false;
        };
        let address = chdb.url.trim_start_matches("http://").trim_end_matches('/');
        let mut stream = std::net::TcpStream::connect(address).expect("harness reachable");
        let request = format!(
            "POST /?database=exos_analytics_test HTTP/1.0\r\nHost: {address}\r\nContent-Length: {}\r\n\r\n{sql}",
            sql.len()
        );
        stream
            .write_all(request.as_bytes())
            .expect("statement sent");
        let mut response = String::new();
        stream.read_to_string(&mut response).expect("answer read");
        assert!(
            response.starts_with("HTTP/1.0 200") || response.starts_with("HTTP/1.1 200"),
            "{sql}: {response}"
        );
        true
    }
}

fn clickhouse_settings(url: &str) -> ClickHouseSettings {
    ClickHouseSettings {
        url: url.to_string(),
        user: "default".into(),
        password: String::new(),
        database: "exos_analytics_test".into(),
        retention_days: 0,
        replay_retention_days: None,
        max_query_memory_bytes: 2 << 30,
    }
}

/// Returns the percentile estimate for durations in ms, computed in Rust the way
/// the crate computes it from the stores' latency bins.
pub fn expected_quantile(durations_ms: &[u64], q: f64) -> f64 {
    let mut histogram = exos_analytics::latency::Histogram::default();
    for duration in durations_ms {
        histogram.add(exos_analytics::latency::bin_of(duration * MS as u64), 1);
    }
    let min = durations_ms.iter().min().expect("durations") * MS as u64;
    let max = durations_ms.iter().max().expect("durations") * MS as u64;
    histogram.bound(min, max);
    histogram.quantile_ms(q)
}

/// Returns the fixture's range, [T0, T0 + 1 h).
pub fn range() -> TimeRange {
    TimeRange::new(T0, T0 + HOUR).unwrap()
}

/// Returns the fixture's range without filters.
pub fn scope() -> Scope {
    Scope::new(range())
}

/// Query pairs `from` and `to` for the fixture's range, plus `extra`.
/// Writes `batches` batches of 1 to `max_spans - 1` spans that `make` builds; span
/// `i` of batch `b` gets the index `first + b * 1000 + i`.
pub fn write_random_spans<R>(
    store: &dyn Store,
    rng: &mut R,
    batches: usize,
    first: usize,
    max_spans: usize,
    make: impl Fn(&mut R, usize) -> SpanRow,
) where
    R: rand::Rng,
{
    for batch in 0..batches {
        let spans = (0..rng.gen_range(1..max_spans))
            .map(|i| make(rng, first + batch * 1000 + i))
            .collect();
        store
            .write(&Batch {
                spans,
                ..Batch::default()
            })
            .expect("spans written");
    }
}

pub fn pairs(extra: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut out = vec![
        ("from".to_string(), "2026-12-01T10:00:00Z".to_string()),
        ("to".to_string(), "2026-12-01T11:00:00Z".to_string()),
    ];
    out.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    out
}

pub fn attrs(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// A span of `service` with the given ids, start offset from T0 and duration.
pub struct SpanSpec<'a> {
    pub trace: &'a str,
    pub id: &'a str,
    pub parent: &'a str,
    pub service: &'a str,
    pub name: &'a str,
    pub kind: &'static str,
    pub start_ns: i64,
    pub duration_ms: u64,
    pub error: bool,
    pub attributes: &'a [(&'a str, &'a str)],
    pub exception: Option<(&'a str, &'a str, &'a str)>,
}

impl Default for SpanSpec<'_> {
    fn default() -> Self {
        Self {
            trace: TRACE_A,
            id: "",
            parent: "",
            service: "order-api",
            name: "span",
            kind: "Internal",
            start_ns: T0,
            duration_ms: 1,
            error: false,
            attributes: &[],
            exception: None,
        }
    }
}

pub fn span(spec: SpanSpec) -> SpanRow {
    let resource = Arc::new(attrs(&[("service.name", spec.service)]));
    let span_attributes = attrs(spec.attributes);
    let events = spec
        .exception
        .map(|(kind, message, stack)| {
            vec![SpanEvent {
                timestamp_ns: spec.start_ns + MS,
                name: "exception".into(),
                attributes: attrs(&[
                    ("exception.type", kind),
                    ("exception.message", message),
                    ("exception.stacktrace", stack),
                ]),
            }]
        })
        .unwrap_or_default();
    SpanRow {
        timestamp_ns: spec.start_ns,
        trace_id: spec.trace.into(),
        span_id: spec.id.into(),
        parent_span_id: spec.parent.into(),
        span_name: spec.name.into(),
        span_kind: spec.kind,
        service_name: spec.service.into(),
        keys: BusinessKeys::extract(&span_attributes, &resource),
        resource_attributes: resource,
        span_attributes,
        duration_ns: spec.duration_ms * MS as u64,
        status_code: if spec.error { "Error" } else { "Ok" },
        events,
        ..Default::default()
    }
}

pub fn log(
    service: &str,
    trace: &str,
    span: &str,
    at_ns: i64,
    severity: (&str, i32),
    body: &str,
    attributes: &[(&str, &str)],
) -> LogRow {
    let resource = Arc::new(attrs(&[("service.name", service)]));
    let log_attributes = attrs(attributes);
    LogRow {
        timestamp_ns: at_ns,
        trace_id: trace.into(),
        span_id: span.into(),
        severity_text: severity.0.into(),
        severity_number: severity.1,
        service_name: service.into(),
        body: body.into(),
        keys: BusinessKeys::extract(&log_attributes, &resource),
        resource_attributes: resource,
        log_attributes,
        ..Default::default()
    }
}

pub const TIMEOUT_STACK: &str =
    "TimeoutError: timed out\n    at fetchOrder (app.js:10:5)\n    at main (app.js:20:1)";
pub const PYTHON_STACK: &str = "Traceback (most recent call last):\n  File \"app.py\", line 10, in handler\n    raise ValueError(message)\nValueError: invalid order";

/// The fixture: three backend traces over two orders, a browser session, logs,
/// one replay event, one gauge point, and one span and one log before the range.
///
/// In range: 8 spans (3 errors, 5 roots), 2 logs, sessions SESSION_1 and SESSION_2,
/// orders ORD-1 (Appraisal, last status `closed`) and ORD-2 (Title, no status).
pub fn fixture() -> Batch {
    let alice: &[(&str, &str)] = &[
        ("order.id", "ORD-1"),
        ("lob", "Appraisal"),
        ("operator.id", "op-1"),
        ("user.id", "alice@example.com"),
        ("rum.session_id", SESSION_1),
        ("order.status", "open"),
    ];
    let alice_close: &[(&str, &str)] = &[
        ("order.id", "ORD-1"),
        ("lob", "Appraisal"),
        ("operator.id", "op-1"),
        ("user.id", "alice@example.com"),
        ("order.status", "closed"),
    ];
    let bob: &[(&str, &str)] = &[
        ("order.id", "ORD-2"),
        ("lob", "Title"),
        ("operator.id", "op-2"),
        ("user.id", "bob@example.com"),
        ("rum.session_id", SESSION_2),
    ];
    let spans = vec![
        span(SpanSpec {
            id: "a000000000000001",
            name: "GET /orders/{id}",
            kind: "Server",
            duration_ms: 100,
            attributes: alice,
            ..Default::default()
        }),
        span(SpanSpec {
            id: "a000000000000002",
            parent: "a000000000000001",
            name: "fetch document",
            kind: "Client",
            start_ns: T0 + 10 * MS,
            duration_ms: 50,
            ..Default::default()
        }),
        span(SpanSpec {
            id: "a000000000000003",
            parent: "a000000000000002",
            service: "document-service",
            name: "GET /documents",
            kind: "Server",
            start_ns: T0 + 20 * MS,
            duration_ms: 30,
            error: true,
            exception: Some(("TimeoutError", "timed out after 3000 ms", TIMEOUT_STACK)),
            ..Default::default()
        }),
        span(SpanSpec {
            trace: TRACE_B,
            id: "b000000000000001",
            name: "POST /orders/{id}/close",
            kind: "Server",
            start_ns: T0 + 300 * SECOND,
            duration_ms: 200,
            attributes: alice_close,
            ..Default::default()
        }),
        span(SpanSpec {
            trace: TRACE_B,
            id: "b000000000000002",
            parent: "b000000000000001",
            service: "document-service",
            name: "GET /documents",
            kind: "Server",
            start_ns: T0 + 300 * SECOND + 5 * MS,
            duration_ms: 40,
            error: true,
            exception: Some(("TimeoutError", "timed out after 5000 ms", TIMEOUT_STACK)),
            ..Default::default()
        }),
        span(SpanSpec {
            trace: TRACE_C,
            id: "c000000000000001",
            name: "GET /orders/{id}",
            kind: "Server",
            start_ns: T0 + 600 * SECOND,
            duration_ms: 300,
            error: true,
            attributes: bob,
            exception: Some(("ValueError", "invalid order 'ORD-2' id 42", PYTHON_STACK)),
            ..Default::default()
        }),
        span(SpanSpec {
            trace: TRACE_D,
            id: "d000000000000001",
            service: "web",
            name: "documentLoad",
            start_ns: T0 + SECOND,
            duration_ms: 800,
            attributes: &[
                ("rum.session_id", SESSION_1),
                ("user.id", "alice@example.com"),
                ("location.href", "https://shop.test/orders/ORD-1"),
            ],
            ..Default::default()
        }),
        span(SpanSpec {
            trace: TRACE_E,
            id: "e000000000000001",
            service: "web",
            name: "click",
            start_ns: T0 + 2 * SECOND,
            duration_ms: 5,
            attributes: &[
                ("rum.session_id", SESSION_1),
                ("user.id", "alice@example.com"),
                ("event_type", "click"),
                ("target_element", "BUTTON"),
            ],
            ..Default::default()
        }),
        span(SpanSpec {
            trace: TRACE_OLD,
            id: "f000000000000001",
            name: "GET /orders/{id}",
            kind: "Server",
            start_ns: T0 - SECOND,
            duration_ms: 10,
            error: true,
            attributes: &[("order.id", "ORD-3"), ("user.id", "alice@example.com")],
            exception: Some(("TimeoutError", "timed out after 1 ms", TIMEOUT_STACK)),
            ..Default::default()
        }),
    ];
    let logs = vec![
        log(
            "order-api",
            TRACE_A,
            "a000000000000001",
            T0 + 5 * MS,
            ("INFO", 9),
            "loading order ORD-1",
            &[("order.id", "ORD-1"), ("user.id", "alice@example.com")],
        ),
        log(
            "document-service",
            TRACE_A,
            "a000000000000003",
            T0 + 40 * MS,
            ("", 17),
            "timeout calling storage",
            &[],
        ),
        log(
            "order-api",
            TRACE_OLD,
            "f000000000000001",
            T0 - SECOND,
            ("INFO", 9),
            "before the range",
            &[],
        ),
    ];
    let replay = log(
        "web",
        "",
        "",
        T0 + 1500 * MS,
        ("", 0),
        "{\"type\":2}",
        &[("rr-web.event", "1"), ("rum.session_id", SESSION_1)],
    );
    let gauge = GaugeRow {
        point: PointCommon {
            meta: Arc::new(MetricMeta {
                metric_name: "queue.depth".into(),
                service_name: "order-api".into(),
                ..Default::default()
            }),
            time_ns: T0 + 30 * SECOND,
            ..Default::default()
        },
        value: 4.0,
    };
    Batch {
        spans,
        logs,
        sessions: vec![replay],
        gauges: vec![gauge],
        ..Default::default()
    }
}

/// A ClickHouse engine served over HTTP on loopback by the repository's chdb harness.
pub struct ChdbServer {
    child: Child,
    pub url: String,
}

impl ChdbServer {
    /// Starts the harness on `data_dir` with the repository's Python venv (or `EXOS_PYTHON`).
    #[allow(clippy::zombie_processes)]
    pub fn start(data_dir: &Path) -> Self {
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
        let line = lines
            .next()
            .expect("harness prints its address")
            .expect("utf-8");
        let address = line
            .strip_prefix("chdb-server listening on ")
            .expect("harness address line")
            .to_string();
        std::thread::spawn(move || for _ in lines {});
        Self {
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

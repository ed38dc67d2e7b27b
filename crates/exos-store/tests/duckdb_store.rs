//! The embedded store against a real DuckDB file: write, read back, views, limits.

use std::sync::Arc;
use std::time::Duration;

use exos_core::{
    Batch, BusinessKeys, GaugeRow, LogRow, MetricMeta, PointCommon, SpanEvent, SpanRow,
};
use exos_store::{run_user_sql, DuckOptions, DuckStore, QueryLimits, Store, StoreError};

fn attrs(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn span(index: i64, status: &'static str) -> SpanRow {
    let resource = Arc::new(attrs(&[("service.name", "order-api")]));
    let span_attributes = attrs(&[("order.id", "ORD-1"), ("lob", "Title")]);
    SpanRow {
        timestamp_ns: 1_780_000_000_000_000_000 + index * 1_000_000,
        trace_id: format!("{:032x}", index + 1),
        span_id: format!("{:016x}", index + 1),
        span_name: "Review Documents".into(),
        span_kind: "Server",
        service_name: "order-api".into(),
        keys: BusinessKeys::extract(&span_attributes, &resource),
        resource_attributes: resource,
        span_attributes,
        duration_ns: 1_500,
        status_code: status,
        events: vec![SpanEvent {
            timestamp_ns: 1_780_000_000_000_000_500,
            name: "exception".into(),
            attributes: attrs(&[("exception.type", "IOError"), ("exception.message", "disk")]),
        }],
        ..Default::default()
    }
}

fn open(dir: &std::path::Path) -> DuckStore {
    DuckStore::open(dir, &DuckOptions::default()).expect("store opens")
}

fn sample_batch() -> Batch {
    let gauge = GaugeRow {
        point: PointCommon {
            meta: Arc::new(MetricMeta {
                metric_name: "queue.depth".into(),
                ..Default::default()
            }),
            time_ns: 7,
            ..Default::default()
        },
        value: 4.5,
    };
    let log = LogRow {
        timestamp_ns: 5,
        body: "hello".into(),
        severity_number: 17,
        ..Default::default()
    };
    Batch {
        spans: (0..3)
            .map(|i| span(i, if i == 2 { "Error" } else { "Ok" }))
            .collect(),
        logs: vec![log],
        gauges: vec![gauge],
        ..Default::default()
    }
}

#[test]
fn rows_survive_reopen() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = open(dir.path());
        store.write(&sample_batch()).unwrap();
    }
    let store = open(dir.path());
    let result = store
        .query("SELECT count(*), max(Duration), min(SpanKind), max(OrderId), max(SpanAttributes['lob']) FROM otel_traces", &QueryLimits::default())
        .unwrap();
    assert_eq!(result.rows[0][0], serde_json::json!(3));
    assert_eq!(result.rows[0][1], serde_json::json!(1500));
    assert_eq!(result.rows[0][2], serde_json::json!("Server"));
    assert_eq!(result.rows[0][3], serde_json::json!("ORD-1"));
    assert_eq!(result.rows[0][4], serde_json::json!("Title"));
}

#[test]
fn views_answer_over_written_rows() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    store.write(&sample_batch()).unwrap();
    let limits = QueryLimits::default();
    let errors = store
        .query(
            "SELECT ExceptionType, ExceptionMessage, OrderId FROM errors",
            &limits,
        )
        .unwrap();
    assert_eq!(
        errors.rows,
        vec![vec![
            serde_json::json!("IOError"),
            serde_json::json!("disk"),
            serde_json::json!("ORD-1")
        ]]
    );
    let services = store
        .query(
            "SELECT ServiceName, SpanCount, ErrorCount FROM services",
            &limits,
        )
        .unwrap();
    assert_eq!(
        services.rows[0],
        vec![
            serde_json::json!("order-api"),
            serde_json::json!(3),
            serde_json::json!(1)
        ]
    );
    let logs = store
        .query("SELECT SeverityText, Body FROM logs", &limits)
        .unwrap();
    assert_eq!(
        logs.rows[0],
        vec![serde_json::json!("ERROR"), serde_json::json!("hello")]
    );
    for view in ["traces", "sessions", "page_views", "user_actions"] {
        store
            .query(&format!("SELECT * FROM {view}"), &limits)
            .unwrap_or_else(|e| panic!("{view}: {e}"));
    }
}

#[test]
fn query_results_encode_types() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    store.write(&sample_batch()).unwrap();
    let result = store
        .query("SELECT Timestamp, SpanAttributes, \"Events.Name\" FROM otel_traces ORDER BY Timestamp LIMIT 1", &QueryLimits::default())
        .unwrap();
    assert_eq!(result.columns[0].type_name, "TIMESTAMP_NS");
    assert_eq!(result.rows[0][0], serde_json::json!("2026-05-28 20:26:40"));
    assert_eq!(
        result.rows[0][1],
        serde_json::json!({"order.id": "ORD-1", "lob": "Title"})
    );
    assert_eq!(result.rows[0][2], serde_json::json!(["exception"]));
}

#[test]
fn show_tables_lists_readable_tables() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let result = exos_store::run_user_sql(&store, "SHOW TABLES", &QueryLimits::default()).unwrap();
    let names: Vec<&str> = result
        .rows
        .iter()
        .filter_map(|row| row[0].as_str())
        .collect();
    assert!(names.contains(&"otel_traces"), "{names:?}");
    assert!(!names.contains(&"exos_credentials"), "{names:?}");
    assert!(!names.contains(&"exos_error_staging"), "{names:?}");
    assert_eq!(result.row_count, names.len());
}

#[test]
fn zoned_timestamps_print_in_utc() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let result = store
        .query(
            "SELECT TIMESTAMPTZ '2026-05-28 20:26:40.5+02', now() > TIMESTAMPTZ '2026-01-01 00:00:00+00'",
            &QueryLimits::default(),
        )
        .unwrap();
    assert_eq!(
        result.rows[0][0],
        serde_json::json!("2026-05-28 18:26:40.5+00")
    );
    assert_eq!(result.rows[0][1], serde_json::json!(true));
}

#[test]
fn row_limit_truncates() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let limits = QueryLimits {
        max_rows: 5,
        ..QueryLimits::default()
    };
    let result = store.query("SELECT * FROM range(100)", &limits).unwrap();
    assert_eq!(result.row_count, 5);
    assert!(result.truncated);
}

#[test]
fn row_limit_stops_a_huge_scan() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let limits = QueryLimits {
        max_rows: 10,
        timeout: Duration::from_secs(20),
    };
    // Scanning all 10^11 rows would run into the time limit and fail.
    let result = store
        .query("SELECT range FROM range(100000000000)", &limits)
        .unwrap();
    assert_eq!(result.row_count, 10);
    assert!(result.truncated);
}

#[test]
fn result_byte_cap_truncates_long_text() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let limits = QueryLimits {
        max_rows: 1_000,
        ..QueryLimits::default()
    };
    // 1,000 rows of 1 MB would be about 1 GB of text.
    let result = store
        .query("SELECT repeat('x', 1000000) FROM range(1000)", &limits)
        .unwrap();
    assert!(result.truncated);
    assert!(result.row_count < 100, "{} rows", result.row_count);
    assert!(result.row_count > 10, "{} rows", result.row_count);
}

#[test]
fn streamed_query_is_interrupted_without_rows() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let limits = QueryLimits {
        max_rows: 10,
        timeout: Duration::from_millis(300),
    };
    // A join that yields no row streams nothing until the interrupt.
    let error = store
        .query(
            "SELECT a.range FROM range(100000000) a, range(100000) b WHERE a.range * b.range = -1",
            &limits,
        )
        .unwrap_err();
    assert!(matches!(error, StoreError::Timeout(_)), "{error}");
}

#[test]
fn cancelled_query_stops_before_its_time_limit() {
    use std::sync::atomic::{AtomicBool, Ordering};
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let limits = QueryLimits {
        timeout: Duration::from_secs(60),
        ..QueryLimits::default()
    };
    let cancel = Arc::new(AtomicBool::new(false));
    let setter = {
        let cancel = cancel.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(300));
            cancel.store(true, Ordering::Relaxed);
        })
    };
    // Left alone, the query would run into the 60 s limit and time out instead.
    let error = store
        .query_cancellable(
            "SELECT count(*) FROM range(100000000) a, range(100000) b",
            &limits,
            &cancel,
        )
        .unwrap_err();
    setter.join().unwrap();
    assert!(matches!(error, StoreError::Cancelled), "{error}");
}

#[test]
fn slow_query_is_interrupted() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let limits = QueryLimits {
        timeout: Duration::from_millis(300),
        ..QueryLimits::default()
    };
    let started = std::time::Instant::now();
    let error = store
        .query(
            "SELECT count(*) FROM range(100000000) a, range(100000) b",
            &limits,
        )
        .unwrap_err();
    assert!(matches!(error, StoreError::Timeout(_)), "{error}");
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[test]
fn external_access_is_disabled_even_without_guard() {
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("secret.csv");
    std::fs::write(&secret, "a\n1\n").unwrap();
    let store = open(dir.path());
    let limits = QueryLimits::default();
    for sql in [
        format!("SELECT * FROM read_csv('{}')", secret.display()),
        format!("SELECT * FROM '{}'", secret.display()),
        "SET enable_external_access = true".to_string(),
        "SET memory_limit = '100GB'".to_string(),
    ] {
        assert!(store.query(&sql, &limits).is_err(), "ran: {sql}");
    }
}

#[test]
fn guard_runs_before_store() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let error =
        run_user_sql(&store, "DROP TABLE otel_traces", &QueryLimits::default()).unwrap_err();
    assert!(matches!(error, StoreError::Rejected(_)), "{error}");
    let ok = run_user_sql(
        &store,
        "SELECT count(*) FROM otel_traces",
        &QueryLimits::default(),
    )
    .unwrap();
    assert_eq!(ok.rows[0][0], serde_json::json!(0));
}

#[test]
fn second_writer_gets_locked_error() {
    let dir = tempfile::tempdir().unwrap();
    let _first = open(dir.path());
    // DuckDB locks files per process; within one process the same file opens twice, so
    // this checks only that reopening does not corrupt anything.
    let second = DuckStore::open(dir.path(), &DuckOptions::default());
    assert!(second.is_ok() || matches!(second, Err(StoreError::Locked { .. })));
}

/// rrweb-like events: repetitive JSON, as replay bodies are.
fn replay_rows(count: usize) -> Vec<LogRow> {
    (0..count)
        .map(|i| LogRow {
            timestamp_ns: i as i64,
            body: format!(
                "{{\"type\":3,\"timestamp\":{i},\"data\":{{\"source\":0,\"adds\":[{{\"parentId\":5,\"node\":\
                 {{\"type\":2,\"id\":{},\"tagName\":\"tr\",\"attributes\":{{\"class\":\"order-row status-review\"}}}}}}]}}}}",
                i % 997
            ),
            ..Default::default()
        })
        .collect()
}

#[test]
fn replay_bodies_use_zstd() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let batch = Batch {
        sessions: replay_rows(200_000),
        ..Default::default()
    };
    store.write(&batch).unwrap();
    store.checkpoint().unwrap();
    let connection = store.duckdb_connection().expect("DuckDB").unwrap();
    let compressions: Vec<String> = connection
        .prepare(
            "SELECT DISTINCT compression FROM pragma_storage_info('hyperdx_sessions') \
             WHERE column_name = 'Body' AND segment_type = 'VARCHAR'",
        )
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(compressions, vec!["ZSTD".to_string()]);
    let raw: usize = batch.sessions.iter().map(|row| row.body.len()).sum();
    let file = std::fs::metadata(dir.path().join(exos_store::duck::DATABASE_FILE))
        .unwrap()
        .len() as usize;
    assert!(
        file < raw / 2,
        "the file ({file} bytes) should be well under the raw bodies ({raw} bytes)"
    );
}

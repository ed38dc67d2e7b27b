//! Latency of every analytics call over N synthetic spans, on DuckDB and ClickHouse.
//!
//! Ignored by default because loading ten million spans takes tens of minutes.
//! Run it with:
//!
//! ```sh
//! EXOS_BENCH_DIR=/tmp/exos-analytics-bench EXOS_BENCH_SPANS=10000000 \
//!   cargo test -p exos-analytics --test bench -- --ignored --nocapture
//! ```
//!
//! `EXOS_BENCH_DIR` keeps the loaded stores between runs (a store that already
//! contains rows is reused as it is); `EXOS_BENCH_STORES` picks `duckdb`,
//! `clickhouse` or both (the default). ClickHouse is the chdb harness on loopback.
//! Each call runs `EXOS_BENCH_RUNS` times (default 20) over the last
//! `EXOS_BENCH_RANGE_HOURS` hours of data (default 24, all of it), and p50/p95
//! are printed as a Markdown table.

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use common::ChdbServer;
use exos_analytics::errors::ErrorGroupRequest;
use exos_analytics::events::EventsRequest;
use exos_analytics::facets::FiltersRequest;
use exos_analytics::*;
use exos_core::{Batch, BusinessKeys, LogRow, SpanEvent, SpanRow};
use exos_store::{ClickHouseSettings, ClickHouseStore, DuckOptions, DuckStore, Store};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const SERVICES: [&str; 5] = [
    "document-service",
    "valuation-engine",
    "notification-service",
    "auth-service",
    "billing-service",
];
const STEPS: [&str; 12] = [
    "Order Received",
    "Assign Operator",
    "Review Documents",
    "Request Information",
    "Information Received",
    "Valuation",
    "Quality Check",
    "Rework",
    "Approve",
    "Deliver Report",
    "Close",
    "Cancel",
];
const LOBS: [&str; 5] = ["Appraisal", "Title", "Flood", "Valuation", "Closing"];
const STATUSES: [&str; 4] = ["open", "in_review", "waiting", "closed"];
const DAY_NS: i64 = 86_400_000_000_000;

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn text(pairs: &[(&str, String)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}

/// Distinct orders in the generated day: about 50 spans per order.
const ORDERS: u32 = 200_000;

/// Generates one trace of five spans starting at `start`: an order-api server span,
/// its client call, the downstream service's server span, a database call, and an
/// internal step.
fn generate_trace(rng: &mut StdRng, start: i64, spans: &mut Vec<SpanRow>, logs: &mut Vec<LogRow>) {
    let trace_id = format!("{:032x}", rng.gen::<u128>() | 1);
    let order = format!("ORD-2026-{:06}", rng.gen_range(0..ORDERS));
    let operator = format!("op-{}", rng.gen_range(100..160));
    let lob = LOBS[rng.gen_range(0..LOBS.len())];
    let user = format!("user{}@example.com", rng.gen_range(0..500));
    let session = if rng.gen_bool(0.3) {
        format!("{:032x}", rng.gen_range(0..20_000u128))
    } else {
        String::new()
    };
    let step = STEPS[rng.gen_range(0..STEPS.len())];
    let downstream = SERVICES[rng.gen_range(0..SERVICES.len())];
    let failed = rng.gen_bool(0.02);
    let ids: Vec<String> = (0..5)
        .map(|_| format!("{:016x}", rng.gen::<u64>() | 1))
        .collect();
    let mut business = vec![
        ("order.id", order.clone()),
        ("operator.id", operator),
        ("lob", lob.to_string()),
        ("user.id", user),
        (
            "http.route",
            format!(
                "/api/orders/{{id}}/{}",
                step.to_lowercase().replace(' ', "-")
            ),
        ),
        ("http.request.method", "POST".to_string()),
        ("deployment.environment", "production".to_string()),
        ("thread.name", format!("worker-{}", rng.gen_range(0..16))),
    ];
    if !session.is_empty() {
        business.push(("rum.session_id", session));
    }
    if rng.gen_bool(0.2) {
        business.push((
            "order.status",
            STATUSES[rng.gen_range(0..STATUSES.len())].to_string(),
        ));
    }
    let shapes: [(&str, &str, &'static str, usize, i64, u64); 5] = [
        ("order-api", step, "Server", 0, 0, rng.gen_range(20..400)),
        (
            "order-api",
            "call downstream",
            "Client",
            1,
            2,
            rng.gen_range(10..200),
        ),
        (downstream, step, "Server", 2, 3, rng.gen_range(5..150)),
        (
            downstream,
            "SELECT orders",
            "Client",
            3,
            4,
            rng.gen_range(1..40),
        ),
        (
            "order-api",
            "render",
            "Internal",
            1,
            300,
            rng.gen_range(1..20),
        ),
    ];
    for (index, (service, name, kind, parent, offset_ms, duration_ms)) in
        shapes.into_iter().enumerate()
    {
        let resource = Arc::new(text(&[
            ("service.name", service.to_string()),
            ("host.name", format!("node-{}", rng.gen_range(0..8))),
        ]));
        let attributes = text(&business);
        let error = failed && index == 2;
        let events = if error {
            vec![SpanEvent {
                timestamp_ns: start + offset_ms * 1_000_000,
                name: "exception".into(),
                attributes: text(&[
                    ("exception.type", "TimeoutError".to_string()),
                    (
                        "exception.message",
                        format!(
                            "upstream {downstream} timed out after {} ms for {order}",
                            rng.gen_range(1000..5000)
                        ),
                    ),
                    (
                        "exception.stacktrace",
                        format!(
                            "TimeoutError: timed out\n    at call ({downstream}.js:{}:5)",
                            rng.gen_range(1..4)
                        ),
                    ),
                ]),
            }]
        } else {
            Vec::new()
        };
        spans.push(SpanRow {
            timestamp_ns: start + offset_ms * 1_000_000,
            trace_id: trace_id.clone(),
            span_id: ids[index].clone(),
            parent_span_id: if index == 0 {
                String::new()
            } else {
                ids[parent].clone()
            },
            span_name: name.to_string(),
            span_kind: kind,
            service_name: service.into(),
            keys: BusinessKeys::extract(&attributes, &resource),
            resource_attributes: resource,
            span_attributes: attributes,
            duration_ns: duration_ms * 1_000_000 + rng.gen_range(0..1_000_000),
            status_code: if error { "Error" } else { "Ok" },
            status_message: if error {
                "upstream timeout".into()
            } else {
                String::new()
            },
            events,
            ..Default::default()
        });
    }
    let resource = Arc::new(text(&[("service.name", "order-api".to_string())]));
    let attributes = text(&business[..4]);
    logs.push(LogRow {
        timestamp_ns: start + 1_000_000,
        trace_id,
        span_id: ids[0].clone(),
        severity_text: if failed { "ERROR" } else { "INFO" }.into(),
        severity_number: if failed { 17 } else { 9 },
        service_name: "order-api".into(),
        body: format!("{step} for {order}"),
        keys: BusinessKeys::extract(&attributes, &resource),
        resource_attributes: resource,
        log_attributes: attributes,
        ..Default::default()
    });
}

/// Writes `spans` spans (and one log record per five spans) over the day before `end_ns`.
///
/// Traces start in time order with up to a second of jitter, as live ingest
/// delivers them, so the stores' time pruning (DuckDB zone maps, ClickHouse
/// partitions and primary key) works as it would in production.
fn load(store: &dyn Store, spans: usize, end_ns: i64) {
    let mut rng = StdRng::seed_from_u64(7);
    let started = Instant::now();
    let traces = spans.div_ceil(5).max(1) as i64;
    let mut index = 0;
    let mut done = 0;
    while done < spans {
        let mut batch = Batch::default();
        while batch.spans.len() < 100_000 && done + batch.spans.len() < spans {
            let start = end_ns - DAY_NS + DAY_NS / traces * index + rng.gen_range(0..1_000_000_000);
            generate_trace(
                &mut rng,
                start.min(end_ns - 1),
                &mut batch.spans,
                &mut batch.logs,
            );
            index += 1;
        }
        store.write(&batch).expect("bench batch written");
        done += batch.spans.len();
        eprint!(
            "\rloading: {done}/{spans} spans ({:.0}/s)   ",
            done as f64 / started.elapsed().as_secs_f64()
        );
    }
    eprintln!();
    store.checkpoint().expect("checkpoint");
}

fn span_count(store: &dyn Store) -> usize {
    let rows = exos_analytics::rows::query(store, "SELECT count(*) FROM otel_traces", 1).unwrap();
    rows[0].count(0).unwrap() as usize
}

/// Returns the newest span's time, so the bench's "last 24 hours" covers the loaded data.
fn newest(store: &dyn Store) -> i64 {
    let sql = exos_analytics::sql::Sql::new(store.dialect());
    let text = format!("SELECT max({}) FROM otel_traces", sql.epoch_ns("Timestamp"));
    exos_analytics::rows::query(store, &text, 1).unwrap()[0]
        .int(0)
        .unwrap()
}

/// Returns `from`, `to` (the last `EXOS_BENCH_RANGE_HOURS` hours, 24 by default, up to
/// the newest span) and `extra`.
fn pairs(range_end_ns: i64, extra: &[(&str, &str)]) -> Vec<(String, String)> {
    let to_ms = range_end_ns / 1_000_000 + 1;
    let hours: i64 = env_or("EXOS_BENCH_RANGE_HOURS", 24);
    let mut out = vec![
        ("from".to_string(), (to_ms - hours * 3_600_000).to_string()),
        ("to".to_string(), to_ms.to_string()),
    ];
    out.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    out
}

type Call<'a> = (
    &'static str,
    Box<dyn Fn() -> Result<(), AnalyticsError> + 'a>,
);

fn calls<'a>(store: &'a dyn Store, end: i64, trace_id: String) -> Vec<Call<'a>> {
    let errors_request = ErrorsRequest::from_query(&pairs(end, &[])).unwrap();
    let fingerprint = errors(store, &errors_request).unwrap().groups[0]
        .fingerprint
        .clone();
    let group = ErrorGroupRequest::from_query(&fingerprint, &pairs(end, &[])).unwrap();
    let services_request = ServicesRequest::from_query(&pairs(end, &[])).unwrap();
    let one_service =
        ServicesRequest::from_query(&pairs(end, &[("service", "document-service")])).unwrap();
    let user = VisitorRequest::from_query(&pairs(end, &[("user", "user42@example.com")])).unwrap();
    let session =
        VisitorRequest::from_query(&pairs(end, &[("session", &format!("{:032x}", 42))])).unwrap();
    let chart = VisualizeRequest {
        sql: "SELECT ServiceName, count(*) AS n FROM otel_traces GROUP BY ServiceName".into(),
        chart: exos_analytics::visualize::Chart {
            kind: exos_analytics::visualize::ChartKind::Bar,
            x: "ServiceName".into(),
            y: vec!["n".into()],
            series: None,
        },
    };
    let stats_request = StatsRequest::from_query(&pairs(end, &[])).unwrap();
    let filtered = StatsRequest::from_query(&pairs(end, &[("filter", "Lob=Title")])).unwrap();
    let events_request = EventsRequest::from_query(&pairs(end, &[])).unwrap();
    let search = EventsRequest::from_query(&pairs(end, &[("q", "rework")])).unwrap();
    let logs = EventsRequest::from_query(&pairs(end, &[("source", "logs")])).unwrap();
    let keys = FiltersRequest::from_query(&pairs(end, &[])).unwrap();
    let values = FiltersRequest::from_query(&pairs(end, &[("key", "Lob")])).unwrap();
    let attribute =
        FiltersRequest::from_query(&pairs(end, &[("key", "SpanAttributes.order.status")])).unwrap();
    let trace_request = TraceRequest::from_query(&trace_id, &[]).unwrap();
    let trace_ranged = TraceRequest::from_query(&trace_id, &pairs(end, &[])).unwrap();
    vec![
        (
            "stats",
            Box::new(move || stats(store, &stats_request).map(drop)),
        ),
        (
            "stats, filter Lob=Title",
            Box::new(move || stats(store, &filtered).map(drop)),
        ),
        (
            "events, spans",
            Box::new(move || events(store, &events_request).map(drop)),
        ),
        (
            "events, spans, q=rework",
            Box::new(move || events(store, &search).map(drop)),
        ),
        (
            "events, logs",
            Box::new(move || events(store, &logs).map(drop)),
        ),
        (
            "filters, keys",
            Box::new(move || filters(store, &keys).map(drop)),
        ),
        (
            "filters, values of Lob",
            Box::new(move || filters(store, &values).map(drop)),
        ),
        (
            "filters, values of SpanAttributes.order.status",
            Box::new(move || filters(store, &attribute).map(drop)),
        ),
        (
            "errors",
            Box::new(move || errors(store, &errors_request).map(drop)),
        ),
        (
            "errors/{fingerprint}",
            Box::new(move || error_group(store, &group).map(drop)),
        ),
        (
            "services",
            Box::new(move || services(store, &services_request).map(drop)),
        ),
        (
            "services, service=document-service",
            Box::new(move || services(store, &one_service).map(drop)),
        ),
        (
            "visitor, user",
            Box::new(move || visitor(store, &user).map(drop)),
        ),
        (
            "visitor, session",
            Box::new(move || visitor(store, &session).map(drop)),
        ),
        (
            "visualize, count by service (all rows)",
            Box::new(move || visualize(store, &chart).map(drop)),
        ),
        (
            "trace, no range",
            Box::new(move || trace(store, &trace_request).map(drop)),
        ),
        (
            "trace, with the range",
            Box::new(move || trace(store, &trace_ranged).map(drop)),
        ),
        ("schema", Box::new(move || schema(store).map(drop))),
    ]
}

fn measure(name: &str, store: &dyn Store, runs: usize) -> Vec<String> {
    let end = newest(store);
    let sql = exos_analytics::sql::Sql::new(store.dialect());
    let text = format!(
        "SELECT TraceId FROM otel_traces WHERE Timestamp >= {} ORDER BY Timestamp DESC LIMIT 1",
        sql.time(end - 3_600_000_000_000)
    );
    let trace_id = exos_analytics::rows::query(store, &text, 1).unwrap()[0].text(0);
    let mut lines = Vec::new();
    for (call, run) in calls(store, end, trace_id) {
        run().unwrap_or_else(|error| panic!("{name} {call}: {error}"));
        let mut times: Vec<f64> = (0..runs)
            .map(|_| {
                let started = Instant::now();
                run().unwrap();
                started.elapsed().as_secs_f64() * 1000.0
            })
            .collect();
        times.sort_by(f64::total_cmp);
        let at = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize];
        let line = format!(
            "| {name} | {call} | {:.0} | {:.0} | {:.0} |",
            at(0.5),
            at(0.95),
            times[times.len() - 1]
        );
        eprintln!("{line}");
        lines.push(line);
    }
    lines
}

fn duck(dir: &Path) -> Arc<dyn Store> {
    Arc::new(DuckStore::open(&dir.join("duckdb"), &DuckOptions::default()).expect("DuckDB opens"))
}

fn clickhouse(dir: &Path) -> (ChdbServer, Arc<dyn Store>) {
    let chdb = ChdbServer::start(&dir.join("chdb"));
    let settings = ClickHouseSettings {
        url: chdb.url.clone(),
        user: "default".into(),
        password: String::new(),
        database: "exos_analytics_bench".into(),
        retention_days: 0,
        replay_retention_days: None,
        max_query_memory_bytes: 4 << 30,
    };
    let store = ClickHouseStore::open(&settings).expect("ClickHouse opens");
    (chdb, Arc::new(store))
}

#[test]
#[ignore = "loads millions of spans; run with --ignored, see the file header"]
fn bench_calls() {
    let spans: usize = env_or("EXOS_BENCH_SPANS", 10_000_000);
    let runs: usize = env_or("EXOS_BENCH_RUNS", 20);
    let stores = std::env::var("EXOS_BENCH_STORES").unwrap_or_else(|_| "duckdb,clickhouse".into());
    let temp = tempfile::tempdir().unwrap();
    let dir = std::env::var("EXOS_BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| temp.path().to_path_buf());
    let end = exos_analytics::time::now_ns();
    let mut lines = Vec::new();
    if stores.contains("duckdb") {
        let store = duck(&dir);
        if span_count(store.as_ref()) == 0 {
            load(store.as_ref(), spans, end);
        }
        lines.extend(measure("DuckDB", store.as_ref(), runs));
    }
    if stores.contains("clickhouse") {
        let (_chdb, store) = clickhouse(&dir);
        if span_count(store.as_ref()) == 0 {
            load(store.as_ref(), spans, end);
        }
        lines.extend(measure("ClickHouse", store.as_ref(), runs));
    }
    println!("\n| store | call | p50 ms | p95 ms | max ms |\n|---|---|---|---|---|");
    for line in lines {
        println!("{line}");
    }
}

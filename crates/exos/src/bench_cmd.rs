//! `exos bench`: ingest and query benchmarks, run on this machine, in one command.
//!
//! `bench ingest` measures two paths over the same generated spans, which carry
//! about 20 attributes each and look like order-processing service spans. The
//! first is the raw rate of writing ready rows into the store. The second is the
//! durable end-to-end rate through a separate `exos serve` process, with this
//! process as the load generator posting pre-encoded OTLP/HTTP protobuf requests.
//! `bench queries` stores N spans, then times the dashboard questions. With
//! `--clickhouse-url`, both run on DuckDB and on ClickHouse, side by side.
//! `bench analytics` times the funnel, paths and retention questions next to
//! chdb (`bench_analytics`).

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use exos_core::Batch;
use exos_store::{run_user_sql, DuckOptions, DuckStore, QueryLimits, Store};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, KeyValue};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, Status};
use prost::Message;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// The benchmark to run.
#[derive(Debug, clap::Subcommand)]
pub enum Bench {
    /// Durable spans/s through OTLP/HTTP next to the raw DuckDB appender rate.
    Ingest {
        /// Spans sent in all.
        #[arg(long, default_value_t = 2_000_000)]
        spans: usize,
        /// Spans per OTLP request.
        #[arg(long, default_value_t = 5_000)]
        spans_per_request: usize,
        /// Concurrent client connections.
        #[arg(long, default_value_t = 4)]
        connections: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Also run on ClickHouse at this HTTP URL, side by side with DuckDB.
        #[arg(long)]
        clickhouse_url: Option<String>,
    },
    /// Latency of each page's API calls over N stored spans; with --paint, page paint times too.
    Pages {
        #[arg(long, default_value_t = 10_000_000)]
        spans: usize,
        /// Timed calls per route (after one warm-up call).
        #[arg(long, default_value_t = 20)]
        runs: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Also time each page's first meaningful paint in headless Chromium (needs node and
        /// the packages of tests/browser).
        #[arg(long)]
        paint: bool,
        /// Also run on ClickHouse at this HTTP URL, side by side with DuckDB.
        #[arg(long)]
        clickhouse_url: Option<String>,
        /// Keep the DuckDB store in this folder and reuse it on later runs with the same
        /// `--spans`, instead of loading a fresh one (the spans then age between runs).
        #[arg(long)]
        data: Option<std::path::PathBuf>,
    },
    /// Replay analysis speed and stored bytes per session-minute over generated recordings.
    Replay {
        #[arg(long, default_value_t = 100)]
        sessions: usize,
        #[arg(long, default_value_t = 30)]
        minutes: u64,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Instead, the sessions record at once: each round adds one minute of every
        /// session and the replay worker analyses each once, as it does live.
        #[arg(long)]
        live: bool,
    },
    /// Time for the replay page to show one long recorded session in headless Chromium
    /// (needs node and the packages of tests/browser).
    ReplayPaint {
        /// Length of the recorded session, in minutes.
        #[arg(long, default_value_t = 30)]
        minutes: u64,
        /// Timed page loads (after one warm-up load); the median is reported.
        #[arg(long, default_value_t = 5)]
        runs: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// The funnel, paths and retention questions through the API functions,
    /// next to native ClickHouse SQL in chdb over the same spans.
    Analytics {
        /// Spans generated (loading is not timed).
        #[arg(long, default_value_t = 10_000_000)]
        events: u64,
        /// Distinct actors (`UserId`) the spans are spread over.
        #[arg(long, default_value_t = 1_000_000)]
        actors: u64,
        /// Timed runs of each question.
        #[arg(long, default_value_t = 5)]
        runs: usize,
        /// Data folder to keep and reuse between runs (default: a temporary folder).
        #[arg(long)]
        data: Option<std::path::PathBuf>,
    },
    /// Query latency over N stored spans (median of 5 runs each).
    Queries {
        #[arg(long, default_value_t = 10_000_000)]
        spans: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Also run on ClickHouse at this HTTP URL, side by side with DuckDB.
        #[arg(long)]
        clickhouse_url: Option<String>,
    },
}

const SERVICES: [&str; 6] = [
    "order-api",
    "document-service",
    "valuation-engine",
    "notification-service",
    "auth-service",
    "postgres",
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

fn text(key: &str, value: String) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(value)),
        }),
        key_strindex: 0,
    }
}

fn int(key: &str, value: i64) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue {
            value: Some(any_value::Value::IntValue(value)),
        }),
        key_strindex: 0,
    }
}

pub(crate) fn now_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or_default()
}

/// When generated spans start within the window.
#[derive(Clone, Copy)]
pub(crate) enum Arrival {
    /// Anywhere in the window, in no order.
    Random,
    /// Span `index` of `total` at `index / total` of the window, plus up to
    /// `JITTER_NS`: the order in which live traffic reaches a store.
    InOrder { total: usize },
}

/// How far an in-order span may start after its place in the window.
const JITTER_NS: u64 = 5_000_000_000;

/// Generates one request of `count` spans of one service within the last `window_ns`.
pub(crate) fn request(
    rng: &mut StdRng,
    first: usize,
    count: usize,
    end_ns: u64,
    window_ns: u64,
    arrival: Arrival,
) -> ExportTraceServiceRequest {
    let service = SERVICES[rng.gen_range(0..SERVICES.len())];
    let spans = (first..first + count)
        .map(|index| {
            let start = match arrival {
                Arrival::Random => end_ns - rng.gen_range(0..window_ns),
                Arrival::InOrder { total } => {
                    let place = (window_ns as f64 * index as f64 / total.max(1) as f64) as u64;
                    (end_ns - window_ns + place + rng.gen_range(0..JITTER_NS)).min(end_ns - 1)
                }
            };
            let slow = rng.gen_bool(0.05);
            let duration = rng.gen_range(100_000..if slow { 5_000_000_000 } else { 200_000_000 });
            let order = rng.gen_range(0..1_000_000);
            let error = rng.gen_bool(0.02);
            let mut trace_id = rng.gen::<[u8; 16]>();
            trace_id[0] |= 1;
            Span {
                trace_id: trace_id.to_vec(),
                span_id: ((index as u64) + 1).to_be_bytes().to_vec(),
                parent_span_id: if rng.gen_bool(0.7) {
                    rng.gen::<[u8; 8]>().to_vec()
                } else {
                    Vec::new()
                },
                name: STEPS[rng.gen_range(0..STEPS.len())].into(),
                kind: rng.gen_range(1..4),
                start_time_unix_nano: start,
                end_time_unix_nano: start + duration,
                attributes: vec![
                    text("order.id", format!("ORD-2026-{order:06}")),
                    text("operator.id", format!("op-{}", rng.gen_range(100..160))),
                    text("lob", LOBS[rng.gen_range(0..LOBS.len())].into()),
                    text(
                        "user.id",
                        format!("user{}@example.com", rng.gen_range(0..500)),
                    ),
                    text(
                        "http.request.method",
                        ["GET", "POST", "PUT"][rng.gen_range(0..3)].into(),
                    ),
                    text(
                        "http.route",
                        format!("/api/orders/{{id}}/step{}", rng.gen_range(0..12)),
                    ),
                    int("http.response.status_code", if error { 500 } else { 200 }),
                    text("url.path", format!("/api/orders/ORD-2026-{order:06}")),
                    text("server.address", "order-api.internal".into()),
                    int("server.port", 8443),
                    text("network.protocol.version", "1.1".into()),
                    text(
                        "user_agent.original",
                        "Mozilla/5.0 (X11; Linux x86_64) Chrome/156.0".into(),
                    ),
                    text("db.system", "postgresql".into()),
                    text(
                        "db.operation.name",
                        ["SELECT", "UPDATE", "INSERT"][rng.gen_range(0..3)].into(),
                    ),
                    text("db.collection.name", "orders".into()),
                    int("db.response.returned_rows", rng.gen_range(0..50)),
                    text("deployment.environment", "production".into()),
                    text("thread.name", format!("worker-{}", rng.gen_range(0..16))),
                    int("retry.count", rng.gen_range(0..2)),
                    text("product.event", "false".into()),
                ],
                status: Some(Status {
                    code: if error { 2 } else { 1 },
                    message: if error {
                        "upstream timeout".into()
                    } else {
                        String::new()
                    },
                }),
                ..Default::default()
            }
        })
        .collect();
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: vec![
                    text("service.name", service.into()),
                    text("service.version", "2026.12.1".into()),
                    text("host.name", format!("node-{}", rng.gen_range(0..8))),
                ],
                ..Default::default()
            }),
            scope_spans: vec![ScopeSpans {
                spans,
                ..Default::default()
            }],
            schema_url: String::new(),
        }],
    }
}

/// Runs the chosen benchmark and prints a Markdown summary on stdout.
pub fn run(bench: Bench) -> anyhow::Result<()> {
    match bench {
        Bench::Ingest {
            spans,
            spans_per_request,
            connections,
            seed,
            clickhouse_url,
        } => {
            let targets = Target::all(clickhouse_url);
            ingest(
                spans,
                spans_per_request.max(1),
                connections.max(1),
                seed,
                &targets,
            )
        }
        Bench::Analytics {
            events,
            actors,
            runs,
            data,
        } => crate::bench_analytics::run(events, actors, runs, data),
        Bench::Queries {
            spans,
            seed,
            clickhouse_url,
        } => queries(spans, seed, &Target::all(clickhouse_url)),
        Bench::Replay {
            sessions,
            minutes,
            seed,
            live: false,
        } => crate::bench_replay::run(sessions.max(1), minutes.max(1), seed),
        Bench::Replay {
            sessions,
            minutes,
            seed,
            live: true,
        } => crate::bench_replay_live::run(sessions.max(1), minutes.max(1), seed),
        Bench::ReplayPaint {
            minutes,
            runs,
            seed,
        } => crate::bench_replay_paint::run(minutes.max(1), runs.max(1), seed),
        Bench::Pages {
            spans,
            runs,
            seed,
            paint,
            clickhouse_url,
            data,
        } => crate::bench_pages::run(spans, runs, seed, paint, clickhouse_url, data),
    }
}

/// A store a benchmark runs on.
pub(crate) enum Target {
    DuckDb,
    /// A ClickHouse server; each run gets a fresh database in it.
    ClickHouse {
        url: String,
    },
}

impl Target {
    pub(crate) fn all(clickhouse_url: Option<String>) -> Vec<Target> {
        let mut targets = vec![Target::DuckDb];
        targets.extend(clickhouse_url.map(|url| Target::ClickHouse { url }));
        targets
    }

    pub(crate) fn name(&self) -> &'static str {
        match self {
            Target::DuckDb => "DuckDB",
            Target::ClickHouse { .. } => "ClickHouse",
        }
    }

    /// Opens the store on a fresh data folder or database; returns it and the `serve` flags for it.
    pub(crate) fn open(
        &self,
        dir: &std::path::Path,
    ) -> anyhow::Result<(Arc<dyn Store>, Vec<String>)> {
        match self {
            Target::DuckDb => {
                let store = DuckStore::open(dir, &DuckOptions::default())?;
                Ok((
                    Arc::new(store),
                    vec!["--data-dir".into(), dir.display().to_string()],
                ))
            }
            Target::ClickHouse { url } => {
                let database = format!(
                    "exos_bench_{}_{}",
                    std::process::id(),
                    now_ns() % 1_000_000_000
                );
                let settings = exos_store::ClickHouseSettings {
                    url: url.clone(),
                    user: "default".into(),
                    password: String::new(),
                    database: database.clone(),
                    retention_days: 0,
                    replay_retention_days: None,
                    max_query_memory_bytes: 4 << 30,
                };
                let store = exos_store::ClickHouseStore::open(&settings)?;
                let flags = vec![
                    "--data-dir".into(),
                    dir.display().to_string(),
                    "--clickhouse-url".into(),
                    url.clone(),
                    "--clickhouse-database".into(),
                    database,
                ];
                Ok((Arc::new(store), flags))
            }
        }
    }
}

pub(crate) fn progress(label: &str, done: usize, total: usize, started: Instant) {
    let rate = done as f64 / started.elapsed().as_secs_f64().max(1e-9);
    eprint!(
        "\r{label}: {done}/{total} ({:.0}%, {rate:.0}/s)   ",
        100.0 * done as f64 / total.max(1) as f64
    );
    let _ = std::io::stderr().flush();
}

fn ingest(
    spans: usize,
    per_request: usize,
    connections: usize,
    seed: u64,
    targets: &[Target],
) -> anyhow::Result<()> {
    let mut rng = StdRng::seed_from_u64(seed);
    let end = now_ns();
    eprintln!("generating {spans} spans in requests of {per_request}…");
    let bodies: Vec<Vec<u8>> = (0..spans.div_ceil(per_request))
        .map(|i| {
            let count = per_request.min(spans - i * per_request);
            request(
                &mut rng,
                i * per_request,
                count,
                end,
                3_600_000_000_000,
                Arrival::Random,
            )
            .encode_to_vec()
        })
        .collect();
    let wire_bytes: usize = bodies.iter().map(Vec::len).sum();

    let mut lines = Vec::new();
    for target in targets {
        let raw = raw_store_rate(&bodies, target)?;
        let e2e = end_to_end(&bodies, spans, connections, target)?;
        lines.push(format!(
            "| {} | raw store write (rows prebuilt) | {raw:.0} | | | | |",
            target.name()
        ));
        lines.push(format!(
            "| {} | OTLP/HTTP protobuf, durable ack | {:.0} | {:.1} | {:.1} | {:.0} | {:.2} |",
            target.name(),
            e2e.rate,
            e2e.p50_ms,
            e2e.p99_ms,
            e2e.peak_rss_mib,
            e2e.rate / raw
        ));
    }
    println!("\n## exos bench ingest --spans {spans} --spans-per-request {per_request} --connections {connections}\n");
    println!(
        "Wire bytes per span: {:.0}.\n",
        wire_bytes as f64 / spans as f64
    );
    println!(
        "| store | path | spans/s | p50 ack ms | p99 ack ms | peak RSS MiB | end-to-end / raw |"
    );
    println!("|---|---|---|---|---|---|---|");
    for line in lines {
        println!("{line}");
    }
    Ok(())
}

fn raw_store_rate(bodies: &[Vec<u8>], target: &Target) -> anyhow::Result<f64> {
    let limits = exos_ingest::Limits::default();
    let mut batches: Vec<Batch> = Vec::new();
    let mut current = Batch::default();
    for body in bodies {
        let request = ExportTraceServiceRequest::decode(body.as_slice())?;
        let mut mapped = exos_ingest::traces::map(request, &limits);
        current.append(&mut mapped.batch);
        if current.len() >= 50_000 {
            batches.push(std::mem::take(&mut current));
        }
    }
    if !current.is_empty() {
        batches.push(current);
    }
    let dir = tempfile::tempdir()?;
    let (store, _) = target.open(dir.path())?;
    let total: usize = batches.iter().map(Batch::len).sum();
    let started = Instant::now();
    let mut done = 0;
    for batch in &batches {
        store.write(batch)?;
        done += batch.len();
        progress("raw appender", done, total, started);
    }
    eprintln!();
    Ok(total as f64 / started.elapsed().as_secs_f64())
}

struct EndToEnd {
    rate: f64,
    p50_ms: f64,
    p99_ms: f64,
    peak_rss_mib: f64,
}

fn end_to_end(
    bodies: &[Vec<u8>],
    spans: usize,
    connections: usize,
    target: &Target,
) -> anyhow::Result<EndToEnd> {
    let dir = tempfile::tempdir()?;
    let (store, flags) = target.open(dir.path())?;
    // The server opens the store itself: the embedded one allows a single process.
    drop(store);
    let server = spawn_server(&flags)?;
    let mut child = server.child;
    let url = format!("{}/v1/traces", server.otlp_http);
    let key = server.ingest_key;
    anyhow::ensure!(!url.is_empty(), "benchmark server did not start");
    let pid = child.id();

    let next = Arc::new(AtomicUsize::new(0));
    let acked = Arc::new(AtomicUsize::new(0));
    let latencies = Arc::new(Mutex::new(Vec::with_capacity(bodies.len())));
    let peak = Arc::new(Mutex::new(0.0f64));
    let started = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..connections {
            let (next, acked, latencies, url, key) = (
                next.clone(),
                acked.clone(),
                latencies.clone(),
                url.clone(),
                key.clone(),
            );
            scope.spawn(move || {
                let agent = ureq::AgentBuilder::new()
                    .timeout(Duration::from_secs(120))
                    .build();
                loop {
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    let Some(body) = bodies.get(index) else { break };
                    loop {
                        let sent = Instant::now();
                        let reply = agent
                            .post(&url)
                            .set("content-type", "application/x-protobuf")
                            .set("authorization", &key)
                            .send_bytes(body);
                        match reply {
                            Ok(_) => {
                                latencies
                                    .lock()
                                    .unwrap()
                                    .push(sent.elapsed().as_secs_f64() * 1000.0);
                                acked.fetch_add(1, Ordering::Relaxed);
                                break;
                            }
                            Err(ureq::Error::Status(429 | 503, _)) => {
                                std::thread::sleep(Duration::from_millis(50))
                            }
                            Err(error) => panic!("benchmark request failed: {error}"),
                        }
                    }
                }
            });
        }
        let (acked, peak) = (acked.clone(), peak.clone());
        let requests = bodies.len();
        scope.spawn(move || {
            let per_request = spans as f64 / requests as f64;
            while acked.load(Ordering::Relaxed) < requests {
                std::thread::sleep(Duration::from_millis(250));
                let mut peak = peak.lock().unwrap();
                *peak = peak.max(rss_mib(pid));
                progress(
                    "end to end",
                    (acked.load(Ordering::Relaxed) as f64 * per_request) as usize,
                    spans,
                    started,
                );
            }
        });
    });
    let elapsed = started.elapsed().as_secs_f64();
    eprintln!();
    let peak_rss_mib = peak.lock().unwrap().max(peak_rss(pid));
    let _ = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status();
    let _ = child.wait();
    let mut latencies = latencies.lock().unwrap().clone();
    latencies.sort_by(f64::total_cmp);
    let at = |q: f64| latencies[((latencies.len() - 1) as f64 * q).round() as usize];
    Ok(EndToEnd {
        rate: spans as f64 / elapsed,
        p50_ms: at(0.5),
        p99_ms: at(0.99),
        peak_rss_mib,
    })
}

fn status_field(pid: u32, field: &str) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            status.lines().find_map(|line| {
                line.strip_prefix(field).map(|rest| {
                    rest.trim()
                        .trim_end_matches(" kB")
                        .trim()
                        .parse::<f64>()
                        .ok()
                })
            })?
        })
        .map_or(0.0, |kib| kib / 1024.0)
}

fn rss_mib(pid: u32) -> f64 {
    status_field(pid, "VmRSS:")
}

fn peak_rss(pid: u32) -> f64 {
    status_field(pid, "VmHWM:")
}

/// The dashboard questions timed by `bench queries`, in ClickHouse SQL.
const CLICKHOUSE_QUESTIONS: [(&str, &str); 3] = [
    (
        "count by service, last hour",
        "SELECT ServiceName, count() AS spans FROM otel_traces \
         WHERE Timestamp >= now() - INTERVAL 1 HOUR GROUP BY ServiceName ORDER BY spans DESC",
    ),
    (
        "p95 Duration by SpanName",
        "SELECT SpanName, quantile(0.95)(Duration) AS p95_ns FROM otel_traces GROUP BY SpanName ORDER BY p95_ns DESC",
    ),
    (
        "errors by service",
        "SELECT ServiceName, count() AS errors FROM otel_traces \
         WHERE StatusCode IN ('Error', 'STATUS_CODE_ERROR') GROUP BY ServiceName ORDER BY errors DESC",
    ),
];

/// The dashboard questions timed by `bench queries`, in DuckDB SQL.
const QUESTIONS: [(&str, &str); 3] = [
    (
        "count by service, last hour",
        "SELECT ServiceName, count(*) AS spans FROM otel_traces \
         WHERE Timestamp >= now()::TIMESTAMP - INTERVAL 1 HOUR GROUP BY ServiceName ORDER BY spans DESC",
    ),
    (
        "p95 Duration by SpanName",
        "SELECT SpanName, quantile_cont(Duration, 0.95) AS p95_ns FROM otel_traces GROUP BY SpanName ORDER BY p95_ns DESC",
    ),
    (
        "errors by service",
        "SELECT ServiceName, count(*) AS errors FROM otel_traces \
         WHERE StatusCode IN ('Error', 'STATUS_CODE_ERROR') GROUP BY ServiceName ORDER BY errors DESC",
    ),
];

fn queries(spans: usize, seed: u64, targets: &[Target]) -> anyhow::Result<()> {
    let mut tables = Vec::new();
    for target in targets {
        tables.push(queries_on(spans, seed, target)?);
    }
    println!("\n## exos bench queries --spans {spans}\n");
    for table in tables {
        println!("{table}");
    }
    Ok(())
}

/// A benchmark's own `exos serve` process and what it printed at start.
pub(crate) struct BenchServer {
    pub child: std::process::Child,
    pub password: String,
    pub ingest_key: String,
    /// Base URL of the UI/API port.
    pub http: String,
    /// Base URL of the OTLP/HTTP receiver.
    pub otlp_http: String,
}

/// Starts `exos serve` with `flags` on ports chosen by the system and waits for its ready line.
pub(crate) fn spawn_server(flags: &[String]) -> anyhow::Result<BenchServer> {
    let mut child = Command::new(std::env::current_exe()?)
        .arg("serve")
        .args(flags)
        .args([
            "--http-addr",
            "127.0.0.1:0",
            "--otlp-http-addr",
            "127.0.0.1:0",
            "--otlp-grpc-addr",
            "127.0.0.1:0",
        ])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()?;
    let mut lines = BufReader::new(child.stdout.take().expect("piped")).lines();
    let (mut password, mut ingest_key) = (String::new(), String::new());
    let mut ready = None;
    for line in lines.by_ref() {
        let line = line?;
        if let Some(value) = line.strip_prefix("admin password: ") {
            password = value.to_string();
        } else if let Some(value) = line.strip_prefix("ingest key: ") {
            ingest_key = value.to_string();
        } else if let Some(rest) = line.strip_prefix("exos ready: ") {
            ready = Some(rest.to_string());
            break;
        }
    }
    // Keep reading stdout so the server never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    let Some(ready) = ready else {
        let _ = child.kill();
        anyhow::bail!("benchmark server did not start");
    };
    let field = |name: &str| {
        ready
            .split(' ')
            .find_map(|part| part.strip_prefix(&format!("{name}=")))
            .map(|addr| format!("http://{addr}"))
            .unwrap_or_default()
    };
    Ok(BenchServer {
        http: field("http"),
        otlp_http: field("otlp_http"),
        child,
        password,
        ingest_key,
    })
}

/// Writes `spans` generated spans, spread over the last day, straight into a store.
pub(crate) fn load_spans(store: &dyn Store, spans: usize, seed: u64) -> anyhow::Result<()> {
    let mut rng = StdRng::seed_from_u64(seed);
    let end = now_ns();
    let limits = exos_ingest::Limits::default();
    let started = Instant::now();
    let mut done = 0;
    while done < spans {
        let mut batch = Batch::default();
        while batch.len() < 100_000 && done + batch.len() < spans {
            let count = 5_000.min(spans - done - batch.len());
            // A day of data, so "the last hour" selects about 1/24 of it, stored
            // oldest first as a day of live traffic would be.
            let mut mapped = exos_ingest::traces::map(
                request(
                    &mut rng,
                    done + batch.len(),
                    count,
                    end,
                    86_400_000_000_000,
                    Arrival::InOrder { total: spans },
                ),
                &limits,
            );
            batch.append(&mut mapped.batch);
        }
        store.write(&batch)?;
        done += batch.len();
        progress("loading spans", done, spans, started);
    }
    store.checkpoint()?;
    eprintln!();
    Ok(())
}

/// Loads `spans` spans into a fresh store and times each question; returns a Markdown table.
fn queries_on(spans: usize, seed: u64, target: &Target) -> anyhow::Result<String> {
    let dir = tempfile::tempdir()?;
    let (store, _) = target.open(dir.path())?;
    let started = Instant::now();
    load_spans(store.as_ref(), spans, seed)?;
    let questions = match target {
        Target::DuckDb => QUESTIONS,
        Target::ClickHouse { .. } => CLICKHOUSE_QUESTIONS,
    };
    let mut out = format!(
        "### {}\n\nLoaded in {:.1} s ({:.0} spans/s).\n\n| question | median ms (5 runs) | min ms | max ms |\n|---|---|---|---|\n",
        target.name(),
        started.elapsed().as_secs_f64(),
        spans as f64 / started.elapsed().as_secs_f64()
    );
    for (name, sql) in questions {
        let mut times = Vec::new();
        for _ in 0..5 {
            let result = run_user_sql(store.as_ref(), sql, &QueryLimits::default())?;
            times.push(result.elapsed_ms);
        }
        times.sort_by(f64::total_cmp);
        out.push_str(&format!(
            "| {name} | {:.0} | {:.0} | {:.0} |\n",
            times[2], times[0], times[4]
        ));
    }
    Ok(out)
}

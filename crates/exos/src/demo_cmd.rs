//! `exos demo`: a server on the embedded store, filled with a simulated month
//! of order processing, then fed live traffic until Ctrl-C.
//!
//! The server runs in this process through the same code as `exos serve`, so
//! every serve flag applies. The simulator reaches it only through its OTLP/HTTP
//! receiver. A marker file in the data folder records a finished backfill, so
//! a restart on the same folder goes straight to live traffic. A store that
//! already contains simulated orders without the marker is not backfilled again either.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use exos_store::{CredentialKind, QueryLimits, Store};
use serde::{Deserialize, Serialize};

use crate::serve_cmd::{self, ServeArgs};
use crate::simulate_cmd::{self, ProtocolArg, SimulateArgs};

/// Flags of `exos demo`: those of `exos serve`, plus the simulation's.
#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    #[command(flatten)]
    pub serve: ServeArgs,
    /// Orders in the backfill.
    #[arg(long, default_value_t = 20_000)]
    pub orders: u64,
    /// Days of history the backfill covers, ending now.
    #[arg(long, default_value_t = 30)]
    pub days: u32,
    /// Seed of the simulation.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Stop sending after the backfill (the server keeps running until Ctrl-C).
    #[arg(long)]
    pub no_live: bool,
    /// New orders per second in live mode, on average over a week.
    #[arg(long, default_value_t = 0.2)]
    pub live_rate: f64,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 4)]
    pub concurrency: usize,
}

/// Contents of the marker file: the data folder's simulation so far.
#[derive(Debug, Serialize, Deserialize)]
struct Marker {
    seed: u64,
    backfill_orders: u64,
    backfill_end_ns: i64,
    /// Index of the next order, so that live orders of a restart get new ids.
    next_order: u64,
}

const MARKER_FILE: &str = "exos-demo.json";
const TRUTH_FILE: &str = "exos-demo-truth.json";
/// Truth of the live traffic, written when the demo stops.
const LIVE_TRUTH_FILE: &str = "exos-demo-live-truth.json";
/// Name of the ingest key the demo makes for itself; it replaces the previous one at each start.
const DEMO_KEY_NAME: &str = "exos-demo";

pub fn run(args: DemoArgs) -> anyhow::Result<()> {
    std::fs::create_dir_all(&args.serve.data_dir).with_context(|| {
        format!(
            "cannot create data folder {}",
            args.serve.data_dir.display()
        )
    })?;
    let store = serve_cmd::open_store(&args.serve)?;
    serve_cmd::log_settings(&args.serve);
    let first = serve_cmd::print_first_start(store.as_ref())?;
    let key = demo_ingest_key(store.as_ref())?;
    let stored = StoredOrders {
        any: store_holds_orders(store.as_ref()),
        next_order: next_stored_order(store.as_ref()),
    };
    let stop = simulate_cmd::stop_on_interrupt();
    let server = Server::start(&args.serve, Arc::clone(&store))?;
    print_banner(server.bound.http, first.as_ref());

    let marker_path = args.serve.data_dir.join(MARKER_FILE);
    let mut marker = read_marker(&marker_path)?;
    let outcome = simulate(
        &args,
        &server,
        &key,
        &mut marker,
        &marker_path,
        &stored,
        &stop,
    );
    if outcome.is_ok() && !stop.load(Ordering::Relaxed) {
        eprintln!("demo traffic stopped; the server keeps running until Ctrl-C");
        while !stop.load(Ordering::Relaxed) {
            std::thread::sleep(Duration::from_millis(200));
        }
    }
    server.stop()?;
    outcome
}

fn simulate(
    args: &DemoArgs,
    server: &Server,
    key: &str,
    marker: &mut Option<Marker>,
    marker_path: &Path,
    stored: &StoredOrders,
    stop: &AtomicBool,
) -> anyhow::Result<()> {
    let mut sim = simulate_args(args, server, key, marker_path);
    if marker.is_none() && stored.any {
        eprintln!("the store already contains simulated orders but no {MARKER_FILE} was found: skipping the backfill");
        *marker = Some(Marker {
            seed: args.seed,
            backfill_orders: 0,
            backfill_end_ns: 0,
            next_order: UNKNOWN_BACKFILL_NEXT_ORDER,
        });
    }
    match marker {
        Some(_) => eprintln!(
            "backfill already done in this data folder ({}); going live",
            marker_path.display()
        ),
        None => *marker = Some(backfill_once(args, &sim, marker_path, stop)?),
    }
    if args.no_live || stop.load(Ordering::Relaxed) {
        return Ok(());
    }
    let Some(current) = marker.as_mut() else {
        return Ok(());
    };
    // After a crash the marker still contains the first live order of the run before, so
    // the stored orders decide, and no order id is sent twice.
    if let Some(next) = stored.next_order {
        if next > current.next_order {
            eprintln!(
                "the store contains orders up to index {next}; live orders continue from there"
            );
            current.next_order = next;
        }
    }
    sim.rate = args.live_rate;
    sim.truth = marker_path.with_file_name(LIVE_TRUTH_FILE);
    eprintln!(
        "sending live traffic: {} new orders per second on average over a week (more in working hours); Ctrl-C stops",
        args.live_rate
    );
    let report = simulate_cmd::live(&sim, current.seed, current.next_order, None, stop)?;
    println!("{report}");

    current.next_order += report.orders;
    if current.backfill_end_ns != 0 {
        write_marker(marker_path, current)?;
    }
    Ok(())
}

/// First live order index when the store was filled without a marker: far above
/// any backfill's indexes, so live order ids do not repeat stored ones.
const UNKNOWN_BACKFILL_NEXT_ORDER: u64 = 10_000_000;

/// Runs the backfill and writes the marker when every order was sent and acknowledged.
fn backfill_once(
    args: &DemoArgs,
    sim: &SimulateArgs,
    marker_path: &Path,
    stop: &AtomicBool,
) -> anyhow::Result<Marker> {
    eprintln!(
        "backfilling {} orders over {} days (truth in {})",
        args.orders,
        args.days,
        sim.truth.display()
    );
    let (report, done) = simulate_cmd::backfill(sim, 0, stop)?;
    println!("{report}");

    let marker = Marker {
        seed: args.seed,
        backfill_orders: done,
        backfill_end_ns: simulate_cmd::now_ns(),
        next_order: done,
    };
    if done == args.orders && report.total.failed == 0 {
        write_marker(marker_path, &marker)?;
    }
    Ok(marker)
}

fn simulate_args(args: &DemoArgs, server: &Server, key: &str, marker_path: &Path) -> SimulateArgs {
    SimulateArgs {
        url: format!("http://{}", server.bound.otlp_http),
        grpc_url: format!("http://{}", server.bound.otlp_grpc),
        key: key.to_string(),
        orders: args.orders,
        days: args.days,
        rate: 0.0,
        seed: args.seed,
        end: None,
        protocol: ProtocolArg::HttpProtobuf,
        truth: marker_path.with_file_name(TRUTH_FILE),
        report: None,
        concurrency: args.concurrency,
        batch: 1_000,
        retry_secs: 600,
    }
}

/// Revokes the key of the previous demo run and makes a new one: keys are stored
/// hashed, so the simulator cannot reuse an old one.
fn demo_ingest_key(store: &dyn Store) -> anyhow::Result<String> {
    for credential in store.credentials()? {
        if credential.kind == CredentialKind::IngestKey
            && credential.name == DEMO_KEY_NAME
            && !credential.revoked
        {
            store.revoke_credential(CredentialKind::IngestKey, &credential.id)?;
        }
    }
    let (_, secret) =
        exos_server::auth::create_secret(store, CredentialKind::IngestKey, DEMO_KEY_NAME, "")?;
    Ok(secret)
}

/// True when the store already has simulated orders (the first activity of every order).
fn store_holds_orders(store: &dyn Store) -> bool {
    let sql = "SELECT count(*) FROM otel_traces WHERE SpanName = 'Order Received'";
    let limits = QueryLimits {
        max_rows: 1,
        timeout: Duration::from_secs(60),
    };
    match exos_store::run_user_sql(store, sql, &limits) {
        Ok(result) => {
            result
                .rows
                .first()
                .and_then(|row| row.first())
                .and_then(|v| v.as_u64().or_else(|| v.as_str()?.parse().ok()))
                .unwrap_or(0)
                > 0
        }
        Err(error) => {
            tracing::warn!(error = %error, "cannot count stored orders; relying on the marker file alone");
            false
        }
    }
}

/// The simulated orders found in the store when the demo started.
struct StoredOrders {
    /// Whether it contains any simulated order.
    any: bool,
    /// The index after its highest simulated order ([`next_stored_order`]).
    next_order: Option<u64>,
}

/// Returns the index after the highest simulated order in the store (order ids are
/// `ORD-<year>-<index + 1>`), or `None` when it contains none or cannot be read.
fn next_stored_order(store: &dyn Store) -> Option<u64> {
    let number = match store.dialect() {
        exos_store::Dialect::DuckDb => "TRY_CAST(substr(OrderId, 10) AS BIGINT)",
        exos_store::Dialect::ClickHouse => "toInt64OrZero(substring(OrderId, 10))",
    };
    let sql = format!("SELECT max({number}) FROM otel_traces WHERE OrderId LIKE 'ORD-____-%'");
    let limits = QueryLimits {
        max_rows: 1,
        timeout: Duration::from_secs(60),
    };
    match store.query(&sql, &limits) {
        Ok(result) => result
            .rows
            .first()
            .and_then(|row| row.first())
            .and_then(|v| v.as_u64().or_else(|| v.as_str()?.parse().ok())),
        Err(error) => {
            tracing::warn!(error = %error, "cannot read the stored order ids; relying on the marker file alone");
            None
        }
    }
}

fn print_banner(http: std::net::SocketAddr, first: Option<&exos_server::auth::FirstStart>) {
    println!();
    println!("  EXOS demo: open http://{http} and sign in as admin");
    match first {
        Some(first) => println!("  admin password: {}", first.admin_password),
        None => {
            println!("  admin password: the one printed on the first start of this data folder")
        }
    }
    println!();
}

fn read_marker(path: &Path) -> anyhow::Result<Option<Marker>> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(serde_json::from_str(&text).with_context(|| {
            format!(
                "invalid marker file {}: delete it to backfill again",
                path.display()
            )
        })?)),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(error).with_context(|| format!("cannot read {}", path.display())),
    }
}

fn write_marker(path: &Path, marker: &Marker) -> anyhow::Result<()> {
    let text = serde_json::to_string_pretty(marker)?;
    std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
}

/// The in-process server and the handle that stops it.
struct Server {
    bound: exos_server::Bound,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: std::thread::JoinHandle<anyhow::Result<()>>,
}

impl Server {
    fn start(args: &ServeArgs, store: Arc<dyn Store>) -> anyhow::Result<Self> {
        let config = args.server_config()?;
        let (ready_sender, ready) = std::sync::mpsc::channel();
        let (shutdown, shutdown_signal) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()?;
            let shutdown = async {
                let _ = shutdown_signal.await;
            };
            runtime.block_on(exos_server::serve(config, store, shutdown, move |bound| {
                serve_cmd::print_ready(bound);
                let _ = ready_sender.send(bound);
            }))
        });
        let bound = match ready.recv_timeout(Duration::from_secs(120)) {
            Ok(bound) => bound,
            Err(_) => {
                let reason = match thread.join() {
                    Ok(Err(error)) => format!("{error:#}"),
                    _ => "it did not become ready within 120 s".into(),
                };
                anyhow::bail!("the demo server failed to start: {reason}");
            }
        };
        Ok(Self {
            bound,
            shutdown: Some(shutdown),
            thread,
        })
    }

    /// Stops accepting, writes everything accepted, and waits for the server to exit.
    fn stop(mut self) -> anyhow::Result<()> {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        match self.thread.join() {
            Ok(result) => result,
            Err(_) => anyhow::bail!("the server thread panicked"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use exos_core::{Batch, BusinessKeys, SpanRow};
    use exos_store::{DuckOptions, DuckStore};

    fn order_span(order_id: &str, index: u8) -> SpanRow {
        SpanRow {
            timestamp_ns: 1_767_225_600_000_000_000,
            trace_id: format!("{index:032x}"),
            span_id: format!("{index:016x}"),
            span_name: "Order Received".into(),
            keys: BusinessKeys {
                order_id: order_id.into(),
                ..BusinessKeys::default()
            },
            ..SpanRow::default()
        }
    }

    #[test]
    fn next_stored_order_follows_the_highest_id() {
        let dir = tempfile::tempdir().unwrap();
        let store = DuckStore::open(dir.path(), &DuckOptions::default()).unwrap();
        assert_eq!(next_stored_order(&store), None);
        let spans = vec![
            order_span("ORD-2026-000009", 1),
            order_span("ORD-2027-020001", 2),
            order_span("ORD-2026-000120", 3),
            order_span("not-an-order", 4),
        ];
        store
            .write(&Batch {
                spans,
                ..Batch::default()
            })
            .unwrap();
        // ORD-2027-020001 is the order of index 20,000, so the next index is 20,001.
        assert_eq!(next_stored_order(&store), Some(20_001));
    }
}

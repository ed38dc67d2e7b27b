//! `exos simulate`: drive any EXOS instance with simulated order-processing telemetry.
//!
//! With `--rate 0` it backfills `--orders` orders over the `--days` before
//! `--end` as fast as the server takes them, and writes the truth file. With a
//! positive rate it sends live traffic at that many orders per second on
//! average over a week (more in working hours, fewer at night and on weekends),
//! and writes the truth of what it sent when it stops.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use exos_sim::calendar::{parse_utc, DAY_NS};
use exos_sim::{
    Backfill, BackfillSettings, BatchLimits, Counters, Live, LiveSettings, Protocol, Report, Target,
};

/// Flags of `exos simulate`.
#[derive(Debug, clap::Args)]
pub struct SimulateArgs {
    /// Base URL of the OTLP/HTTP receiver (browser spans and replay always go here).
    #[arg(long, env = "EXOS_SIM_URL", default_value = "http://127.0.0.1:4318")]
    pub url: String,
    /// URL of the OTLP/gRPC receiver, used with `--protocol grpc`.
    #[arg(
        long,
        env = "EXOS_SIM_GRPC_URL",
        default_value = "http://127.0.0.1:4317"
    )]
    pub grpc_url: String,
    /// Ingest key, sent in the `authorization` header.
    #[arg(long, env = "EXOS_INGEST_KEY", hide_env_values = true)]
    pub key: String,
    /// Orders to generate; in live mode, orders to start before stopping (0 runs until Ctrl-C).
    #[arg(long, default_value_t = 20_000)]
    pub orders: u64,
    /// Days of history the backfill spreads orders over, ending at `--end`.
    #[arg(long, default_value_t = 30)]
    pub days: u32,
    /// New orders per second in live mode (the mean over a week); 0 backfills as fast as the server accepts.
    #[arg(long, default_value_t = 0.0)]
    pub rate: f64,
    /// Seed of every random draw: the same seed and `--end` give the same payloads and truth.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// End of the backfill window: Unix seconds or RFC 3339 UTC (2026-03-01T00:00:00Z); default now.
    #[arg(long)]
    pub end: Option<String>,
    /// Protocol of backend telemetry (browser spans and replay always use OTLP/HTTP).
    #[arg(long, value_enum, default_value_t = ProtocolArg::HttpProtobuf)]
    pub protocol: ProtocolArg,
    /// Path of the truth file (JSON) the backfill, or live mode when it stops, writes.
    #[arg(long, default_value = "exos-sim-truth.json")]
    pub truth: PathBuf,
    /// Also write the final report as JSON to this file.
    #[arg(long)]
    pub report: Option<PathBuf>,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 4)]
    pub concurrency: usize,
    /// Records (spans, log records, metric points) per request, at most.
    #[arg(long, default_value_t = 1_000)]
    pub batch: u64,
    /// Seconds one request is retried on 429/503 before its records count as failed.
    #[arg(long, default_value_t = 600)]
    pub retry_secs: u64,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum ProtocolArg {
    HttpProtobuf,
    HttpJson,
    Grpc,
}

impl SimulateArgs {
    pub(crate) fn target(&self) -> Target {
        Target {
            http_url: self.url.clone(),
            grpc_url: self.grpc_url.clone(),
            key: self.key.clone(),
            protocol: match self.protocol {
                ProtocolArg::HttpProtobuf => Protocol::HttpProtobuf,
                ProtocolArg::HttpJson => Protocol::HttpJson,
                ProtocolArg::Grpc => Protocol::Grpc,
            },
            retry_budget: Duration::from_secs(self.retry_secs),
        }
    }

    fn end_ns(&self) -> anyhow::Result<i64> {
        match &self.end {
            Some(text) => parse_utc(text).with_context(|| format!("invalid --end {text:?}: use Unix seconds or RFC 3339 UTC such as 2026-03-01T00:00:00Z")),
            None => Ok(now_ns()),
        }
    }
}

pub fn run(args: SimulateArgs) -> anyhow::Result<()> {
    let stop = stop_on_interrupt();
    let report = if args.rate > 0.0 {
        let max_orders = (args.orders > 0).then_some(args.orders);
        live(&args, args.seed, 0, max_orders, &stop)?
    } else {
        backfill(&args, 0, &stop)?.0
    };
    finish_report(&report, args.report.as_deref())
}

/// Prints the report and writes it as JSON when asked; fails when records were lost.
pub(crate) fn finish_report(report: &Report, path: Option<&std::path::Path>) -> anyhow::Result<()> {
    println!("{report}");
    if let Some(path) = path {
        let text = serde_json::to_string_pretty(report)?;
        std::fs::write(path, text)
            .with_context(|| format!("cannot write report {}", path.display()))?;
    }
    if report.total.failed > 0 {
        anyhow::bail!(
            "{} records were not acknowledged; see the errors logged above",
            report.total.failed
        );
    }
    Ok(())
}

/// Runs the backfill, writes the truth file, and returns the report and the orders done.
pub(crate) fn backfill(
    args: &SimulateArgs,
    first_order: u64,
    stop: &AtomicBool,
) -> anyhow::Result<(Report, u64)> {
    let end_ns = args.end_ns()?;
    let settings = BackfillSettings {
        seed: args.seed,
        orders: args.orders,
        start_ns: end_ns - i64::from(args.days.max(1)) * DAY_NS,
        end_ns,
        first_order,
        batch: BatchLimits {
            records: args.batch.max(1),
        },
    };
    let mut generator = Backfill::new(settings);
    let counters = Arc::new(Counters::default());
    let progress = crate::progress::spawn(Arc::clone(&counters), Some(args.orders), "backfill");
    let report = exos_sim::run_backfill(
        &mut generator,
        args.target(),
        args.concurrency,
        counters,
        stop,
    )?;
    progress.finish();
    generator.truth().write(&args.truth)?;
    eprintln!("truth written to {}", args.truth.display());
    Ok((report, generator.orders_done()))
}

/// Runs live mode from now until `stop` is set or `max_orders` have finished.
pub(crate) fn live(
    args: &SimulateArgs,
    seed: u64,
    first_order: u64,
    max_orders: Option<u64>,
    stop: &AtomicBool,
) -> anyhow::Result<Report> {
    let now = now_ns();
    let model =
        exos_sim::model::Model::build(seed, now - i64::from(args.days.max(1)) * DAY_NS, now);
    let settings = LiveSettings {
        seed,
        rate: args.rate,
        first_order,
        max_orders,
        max_in_flight: 200_000,
        batch: BatchLimits {
            records: args.batch.max(1),
        },
    };
    let mut live = Live::new(settings, model, now);
    let counters = Arc::new(Counters::default());
    let progress = crate::progress::spawn(Arc::clone(&counters), max_orders, "live");
    let report = exos_sim::run_live(
        &mut live,
        args.target(),
        args.concurrency,
        counters,
        stop,
        now_ns,
    )?;
    progress.finish();
    // Every step sent so far was acknowledged or reported as failed: the truth
    // covers them, and counts the orders still in progress as in flight.
    live.truth().write(&args.truth)?;
    eprintln!("truth of the live run written to {}", args.truth.display());
    Ok(report)
}

pub(crate) fn now_ns() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| elapsed.as_nanos() as i64)
        .unwrap_or_default()
}

/// Returns a flag that the first SIGINT or SIGTERM sets; a second one exits at once.
pub(crate) fn stop_on_interrupt() -> Arc<AtomicBool> {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    std::thread::spawn(move || {
        let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        else {
            tracing::warn!("cannot install the Ctrl-C handler; stop the run with SIGKILL");
            return;
        };
        runtime.block_on(async {
            crate::serve_cmd::wait_for_signal().await;
            eprintln!("stopping: sending what is queued (Ctrl-C again to exit at once)");
            flag.store(true, Ordering::Relaxed);
            crate::serve_cmd::wait_for_signal().await;
            std::process::exit(130);
        });
    });
    stop
}

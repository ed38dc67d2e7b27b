//! `exos`: the one binary of EXOS.
//!
//! A thin command-line layer over the library crates: it parses flags (each
//! also an `EXOS_*` environment variable), sets up logging, opens the store and
//! hands over to `exos-server` or runs a one-shot command.

mod bench_analytics;
mod bench_cmd;
mod bench_pages;
mod bench_replay;
mod bench_replay_live;
mod bench_replay_paint;
mod credentials_cmd;
mod demo_cmd;
mod import_cmd;
mod progress;
mod serve_cmd;
mod simulate_cmd;
mod sql_cmd;
mod users_cmd;

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

/// EXOS: self-hosted operational intelligence over OpenTelemetry.
#[derive(Debug, Parser)]
#[command(name = "exos", version, about)]
struct Cli {
    /// Log output format (logs go to stderr; filter with RUST_LOG).
    #[arg(long, global = true, env = "EXOS_LOG_FORMAT", value_enum, default_value_t = LogFormat::Pretty)]
    log_format: LogFormat,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum LogFormat {
    Pretty,
    Json,
}

/// The data folder flag shared by commands that open the embedded store.
#[derive(Debug, clap::Args)]
struct DataDir {
    /// Folder of the embedded store (created when missing).
    #[arg(long, env = "EXOS_DATA_DIR", default_value = "./exos-data")]
    data_dir: PathBuf,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the server: OTLP receivers, API and web UI on the embedded store.
    Serve(Box<serve_cmd::ServeArgs>),
    /// Run a server filled with a simulated month of order processing, then live traffic.
    Demo(Box<demo_cmd::DemoArgs>),
    /// Send simulated order-processing telemetry to a running EXOS, with a truth file.
    Simulate(simulate_cmd::SimulateArgs),
    /// Import an event log file (XES, CSV, Parquet, OCEL 2.0) into the store, printing its report.
    Import(Box<import_cmd::ImportArgs>),
    /// Export a stored event log as XES, CSV or OCEL 2.0 (JSON or SQLite).
    Export(Box<import_cmd::ExportArgs>),
    /// Run one read-only SQL query, on a running server (--url) or on the data folder.
    Sql(sql_cmd::SqlArgs),
    /// Manage ingest keys (stop `exos serve` first, or use the /api/keys endpoints).
    Keys {
        #[command(subcommand)]
        action: credentials_cmd::Action,
        #[command(flatten)]
        data: DataDir,
    },
    /// Run a benchmark on this machine and print the results as Markdown.
    Bench {
        #[command(subcommand)]
        bench: bench_cmd::Bench,
    },
    /// Print the DDL of every table and view for one store dialect.
    Schema {
        /// duckdb or clickhouse.
        #[arg(long, default_value = "clickhouse")]
        dialect: String,
        /// ClickHouse only: days of data kept (TTL); 0 keeps data forever.
        #[arg(long, default_value_t = 0)]
        retention_days: u32,
    },
    /// Manage users of the web UI and API (stop `exos serve` first, or use /api/users).
    Users {
        #[command(subcommand)]
        action: users_cmd::Action,
        #[command(flatten)]
        data: DataDir,
    },
    /// Manage API tokens for `/api/*` (stop `exos serve` first).
    Tokens {
        #[command(subcommand)]
        action: credentials_cmd::Action,
        #[command(flatten)]
        data: DataDir,
    },
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Pretty => builder.init(),
    }
}

fn print_schema(dialect: &str, retention_days: u32) -> anyhow::Result<()> {
    let dialect = match dialect {
        "duckdb" => exos_store::Dialect::DuckDb,
        "clickhouse" => exos_store::Dialect::ClickHouse,
        other => anyhow::bail!("unknown dialect {other:?}: use duckdb or clickhouse"),
    };
    let options = exos_store::schema::ClickHouseOptions {
        retention_days,
        ..Default::default()
    };
    for statement in exos_store::schema::all_ddl(dialect, &options) {
        println!("{statement};\n");
    }
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    init_logging(cli.log_format);
    match cli.command {
        Command::Serve(args) => serve_cmd::run(*args),
        Command::Demo(args) => demo_cmd::run(*args),
        Command::Simulate(args) => simulate_cmd::run(args),
        Command::Sql(args) => sql_cmd::run(args),
        Command::Import(args) => import_cmd::run_import(*args),
        Command::Export(args) => import_cmd::run_export(*args),
        Command::Keys { action, data } => credentials_cmd::run(
            exos_store::CredentialKind::IngestKey,
            action,
            &data.data_dir,
        ),
        Command::Bench { bench } => bench_cmd::run(bench),
        Command::Schema {
            dialect,
            retention_days,
        } => print_schema(&dialect, retention_days),
        Command::Users { action, data } => users_cmd::run(action, &data.data_dir),
        Command::Tokens { action, data } => {
            credentials_cmd::run(exos_store::CredentialKind::ApiToken, action, &data.data_dir)
        }
    }
}

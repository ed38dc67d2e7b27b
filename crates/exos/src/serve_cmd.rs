//! `exos serve`: open the store, create first credentials, run until a signal.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use exos_server::ServerConfig;
use exos_store::{ClickHouseSettings, ClickHouseStore, DuckOptions, DuckStore, QueryLimits, Store};

/// Flags of `exos serve`.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Folder of the embedded store (created when missing).
    #[arg(long, env = "EXOS_DATA_DIR", default_value = "./exos-data")]
    pub data_dir: PathBuf,
    /// Address of the web UI and API.
    #[arg(long, env = "EXOS_HTTP_ADDR", default_value = "127.0.0.1:8080")]
    pub http_addr: SocketAddr,
    /// Address of the OTLP/HTTP receiver.
    #[arg(long, env = "EXOS_OTLP_HTTP_ADDR", default_value = "127.0.0.1:4318")]
    pub otlp_http_addr: SocketAddr,
    /// Address of the OTLP/gRPC receiver.
    #[arg(long, env = "EXOS_OTLP_GRPC_ADDR", default_value = "127.0.0.1:4317")]
    pub otlp_grpc_addr: SocketAddr,
    /// Largest OTLP request body accepted, in bytes after decompression.
    #[arg(long, env = "EXOS_MAX_BODY_BYTES", default_value_t = 16 * 1024 * 1024)]
    pub max_body_bytes: usize,
    /// Ingest queue capacity in bytes; when full, senders get 429/503 and retry.
    #[arg(long, env = "EXOS_QUEUE_BYTES", default_value_t = 256 * 1024 * 1024)]
    pub queue_bytes: usize,
    /// Rows per store write, at most.
    #[arg(long, env = "EXOS_BATCH_MAX_ROWS", default_value_t = 50_000)]
    pub batch_max_rows: usize,
    /// Milliseconds a batch waits for more rows before it is written.
    #[arg(long, env = "EXOS_BATCH_MAX_WAIT_MS", default_value_t = 200)]
    pub batch_max_wait_ms: u64,
    /// Threads writing batches to the store at the same time.
    #[arg(long, env = "EXOS_WRITER_THREADS", default_value_t = 2)]
    pub writer_threads: usize,
    /// Rows a SQL query returns at most.
    #[arg(long, env = "EXOS_QUERY_MAX_ROWS", default_value_t = 10_000)]
    pub query_max_rows: usize,
    /// Seconds after which a SQL query is interrupted.
    #[arg(long, env = "EXOS_QUERY_TIMEOUT_SECS", default_value_t = 30)]
    pub query_timeout_secs: u64,
    /// DuckDB memory limit for ingest and queries together (DuckDB syntax, e.g. 4GB).
    #[arg(long, env = "EXOS_MEMORY_LIMIT", default_value = "4GB")]
    pub memory_limit: String,
    /// ClickHouse HTTP URL (e.g. http://127.0.0.1:8123); when set, data goes to ClickHouse
    /// instead of the embedded store, and the server keeps no state of its own.
    #[arg(long, env = "EXOS_CLICKHOUSE_URL")]
    pub clickhouse_url: Option<String>,
    /// ClickHouse user.
    #[arg(long, env = "EXOS_CLICKHOUSE_USER", default_value = "default")]
    pub clickhouse_user: String,
    /// ClickHouse password.
    #[arg(
        long,
        env = "EXOS_CLICKHOUSE_PASSWORD",
        default_value = "",
        hide_env_values = true
    )]
    pub clickhouse_password: String,
    /// ClickHouse database.
    #[arg(long, env = "EXOS_CLICKHOUSE_DATABASE", default_value = "default")]
    pub clickhouse_database: String,
    /// Days of telemetry kept on ClickHouse (table TTL); 0 keeps it forever.
    #[arg(long, env = "EXOS_RETENTION_DAYS", default_value_t = 0)]
    pub retention_days: u32,
    /// PEM certificate chain: with --tls-key, the UI/API port speaks HTTPS and cookies are `Secure`.
    #[arg(long, env = "EXOS_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key of --tls-cert.
    #[arg(long, env = "EXOS_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Failed logins for one user name within the lock window that lock it.
    #[arg(long, env = "EXOS_LOGIN_MAX_FAILURES_PER_USER", default_value_t = 5)]
    pub login_max_failures_per_user: usize,
    /// Failed logins from one client address within the lock window that lock it.
    #[arg(
        long,
        env = "EXOS_LOGIN_MAX_FAILURES_PER_ADDRESS",
        default_value_t = 20
    )]
    pub login_max_failures_per_address: usize,
    /// Seconds over which failed logins are counted (and the longest a lock lasts).
    #[arg(long, env = "EXOS_LOGIN_LOCK_SECONDS", default_value_t = 900)]
    pub login_lock_seconds: u64,
    /// Seconds a browser session lasts after login (30 days by default).
    #[arg(long, env = "EXOS_SESSION_LIFETIME_SECS", default_value_t = 30 * 24 * 3600)]
    pub session_lifetime_secs: u64,
    /// Extra attribute keys (regular expression) whose values are scrubbed before storing;
    /// repeat the flag or separate with commas in the variable. Captured authorization,
    /// cookie and set-cookie headers are always scrubbed.
    #[arg(
        long = "scrub-attribute",
        env = "EXOS_SCRUB_ATTRIBUTES",
        value_delimiter = ','
    )]
    pub scrub_attributes: Vec<String>,
    /// Extra text patterns (regular expression) scrubbed wherever they appear: attribute
    /// values, log bodies, replay events. Bearer tokens and password fields always are.
    #[arg(long = "scrub-value", env = "EXOS_SCRUB_VALUES", value_delimiter = ',')]
    pub scrub_values: Vec<String>,
    /// Days of session replay recordings kept, on either store (other data follows
    /// --retention-days); unset keeps them as long as other data.
    #[arg(long, env = "EXOS_REPLAY_RETENTION_DAYS")]
    pub replay_retention_days: Option<u32>,
    /// Milliseconds a browser session must be quiet before its recording is analysed for
    /// rage, dead and error clicks (sessions that keep sending are analysed every minute).
    #[arg(long, env = "EXOS_REPLAY_QUIET_MS", default_value_t = 5_000)]
    pub replay_quiet_ms: u64,
    /// Test hook: milliseconds to sleep before each store write, to simulate a slow store.
    #[arg(
        long,
        env = "EXOS_TEST_WRITE_DELAY_MS",
        default_value_t = 0,
        hide = true
    )]
    pub test_write_delay_ms: u64,
}

impl ServeArgs {
    pub(crate) fn server_config(&self) -> anyhow::Result<ServerConfig> {
        let scrub =
            exos_ingest::scrub::ScrubRules::new(&self.scrub_attributes, &self.scrub_values)?;
        Ok(ServerConfig {
            scrub,
            replay: exos_server::replay_worker::ReplaySettings {
                quiet: Duration::from_millis(self.replay_quiet_ms),
                retention: self
                    .replay_retention_days
                    .filter(|days| *days > 0)
                    .map(|days| Duration::from_secs(u64::from(days) * 86_400)),
                ..Default::default()
            },
            http_addr: self.http_addr,
            otlp_http_addr: self.otlp_http_addr,
            otlp_grpc_addr: self.otlp_grpc_addr,
            max_body_bytes: self.max_body_bytes,
            queue_bytes: self.queue_bytes,
            batch_max_rows: self.batch_max_rows.max(1),
            batch_max_wait: Duration::from_millis(self.batch_max_wait_ms),
            write_delay: Duration::from_millis(self.test_write_delay_ms),
            writer_threads: self.writer_threads.max(1),
            query_limits: QueryLimits {
                max_rows: self.query_max_rows,
                timeout: Duration::from_secs(self.query_timeout_secs.max(1)),
            },
            lockout: exos_server::session::LockoutSettings {
                max_failures_per_user: self.login_max_failures_per_user,
                max_failures_per_address: self.login_max_failures_per_address,
                window: Duration::from_secs(self.login_lock_seconds.max(1)),
            },
            session_lifetime: Duration::from_secs(self.session_lifetime_secs.max(1)),
            tls: self
                .tls_cert
                .clone()
                .zip(self.tls_key.clone())
                .map(|(cert, key)| exos_server::config::TlsFiles { cert, key }),
            ..ServerConfig::default()
        })
    }
}

/// Runs the server in a multi-threaded runtime until SIGTERM or SIGINT.
pub fn run(args: ServeArgs) -> anyhow::Result<()> {
    let store = open_store(&args)?;
    log_settings(&args);
    print_first_start(store.as_ref())?;
    let config = args.server_config()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(exos_server::serve(
        config,
        store,
        shutdown_signal(),
        print_ready,
    ))
}

pub(crate) fn log_settings(args: &ServeArgs) {
    tracing::info!(
        data_dir = %args.data_dir.display(),
        clickhouse_url = args.clickhouse_url.as_deref().unwrap_or("(embedded store)"),
        clickhouse_user = %args.clickhouse_user,
        clickhouse_database = %args.clickhouse_database,
        retention_days = args.retention_days,
        http_addr = %args.http_addr,
        otlp_http_addr = %args.otlp_http_addr,
        otlp_grpc_addr = %args.otlp_grpc_addr,
        max_body_bytes = args.max_body_bytes,
        queue_bytes = args.queue_bytes,
        batch_max_rows = args.batch_max_rows,
        batch_max_wait_ms = args.batch_max_wait_ms,
        query_max_rows = args.query_max_rows,
        query_timeout_secs = args.query_timeout_secs,
        memory_limit = %args.memory_limit,
        "starting exos serve"
    );
}

/// Creates the first credentials of a new data folder and prints them once;
/// returns them too, or `None` when the folder already had credentials.
pub(crate) fn print_first_start(
    store: &dyn Store,
) -> anyhow::Result<Option<exos_server::auth::FirstStart>> {
    let Some(first) = exos_server::auth::bootstrap(store)? else {
        return Ok(None);
    };
    // Printed once, on stdout and never in logs: only hashes are stored.
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "First start: these credentials are shown only once. Keep them."
    )?;
    writeln!(out, "admin password: {}", first.admin_password)?;
    writeln!(out, "ingest key: {}", first.ingest_key)?;
    out.flush()?;
    Ok(Some(first))
}

pub(crate) fn print_ready(bound: exos_server::Bound) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "exos ready: http={} otlp_http={} otlp_grpc={}",
        bound.http, bound.otlp_http, bound.otlp_grpc
    );
    let _ = out.flush();
}

pub(crate) fn open_store(args: &ServeArgs) -> anyhow::Result<Arc<dyn Store>> {
    if let Some(url) = &args.clickhouse_url {
        let settings = ClickHouseSettings {
            url: url.clone(),
            user: args.clickhouse_user.clone(),
            password: args.clickhouse_password.clone(),
            database: args.clickhouse_database.clone(),
            retention_days: args.retention_days,
            replay_retention_days: args.replay_retention_days,
            max_query_memory_bytes: 4 * 1024 * 1024 * 1024,
        };
        return Ok(Arc::new(ClickHouseStore::open(&settings)?));
    }
    let options = DuckOptions {
        memory_limit: args.memory_limit.clone(),
        ..DuckOptions::default()
    };
    Ok(Arc::new(DuckStore::open(&args.data_dir, &options)?))
}

/// Resolves on the first SIGTERM or SIGINT; a second one exits at once.
pub(crate) async fn shutdown_signal() {
    wait_for_signal().await;
    tokio::spawn(async {
        wait_for_signal().await;
        tracing::warn!("second signal: exiting without draining");
        std::process::exit(130);
    });
}

pub(crate) async fn wait_for_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let mut terminate = signal(SignalKind::terminate()).expect("SIGTERM handler installs");
    let mut interrupt = signal(SignalKind::interrupt()).expect("SIGINT handler installs");
    tokio::select! {
        _ = terminate.recv() => {}
        _ = interrupt.recv() => {}
    }
}

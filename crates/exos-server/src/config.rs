//! Settings of a running server, filled by the CLI from flags and `EXOS_*` variables.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use exos_ingest::scrub::ScrubRules;
use exos_ingest::Limits;
use exos_store::QueryLimits;

use crate::session::LockoutSettings;

/// Everything `serve` needs besides the store.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Web UI, `/api/*`, `/health`, `/ready`, `/metrics`.
    pub http_addr: SocketAddr,
    /// OTLP/HTTP receiver.
    pub otlp_http_addr: SocketAddr,
    /// OTLP/gRPC receiver.
    pub otlp_grpc_addr: SocketAddr,
    /// Largest request body accepted, after decompression.
    pub max_body_bytes: usize,
    /// Ingest queue capacity in bytes of decoded request bodies.
    pub queue_bytes: usize,
    /// A batch is written when it has this many rows…
    pub batch_max_rows: usize,
    /// …or when its first job has waited this long.
    pub batch_max_wait: Duration,
    /// Threads writing batches to the store at the same time.
    pub writer_threads: usize,
    /// Test hook: sleep before every batch write to simulate a slow store.
    pub write_delay: Duration,
    /// How long shutdown waits for the queue to drain.
    pub shutdown_timeout: Duration,
    pub record_limits: Limits,
    pub query_limits: QueryLimits,
    /// When failed logins lock a user name or a client address.
    pub lockout: LockoutSettings,
    /// Certificate and key files: the UI/API port speaks HTTPS when set.
    pub tls: Option<TlsFiles>,
    /// How long a browser session lasts after login.
    pub session_lifetime: Duration,
    /// Secrets and personal data removed from every batch before it is stored.
    pub scrub: ScrubRules,
    /// When sessions with new data are analysed for replay signals.
    pub replay: crate::replay_worker::ReplaySettings,
}

/// PEM files of the UI/API port's TLS certificate chain and private key.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            http_addr: ([127, 0, 0, 1], 8080).into(),
            otlp_http_addr: ([127, 0, 0, 1], 4318).into(),
            otlp_grpc_addr: ([127, 0, 0, 1], 4317).into(),
            max_body_bytes: 16 * 1024 * 1024,
            queue_bytes: 256 * 1024 * 1024,
            batch_max_rows: 50_000,
            batch_max_wait: Duration::from_millis(200),
            write_delay: Duration::ZERO,
            writer_threads: 2,
            shutdown_timeout: Duration::from_secs(30),
            record_limits: Limits::default(),
            query_limits: QueryLimits::default(),
            lockout: LockoutSettings::default(),
            tls: None,
            session_lifetime: crate::session::SESSION_LIFETIME,
            scrub: ScrubRules::default(),
            replay: crate::replay_worker::ReplaySettings::default(),
        }
    }
}

//! State shared by every handler of one server.

use std::sync::Arc;

use exos_ingest::QueueSender;
use exos_store::Store;
use metrics_exporter_prometheus::PrometheusHandle;

use crate::auth::Auth;
use crate::config::ServerConfig;

/// Cheap to clone: everything inside is shared.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub queue: QueueSender,
    pub auth: Arc<Auth>,
    pub config: Arc<ServerConfig>,
    pub metrics: PrometheusHandle,
    /// The addresses the listeners bound, shown to users setting up senders.
    pub bound: crate::Bound,
    /// Browser sessions with new data, waiting for replay analysis.
    pub dirty_sessions: crate::replay_worker::DirtySessions,
    /// Event logs built from spans, reused for a minute by the process routes.
    pub process_cache: Arc<exos_process::LogCache>,
}

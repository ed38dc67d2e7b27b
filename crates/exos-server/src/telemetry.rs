//! The server's own Prometheus metrics: names, labels and the exporter handle.
//!
//! Names follow `exos_<area>_<what>_<unit>`; labels are small fixed sets
//! (signal, reason, route template, status), never raw paths or values.

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

pub const RECORDS_ACCEPTED: &str = "exos_ingest_records_accepted_total";
pub const RECORDS_REJECTED: &str = "exos_ingest_records_rejected_total";
pub const REQUESTS_REFUSED: &str = "exos_ingest_requests_refused_total";
pub const VALUES_SCRUBBED: &str = "exos_ingest_values_scrubbed_total";
pub const QUEUE_BYTES: &str = "exos_ingest_queue_bytes";
pub const BATCH_WRITE_SECONDS: &str = "exos_store_batch_write_seconds";
pub const BATCH_ROWS: &str = "exos_store_batch_rows";
pub const QUERY_SECONDS: &str = "exos_query_seconds";
pub const HTTP_REQUESTS: &str = "exos_http_requests_total";

/// Installs the process-wide recorder once and returns its handle.
pub fn install() -> PrometheusHandle {
    static HANDLE: std::sync::OnceLock<PrometheusHandle> = std::sync::OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let seconds = [
                0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
            ];
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), &seconds)
                .expect("bucket list is not empty")
                .set_buckets_for_metric(
                    Matcher::Full(BATCH_ROWS.into()),
                    &[10.0, 100.0, 1e3, 1e4, 5e4, 1e5, 1e6],
                )
                .expect("bucket list is not empty");
            match builder.install_recorder() {
                Ok(handle) => handle,
                // A recorder installed by someone else (tests running servers in one process):
                // keep a private one so /metrics still renders.
                Err(_) => PrometheusBuilder::new().build_recorder().handle(),
            }
        })
        .clone()
}

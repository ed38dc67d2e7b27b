//! The receiver-independent half of ingest: enqueue mapped rows and wait until durable.

use exos_ingest::{Mapped, QueueError, Signal};

use crate::state::AppState;
use crate::telemetry;

/// A failure to store a request's rows; each variant maps to an HTTP status and a gRPC code.
#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    #[error("ingest queue is full; retry after {0} s")]
    QueueFull(u64),
    #[error("server is shutting down; retry against another instance or later")]
    ShuttingDown,
    #[error("store write failed ({0}); retry later")]
    Store(String),
}

/// The outcome reported to the sender: rejected records and the message about them.
#[derive(Debug, Default)]
pub struct Accepted {
    pub rejected: u64,
    pub message: String,
}

/// Seconds a client should wait before retrying when the queue is full.
pub const RETRY_AFTER_SECONDS: u64 = 1;

/// Enqueues the rows and waits until the writer reports them committed.
pub async fn submit(
    state: &AppState,
    signal: Signal,
    mut mapped: Mapped,
    size: usize,
) -> Result<Accepted, SubmitError> {
    let scrubbed = state.config.scrub.scrub_batch(&mut mapped.batch);
    if scrubbed > 0 {
        metrics::counter!(telemetry::VALUES_SCRUBBED, "signal" => signal.as_str())
            .increment(scrubbed as u64);
    }
    let accepted_rows = mapped.batch.len() as u64;
    let outcome = Accepted {
        rejected: mapped.rejected,
        message: mapped.message(),
    };
    if mapped.rejected > 0 {
        metrics::counter!(telemetry::RECORDS_REJECTED, "signal" => signal.as_str(), "reason" => "invalid")
            .increment(mapped.rejected);
    }
    if accepted_rows == 0 {
        return Ok(outcome);
    }
    let refuse = |reason: &'static str| {
        metrics::counter!(telemetry::REQUESTS_REFUSED, "signal" => signal.as_str(), "reason" => reason).increment(1);
    };
    // Sessions whose replay analysis this request changes: new recording data, or new spans.
    let mut sessions: Vec<String> = mapped
        .batch
        .sessions
        .iter()
        .map(|r| r.keys.rum_session_id.as_str())
        .chain(
            mapped
                .batch
                .spans
                .iter()
                .map(|s| s.keys.rum_session_id.as_str()),
        )
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    sessions.sort_unstable();
    sessions.dedup();
    // What the replay worker keeps of the rows, so that it need not read them back.
    let feeds = state
        .dirty_sessions
        .wants_feeds()
        .then(|| crate::replay_worker::feeds_of(&mapped.batch));
    let done = match state.queue.try_send(mapped.batch, size) {
        Ok(done) => done,
        Err(QueueError::Full) => {
            refuse("queue_full");
            return Err(SubmitError::QueueFull(RETRY_AFTER_SECONDS));
        }
        Err(QueueError::Closed) => {
            refuse("shutting_down");
            return Err(SubmitError::ShuttingDown);
        }
    };
    metrics::gauge!(telemetry::QUEUE_BYTES).set(state.queue.used_bytes() as f64);
    match done.await {
        Ok(Ok(())) => {
            metrics::counter!(telemetry::RECORDS_ACCEPTED, "signal" => signal.as_str())
                .increment(accepted_rows);
            match feeds {
                Some(mut feeds) => {
                    for session in sessions {
                        feeds.entry(session).or_default();
                    }
                    state.dirty_sessions.feed(feeds);
                }
                None => state
                    .dirty_sessions
                    .mark(sessions.iter().map(String::as_str)),
            }
            Ok(outcome)
        }
        Ok(Err(error)) => {
            refuse("store_failed");
            Err(SubmitError::Store(error))
        }
        Err(_) => {
            refuse("shutting_down");
            Err(SubmitError::ShuttingDown)
        }
    }
}

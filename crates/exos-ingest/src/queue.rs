//! The bounded ingest queue between receivers and the batch writer.
//!
//! Capacity is counted in bytes (the decoded request size), not in items, so
//! a few huge requests cannot exhaust memory while many small ones still
//! flow. A receiver reserves bytes before enqueueing; when the reservation
//! fails, the request is refused with 429/503 instead of waiting. Each job
//! carries a channel on which the writer reports whether its rows are durable.

use std::sync::mpsc;
use std::sync::Arc;

use exos_core::Batch;
use tokio::sync::{oneshot, OwnedSemaphorePermit, Semaphore};

/// One request's rows on their way to the store.
pub struct Job {
    pub batch: Batch,
    /// Held until the job is written, returning its bytes to the queue.
    pub reservation: OwnedSemaphorePermit,
    /// Tells the receiver the outcome once the rows are committed (or failed).
    pub done: oneshot::Sender<Result<(), String>>,
}

/// A failure to enqueue a job.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum QueueError {
    #[error("ingest queue is full; retry after a short delay")]
    Full,
    #[error("ingest queue is closed because the server is shutting down")]
    Closed,
}

/// The sending side, cloned into every receiver.
#[derive(Clone)]
pub struct QueueSender {
    jobs: mpsc::Sender<Job>,
    bytes: Arc<Semaphore>,
    capacity: usize,
}

/// Creates a queue holding at most `capacity` bytes; the receiver goes to the writer.
pub fn bounded(capacity: usize) -> (QueueSender, mpsc::Receiver<Job>) {
    let (jobs, receiver) = mpsc::channel();
    let capacity = capacity.clamp(1, Semaphore::MAX_PERMITS);
    let sender = QueueSender {
        jobs,
        bytes: Arc::new(Semaphore::new(capacity)),
        capacity,
    };
    (sender, receiver)
}

impl QueueSender {
    /// Enqueues a batch of `size` bytes, or fails at once when there is no room.
    ///
    /// A batch larger than the whole queue reserves the whole queue, so it can
    /// still pass when the queue is empty.
    pub fn try_send(
        &self,
        batch: Batch,
        size: usize,
    ) -> Result<oneshot::Receiver<Result<(), String>>, QueueError> {
        let permits = size.clamp(1, self.capacity).min(u32::MAX as usize) as u32;
        let reservation = self
            .bytes
            .clone()
            .try_acquire_many_owned(permits)
            .map_err(|error| match error {
                tokio::sync::TryAcquireError::NoPermits => QueueError::Full,
                tokio::sync::TryAcquireError::Closed => QueueError::Closed,
            })?;
        let (done, outcome) = oneshot::channel();
        self.jobs
            .send(Job {
                batch,
                reservation,
                done,
            })
            .map_err(|_| QueueError::Closed)?;
        Ok(outcome)
    }

    /// Returns the bytes currently reserved by queued or in-flight jobs.
    pub fn used_bytes(&self) -> usize {
        self.capacity - self.bytes.available_permits()
    }

    /// Returns the queue's capacity in bytes.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Refuses every later `try_send`, for shutdown.
    pub fn close(&self) {
        self.bytes.close();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_queue_refuses_until_bytes_return() {
        let (sender, receiver) = bounded(100);
        let _first = sender.try_send(Batch::default(), 80).unwrap();
        assert_eq!(
            sender.try_send(Batch::default(), 30).unwrap_err(),
            QueueError::Full
        );
        drop(receiver.recv().unwrap());
        assert!(sender.try_send(Batch::default(), 30).is_ok());
    }

    #[test]
    fn oversized_batch_takes_whole_queue() {
        let (sender, _receiver) = bounded(100);
        assert!(sender.try_send(Batch::default(), 1_000).is_ok());
        assert_eq!(sender.used_bytes(), 100);
    }

    #[test]
    fn closed_queue_refuses() {
        let (sender, _receiver) = bounded(100);
        sender.close();
        assert_eq!(
            sender.try_send(Batch::default(), 1).unwrap_err(),
            QueueError::Closed
        );
    }
}

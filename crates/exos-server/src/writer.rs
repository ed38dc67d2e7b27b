//! The batch writers: threads that drain the ingest queue into the store.
//!
//! Jobs are merged until the batch has `batch_max_rows` rows or its first job
//! has waited `batch_max_wait`, whichever comes first, then written in one
//! transaction. Every job of the batch learns the outcome only after the
//! commit, which is what lets receivers acknowledge durably. When the store
//! fails, every job of the batch receives the error and its sender retries.

use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use exos_core::Batch;
use exos_ingest::Job;
use exos_store::Store;

use crate::telemetry;

/// Batch-size and timing settings of the writer.
#[derive(Debug, Clone)]
pub struct WriterSettings {
    pub max_rows: usize,
    pub max_wait: Duration,
    /// Test hook: sleep before each write.
    pub delay: Duration,
    /// Threads writing batches at the same time.
    pub threads: usize,
}

/// Starts the writer threads; they end when every queue sender is gone and the queue is empty.
///
/// The returned thread waits for all writers, so joining it joins them all.
pub fn spawn(
    store: Arc<dyn Store>,
    jobs: Receiver<Job>,
    settings: WriterSettings,
) -> JoinHandle<()> {
    let jobs = Arc::new(Mutex::new(jobs));
    let writers: Vec<JoinHandle<()>> = (0..settings.threads.max(1))
        .map(|index| {
            let (store, jobs, settings) = (store.clone(), jobs.clone(), settings.clone());
            std::thread::Builder::new()
                .name(format!("exos-writer-{index}"))
                .spawn(move || run(store.as_ref(), &jobs, &settings))
                .expect("the OS can start a writer thread")
        })
        .collect();
    std::thread::Builder::new()
        .name("exos-writers".into())
        .spawn(move || {
            for writer in writers {
                let _ = writer.join();
            }
            tracing::info!("ingest queue drained, writers stopped");
        })
        .expect("the OS can start one thread")
}

fn run(store: &dyn Store, jobs: &Mutex<Receiver<Job>>, settings: &WriterSettings) {
    loop {
        // One writer at a time gathers a batch; the others write theirs meanwhile.
        let group = {
            let jobs = jobs.lock().expect("job queue lock poisoned");
            match jobs.recv() {
                Ok(first) => collect(first, &jobs, settings),
                Err(_) => return,
            }
        };
        write(store, group, settings);
    }
}

/// Gathers jobs after `first` until the batch is full or its time is up.
fn collect(first: Job, jobs: &Receiver<Job>, settings: &WriterSettings) -> Vec<Job> {
    let deadline = Instant::now() + settings.max_wait;
    let mut rows = first.batch.len();
    let mut group = vec![first];
    while rows < settings.max_rows {
        let left = deadline.saturating_duration_since(Instant::now());
        match jobs.recv_timeout(left) {
            Ok(job) => {
                rows += job.batch.len();
                group.push(job);
            }
            Err(RecvTimeoutError::Timeout) | Err(RecvTimeoutError::Disconnected) => break,
        }
    }
    group
}

fn write(store: &dyn Store, mut group: Vec<Job>, settings: &WriterSettings) {
    if !settings.delay.is_zero() {
        std::thread::sleep(settings.delay);
    }
    let mut batch = Batch::default();
    for job in &mut group {
        batch.append(&mut job.batch);
    }
    let rows = batch.len();
    let started = Instant::now();
    let outcome = store.write(&batch).map_err(|error| error.to_string());
    metrics::histogram!(telemetry::BATCH_WRITE_SECONDS).record(started.elapsed().as_secs_f64());
    metrics::histogram!(telemetry::BATCH_ROWS).record(rows as f64);
    if let Err(error) = &outcome {
        tracing::error!(%error, rows, requests = group.len(), "batch write failed; senders will be asked to retry");
    }
    for job in group {
        // A receiver that gave up (client gone) is fine to ignore: the rows are written either way.
        let _ = job.done.send(outcome.clone());
        drop(job.reservation);
    }
}

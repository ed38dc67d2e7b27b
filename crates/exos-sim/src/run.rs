//! Running a simulation: one thread generates, worker threads send.
//!
//! The generator hands finished requests to the workers through a bounded
//! channel, so generation never runs far ahead of what the server absorbs and
//! memory stays flat however many orders the run has. Payload content does not
//! depend on the number of workers; only the order of arrival at the server does.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::batch::{Payload, Stream};
use crate::generate::Backfill;
use crate::live::Live;
use crate::report::{Report, StreamTotals};
use crate::send::{SendError, Sender, Target};

/// Progress of a run, readable from another thread (for a progress bar).
#[derive(Debug, Default)]
pub struct Counters {
    pub orders_done: AtomicU64,
    pub records_sent: AtomicU64,
    pub records_acknowledged: AtomicU64,
    pub records_failed: AtomicU64,
}

/// Worker threads sending what the generator produces.
pub struct Pipeline {
    sender: Option<SyncSender<Payload>>,
    workers: Vec<JoinHandle<BTreeMap<Stream, StreamTotals>>>,
}

impl Pipeline {
    /// Starts `concurrency` workers (at least one) sending to `target`.
    pub fn start(
        target: Target,
        concurrency: usize,
        counters: Arc<Counters>,
    ) -> Result<Self, SendError> {
        let concurrency = concurrency.max(1);
        let (sender, receiver) = sync_channel::<Payload>(concurrency * 2);
        let receiver = Arc::new(Mutex::new(receiver));
        let client = Sender::new(target)?;
        let workers = (0..concurrency)
            .map(|_| {
                let receiver = Arc::clone(&receiver);
                let client = client.clone();
                let counters = Arc::clone(&counters);
                std::thread::spawn(move || work(&receiver, &client, &counters))
            })
            .collect();
        Ok(Self {
            sender: Some(sender),
            workers,
        })
    }

    /// Queues one payload, waiting while every worker is busy.
    pub fn submit(&self, payload: Payload) {
        if let Some(sender) = &self.sender {
            // The send fails only when every worker has exited, which happens after `finish`.
            let _ = sender.send(payload);
        }
    }

    /// Waits for the queued payloads to be sent and returns the totals.
    pub fn finish(mut self) -> Report {
        self.sender.take();
        let mut report = Report::default();
        for worker in self.workers.drain(..) {
            match worker.join() {
                Ok(totals) => report.merge(&totals),
                Err(_) => tracing::error!(
                    "a sender thread panicked; its totals are missing from the report"
                ),
            }
        }
        report
    }
}

fn work(
    receiver: &Mutex<Receiver<Payload>>,
    client: &Sender,
    counters: &Counters,
) -> BTreeMap<Stream, StreamTotals> {
    let mut totals: BTreeMap<Stream, StreamTotals> = BTreeMap::new();
    loop {
        let next = match receiver.lock() {
            Ok(guard) => guard.recv(),
            Err(_) => return totals,
        };
        let Ok(payload) = next else {
            return totals;
        };
        let outcome = client.send(&payload);
        counters
            .records_sent
            .fetch_add(payload.records, Ordering::Relaxed);
        counters
            .records_acknowledged
            .fetch_add(outcome.acknowledged, Ordering::Relaxed);
        counters
            .records_failed
            .fetch_add(outcome.failed, Ordering::Relaxed);
        totals
            .entry(payload.stream)
            .or_default()
            .add(payload.records, &outcome);
    }
}

/// Runs a backfill to its end (or until `stop` is set) and returns the report.
pub fn run_backfill(
    backfill: &mut Backfill,
    target: Target,
    concurrency: usize,
    counters: Arc<Counters>,
    stop: &AtomicBool,
) -> Result<Report, SendError> {
    let started = Instant::now();
    let pipeline = Pipeline::start(target, concurrency, Arc::clone(&counters))?;
    while !stop.load(Ordering::Relaxed) {
        let Some(payloads) = backfill.next_payloads() else {
            break;
        };
        counters
            .orders_done
            .store(backfill.orders_done(), Ordering::Relaxed);
        for payload in payloads {
            pipeline.submit(payload);
        }
    }
    let mut report = pipeline.finish();
    report.finish(backfill.orders_done(), started.elapsed().as_secs_f64());
    Ok(report)
}

/// How often live mode looks at the clock, and cuts partial batches.
const LIVE_TICK: Duration = Duration::from_secs(1);

/// Runs live mode until `stop` is set or the live order limit is done.
pub fn run_live(
    live: &mut Live,
    target: Target,
    concurrency: usize,
    counters: Arc<Counters>,
    stop: &AtomicBool,
    now_ns: impl Fn() -> i64,
) -> Result<Report, SendError> {
    let started = Instant::now();
    let pipeline = Pipeline::start(target, concurrency, Arc::clone(&counters))?;
    while !stop.load(Ordering::Relaxed) && !live.done() {
        for payload in live.tick(now_ns(), true) {
            pipeline.submit(payload);
        }
        counters
            .orders_done
            .store(live.orders_started(), Ordering::Relaxed);
        std::thread::sleep(LIVE_TICK);
    }
    let mut report = pipeline.finish();
    report.finish(live.orders_started(), started.elapsed().as_secs_f64());
    Ok(report)
}

//! The backfill generator: orders of a time window, one after another, with
//! the jobs and metrics of the time between them.
//!
//! Generation is streamed. Each call to [`Backfill::next_payloads`] plans one
//! order, emits its telemetry and returns the requests that filled up. A run of
//! a million orders therefore keeps at most one open batch per stream in memory.
//! The i-th of N orders arrives at the matching quantile of the window's arrival
//! intensity, so arrivals come in time order.

use crate::backend::emit_step;
use crate::background::{emit_job, emit_metrics, JOB_INTERVAL_NS};
use crate::batch::{BatchLimits, Batcher, Payload};
use crate::browser::{emit_session, plan_session};
use crate::calendar::{ArrivalCurve, MINUTE_NS};
use crate::model::{Activity, Model};
use crate::process::{plan_order, Order};
use crate::random::{Purpose, Random};
use crate::truth::{RunSettings, Truth};

/// Width of one metrics slot.
pub const METRIC_SLOT_NS: i64 = 10 * MINUTE_NS;

/// Settings of a backfill.
#[derive(Debug, Clone)]
pub struct BackfillSettings {
    pub seed: u64,
    pub orders: u64,
    pub start_ns: i64,
    pub end_ns: i64,
    /// Index of the first order, so that later runs on the same store get new order ids.
    pub first_order: u64,
    pub batch: BatchLimits,
}

/// A backfill in progress.
pub struct Backfill {
    settings: BackfillSettings,
    model: Model,
    curve: ArrivalCurve,
    batcher: Batcher,
    truth: Truth,
    next_order: u64,
    next_job: u64,
    next_slot: u64,
    orders_per_slot: f64,
    finished: bool,
}

impl Backfill {
    pub fn new(settings: BackfillSettings) -> Self {
        let model = Model::build(settings.seed, settings.start_ns, settings.end_ns);
        let truth = Truth::new(
            &model,
            RunSettings {
                seed: settings.seed,
                orders: settings.orders,
                start_ns: settings.start_ns,
                end_ns: settings.end_ns,
            },
        );
        let slots = ((settings.end_ns - settings.start_ns) / METRIC_SLOT_NS).max(1);
        Self {
            curve: ArrivalCurve::new(settings.start_ns, settings.end_ns),
            batcher: Batcher::new(settings.batch),
            orders_per_slot: settings.orders as f64 / slots as f64,
            model,
            truth,
            next_order: 0,
            next_job: 0,
            next_slot: 0,
            finished: false,
            settings,
        }
    }

    pub fn model(&self) -> &Model {
        &self.model
    }

    pub fn truth(&self) -> &Truth {
        &self.truth
    }

    /// Orders generated so far.
    pub fn orders_done(&self) -> u64 {
        self.next_order
    }

    /// Generates the next order, or the tail of the window once all orders are
    /// done, and returns the requests that are ready. `None` means the backfill is over.
    pub fn next_payloads(&mut self) -> Option<Vec<Payload>> {
        if self.finished {
            return None;
        }
        if self.next_order < self.settings.orders {
            let index = self.next_order;
            let arrival = self.arrival(index);
            self.background_until(arrival);
            self.order(index, arrival);
            self.next_order += 1;
        } else {
            self.background_until(self.settings.end_ns);
            self.batcher.flush_all();
            self.finished = true;
        }
        Some(self.take_ready())
    }

    fn arrival(&self, index: u64) -> i64 {
        let mut random = Random::stream(self.settings.seed, Purpose::Arrival, index);
        let quantile = (index as f64 + random.uniform(0.0, 1.0)) / self.settings.orders as f64;
        self.curve.time_at(quantile)
    }

    fn background_until(&mut self, until_ns: i64) {
        let (seed, start) = (self.settings.seed, self.settings.start_ns);
        while start + self.next_job as i64 * JOB_INTERVAL_NS < until_ns {
            let at = start + self.next_job as i64 * JOB_INTERVAL_NS;
            emit_job(&self.model, seed, self.next_job, at, &mut self.batcher);
            self.next_job += 1;
        }
        while start + (self.next_slot as i64 + 1) * METRIC_SLOT_NS <= until_ns {
            let at = start + self.next_slot as i64 * METRIC_SLOT_NS;
            emit_metrics(
                &self.model,
                seed,
                self.next_slot,
                at,
                METRIC_SLOT_NS,
                self.orders_per_slot,
                &mut self.batcher,
            );
            self.next_slot += 1;
        }
    }

    fn order(&mut self, index: u64, arrival: i64) {
        let seed = self.settings.seed;
        let mut order = plan_order(
            &self.model,
            seed,
            self.settings.first_order + index,
            arrival,
        );
        let planned = order.steps.len();
        order.truncate_at(self.settings.end_ns);
        let sessions = emit_order(&self.model, seed, &order, &mut self.batcher);
        self.truth.replay_events += sessions.replay_events;
        self.truth.browser_sessions += sessions.sessions;
        self.truth
            .add_order(&self.model, &order, order.steps.len() == planned);
    }

    fn take_ready(&mut self) -> Vec<Payload> {
        let ready = std::mem::take(&mut self.batcher.ready);
        for payload in &ready {
            self.truth.add_records(payload.stream, payload.records);
        }
        ready
    }
}

/// Browser sessions and replay events that an order produced.
#[derive(Debug, Default, Clone, Copy)]
pub struct SessionCounts {
    pub sessions: u64,
    pub replay_events: u64,
}

/// Emits every step of `order` in turn.
pub fn emit_order(model: &Model, seed: u64, order: &Order, batcher: &mut Batcher) -> SessionCounts {
    let mut counts = SessionCounts::default();
    for index in 0..order.steps.len() {
        let step_counts = emit_order_step(model, seed, order, index, batcher);
        counts.sessions += step_counts.sessions;
        counts.replay_events += step_counts.replay_events;
    }
    counts
}

/// Emits one step, and the order's browser session when the step is the document review.
pub fn emit_order_step(
    model: &Model,
    seed: u64,
    order: &Order,
    index: usize,
    batcher: &mut Batcher,
) -> SessionCounts {
    emit_step(model, seed, order, index, batcher);
    let step = &order.steps[index];
    let first_review = order
        .steps
        .iter()
        .position(|s| s.activity == Activity::ReviewDocuments)
        == Some(index);
    match plan_session(seed, order) {
        Some(plan) if first_review => SessionCounts {
            sessions: 1,
            replay_events: emit_session(model, seed, order, step, plan, batcher).replay_events,
        },
        _ => SessionCounts::default(),
    }
}

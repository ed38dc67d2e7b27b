//! Live mode: orders arrive now, at a steady rate, and each step is sent when
//! its end time has passed on the wall clock.
//!
//! Arriving orders are planned at once. Their steps wait in a queue ordered by
//! end time and leave it as the clock passes them, so live traffic follows the
//! same lifecycle, working hours and waits as the backfill. The model (team,
//! skills, rates) is the backfill's, built from the same seed.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};

use crate::background::{emit_job, emit_metrics, JOB_INTERVAL_NS};
use crate::batch::{BatchLimits, Batcher, Payload};
use crate::calendar::SECOND_NS;
use crate::generate::{emit_order_step, METRIC_SLOT_NS};
use crate::model::Model;
use crate::process::{plan_order, Order};
use crate::random::{Purpose, Random};

/// Job and metric-slot indexes of live mode start here, so their random streams
/// never coincide with a backfill's.
const LIVE_INDEX_BASE: u64 = 1 << 40;

#[derive(Debug, Clone)]
pub struct LiveSettings {
    pub seed: u64,
    /// New orders per second.
    pub rate: f64,
    /// Index of the first live order (the backfill's count, to keep order ids unique).
    pub first_order: u64,
    /// Orders to start before live mode stops taking new ones; `None` runs until stopped.
    pub max_orders: Option<u64>,
    /// Orders in progress at most; arrivals beyond it are skipped.
    pub max_in_flight: usize,
    pub batch: BatchLimits,
}

pub struct Live {
    settings: LiveSettings,
    model: Model,
    batcher: Batcher,
    due: BinaryHeap<Reverse<(i64, u64, usize)>>,
    in_flight: HashMap<u64, Order>,
    started_ns: i64,
    next_order: u64,
    next_job: u64,
    next_slot: u64,
    skipped: u64,
}

impl Live {
    pub fn new(settings: LiveSettings, model: Model, now_ns: i64) -> Self {
        Self {
            batcher: Batcher::new(settings.batch),
            settings,
            model,
            due: BinaryHeap::new(),
            in_flight: HashMap::new(),
            started_ns: now_ns,
            next_order: 0,
            next_job: 0,
            next_slot: 0,
            skipped: 0,
        }
    }

    /// Orders started so far.
    pub fn orders_started(&self) -> u64 {
        self.next_order
    }

    /// True once the order limit is reached and every started order has finished.
    pub fn done(&self) -> bool {
        self.settings
            .max_orders
            .is_some_and(|max| self.next_order >= max)
            && self.due.is_empty()
    }

    /// Starts the orders that have arrived by `now_ns`, emits every step that has
    /// ended by then, and returns the requests ready. With `flush`, partial batches are cut too.
    pub fn tick(&mut self, now_ns: i64, flush: bool) -> Vec<Payload> {
        self.arrivals_until(now_ns);
        self.steps_until(now_ns);
        self.background_until(now_ns);
        if flush {
            self.batcher.flush_all();
        }
        std::mem::take(&mut self.batcher.ready)
    }

    fn arrival_ns(&self, number: u64) -> i64 {
        let mut random = Random::stream(
            self.settings.seed,
            Purpose::Arrival,
            LIVE_INDEX_BASE + number,
        );
        let seconds =
            (number as f64 + random.uniform(0.0, 1.0)) / self.settings.rate.max(f64::MIN_POSITIVE);
        self.started_ns + (seconds * SECOND_NS as f64) as i64
    }

    fn arrivals_until(&mut self, now_ns: i64) {
        loop {
            if self
                .settings
                .max_orders
                .is_some_and(|max| self.next_order >= max)
            {
                return;
            }
            let arrival = self.arrival_ns(self.next_order);
            if arrival > now_ns {
                return;
            }
            let index = self.settings.first_order + self.next_order;
            self.next_order += 1;
            if self.in_flight.len() >= self.settings.max_in_flight {
                self.skip(index);
                continue;
            }
            let order = plan_order(&self.model, self.settings.seed, index, arrival);
            for (step, planned) in order.steps.iter().enumerate() {
                self.due.push(Reverse((planned.end_ns, index, step)));
            }
            self.in_flight.insert(index, order);
        }
    }

    fn skip(&mut self, index: u64) {
        self.skipped += 1;
        if self.skipped.is_power_of_two() {
            tracing::warn!(
                order = index,
                skipped = self.skipped,
                max_in_flight = self.settings.max_in_flight,
                "too many orders in progress; skipping new arrivals"
            );
        }
    }

    fn steps_until(&mut self, now_ns: i64) {
        while let Some(Reverse((end_ns, index, step))) = self.due.peek().copied() {
            if end_ns > now_ns {
                return;
            }
            self.due.pop();
            let Some(order) = self.in_flight.get(&index) else {
                continue;
            };
            emit_order_step(
                &self.model,
                self.settings.seed,
                order,
                step,
                &mut self.batcher,
            );
            if step + 1 == order.steps.len() {
                self.in_flight.remove(&index);
            }
        }
    }

    fn background_until(&mut self, now_ns: i64) {
        let seed = self.settings.seed;
        while self.started_ns + self.next_job as i64 * JOB_INTERVAL_NS <= now_ns {
            let at = self.started_ns + self.next_job as i64 * JOB_INTERVAL_NS;
            emit_job(
                &self.model,
                seed,
                LIVE_INDEX_BASE + self.next_job,
                at,
                &mut self.batcher,
            );
            self.next_job += 1;
        }
        let per_slot = self.settings.rate * (METRIC_SLOT_NS / SECOND_NS) as f64;
        while self.started_ns + (self.next_slot as i64 + 1) * METRIC_SLOT_NS <= now_ns {
            let at = self.started_ns + self.next_slot as i64 * METRIC_SLOT_NS;
            emit_metrics(
                &self.model,
                seed,
                LIVE_INDEX_BASE + self.next_slot,
                at,
                METRIC_SLOT_NS,
                per_slot,
                &mut self.batcher,
            );
            self.next_slot += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::batch::{Request, Stream};
    use crate::calendar::{DAY_NS, HOUR_NS};
    use crate::model::Activity;

    #[test]
    fn steps_sent_once_ended() {
        let start = 20_460 * DAY_NS;
        let model = Model::build(1, start - 30 * DAY_NS, start);
        let settings = LiveSettings {
            seed: 1,
            rate: 0.001,
            first_order: 1_000,
            max_orders: Some(3),
            max_in_flight: 10,
            batch: BatchLimits { records: 100 },
        };
        let mut live = Live::new(settings, model, start);
        let names: Vec<&str> = Activity::ALL.iter().map(|a| a.name()).collect();
        let mut now = start;
        let mut order_ids = std::collections::BTreeSet::new();
        while !live.done() && now < start + 90 * DAY_NS {
            for payload in live.tick(now, true) {
                let Request::Traces(request) = &payload.request else {
                    continue;
                };
                if payload.stream != Stream::Spans {
                    continue;
                }
                let spans = request
                    .resource_spans
                    .iter()
                    .flat_map(|r| &r.scope_spans)
                    .flat_map(|s| &s.spans);
                for span in spans.filter(|span| names.contains(&span.name.as_str())) {
                    assert!(
                        span.end_time_unix_nano as i64 <= now,
                        "{} sent before it ended",
                        span.name
                    );
                    let id = span
                        .attributes
                        .iter()
                        .find(|kv| kv.key == "order.id")
                        .and_then(|kv| kv.value.clone());
                    order_ids.insert(format!("{id:?}"));
                }
            }
            now += HOUR_NS;
        }
        assert!(live.done(), "live mode did not finish its three orders");
        assert_eq!(live.orders_started(), 3);
        assert_eq!(order_ids.len(), 3);
        assert!(
            order_ids.iter().all(|id| id.contains("ORD-2026-0010")),
            "{order_ids:?}"
        );
    }
}

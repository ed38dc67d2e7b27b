//! Live mode: orders arrive now, as the customer's day and week bring them,
//! and each step is sent when its end time has passed on the wall clock.
//!
//! The rate is the mean over a week: arrivals follow the backfill's intensity
//! curve (busy mornings, quiet nights and weekends, Monday and month-end
//! peaks) around it. Arriving orders are planned at once. Their steps wait in
//! a queue ordered by end time and leave it as the clock passes them, so live
//! traffic follows the same lifecycle, working hours and waits as the
//! backfill. The model (team, skills, rates) is the backfill's, built from the
//! same seed. A truth file of what was sent (orders still in progress at the
//! stop counted as in flight) can be taken at any time.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};

use crate::background::{emit_job, emit_metrics, JOB_INTERVAL_NS};
use crate::batch::{BatchLimits, Batcher, Payload};
use crate::calendar::{arrival_intensity, DAY_NS, HOUR_NS, SECOND_NS};
use crate::generate::{emit_order_step, METRIC_SLOT_NS};
use crate::model::Model;
use crate::process::{plan_order, Order};
use crate::random::{Purpose, Random};
use crate::truth::{RunSettings, Truth};

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

/// Arrival times by order number, at a rate that follows the hour's arrival
/// intensity around a mean rate.
///
/// The expected count of arrivals grows by `rate × intensity / mean intensity`
/// per second. Order n arrives where that count reaches n plus a random part.
/// Targets only grow, so a cursor walks forward hour by hour.
struct ArrivalClock {
    /// Orders per second per unit of intensity.
    per_intensity: f64,
    hour_start_ns: i64,
    /// Expected arrivals from the start to `hour_start_ns`.
    count_at_hour: f64,
}

impl ArrivalClock {
    fn new(started_ns: i64, rate: f64) -> Self {
        // The mean intensity over four weeks from the start, hour by hour.
        let hours = 28 * DAY_NS / HOUR_NS;
        let mean = (0..hours)
            .map(|hour| arrival_intensity(started_ns + hour * HOUR_NS + HOUR_NS / 2))
            .sum::<f64>()
            / hours as f64;
        Self {
            per_intensity: rate.max(0.0) / mean.max(f64::MIN_POSITIVE),
            hour_start_ns: started_ns,
            count_at_hour: 0.0,
        }
    }

    /// Expected arrivals per second at `t_ns`.
    fn rate_at(&self, t_ns: i64) -> f64 {
        self.per_intensity * arrival_intensity(t_ns)
    }

    /// Returns when the expected count reaches `target`, or `None` when the rate is zero.
    fn time_of(&mut self, target: f64) -> Option<i64> {
        // A year of hours with no arrival means the rate is zero.
        for _ in 0..(366 * 24) {
            let per_second = self.rate_at(self.hour_start_ns + HOUR_NS / 2);
            let in_hour = per_second * (HOUR_NS / SECOND_NS) as f64;
            if self.count_at_hour + in_hour >= target && in_hour > 0.0 {
                let within = (target - self.count_at_hour) / in_hour;
                return Some(self.hour_start_ns + (within.max(0.0) * HOUR_NS as f64) as i64);
            }
            self.count_at_hour += in_hour;
            self.hour_start_ns += HOUR_NS;
        }
        None
    }
}

pub struct Live {
    settings: LiveSettings,
    model: Model,
    batcher: Batcher,
    clock: ArrivalClock,
    /// Arrival time of order `next_order`, once drawn.
    next_arrival_ns: Option<i64>,
    due: BinaryHeap<Reverse<(i64, u64, usize)>>,
    in_flight: HashMap<u64, Order>,
    /// Time of the last tick: every step that ended by then has been sent.
    last_tick_ns: i64,
    truth: Truth,
    started_ns: i64,
    next_order: u64,
    next_job: u64,
    next_slot: u64,
    skipped: u64,
}

impl Live {
    pub fn new(settings: LiveSettings, model: Model, now_ns: i64) -> Self {
        let truth = Truth::new(
            &model,
            RunSettings {
                seed: settings.seed,
                orders: 0,
                start_ns: now_ns,
                end_ns: now_ns,
            },
        );
        Self {
            batcher: Batcher::new(settings.batch),
            clock: ArrivalClock::new(now_ns, settings.rate),
            next_arrival_ns: None,
            settings,
            model,
            due: BinaryHeap::new(),
            in_flight: HashMap::new(),
            last_tick_ns: now_ns,
            truth,
            started_ns: now_ns,
            next_order: 0,
            next_job: 0,
            next_slot: 0,
            skipped: 0,
        }
    }

    /// Returns the truth of what was sent up to the last tick: finished orders
    /// as they ran, and orders still in progress, with the steps sent so far, as in flight.
    pub fn truth(&self) -> Truth {
        let mut truth = self.truth.clone();
        truth.settings.orders = self.next_order - self.skipped;
        truth.settings.end_ns = self.last_tick_ns;
        let mut open: Vec<(&u64, &Order)> = self.in_flight.iter().collect();
        open.sort_by_key(|(index, _)| **index);
        for (_, order) in open {
            let mut partial = order.clone();
            partial.truncate_at(self.last_tick_ns);
            truth.add_order(&self.model, &partial, false);
        }
        truth
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
        self.last_tick_ns = now_ns;
        self.arrivals_until(now_ns);
        self.steps_until(now_ns);
        self.background_until(now_ns);
        if flush {
            self.batcher.flush_all();
        }
        let ready = std::mem::take(&mut self.batcher.ready);
        for payload in &ready {
            self.truth.add_records(payload.stream, payload.records);
        }
        ready
    }

    /// Returns when order `next_order` arrives (`None` when the rate is zero).
    fn next_arrival(&mut self) -> Option<i64> {
        if self.next_arrival_ns.is_none() {
            let number = self.next_order;
            let mut random = Random::stream(
                self.settings.seed,
                Purpose::Arrival,
                LIVE_INDEX_BASE + number,
            );
            self.next_arrival_ns = self.clock.time_of(number as f64 + random.uniform(0.0, 1.0));
        }
        self.next_arrival_ns
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
            let Some(arrival) = self.next_arrival() else {
                return;
            };
            if arrival > now_ns {
                return;
            }
            let index = self.settings.first_order + self.next_order;
            self.next_order += 1;
            self.next_arrival_ns = None;
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
            let sessions = emit_order_step(
                &self.model,
                self.settings.seed,
                order,
                step,
                &mut self.batcher,
            );
            self.truth.replay_events += sessions.replay_events;
            self.truth.browser_sessions += sessions.sessions;
            if step + 1 == order.steps.len() {
                if let Some(order) = self.in_flight.remove(&index) {
                    self.truth.add_order(&self.model, &order, true);
                }
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
        while self.started_ns + (self.next_slot as i64 + 1) * METRIC_SLOT_NS <= now_ns {
            let at = self.started_ns + self.next_slot as i64 * METRIC_SLOT_NS;
            let per_slot = self.clock.rate_at(at) * (METRIC_SLOT_NS / SECOND_NS) as f64;
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

    #[test]
    fn arrivals_follow_the_working_week() {
        // 2026-03-02 is a Monday, so the week has five busy working days, then a quiet weekend.
        let start = crate::calendar::days_from_civil(2026, 3, 2) * DAY_NS;
        let model = Model::build(3, start - 30 * DAY_NS, start);
        let rate = 0.01;
        let settings = LiveSettings {
            seed: 3,
            rate,
            first_order: 0,
            max_orders: None,
            max_in_flight: 1_000_000,
            batch: BatchLimits { records: 1_000_000 },
        };
        let mut live = Live::new(settings, model, start);
        let mut per_hour = Vec::new();
        let mut before = 0;
        for hour in 1..=7 * 24 {
            live.arrivals_until(start + hour * HOUR_NS);
            per_hour.push(live.orders_started() - before);
            before = live.orders_started();
        }

        let week = live.orders_started() as f64;
        let expected = rate * 7.0 * 24.0 * 3600.0;
        assert!(
            (week / expected - 1.0).abs() < 0.25,
            "{week} arrivals in a week, {expected} expected at the mean rate"
        );
        let intensity =
            |hour: usize| arrival_intensity(start + hour as i64 * HOUR_NS + HOUR_NS / 2);
        let busy: u64 = (0..per_hour.len())
            .filter(|&h| intensity(h) >= 1.0)
            .map(|h| per_hour[h])
            .sum();
        let quiet: u64 = (0..per_hour.len())
            .filter(|&h| intensity(h) < 0.1)
            .map(|h| per_hour[h])
            .sum();
        let busy_hours = (0..per_hour.len()).filter(|&h| intensity(h) >= 1.0).count() as f64;
        let quiet_hours = (0..per_hour.len()).filter(|&h| intensity(h) < 0.1).count() as f64;
        assert!(
            busy as f64 / busy_hours > 8.0 * (quiet as f64 / quiet_hours),
            "busy {busy} in {busy_hours} h, quiet {quiet} in {quiet_hours} h"
        );
    }

    #[test]
    fn truth_counts_finished_and_unfinished_orders() {
        let start = 20_460 * DAY_NS;
        let model = Model::build(5, start - 30 * DAY_NS, start);
        let settings = LiveSettings {
            seed: 5,
            rate: 0.002,
            first_order: 0,
            max_orders: Some(40),
            max_in_flight: 1_000,
            batch: BatchLimits { records: 500 },
        };
        let mut live = Live::new(settings, model, start);
        let mut spans = 0;
        let mut now = start;
        while now < start + 3 * DAY_NS {
            for payload in live.tick(now, true) {
                if payload.stream == Stream::Spans {
                    spans += payload.records;
                }
            }
            now += HOUR_NS / 4;
        }

        let truth = live.truth();
        assert_eq!(truth.records["spans"], spans);
        assert_eq!(truth.settings.orders, live.orders_started());
        let finished = truth.orders_closed + truth.orders_cancelled;
        assert!(
            finished > 0 && truth.orders_in_flight > 0,
            "{finished} finished, {} in flight",
            truth.orders_in_flight
        );
        assert_eq!(finished + truth.orders_in_flight, live.orders_started());
        let steps: u64 = truth.activity_counts.values().sum();
        let business = truth.activity_counts["Order Received"];
        assert_eq!(
            business,
            live.orders_started(),
            "every started order has sent its first step"
        );
        assert!(steps > business);
    }
}

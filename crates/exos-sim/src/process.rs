//! The order lifecycle: which activities an order goes through, who does them
//! and when.
//!
//! An order's plan depends only on the run's seed, the model and the order's
//! index and arrival, so it can be rebuilt anywhere. Steps are strictly ordered
//! in time: each one starts after the previous one ends, which is what makes
//! the activity sequence (the variant) recoverable from span timestamps.

use crate::calendar::{year_of, HOUR_NS, MILLISECOND_NS, MINUTE_NS};
use crate::model::{Activity, Model};
use crate::random::{Purpose, Random};

/// One activity of one order, as it happened in simulated time.
#[derive(Debug, Clone)]
pub struct Step {
    pub activity: Activity,
    /// Index into `Model::operators` of who performed it.
    pub operator: usize,
    pub start_ns: i64,
    pub end_ns: i64,
}

/// One order with its planned lifecycle.
#[derive(Debug, Clone)]
pub struct Order {
    pub index: u64,
    pub id: String,
    /// Index into `Model::lobs`.
    pub lob: usize,
    pub worker: usize,
    pub lead: usize,
    pub arrival_ns: i64,
    pub steps: Vec<Step>,
    /// Documents that came with the order (1 to 3), reviewed in Review Documents.
    pub intake_documents: u8,
}

impl Order {
    /// True when the order was closed later than its line of business's service level.
    pub fn sla_breached(&self, model: &Model) -> bool {
        let sla_ns = (model.lobs[self.lob].sla_hours * HOUR_NS as f64) as i64;
        match self.steps.last() {
            Some(last) if last.activity == Activity::Close => {
                last.end_ns - self.arrival_ns > sla_ns
            }
            _ => false,
        }
    }

    /// Returns the ids of the documents each step touches (`document.id`), step by step.
    ///
    /// An order brings 1 to 3 documents (`-D1`…), reviewed together. Each
    /// information request is for one more document (`-R1`…), which the
    /// matching Information Received delivers. A site inspection files its
    /// photos (`-P1`). The report (`-RPT`) is drafted by the last core step
    /// of the line of business and then goes through quality check, rework,
    /// approval and delivery. Other steps touch no document.
    pub fn documents(&self, model: &Model) -> Vec<Vec<String>> {
        let drafting = model.lobs[self.lob].core_steps.last().copied();
        let report = format!("{}-RPT", self.id);
        let (mut requested, mut received) = (0, 0);
        self.steps
            .iter()
            .map(|step| {
                let mut ids = match step.activity {
                    Activity::ReviewDocuments => (1..=self.intake_documents)
                        .map(|n| format!("{}-D{n}", self.id))
                        .collect(),
                    Activity::RequestInformation => {
                        requested += 1;
                        vec![format!("{}-R{requested}", self.id)]
                    }
                    Activity::InformationReceived => {
                        received += 1;
                        vec![format!("{}-R{received}", self.id)]
                    }
                    Activity::SiteInspection => vec![format!("{}-P1", self.id)],
                    Activity::QualityCheck
                    | Activity::Rework
                    | Activity::Approve
                    | Activity::DeliverReport => vec![report.clone()],
                    _ => Vec::new(),
                };
                if Some(step.activity) == drafting {
                    ids.push(report.clone());
                }
                ids
            })
            .collect()
    }

    /// Drops the steps that have not ended by `end_ns`: the order is still in flight then.
    pub fn truncate_at(&mut self, end_ns: i64) {
        self.steps.retain(|step| step.end_ns <= end_ns);
    }
}

/// Most rework loops an order goes through before the lead approves it anyway.
const MAX_REWORK_LOOPS: usize = 3;

/// Plans the whole lifecycle of order `index` arriving at `arrival_ns`.
pub fn plan_order(model: &Model, seed: u64, index: u64, arrival_ns: i64) -> Order {
    let mut random = Random::stream(seed, Purpose::Order, index);
    let lob = pick_lob(model, &mut random);
    let workers = model.workers_for(lob);
    let weights: Vec<f64> = workers
        .iter()
        .map(|&w| model.operators[w].capacity)
        .collect();
    let worker = workers[random.weighted(&weights)];
    let lead = random.below(0, crate::model::LEAD_COUNT as u64) as usize;
    let activities = plan_activities(model, &mut random, lob, worker);
    let mut order = Order {
        index,
        id: format!("ORD-{}-{:06}", year_of(arrival_ns), index + 1),
        lob,
        worker,
        lead,
        arrival_ns,
        steps: Vec::with_capacity(activities.len()),
        intake_documents: Random::stream(seed, Purpose::Documents, index).below(1, 4) as u8,
    };
    schedule(model, &mut random, &mut order, &activities);
    order
}

fn pick_lob(model: &Model, random: &mut Random) -> usize {
    let shares: Vec<f64> = model.lobs.iter().map(|lob| lob.volume_share).collect();
    random.weighted(&shares)
}

/// Chooses the activity sequence: optional information requests, the line of
/// business's core steps, quality check with rework loops or skipped, and an
/// occasional cancellation that cuts the order short.
fn plan_activities(model: &Model, random: &mut Random, lob: usize, worker: usize) -> Vec<Activity> {
    use Activity::*;
    let spec = &model.lobs[lob];
    let mut plan = vec![OrderReceived, AssignOperator, ReviewDocuments];
    if random.chance(spec.request_info_rate) {
        plan.extend([RequestInformation, InformationReceived]);
        if random.chance(0.2) {
            plan.extend([RequestInformation, InformationReceived]);
        }
    }
    plan.extend_from_slice(spec.core_steps);
    if !random.chance(spec.skip_check_rate) {
        plan.push(QualityCheck);
        let rework_rate = model.operators[worker].rework_rate;
        for _ in 0..MAX_REWORK_LOOPS {
            if !random.chance(rework_rate) {
                break;
            }
            plan.extend([Rework, QualityCheck]);
        }
    }
    plan.extend([Approve, DeliverReport, Close]);
    if random.chance(spec.cancel_rate) {
        cut_for_cancel(random, &mut plan);
    }
    plan
}

/// Cancels the order after one of its steps between assignment and approval.
/// Orders waiting for outside information are the likeliest to be cancelled.
fn cut_for_cancel(random: &mut Random, plan: &mut Vec<Activity>) {
    let approve = plan
        .iter()
        .position(|a| *a == Activity::Approve)
        .unwrap_or(plan.len());
    let waiting = plan.iter().position(|a| *a == Activity::RequestInformation);
    let keep = match waiting {
        Some(position) if random.chance(0.6) => position + 1,
        _ => random.below(2, approve as u64) as usize,
    };
    plan.truncate(keep);
    plan.push(Activity::Cancel);
}

/// Gives each activity its performer, start and end, in working hours.
fn schedule(model: &Model, random: &mut Random, order: &mut Order, activities: &[Activity]) {
    let mut previous: Option<Activity> = None;
    let mut clock = order.arrival_ns;
    for &activity in activities {
        let operator = if activity.done_by_lead() {
            order.lead
        } else {
            order.worker
        };
        let ready = clock + wait_before(model, random, order.lob, previous, activity);
        let start = if activity == Activity::OrderReceived {
            order.arrival_ns
        } else {
            model.operators[operator].shift.next_working(ready)
        };
        let start = start.max(clock + MILLISECOND_NS);
        let end = start + work_time(model, random, order.lob, operator, activity, start);
        order.steps.push(Step {
            activity,
            operator,
            start_ns: start,
            end_ns: end,
        });
        clock = end;
        previous = Some(activity);
    }
}

/// Time between the previous activity's end and when this one can start: a
/// queue wait, or a long wait for an outside party.
fn wait_before(
    model: &Model,
    random: &mut Random,
    lob: usize,
    previous: Option<Activity>,
    activity: Activity,
) -> i64 {
    use Activity::*;
    let external_hours = model.lobs[lob].external_wait_hours;
    let minutes = match (previous, activity) {
        (None, _) => 0.0,
        (Some(RequestInformation), _) => random.lognormal(external_hours * 60.0, 0.9),
        (Some(ScheduleInspection), _) => random.lognormal(external_hours * 90.0, 0.6),
        (_, AssignOperator) => random.lognormal(15.0, 0.8),
        (_, QualityCheck) => random.lognormal(120.0, 0.9),
        (_, Approve) => random.lognormal(30.0, 0.8),
        (_, Cancel) => random.lognormal(240.0, 1.0),
        _ => random.lognormal(40.0, 1.0),
    };
    (minutes * MINUTE_NS as f64) as i64
}

/// Hands-on time of one activity by one operator, slowed by the injected release.
fn work_time(
    model: &Model,
    random: &mut Random,
    lob: usize,
    operator: usize,
    activity: Activity,
    start_ns: i64,
) -> i64 {
    let release = &model.incidents.slow_release;
    let mut median = activity.median_work_minutes() * model.operators[operator].speed_factor;
    if activity != Activity::OrderReceived {
        median *= model.lobs[lob].complexity;
    }
    if activity.name() == release.activity && start_ns >= release.release_ns {
        median *= release.factor;
    }
    let minutes = random.lognormal(median, 0.45);
    ((minutes * MINUTE_NS as f64) as i64).max(MILLISECOND_NS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::DAY_NS;

    fn model() -> Model {
        Model::build(42, 20_454 * DAY_NS, 20_484 * DAY_NS)
    }

    #[test]
    fn steps_strictly_ordered() {
        let model = model();
        for index in 0..500 {
            let order = plan_order(&model, 42, index, 20_460 * DAY_NS + 15 * HOUR_NS);
            for pair in order.steps.windows(2) {
                assert!(pair[0].end_ns < pair[1].start_ns, "order {index}: {pair:?}");
                assert!(
                    pair[0].start_ns < pair[1].start_ns,
                    "order {index}: {pair:?}"
                );
            }
        }
    }

    #[test]
    fn orders_end_closed_or_cancelled() {
        let model = model();
        for index in 0..500 {
            let order = plan_order(&model, 42, index, 20_460 * DAY_NS);
            let last = order.steps.last().expect("an order has steps").activity;
            assert!(
                matches!(last, Activity::Close | Activity::Cancel),
                "order {index} ends with {last:?}"
            );
            assert_eq!(order.steps[0].activity, Activity::OrderReceived);
        }
    }

    #[test]
    fn documents_follow_their_requests_and_the_report() {
        let model = model();
        let mut intake_counts = [0; 4];
        for index in 0..300 {
            let order = plan_order(&model, 42, index, 20_460 * DAY_NS);
            let documents = order.documents(&model);
            assert_eq!(documents.len(), order.steps.len());
            intake_counts[usize::from(order.intake_documents)] += 1;
            let mut requested = Vec::new();
            for (step, ids) in order.steps.iter().zip(&documents) {
                match step.activity {
                    Activity::ReviewDocuments => {
                        assert_eq!(ids.len(), usize::from(order.intake_documents))
                    }
                    Activity::RequestInformation => requested.push(ids[0].clone()),
                    // Each arrival delivers the oldest document still asked for.
                    Activity::InformationReceived => assert_eq!(ids[0], requested.remove(0)),
                    Activity::DeliverReport => assert_eq!(ids, &[format!("{}-RPT", order.id)]),
                    Activity::OrderReceived | Activity::AssignOperator | Activity::Close => {
                        assert!(ids.is_empty())
                    }
                    _ => {}
                }
            }
        }
        assert_eq!(intake_counts[0], 0);
        assert!(
            intake_counts[1..].iter().all(|&n| n > 50),
            "{intake_counts:?}"
        );
    }

    #[test]
    fn order_id_has_year_and_index() {
        let model = model();
        let order = plan_order(&model, 42, 122, 20_460 * DAY_NS);
        assert_eq!(order.id, "ORD-2026-000123");
    }

    /// Service levels are set so that most closed orders meet them, as in a running
    /// operation: breaches are the exception the dashboards should surface, not half
    /// the work. Arrivals spread over a month of working days and hours.
    #[test]
    fn most_closed_orders_meet_sla() {
        let model = model();
        let mut closed = vec![0u64; model.lobs.len()];
        let mut breached = vec![0u64; model.lobs.len()];
        let mut hours: Vec<Vec<f64>> = vec![Vec::new(); model.lobs.len()];
        for index in 0..4_000u64 {
            let arrival =
                20_455 * DAY_NS + (index as i64 % 25) * DAY_NS + (index as i64 % 9 + 8) * HOUR_NS;
            let order = plan_order(&model, 42, index, arrival);
            let last = order.steps.last().expect("an order has steps");
            if last.activity != Activity::Close {
                continue;
            }
            closed[order.lob] += 1;
            breached[order.lob] += u64::from(order.sla_breached(&model));
            hours[order.lob].push((last.end_ns - order.arrival_ns) as f64 / HOUR_NS as f64);
        }
        let mut report = Vec::new();
        for (lob, times) in hours.iter_mut().enumerate() {
            times.sort_by(f64::total_cmp);
            let at = |q: f64| times[((times.len() - 1) as f64 * q) as usize];
            report.push(format!(
                "{}: {} closed, {:.0}% breached, cycle hours p50 {:.0} p85 {:.0} p95 {:.0}, SLA {:.0}",
                model.lobs[lob].name,
                closed[lob],
                100.0 * breached[lob] as f64 / closed[lob].max(1) as f64,
                at(0.5),
                at(0.85),
                at(0.95),
                model.lobs[lob].sla_hours
            ));
        }
        let rate = breached.iter().sum::<u64>() as f64 / closed.iter().sum::<u64>() as f64;
        assert!(
            (0.05..=0.25).contains(&rate),
            "{:.0}% of closed orders breach their SLA:\n{}",
            rate * 100.0,
            report.join("\n")
        );
    }
}

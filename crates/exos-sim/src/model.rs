//! The simulated business: lines of business, activities, operators, services
//! and the injected incidents.
//!
//! The model is built once per run from the seed and the time window, and is
//! written into the truth file, so that analyses of the stored telemetry can be
//! checked against what the simulator really did.

use serde::Serialize;

use crate::calendar::{Shift, DAY_NS, HOUR_NS};
use crate::random::{Purpose, Random};

/// A business activity of the order lifecycle; each one becomes a span of this name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum Activity {
    OrderReceived,
    AssignOperator,
    ReviewDocuments,
    RequestInformation,
    InformationReceived,
    ScheduleInspection,
    SiteInspection,
    TitleSearch,
    Valuation,
    QualityCheck,
    Rework,
    Approve,
    DeliverReport,
    Close,
    Cancel,
}

impl Activity {
    pub const ALL: [Activity; 15] = [
        Activity::OrderReceived,
        Activity::AssignOperator,
        Activity::ReviewDocuments,
        Activity::RequestInformation,
        Activity::InformationReceived,
        Activity::ScheduleInspection,
        Activity::SiteInspection,
        Activity::TitleSearch,
        Activity::Valuation,
        Activity::QualityCheck,
        Activity::Rework,
        Activity::Approve,
        Activity::DeliverReport,
        Activity::Close,
        Activity::Cancel,
    ];

    /// Returns the span name, exactly as process mining reads it.
    pub fn name(self) -> &'static str {
        match self {
            Activity::OrderReceived => "Order Received",
            Activity::AssignOperator => "Assign Operator",
            Activity::ReviewDocuments => "Review Documents",
            Activity::RequestInformation => "Request Information",
            Activity::InformationReceived => "Information Received",
            Activity::ScheduleInspection => "Schedule Inspection",
            Activity::SiteInspection => "Site Inspection",
            Activity::TitleSearch => "Title Search",
            Activity::Valuation => "Valuation",
            Activity::QualityCheck => "Quality Check",
            Activity::Rework => "Rework",
            Activity::Approve => "Approve",
            Activity::DeliverReport => "Deliver Report",
            Activity::Close => "Close",
            Activity::Cancel => "Cancel",
        }
    }

    /// Median hands-on time in minutes for an operator of speed factor 1.
    pub fn median_work_minutes(self) -> f64 {
        match self {
            Activity::OrderReceived => 0.05,
            Activity::AssignOperator => 2.0,
            Activity::ReviewDocuments => 25.0,
            Activity::RequestInformation => 6.0,
            Activity::InformationReceived => 2.0,
            Activity::ScheduleInspection => 8.0,
            Activity::SiteInspection => 90.0,
            Activity::TitleSearch => 45.0,
            Activity::Valuation => 40.0,
            Activity::QualityCheck => 15.0,
            Activity::Rework => 30.0,
            Activity::Approve => 5.0,
            Activity::DeliverReport => 6.0,
            Activity::Close => 2.0,
            Activity::Cancel => 3.0,
        }
    }

    /// Returns the order's status once the activity is done.
    pub fn status_after(self) -> &'static str {
        match self {
            Activity::RequestInformation | Activity::ScheduleInspection => "waiting",
            Activity::Close => "closed",
            Activity::Cancel => "cancelled",
            _ => "open",
        }
    }

    /// True for activities a lead performs (intake, assignment, review, sign-off);
    /// the assigned operator performs the others.
    pub fn done_by_lead(self) -> bool {
        matches!(
            self,
            Activity::OrderReceived
                | Activity::AssignOperator
                | Activity::QualityCheck
                | Activity::Approve
                | Activity::Cancel
        )
    }

    /// True where the operations web application marks the activity as a product
    /// event: the steps an operator completes with a button in the UI. Intake and
    /// the receipt of outside information are recorded by the backend alone.
    pub fn is_product_event(self) -> bool {
        !matches!(
            self,
            Activity::OrderReceived | Activity::InformationReceived
        )
    }
}

/// A line of business with its volume, process variant and service level.
#[derive(Debug, Clone, Serialize)]
pub struct Lob {
    pub name: &'static str,
    /// Share of all orders.
    pub volume_share: f64,
    /// Service level: hours from receipt to close.
    pub sla_hours: f64,
    /// Multiplier on every hands-on time.
    pub complexity: f64,
    /// Middle steps between document review and quality check, in order.
    pub core_steps: &'static [Activity],
    /// Probability that more information must be requested after the review.
    pub request_info_rate: f64,
    /// Probability that the quality check is skipped.
    pub skip_check_rate: f64,
    /// Probability that the order is cancelled at some point.
    pub cancel_rate: f64,
    /// Median hours waited for an outside party (customer, borrower, inspector).
    pub external_wait_hours: f64,
}

pub fn lobs() -> Vec<Lob> {
    use Activity::*;
    vec![
        Lob {
            name: "Appraisal",
            volume_share: 0.34,
            sla_hours: 192.0,
            complexity: 1.2,
            core_steps: &[ScheduleInspection, SiteInspection, Valuation],
            request_info_rate: 0.25,
            skip_check_rate: 0.05,
            cancel_rate: 0.04,
            external_wait_hours: 20.0,
        },
        Lob {
            name: "Title",
            volume_share: 0.26,
            sla_hours: 120.0,
            complexity: 1.0,
            core_steps: &[TitleSearch],
            request_info_rate: 0.3,
            skip_check_rate: 0.1,
            cancel_rate: 0.05,
            external_wait_hours: 14.0,
        },
        Lob {
            name: "Flood",
            volume_share: 0.18,
            sla_hours: 96.0,
            complexity: 0.5,
            core_steps: &[],
            request_info_rate: 0.1,
            skip_check_rate: 0.35,
            cancel_rate: 0.02,
            external_wait_hours: 6.0,
        },
        Lob {
            name: "Valuation",
            volume_share: 0.14,
            sla_hours: 120.0,
            complexity: 0.9,
            core_steps: &[Valuation],
            request_info_rate: 0.15,
            skip_check_rate: 0.08,
            cancel_rate: 0.03,
            external_wait_hours: 10.0,
        },
        Lob {
            name: "Closing",
            volume_share: 0.08,
            sla_hours: 264.0,
            complexity: 1.4,
            core_steps: &[TitleSearch, ScheduleInspection, SiteInspection],
            request_info_rate: 0.45,
            skip_check_rate: 0.03,
            cancel_rate: 0.07,
            external_wait_hours: 30.0,
        },
    ]
}

/// One operator of the operations team.
#[derive(Debug, Clone, Serialize)]
pub struct Operator {
    pub id: String,
    pub email: String,
    pub is_lead: bool,
    /// Indexes into [`lobs`] of the lines of business this operator is skilled in.
    pub skills: Vec<usize>,
    /// Multiplier on hands-on time (below 1 is faster).
    pub speed_factor: f64,
    /// Probability that a quality check of this operator's work sends it to rework.
    pub rework_rate: f64,
    /// Relative share of new orders assigned to this operator.
    pub capacity: f64,
    pub shift: Shift,
}

/// Injected incidents; the truth file records them so analyses can be checked.
#[derive(Debug, Clone, Serialize)]
pub struct Incidents {
    pub outage: Outage,
    pub slow_release: SlowRelease,
    pub high_rework_operator: String,
}

/// A window in which one service fails most calls.
#[derive(Debug, Clone, Serialize)]
pub struct Outage {
    pub service: &'static str,
    pub start_ns: i64,
    pub end_ns: i64,
    /// Probability that a call to the service fails inside the window.
    pub error_rate: f64,
}

/// A release from which one activity takes `factor` times longer.
#[derive(Debug, Clone, Serialize)]
pub struct SlowRelease {
    pub activity: &'static str,
    pub release_ns: i64,
    pub factor: f64,
}

/// Time zones of the team: (UTC offset in minutes, shift start hour local time).
const SITES: [(i32, u8); 5] = [(-300, 8), (-360, 9), (-480, 7), (330, 10), (480, 9)];
const FIRST_NAMES: [&str; 20] = [
    "maria", "james", "aisha", "wei", "jose", "emily", "rahul", "sofia", "daniel", "grace", "omar",
    "lucia", "ken", "priya", "noah", "chloe", "ivan", "amara", "luis", "hana",
];
const LAST_NAMES: [&str; 15] = [
    "garcia", "smith", "khan", "chen", "munoz", "johnson", "patel", "rossi", "kim", "okafor",
    "silva", "nguyen", "meyer", "tanaka", "reyes",
];

pub const OPERATOR_COUNT: usize = 60;
pub const LEAD_COUNT: usize = 6;
/// Rework probability of the operator with injected high rework.
pub const HIGH_REWORK_RATE: f64 = 0.7;
/// How much slower the slowed activity becomes after the release.
pub const SLOW_RELEASE_FACTOR: f64 = 4.0;

/// The whole simulated business for one run.
#[derive(Debug, Clone, Serialize)]
pub struct Model {
    pub lobs: Vec<Lob>,
    pub operators: Vec<Operator>,
    pub incidents: Incidents,
}

impl Model {
    /// Builds the team and places the incidents inside `[start_ns, end_ns)`.
    pub fn build(seed: u64, start_ns: i64, end_ns: i64) -> Self {
        let mut random = Random::stream(seed, Purpose::Model, 0);
        let lobs = lobs();
        let mut operators: Vec<Operator> = (0..OPERATOR_COUNT)
            .map(|index| operator(&mut random, index, lobs.len()))
            .collect();
        ensure_coverage(&mut operators, lobs.len());
        let high_rework = pick_high_rework(&mut random, &mut operators);
        let incidents = Incidents {
            outage: place_outage(start_ns, end_ns),
            slow_release: SlowRelease {
                activity: Activity::Valuation.name(),
                release_ns: start_ns + (end_ns - start_ns) * 6 / 10,
                factor: SLOW_RELEASE_FACTOR,
            },
            high_rework_operator: operators[high_rework].id.clone(),
        };
        Self {
            lobs,
            operators,
            incidents,
        }
    }

    /// Indexes of the non-lead operators skilled in `lob`.
    pub fn workers_for(&self, lob: usize) -> Vec<usize> {
        (0..self.operators.len())
            .filter(|&index| {
                !self.operators[index].is_lead && self.operators[index].skills.contains(&lob)
            })
            .collect()
    }
}

fn operator(random: &mut Random, index: usize, lob_count: usize) -> Operator {
    let is_lead = index < LEAD_COUNT;
    let first = random.pick(&FIRST_NAMES);
    let last = random.pick(&LAST_NAMES);
    let skills = if is_lead {
        (0..lob_count).collect()
    } else {
        let count = 1 + random.below(0, 3) as usize;
        let mut skills: Vec<usize> = (0..count)
            .map(|_| random.below(0, lob_count as u64) as usize)
            .collect();
        skills.sort_unstable();
        skills.dedup();
        skills
    };
    let (utc_offset_minutes, start_hour) = *random.pick(&SITES);
    Operator {
        id: format!("op-{:03}", index + 1),
        email: format!("{first}.{last}{}@ops.example.com", index + 1),
        is_lead,
        skills,
        speed_factor: random.lognormal(1.0, 0.3).clamp(0.5, 2.2),
        rework_rate: if is_lead {
            0.0
        } else {
            random.uniform(0.02, 0.1)
        },
        capacity: random.uniform(0.6, 1.4),
        shift: Shift {
            utc_offset_minutes,
            start_hour,
            hours: 8,
        },
    }
}

/// Gives each line of business at least three skilled workers, whatever the draws were.
fn ensure_coverage(operators: &mut [Operator], lob_count: usize) {
    for lob in 0..lob_count {
        for offset in 0..3 {
            let worker = &mut operators[LEAD_COUNT + lob * 3 + offset];
            if !worker.skills.contains(&lob) {
                worker.skills.push(lob);
                worker.skills.sort_unstable();
            }
        }
    }
}

/// Gives one busy, multi-skilled worker a much higher rework rate.
fn pick_high_rework(random: &mut Random, operators: &mut [Operator]) -> usize {
    let candidates: Vec<usize> = (LEAD_COUNT..operators.len())
        .filter(|&index| operators[index].skills.len() >= 2)
        .collect();
    let index = if candidates.is_empty() {
        LEAD_COUNT
    } else {
        *random.pick(&candidates)
    };
    operators[index].rework_rate = HIGH_REWORK_RATE;
    operators[index].capacity = 2.5;
    index
}

/// Places a four-hour outage of the valuation engine on a weekday morning (US
/// Central) about 40% into the window, so that it meets working traffic.
fn place_outage(start_ns: i64, end_ns: i64) -> Outage {
    let mut day = (start_ns + (end_ns - start_ns) * 4 / 10).div_euclid(DAY_NS);
    while crate::calendar::weekday(day) >= 5 {
        day += 1;
    }
    let start = day * DAY_NS + 15 * HOUR_NS;
    Outage {
        service: "valuation-engine",
        start_ns: start,
        end_ns: start + 4 * HOUR_NS,
        error_rate: 0.85,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_lob_has_workers() {
        let model = Model::build(42, 0, 30 * DAY_NS);
        for lob in 0..model.lobs.len() {
            assert!(
                !model.workers_for(lob).is_empty(),
                "lob {lob} has no worker"
            );
        }
    }

    #[test]
    fn volume_shares_sum_to_one() {
        let total: f64 = lobs().iter().map(|lob| lob.volume_share).sum();
        assert!((total - 1.0).abs() < 1e-9, "total {total}");
    }

    #[test]
    fn high_rework_operator_is_a_worker() {
        let model = Model::build(7, 0, 30 * DAY_NS);
        let id = &model.incidents.high_rework_operator;
        let operator = model
            .operators
            .iter()
            .find(|op| &op.id == id)
            .expect("operator exists");
        assert!(!operator.is_lead);
        assert_eq!(operator.rework_rate, HIGH_REWORK_RATE);
    }
}

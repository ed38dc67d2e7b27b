//! The ground truth of a run: what the simulator generated, to check analyses against.
//!
//! Every map is ordered (BTreeMap), so the same run always serializes to the
//! same bytes.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;

use crate::batch::Stream;
use crate::model::{Activity, Incidents, Model};
use crate::process::Order;

/// An error writing the truth file.
#[derive(Debug, thiserror::Error)]
pub enum TruthError {
    #[error("cannot write truth file {path}: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot serialize truth: {0}")]
    Serialize(#[from] serde_json::Error),
}

/// One activity of the process model.
#[derive(Debug, Clone, Serialize)]
pub struct ActivitySpec {
    pub name: &'static str,
    pub performed_by: &'static str,
    pub median_work_minutes: f64,
    pub status_after: &'static str,
    pub product_event: bool,
}

/// Truth-file record of one operator.
#[derive(Debug, Clone, Default, Serialize)]
pub struct OperatorTruth {
    pub email: String,
    pub lead: bool,
    pub skills: Vec<&'static str>,
    pub speed_factor: f64,
    pub rework_rate: f64,
    pub utc_offset_minutes: i32,
    pub shift_start_hour: u8,
    /// Orders assigned to this operator (as worker) that emitted at least one step.
    pub orders_worked: u64,
    pub activities: u64,
    pub reworks: u64,
}

/// The run's settings, as needed to reproduce it.
#[derive(Debug, Clone, Serialize)]
pub struct RunSettings {
    pub seed: u64,
    pub orders: u64,
    pub start_ns: i64,
    pub end_ns: i64,
}

/// Everything the truth file contains.
#[derive(Debug, Clone, Serialize)]
pub struct Truth {
    pub settings: RunSettings,
    pub activities: Vec<ActivitySpec>,
    pub lobs: Vec<crate::model::Lob>,
    /// Directly-follows counts: "A -> B" for B right after A in an order.
    pub transitions: BTreeMap<String, u64>,
    /// Orders per variant: the order's activity names in order, joined with ",".
    pub variants: BTreeMap<String, u64>,
    /// `variants` split by the order's line of business.
    pub variants_by_lob: BTreeMap<String, BTreeMap<String, u64>>,
    pub activity_counts: BTreeMap<String, u64>,
    pub orders_by_lob: BTreeMap<String, u64>,
    pub orders_closed: u64,
    pub orders_cancelled: u64,
    /// Orders whose later steps had not happened by the end of the window.
    pub orders_in_flight: u64,
    pub sla_breaches: u64,
    /// Distinct documents (`document.id`) that business spans touched.
    pub documents: u64,
    /// Business-span-to-document links (one span may touch several documents).
    pub document_links: u64,
    /// Directly-follows counts within each document's own activities: "A -> B".
    pub document_transitions: BTreeMap<String, u64>,
    pub operators: BTreeMap<String, OperatorTruth>,
    pub incidents: Incidents,
    /// Records generated per stream (spans, log records, metric data points, replay chunks).
    pub records: BTreeMap<String, u64>,
    /// rrweb events generated (one event may be sent as several chunk records).
    pub replay_events: u64,
    pub browser_sessions: u64,
}

impl Truth {
    pub fn new(model: &Model, settings: RunSettings) -> Self {
        let operators = model
            .operators
            .iter()
            .map(|op| {
                let truth = OperatorTruth {
                    email: op.email.clone(),
                    lead: op.is_lead,
                    skills: op.skills.iter().map(|&lob| model.lobs[lob].name).collect(),
                    speed_factor: op.speed_factor,
                    rework_rate: op.rework_rate,
                    utc_offset_minutes: op.shift.utc_offset_minutes,
                    shift_start_hour: op.shift.start_hour,
                    ..Default::default()
                };
                (op.id.clone(), truth)
            })
            .collect();
        Self {
            settings,
            activities: Activity::ALL.iter().map(|&a| activity_spec(a)).collect(),
            lobs: model.lobs.clone(),
            transitions: BTreeMap::new(),
            variants: BTreeMap::new(),
            variants_by_lob: BTreeMap::new(),
            activity_counts: BTreeMap::new(),
            orders_by_lob: BTreeMap::new(),
            orders_closed: 0,
            orders_cancelled: 0,
            orders_in_flight: 0,
            sla_breaches: 0,
            documents: 0,
            document_links: 0,
            document_transitions: BTreeMap::new(),
            operators,
            incidents: model.incidents.clone(),
            records: Stream::ALL
                .iter()
                .map(|s| (stream_name(*s).to_string(), 0))
                .collect(),
            replay_events: 0,
            browser_sessions: 0,
        }
    }

    /// Adds an order's emitted steps; `complete` is false when later steps were cut off.
    pub fn add_order(&mut self, model: &Model, order: &Order, complete: bool) {
        if order.steps.is_empty() {
            return;
        }
        let names: Vec<&str> = order
            .steps
            .iter()
            .map(|step| step.activity.name())
            .collect();
        let variant = names.join(",");
        let lob = model.lobs[order.lob].name.to_string();
        *self
            .variants_by_lob
            .entry(lob)
            .or_default()
            .entry(variant.clone())
            .or_default() += 1;
        *self.variants.entry(variant).or_default() += 1;
        for name in &names {
            *self.activity_counts.entry(name.to_string()).or_default() += 1;
        }
        for pair in names.windows(2) {
            *self
                .transitions
                .entry(format!("{} -> {}", pair[0], pair[1]))
                .or_default() += 1;
        }
        *self
            .orders_by_lob
            .entry(model.lobs[order.lob].name.to_string())
            .or_default() += 1;
        self.count_outcome(model, order, complete);
        self.count_operators(model, order);
        self.count_documents(model, order);
    }

    fn count_documents(&mut self, model: &Model, order: &Order) {
        let mut activities: BTreeMap<String, Vec<&'static str>> = BTreeMap::new();
        for (step, documents) in order.steps.iter().zip(order.documents(model)) {
            for document in documents {
                activities
                    .entry(document)
                    .or_default()
                    .push(step.activity.name());
            }
        }
        self.documents += activities.len() as u64;
        for names in activities.values() {
            self.document_links += names.len() as u64;
            for pair in names.windows(2) {
                *self
                    .document_transitions
                    .entry(format!("{} -> {}", pair[0], pair[1]))
                    .or_default() += 1;
            }
        }
    }

    fn count_outcome(&mut self, model: &Model, order: &Order, complete: bool) {
        match order.steps.last().map(|step| step.activity) {
            _ if !complete => self.orders_in_flight += 1,
            Some(Activity::Close) => self.orders_closed += 1,
            Some(Activity::Cancel) => self.orders_cancelled += 1,
            _ => self.orders_in_flight += 1,
        }
        if complete && order.sla_breached(model) {
            self.sla_breaches += 1;
        }
    }

    fn count_operators(&mut self, model: &Model, order: &Order) {
        let worker = &model.operators[order.worker].id;
        if order.steps.iter().any(|step| step.operator == order.worker) {
            if let Some(truth) = self.operators.get_mut(worker) {
                truth.orders_worked += 1;
            }
        }
        for step in &order.steps {
            if let Some(truth) = self.operators.get_mut(&model.operators[step.operator].id) {
                truth.activities += 1;
                truth.reworks += u64::from(step.activity == Activity::Rework);
            }
        }
    }

    pub fn add_records(&mut self, stream: Stream, records: u64) {
        *self
            .records
            .entry(stream_name(stream).to_string())
            .or_default() += records;
    }

    /// Serializes the truth as pretty JSON.
    pub fn to_json(&self) -> Result<String, TruthError> {
        Ok(serde_json::to_string_pretty(self)?)
    }

    pub fn write(&self, path: &Path) -> Result<(), TruthError> {
        let text = self.to_json()?;
        std::fs::write(path, text).map_err(|source| TruthError::Write {
            path: path.display().to_string(),
            source,
        })
    }
}

/// Returns the name of a stream in the truth file and the report.
pub fn stream_name(stream: Stream) -> &'static str {
    match stream {
        Stream::Spans => "spans",
        Stream::Logs => "logs",
        Stream::Metrics => "metric_points",
        Stream::BrowserSpans => "browser_spans",
        Stream::Replay => "replay_records",
    }
}

fn activity_spec(activity: Activity) -> ActivitySpec {
    ActivitySpec {
        name: activity.name(),
        performed_by: if activity.done_by_lead() {
            "lead"
        } else {
            "assigned operator"
        },
        median_work_minutes: activity.median_work_minutes(),
        status_after: activity.status_after(),
        product_event: activity.is_product_event(),
    }
}

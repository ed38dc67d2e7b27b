//! Analyses of one event log: directly-follows graphs, variants, case
//! statistics and filters.
//!
//! Every analysis reads the log's columns and returns plain data keyed by
//! activity ids; names are resolved through the log's symbol tables. Results
//! follow PM4Py's definitions (cited per function) so they can be compared
//! with it figure for figure.

pub mod cases;
pub mod dfg;
pub mod filter;
pub mod stats;
pub mod variants;

pub use cases::{
    case_durations, rework_per_activity, terminal_activities, throughput, throughput_ending,
    Bucket, ThroughputBucket,
};
pub use dfg::{directly_follows, performance_dfg, Dfg, EdgePerformance};
pub use stats::Summary;
pub use variants::{variants, Variant};

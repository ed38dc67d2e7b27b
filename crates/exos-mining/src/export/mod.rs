//! Exporters of event logs. OCEL 2.0 JSON export lives in
//! [`crate::ocel::export`].

pub mod xes;

pub use xes::write_xes;

//! Process mining over event logs, computed in Rust.
//!
//! This crate owns the event-log model ([`log::EventLog`], columnar with
//! interned activities), importers and exporters (XES, CSV, OCEL 2.0 JSON,
//! XML and SQLite), analyses (directly-follows graphs, variants, case
//! statistics, filters), discovery (the inductive miner infrequent, process
//! trees and Petri nets) and conformance checking (token-based replay and
//! optimal alignments). It does no HTTP and knows no database: callers hand
//! it files or logs and get plain data back.
//!
//! Results are defined to equal PM4Py 2.7's on the same input; the tests
//! under `tests/` compare them with reference outputs that
//! `tests/reference/make_reference.py` produces with PM4Py.

pub mod analysis;
pub mod conformance;
pub mod discovery;
pub mod export;
pub mod import;
pub mod log;
pub mod ocel;
pub mod time;

pub use import::{ImportError, ImportOptions, ImportReport, Issue, IssueKind, Location, OnError};
pub use log::{EventLog, Sym, Timestamp};

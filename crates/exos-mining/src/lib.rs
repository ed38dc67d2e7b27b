//! Process mining over event logs, computed in Rust.
//!
//! This crate owns the event-log model ([`log::EventLog`], columnar with
//! interned activities) and its importers and exporters (XES, CSV, OCEL 2.0
//! JSON, XML and SQLite). On top of it sit analyses (directly-follows
//! graphs, variants, case statistics, filters), discovery (the inductive
//! miner infrequent, process trees and Petri nets) and conformance checking
//! (token-based replay and optimal alignments). It does no HTTP and uses no
//! database: callers pass files or logs and get plain data back.
//!
//! Results are defined to equal PM4Py 2.7's on the same input; the tests
//! under `tests/` compare them with reference outputs that
//! `tests/reference/make_reference.py` produces with PM4Py.
//!
//! A typical pipeline:
//!
//! ```no_run
//! use exos_mining::analysis::{directly_follows, variants};
//! use exos_mining::conformance::{align_variants, token_replay, AlignmentOptions};
//! use exos_mining::discovery::{inductive_miner, tree_to_petri_net, ImfOptions};
//! use exos_mining::import::xes::read_xes;
//!
//! let (log, report) = read_xes("orders.xes.gz".as_ref(), &Default::default())?;
//! println!("{} cases, {} issues", report.cases, report.issue_count);
//! let dfg = directly_follows(&log);
//! let top = &variants(&log)[0];
//! let tree = inductive_miner(&log, ImfOptions { noise_threshold: 0.2 });
//! println!("{}", tree.to_mermaid(&log.activities));
//! let net = tree_to_petri_net(&tree);
//! let fitness = token_replay(&log, &net);
//! let alignments = align_variants(&log, &net, AlignmentOptions::default(), None);
//! # Ok::<(), exos_mining::ImportError>(())
//! ```

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

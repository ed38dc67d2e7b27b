//! Imported event logs, object-centric mining, operators and opportunities.
//!
//! This crate joins `exos-mining` (file formats and algorithms, no
//! database) with `exos-store` (tables, no business logic):
//!
//! - [`import`] reads a log file and writes it to the store's event-log
//!   tables, reporting each problem of the file with its location;
//!   [`export`] writes a stored log back to XES, CSV or OCEL 2.0.
//! - [`ocpm`] runs object-centric analyses (per-type directly-follows
//!   graphs, lifecycles, convergence and divergence, statistics) over a
//!   stored log or over spans with several object-type attributes ([`spans`]).
//! - [`operators`] and [`opportunities`] answer the Operators and
//!   Opportunities pages from the business spans in `otel_traces`.
//!
//! It does no HTTP: the server's handlers call these functions.

pub mod convert;
pub mod export;
pub mod import;
pub mod ocpm;
pub mod operators;
pub mod opportunities;
pub mod spans;

use exos_analytics::AnalyticsError;
use exos_store::StoreError;

/// Everything that can go wrong here, with a message fit for the user.
#[derive(Debug, thiserror::Error)]
pub enum OcpmError {
    /// The request or file is invalid; the message names the value and the fix.
    #[error("{0}")]
    BadInput(String),
    /// The named log does not exist.
    #[error("{0}")]
    NotFound(String),
    /// A log of that name exists already.
    #[error("{0}")]
    Conflict(String),
    /// The file could not be read as its format.
    #[error(transparent)]
    Import(#[from] exos_mining::ImportError),
    /// Reading or writing a file failed.
    #[error("{0}")]
    Io(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Analytics(#[from] AnalyticsError),
}

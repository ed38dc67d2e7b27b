//! Process mining over spans: the bridge between the store and `exos-mining`.
//!
//! A [`LogDefinition`] selects which spans are events and which attributes give
//! the case (`order.id`), the activity (the span name), the resource
//! (`operator.id`) and the case attributes (`lob`). [`load_span_log`] runs it
//! on a store (DuckDB or ClickHouse, through `Store::query`) and builds a
//! columnar [`EventLog`](exos_mining::EventLog); [`LogCache`] keeps built logs
//! for a minute. [`LogFilters`] narrow a log, and the answer modules compute
//! what the API serves: the process map, variants, case charts, bottlenecks,
//! rework, one case's timeline, discovery and conformance.
//!
//! This crate does no HTTP. Every SQL text is built from allow-listed
//! columns and literals escaped by `exos_analytics::sql::Sql`.

pub mod bottlenecks;
pub mod cache;
pub mod case_trace;
pub mod cases;
pub mod conformance;
pub mod definition;
pub mod discovery;
pub mod error;
pub mod filter;
pub mod load;
pub mod map;
pub mod request;
pub mod rework;
pub mod stats;
pub mod variants;

pub use cache::LogCache;
pub use definition::{LogDefinition, SpanSelection};
pub use error::ProcessError;
pub use filter::LogFilters;
pub use load::{load_span_log, SpanLog};
pub use request::{LogScope, ScopedLog};

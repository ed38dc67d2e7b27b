//! Funnel and retention engines with ClickHouse's semantics, for EXOS's
//! product analytics.
//!
//! ClickHouse has `windowFunnel` and `retention` built in; DuckDB has neither.
//! This crate reproduces both in Rust over per-actor data that DuckDB streams
//! as Arrow batches (`duck`), and renders the native queries for ClickHouse
//! (`sql::clickhouse`), so that a funnel or a retention table gives the same
//! numbers on either store. It contains no HTTP code and opens no store
//! itself: callers pass a DuckDB connection or run the ClickHouse SQL it renders.
//!
//! Layers, bottom up: `window_funnel`, `any_order` and `retention` evaluate
//! one actor, and `funnel` and `retention` aggregate actors into reports.
//! `query` contains the serde definitions, `sql` renders both dialects and
//! `duck` runs the questions on DuckDB; `partitioned` answers a funnel and its
//! breakdown in one unsorted scan, on every core.

pub mod actor_groups;
pub mod any_order;
pub mod duck;
pub mod funnel;
pub mod modes;
pub mod partitioned;
pub mod query;
pub mod retention;
pub mod sql;
pub mod window_funnel;

pub use funnel::{
    DefinitionError, FunnelReport, FunnelResult, FunnelSeries, StepResult, TimeToConvert,
    TrendPoint,
};
pub use modes::{FunnelMode, FunnelModes, ModeError};
pub use query::{
    Column, EventFilter, Exclusion, FunnelKind, FunnelQuery, Period, Property, RetentionKind,
    RetentionQuery, TimeRange,
};
pub use retention::{retention_flags, RetentionCohort, RetentionReport, RetentionTable};
pub use window_funnel::{
    FunnelError, FunnelMatch, FunnelScratch, StepEvent, WindowFunnel, MAX_STEPS,
};

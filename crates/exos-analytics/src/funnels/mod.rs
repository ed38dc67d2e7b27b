//! Funnels and retention behind `/api/funnels*` and `/api/retention`: typed
//! JSON requests in, reports with the SQL that ran out, on either store.
//!
//! The engines live in `exos-funnels` (ClickHouse's `windowFunnel` and
//! `retention` semantics). This module turns API requests into their
//! definitions, feeds them per-actor span lists from the store (`source`),
//! and shapes the responses: reports (`report`), the actors behind a step with
//! links to their traces and sessions (`actors`), correlation of attribute
//! values and events with conversion (`correlation`) and retention tables
//! (`retention`).
//!
//! Invariants: user values enter SQL only through `exos_funnels::sql::Dialect`
//! literals; every response carries the SQL it ran; DuckDB and ClickHouse give
//! the same numbers for the same rows.

pub mod actors;
pub mod correlation;
pub mod report;
pub mod request;
pub mod retention;
pub mod source;

pub use actors::{funnel_actors, ActorsRequest, ActorsResponse};
pub use correlation::{funnel_correlation, CorrelationRequest, CorrelationResponse};
pub use report::{funnel, FunnelResponse};
pub use request::{Actor, FunnelRequest, TimeBound};
pub use retention::{retention, RetentionRequest, RetentionResponse};

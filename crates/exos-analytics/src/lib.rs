//! The query layer behind the overview, explorer, errors, services, trace and visitor pages,
//! and the funnel and retention routes (`funnels`, over the `exos-funnels` engines).
//!
//! Each route of the HTTP API has a module here with three parts. A request type
//! parses itself from the query string's pairs (`from_query`), so the server
//! passes strings through. A function takes `&dyn Store` and the request. Serde
//! response types have the shapes docs/API.md shows. This crate never touches
//! HTTP: the server maps [`AnalyticsError`] to statuses.
//!
//! Invariants:
//! - SQL is written once and rendered per dialect by [`sql::Sql`]; user values
//!   enter it only as literals from [`sql::Sql::text`], identifiers only from
//!   allow-lists.
//! - Every query over spans or logs has a range predicate on `Timestamp` and a
//!   bounded `LIMIT` or a bounded group count, except the trace lookup by id and
//!   the schema's latest-rows samples.
//! - Both stores return the same response for the same rows: times are read as
//!   integers and formatted here, percentiles come from integer histograms
//!   (`latency.rs`), and ties are broken explicitly.

pub mod definitions;
pub mod entities;
pub mod error;
pub mod errors;
pub mod events;
pub mod facets;
pub mod filter;
pub mod funnels;
pub mod latency;
pub mod params;
pub mod path_groups;
pub mod paths;
pub mod rollups;
pub mod rows;
pub mod schema;
pub mod scope;
pub mod services;
pub mod sql;
pub mod stats;
pub mod time;
pub mod trace;
pub mod trends;
pub mod visitor;
pub mod visualize;

pub use definitions::{EventRef, Library};
pub use error::AnalyticsError;
pub use errors::{error_group, errors, ErrorGroupRequest, ErrorsRequest};
pub use events::{events, EventsRequest};
pub use facets::{filters, FiltersRequest};
pub use filter::{Filter, FilterKey, Source};
pub use paths::{path_actors, paths, PathActorsRequest, PathsQuery};
pub use schema::schema;
pub use scope::Scope;
pub use services::{services, ServicesRequest};
pub use stats::{stats, StatsRequest};
pub use time::TimeRange;
pub use trace::{trace, TraceRequest};
pub use trends::{trends, TrendsQuery};
pub use visitor::{visitor, VisitorRequest};
pub use visualize::{visualize, VisualizeRequest};

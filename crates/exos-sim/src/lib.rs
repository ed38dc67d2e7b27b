//! `exos-sim`: a simulator of an order-processing operation that sends
//! realistic OpenTelemetry to EXOS through its OTLP receivers only.
//!
//! Five lines of business run orders through a lifecycle of fifteen activities
//! ([`model`], [`process`]), worked by sixty operators in shifts across time
//! zones ([`calendar`]). Each activity becomes a business span with backend
//! HTTP and database spans and logs ([`backend`]); jobs and metrics fill the
//! time between orders ([`background`]); some activities run in a traced
//! browser session with rrweb replay ([`browser`], [`rrweb`]). Three incidents
//! are injected: an outage of one service, a release that slows one activity
//! and one operator with high rework.
//!
//! Everything is drawn from seeded streams ([`random`]): the same seed and time
//! window give the same payload bytes and the same truth file ([`truth`]), which
//! records what analyses of the stored data should find. Generation is streamed
//! ([`generate`], [`live`]) into OTLP requests ([`batch`]) that worker threads
//! send over OTLP/HTTP (protobuf or JSON) or OTLP/gRPC ([`send`], [`run`]).
//!
//! This crate never writes a store directly and knows nothing of EXOS's tables.

pub mod backend;
pub mod background;
pub mod batch;
pub mod browser;
pub mod calendar;
pub mod generate;
pub mod grpc;
pub mod json;
pub mod live;
pub mod model;
pub mod otlp;
pub mod process;
pub mod random;
pub mod report;
pub mod rrweb;
pub mod run;
pub mod send;
pub mod truth;

pub use batch::{BatchLimits, Payload, Stream};
pub use generate::{Backfill, BackfillSettings};
pub use live::{Live, LiveSettings};
pub use report::Report;
pub use run::{run_backfill, run_live, Counters};
pub use send::{Protocol, Target};
pub use truth::Truth;

//! OTLP ingest: decoding, validation, mapping to rows, and the bounded queue.
//!
//! Receivers (HTTP and gRPC, in `exos-server`) hand request bodies or decoded
//! messages to this crate and get back rows grouped by table plus a count of
//! rejected records. This crate handles the OTLP wire formats and the store's
//! value conventions, but no SQL and no database.

pub mod body;
pub mod common;
pub mod json;
pub mod limits;
pub mod logs;
pub mod metrics;
pub mod outcome;
pub mod queue;
pub mod replay_chunks;
pub mod replay_mask;
pub mod scrub;
pub mod traces;
pub mod values;

pub use body::{decode, decompress, encoding_of, BodyError, Encoding, Signal};
pub use limits::Limits;
pub use outcome::Mapped;
pub use queue::{bounded, Job, QueueError, QueueSender};

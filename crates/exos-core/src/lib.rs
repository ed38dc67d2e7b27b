//! Domain types shared by every EXOS crate.
//!
//! This crate owns the vocabulary of the system: the business attribute keys
//! (`order.id`, `operator.id`, …), the row types that ingest produces and the
//! store writes, and the batch that carries them between the two. It does no
//! I/O and contains no SQL, so every other crate can depend on it.

pub mod attributes;
pub mod rows;

pub use attributes::{Attributes, BusinessKeys};
pub use rows::{
    Batch, Exemplar, ExpHistogramRow, GaugeRow, HistogramRow, LogRow, MetricMeta, PointCommon,
    ReplayEventKey, SpanEvent, SpanLink, SpanRow, SumRow, SummaryRow, REPLAY_REWRITTEN,
};

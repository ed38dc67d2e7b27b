//! Typed, serde-ready definitions of funnel and retention questions.
//!
//! A definition names columns and attributes of `otel_traces` only through
//! [`Column`] and attribute keys, never through SQL text, so the builders in
//! `sql` can quote every value for the dialect they render.

use serde::{Deserialize, Serialize};

use crate::modes::FunnelModes;

/// A plain column of `otel_traces` that a question may group or filter by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Column {
    UserId,
    RumSessionId,
    OrderId,
    OperatorId,
    Lob,
    SpanName,
    ServiceName,
}

impl Column {
    /// Returns the column name, identical on DuckDB and ClickHouse.
    pub fn name(self) -> &'static str {
        match self {
            Column::UserId => "UserId",
            Column::RumSessionId => "RumSessionId",
            Column::OrderId => "OrderId",
            Column::OperatorId => "OperatorId",
            Column::Lob => "Lob",
            Column::SpanName => "SpanName",
            Column::ServiceName => "ServiceName",
        }
    }
}

/// A value of a span: a plain column or a `SpanAttributes` entry (`''` when absent).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Property {
    Column(Column),
    Attribute(String),
}

/// A condition on one span; a step, an exclusion or a retention event.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum EventFilter {
    /// `SpanName` equals the name.
    SpanName(String),
    /// The property equals the value.
    Equals { property: Property, value: String },
    /// Every filter holds; an empty list matches every span.
    All(Vec<EventFilter>),
    /// At least one filter holds; an empty list matches no span.
    Any(Vec<EventFilter>),
}

/// Half-open range `[from_ns, to_ns)` of span timestamps, nanoseconds since the Unix epoch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeRange {
    pub from_ns: i64,
    pub to_ns: i64,
}

/// Ordering rule for the steps of a funnel.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FunnelKind {
    /// Steps in order, other spans allowed in between: `windowFunnel` with
    /// the definition's modes.
    #[default]
    Sequential,
    /// Steps in order with no other span of the actor in between:
    /// `windowFunnel` with `strict_order` added.
    Strict,
    /// Steps in any order within the window: level k means k distinct steps
    /// were done within one window that starts at one of the actor's step events.
    AnyOrder,
}

/// Actors who did `event` between two steps of their chain are left out.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Exclusion {
    pub event: EventFilter,
    /// 1-based step after which the exclusion event counts.
    pub from_step: usize,
    /// 1-based step before which it counts; when the actor never reached it,
    /// until the end of the conversion window.
    pub to_step: usize,
}

/// Calendar period of a trend or a retention table, in UTC; weeks start on Monday.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Period {
    Day,
    Week,
    Month,
}

/// A funnel question over `otel_traces`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FunnelQuery {
    /// Column whose value identifies the actor; spans where it is `''` are ignored.
    pub actor: Column,
    /// 1 to 32 steps.
    pub steps: Vec<EventFilter>,
    #[serde(default)]
    pub kind: FunnelKind,
    /// Conversion window: the last step at most this many nanoseconds after the first.
    pub window_ns: u64,
    /// Extra `windowFunnel` modes for sequential and strict funnels.
    #[serde(default)]
    pub modes: FunnelModes,
    #[serde(default)]
    pub exclusions: Vec<Exclusion>,
    /// Splits the funnel by the value on each span: an actor is counted once
    /// per value, over the spans that carry it.
    #[serde(default)]
    pub breakdown: Option<Property>,
    pub time_range: TimeRange,
    /// Groups conversion over time by the period of each chain's first step.
    #[serde(default)]
    pub trend_period: Option<Period>,
}

/// Whether an actor enters a cohort at the first start event only or at each.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RetentionKind {
    /// One cohort per actor: the period of its first start event in the range.
    #[default]
    FirstTime,
    /// One cohort entry per period in which the actor did the start event.
    Recurring,
}

/// A retention question over `otel_traces`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetentionQuery {
    pub actor: Column,
    pub start_event: EventFilter,
    pub return_event: EventFilter,
    #[serde(default)]
    pub kind: RetentionKind,
    pub period: Period,
    /// Number of periods from the one containing `from_ns`: 2 to 32, the
    /// number of conditions ClickHouse's `retention` takes.
    pub periods: usize,
    /// Start of the first period (truncated to the period), nanoseconds since the Unix epoch.
    pub from_ns: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn funnel_query_reads_json() {
        let query: FunnelQuery = serde_json::from_str(
            r#"{"actor": "UserId", "steps": [{"span_name": "view"}, {"equals": {"property": {"attribute": "page"}, "value": "cart"}}],
                "kind": "strict", "window_ns": 60000000000, "modes": ["strict_increase"],
                "breakdown": {"column": "Lob"}, "time_range": {"from_ns": 0, "to_ns": 10}}"#,
        )
        .unwrap();
        assert_eq!(query.kind, FunnelKind::Strict);
        assert_eq!(query.breakdown, Some(Property::Column(Column::Lob)));
        assert_eq!(query.steps[0], EventFilter::SpanName("view".into()));
        assert!(query.exclusions.is_empty());
    }

    #[test]
    fn funnel_query_rejects_unknown_key() {
        let error = serde_json::from_str::<FunnelQuery>(
            r#"{"actor": "UserId", "steps": [], "window_ns": 1, "time_range": {"from_ns": 0, "to_ns": 1}, "windw": 2}"#,
        )
        .unwrap_err();
        assert!(error.to_string().contains("windw"), "{error}");
    }
}

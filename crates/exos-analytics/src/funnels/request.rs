//! The JSON definition of a funnel as clients send it, and its translation
//! into the engine's [`FunnelQuery`].
//!
//! Clients name actors and breakdowns by their OpenTelemetry attribute keys
//! (`order.id`, `lob`, `http.user_agent`); the engine needs plain columns or
//! `SpanAttributes` keys. Bounds are milliseconds since the epoch or RFC 3339
//! text, as in the other routes. Steps and exclusions are inline filters or saved
//! actions (`{"action": "<id or name>"}`), resolved through the caller's [`Library`];
//! the filter bar's `key=value` filters and a saved cohort narrow the spans.

use exos_funnels::{Column, Exclusion, FunnelKind, FunnelModes, FunnelQuery, Period, Property};
use serde::{Deserialize, Serialize};

use super::source::SpanScope;
use crate::definitions::{EventRef, Library};
use crate::error::AnalyticsError;
use crate::filter::Filter;
use crate::sql::Sql;
use crate::time::{parse_time, TimeRange};

/// Most breakdown values a response shows, the values with the most actors first.
pub const MAX_BREAKDOWN_VALUES: usize = 50;
/// Breakdown values shown when a request names no limit.
pub const DEFAULT_BREAKDOWN_VALUES: usize = 10;
/// Nanoseconds in a second.
const NS_PER_S: u64 = 1_000_000_000;
/// The maximum conversion window: 366 days.
const MAX_WINDOW_S: u64 = 366 * 86_400;

/// Whose journey a funnel or retention table follows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Actor {
    #[serde(rename = "user.id")]
    User,
    #[serde(rename = "rum.session_id")]
    Session,
    #[serde(rename = "operator.id")]
    Operator,
    #[serde(rename = "order.id")]
    Order,
}

impl Actor {
    /// Returns the plain column that contains the actor's id.
    pub fn column(self) -> Column {
        match self {
            Actor::User => Column::UserId,
            Actor::Session => Column::RumSessionId,
            Actor::Operator => Column::OperatorId,
            Actor::Order => Column::OrderId,
        }
    }
}

/// A range bound: milliseconds since the epoch or RFC 3339 text.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum TimeBound {
    Millis(i64),
    Text(String),
}

impl TimeBound {
    fn nanos(&self, name: &str) -> Result<i64, AnalyticsError> {
        match self {
            TimeBound::Millis(ms) => parse_time(name, &ms.to_string()),
            TimeBound::Text(text) => parse_time(name, text),
        }
    }
}

/// Parses `from` and `to` into a range.
pub fn time_range(from: &TimeBound, to: &TimeBound) -> Result<TimeRange, AnalyticsError> {
    TimeRange::new(from.nanos("from")?, to.nanos("to")?)
}

/// Actors who did `event` between two steps are left out; `event` may name a saved action.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExclusionRequest {
    pub event: EventRef,
    /// 1-based step after which the exclusion event counts.
    pub from_step: usize,
    /// 1-based step before which it counts.
    pub to_step: usize,
}

/// A funnel as `POST /api/funnels` receives it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FunnelRequest {
    pub actor: Actor,
    /// 1 to 32 steps, each an event filter such as `{"span_name": "Approve"}` or a
    /// saved action such as `{"action": "approved-orders"}` (its id or name).
    pub steps: Vec<EventRef>,
    #[serde(default)]
    pub kind: FunnelKind,
    /// Conversion window in seconds: the last step at most this long after the first.
    pub window_seconds: u64,
    /// Extra `windowFunnel` modes, ClickHouse's names.
    #[serde(default)]
    pub modes: FunnelModes,
    #[serde(default)]
    pub exclusions: Vec<ExclusionRequest>,
    /// The filter bar's filters (`Lob=Appraisal`, `SpanAttributes.browser!=Firefox`):
    /// the funnel reads only spans that pass all of them.
    #[serde(default)]
    pub filters: Vec<String>,
    /// A saved cohort (id) of the same actor: only its members count.
    #[serde(default)]
    pub cohort: Option<String>,
    /// Attribute key to split by (`lob`, `operator.id`, `http.user_agent`, …).
    #[serde(default)]
    pub breakdown: Option<String>,
    /// Breakdown values shown, those with the most actors at step 1 first (default 10, at most 50).
    #[serde(default)]
    pub breakdown_limit: Option<usize>,
    pub from: TimeBound,
    pub to: TimeBound,
    /// Period of the conversion-over-time series; none when absent.
    #[serde(default)]
    pub trend_period: Option<Period>,
}

impl FunnelRequest {
    /// Checks the request and returns the engine's definition, with saved actions resolved.
    pub fn query(&self, library: &Library) -> Result<FunnelQuery, AnalyticsError> {
        if self.steps.is_empty() || self.steps.len() > exos_funnels::MAX_STEPS {
            return Err(AnalyticsError::bad(
                "steps",
                format!(
                    "a funnel needs 1 to {} steps, got {}",
                    exos_funnels::MAX_STEPS,
                    self.steps.len()
                ),
            ));
        }
        if self.window_seconds == 0 || self.window_seconds > MAX_WINDOW_S {
            return Err(AnalyticsError::bad(
                "window_seconds",
                format!(
                    "{} is outside 1 to {MAX_WINDOW_S} seconds (366 days)",
                    self.window_seconds
                ),
            ));
        }
        let range = time_range(&self.from, &self.to)?;
        let query = FunnelQuery {
            actor: self.actor.column(),
            steps: self
                .steps
                .iter()
                .map(|step| library.event(step))
                .collect::<Result<_, _>>()?,
            kind: self.kind,
            window_ns: self.window_seconds * NS_PER_S,
            modes: self.modes,
            exclusions: self
                .exclusions
                .iter()
                .map(|exclusion| {
                    Ok(Exclusion {
                        event: library.event(&exclusion.event)?,
                        from_step: exclusion.from_step,
                        to_step: exclusion.to_step,
                    })
                })
                .collect::<Result<_, AnalyticsError>>()?,
            breakdown: self.breakdown.as_deref().map(property).transpose()?,
            time_range: exos_funnels::TimeRange {
                from_ns: range.from_ns,
                to_ns: range.to_ns,
            },
            trend_period: self.trend_period,
        };
        exos_funnels::FunnelReport::new(&query)
            .map_err(|error| AnalyticsError::bad("steps", error.to_string()))?;
        Ok(query)
    }

    /// Returns the spans the funnel may see: those passing the filters, of the cohort's actors.
    pub fn scope(&self, sql: &Sql, library: &Library) -> Result<SpanScope, AnalyticsError> {
        let filters: Vec<&str> = self.filters.iter().map(String::as_str).collect();
        let mut conditions: Vec<String> = Filter::parse_all(&filters)?
            .iter()
            .map(|filter| filter.condition(sql, crate::filter::Source::Spans))
            .collect();
        if let Some(id) = &self.cohort {
            let end_ns = time_range(&self.from, &self.to)?.to_ns;
            conditions.push(library.cohort_sql(sql, id, self.actor.column(), end_ns)?);
        }
        Ok(SpanScope::new(conditions))
    }

    /// Returns one label per step: the filter's, or the saved action's name.
    pub fn step_labels(&self, library: &Library) -> Vec<String> {
        self.steps
            .iter()
            .map(|step| library.event_label(step))
            .collect()
    }

    /// Returns how many breakdown values to show.
    pub fn breakdown_values(&self) -> Result<usize, AnalyticsError> {
        match self.breakdown_limit {
            None => Ok(DEFAULT_BREAKDOWN_VALUES),
            Some(limit) if (1..=MAX_BREAKDOWN_VALUES).contains(&limit) => Ok(limit),
            Some(limit) => Err(AnalyticsError::bad(
                "breakdown_limit",
                format!("{limit} is outside 1 to {MAX_BREAKDOWN_VALUES}"),
            )),
        }
    }
}

/// Maps an attribute key to the plain column that contains it, or to a
/// `SpanAttributes` entry. `SpanAttributes.` in front is accepted and dropped.
pub fn property(key: &str) -> Result<Property, AnalyticsError> {
    let key = key.trim();
    let key = key.strip_prefix("SpanAttributes.").unwrap_or(key);
    if key.is_empty() {
        return Err(AnalyticsError::bad(
            "breakdown",
            "the attribute key is empty; name one such as lob, operator.id or http.user_agent",
        ));
    }
    let column = match key {
        "lob" | "Lob" => Some(Column::Lob),
        "operator.id" | "OperatorId" => Some(Column::OperatorId),
        "order.id" | "OrderId" => Some(Column::OrderId),
        "user.id" | "UserId" => Some(Column::UserId),
        "rum.session_id" | "RumSessionId" => Some(Column::RumSessionId),
        "service.name" | "ServiceName" => Some(Column::ServiceName),
        "span.name" | "SpanName" => Some(Column::SpanName),
        _ => None,
    };
    Ok(match column {
        Some(column) => Property::Column(column),
        None => Property::Attribute(key.to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(json: &str) -> Result<FunnelRequest, serde_json::Error> {
        serde_json::from_str(json)
    }

    #[test]
    fn request_reads_attribute_names() {
        let parsed = request(
            r#"{"actor": "order.id", "steps": [{"span_name": "Order Received"}, {"span_name": "Approve"}],
                "window_seconds": 86400, "breakdown": "lob", "from": 0, "to": "2026-01-01T00:00:00Z"}"#,
        )
        .unwrap();
        let query = parsed.query(&Library::default()).unwrap();
        assert_eq!(query.actor, Column::OrderId);
        assert_eq!(query.breakdown, Some(Property::Column(Column::Lob)));
        assert_eq!(query.window_ns, 86_400 * NS_PER_S);
        assert_eq!(query.time_range.to_ns, 1_767_225_600_000_000_000);
    }

    #[test]
    fn other_keys_are_span_attributes() {
        assert_eq!(
            property("SpanAttributes.http.user_agent").unwrap(),
            Property::Attribute("http.user_agent".into())
        );
        assert!(property(" ").is_err());
    }

    #[test]
    fn bad_window_names_the_field() {
        let parsed = request(
            r#"{"actor": "user.id", "steps": [{"span_name": "a"}], "window_seconds": 0, "from": 0, "to": 1000}"#,
        )
        .unwrap();
        let error = parsed.query(&Library::default()).unwrap_err().to_string();
        assert!(error.contains("window_seconds"), "{error}");
    }

    #[test]
    fn unknown_actor_is_rejected() {
        let error = request(
            r#"{"actor": "customer", "steps": [], "window_seconds": 1, "from": 0, "to": 1}"#,
        )
        .unwrap_err()
        .to_string();
        assert!(error.contains("customer"), "{error}");
    }

    #[test]
    fn exclusion_past_last_step_is_rejected() {
        let parsed = request(
            r#"{"actor": "user.id", "steps": [{"span_name": "a"}, {"span_name": "b"}], "window_seconds": 60,
                "exclusions": [{"event": {"span_name": "x"}, "from_step": 1, "to_step": 3}], "from": 0, "to": 1000}"#,
        )
        .unwrap();
        assert!(parsed.query(&Library::default()).is_err());
    }
}

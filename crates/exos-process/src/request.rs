//! What every process request shares: the log definition, the time range and
//! the filters, and turning them into a filtered log.

use std::sync::Arc;

use exos_analytics::time::{now_ns, parse_time};
use exos_analytics::TimeRange;
use exos_mining::EventLog;
use exos_store::Store;
use serde::{Deserialize, Serialize};

use crate::cache::LogCache;
use crate::definition::LogDefinition;
use crate::error::ProcessError;
use crate::filter::LogFilters;
use crate::load::SpanLog;

/// The range a request without `from` covers: the 30 days before `to`.
pub const DEFAULT_SPAN_NS: i64 = 30 * 24 * 3600 * 1_000_000_000;
/// A missing `to` is now, rounded down to this step so repeated requests share a cached log.
const NOW_STEP_NS: i64 = 60 * 1_000_000_000;

/// The log part of a request: definition, range and filters.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogScope {
    pub log: LogDefinition,
    /// Range start: RFC 3339 or epoch milliseconds (text or number); 30 days before
    /// `to` when absent.
    #[serde(deserialize_with = "time_text")]
    pub from: Option<String>,
    /// Range end: RFC 3339 or epoch milliseconds (text or number); now when absent.
    #[serde(deserialize_with = "time_text")]
    pub to: Option<String>,
    pub filters: LogFilters,
}

/// Reads a time as JSON text, or as a JSON integer of epoch milliseconds.
fn time_text<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<String>, D::Error> {
    struct TimeVisitor;
    impl<'de> serde::de::Visitor<'de> for TimeVisitor {
        type Value = Option<String>;

        fn expecting(&self, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
            formatter.write_str("RFC 3339 text or an integer of epoch milliseconds")
        }

        fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Self::Value, E> {
            Ok(Some(text.to_string()))
        }

        fn visit_i64<E: serde::de::Error>(self, millis: i64) -> Result<Self::Value, E> {
            Ok(Some(millis.to_string()))
        }

        fn visit_u64<E: serde::de::Error>(self, millis: u64) -> Result<Self::Value, E> {
            Ok(Some(millis.to_string()))
        }

        fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_none<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
    }
    deserializer.deserialize_any(TimeVisitor)
}

/// A log and its filtered view.
pub struct ScopedLog {
    /// The log as loaded (all cases active in the range).
    pub loaded: Arc<SpanLog>,
    /// The log after the filters.
    pub log: EventLog,
}

impl LogScope {
    /// Parses the time range.
    pub fn range(&self) -> Result<TimeRange, ProcessError> {
        let to_ns = match &self.to {
            Some(text) => parse_time("to", text)?,
            None => now_ns().div_euclid(NOW_STEP_NS) * NOW_STEP_NS,
        };
        let from_ns = match &self.from {
            Some(text) => parse_time("from", text)?,
            None => to_ns - DEFAULT_SPAN_NS,
        };
        Ok(TimeRange::new(from_ns, to_ns)?)
    }

    /// Loads the log (through the cache) and applies the filters.
    pub fn resolve(&self, store: &dyn Store, cache: &LogCache) -> Result<ScopedLog, ProcessError> {
        let range = self.range()?;
        let loaded = cache.get_or_load(store, &self.log, range)?;
        let log = self.filters.apply(&loaded.log, range)?;
        Ok(ScopedLog { loaded, log })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope(json: &str) -> Result<LogScope, serde_json::Error> {
        serde_json::from_str(json)
    }

    #[test]
    fn range_ends_take_text_or_millis() {
        let number = scope(r#"{"from": 1764547200000, "to": "2025-12-02T00:00:00Z"}"#).unwrap();
        let text = scope(r#"{"from": "1764547200000", "to": "2025-12-02T00:00:00Z"}"#).unwrap();
        assert_eq!(number, text);
        assert_eq!(number.range().unwrap().from_ns, 1_764_547_200_000_000_000);
        assert_eq!(scope(r#"{"from": null}"#).unwrap().from, None);
        assert_eq!(scope("{}").unwrap().to, None);
    }

    #[test]
    fn range_end_of_other_type_is_rejected() {
        let error = scope(r#"{"from": true}"#).unwrap_err().to_string();
        assert!(
            error.contains("RFC 3339 text or an integer of epoch milliseconds"),
            "{error}"
        );
        let error = scope(r#"{"to": 1.5}"#).unwrap_err().to_string();
        assert!(error.contains("epoch milliseconds"), "{error}");
    }
}

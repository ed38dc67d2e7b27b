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
    /// Range start: RFC 3339 or epoch milliseconds; 30 days before `to` when absent.
    pub from: Option<String>,
    /// Range end: RFC 3339 or epoch milliseconds; now when absent.
    pub to: Option<String>,
    pub filters: LogFilters,
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

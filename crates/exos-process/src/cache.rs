//! A short-lived in-memory cache of built span logs.
//!
//! The Processes page asks for the map, the variants and the case charts of
//! the same log at once, and again whenever a slider moves; loading the log
//! is the slow part. Logs are kept for [`TTL`] under their definition and
//! time range, so new spans show up within that time.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use exos_analytics::TimeRange;
use exos_store::Store;

use crate::definition::LogDefinition;
use crate::error::ProcessError;
use crate::load::{load_span_log, SpanLog};

/// How long a built log is reused.
pub const TTL: Duration = Duration::from_secs(60);
/// Logs kept at most; the oldest goes first.
const CAPACITY: usize = 8;

struct Entry {
    key: String,
    built: Instant,
    log: Arc<SpanLog>,
}

/// Built logs by definition and time range.
#[derive(Default)]
pub struct LogCache {
    entries: Mutex<Vec<Entry>>,
}

impl LogCache {
    /// Returns the log of `definition` over `range`, building it when no fresh copy exists.
    pub fn get_or_load(
        &self,
        store: &dyn Store,
        definition: &LogDefinition,
        range: TimeRange,
    ) -> Result<Arc<SpanLog>, ProcessError> {
        let key = cache_key(definition, range);
        if let Some(log) = self.fresh(&key) {
            return Ok(log);
        }
        let log = Arc::new(load_span_log(store, definition, range)?);
        self.insert(key, log.clone());
        Ok(log)
    }

    fn fresh(&self, key: &str) -> Option<Arc<SpanLog>> {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.retain(|e| e.built.elapsed() < TTL);
        entries.iter().find(|e| e.key == key).map(|e| e.log.clone())
    }

    fn insert(&self, key: String, log: Arc<SpanLog>) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.retain(|e| e.key != key);
        if entries.len() >= CAPACITY {
            entries.remove(0);
        }
        entries.push(Entry {
            key,
            built: Instant::now(),
            log,
        });
    }
}

fn cache_key(definition: &LogDefinition, range: TimeRange) -> String {
    let definition = serde_json::to_string(definition).unwrap_or_default();
    format!("{definition}|{}|{}", range.from_ns, range.to_ns)
}

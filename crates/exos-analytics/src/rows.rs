//! Running this crate's SQL on a store and reading the result rows by position.
//!
//! The SQL here is built by this crate from allow-listed identifiers and escaped
//! literals, so it goes through `Store::query` (trusted SQL, no guard) under
//! [`QueryLimits`]. Values arrive as JSON in the same form from both stores:
//! numbers as numbers, maps as objects, lists as arrays.

use std::collections::BTreeMap;
use std::time::Duration;

use exos_store::{QueryLimits, Store};
use serde_json::Value;

use crate::error::AnalyticsError;

/// Wall time after which a query of this crate is interrupted.
pub const QUERY_TIMEOUT: Duration = Duration::from_secs(30);

/// One result row.
#[derive(Debug, Clone)]
pub struct Row(Vec<Value>);

/// Runs one query and returns at most `max_rows` rows.
pub fn query(store: &dyn Store, sql: &str, max_rows: usize) -> Result<Vec<Row>, AnalyticsError> {
    let limits = QueryLimits {
        max_rows,
        timeout: QUERY_TIMEOUT,
    };
    let result = store.query(sql, &limits)?;
    // With RUST_LOG=exos_analytics=debug, each page query is logged with its time.
    tracing::debug!(
        elapsed_ms = result.elapsed_ms,
        rows = result.rows.len(),
        sql,
        "page query"
    );
    Ok(result.rows.into_iter().map(Row).collect())
}

/// Runs independent queries at the same time and returns their rows in order.
///
/// The pages' responses need several scans; running them together lets ClickHouse
/// (a network round trip each) and DuckDB (idle cores during small queries)
/// overlap them.
pub fn query_all(
    store: &dyn Store,
    queries: &[(String, usize)],
) -> Result<Vec<Vec<Row>>, AnalyticsError> {
    std::thread::scope(|scope| {
        let handles: Vec<_> = queries
            .iter()
            .map(|(sql, max_rows)| scope.spawn(move || query(store, sql, *max_rows)))
            .collect();
        handles
            .into_iter()
            .map(|handle| handle.join().expect("query thread panicked"))
            .collect()
    })
}

impl Row {
    /// Creates a row from values, for tests and for shaping results.
    pub fn new(values: Vec<Value>) -> Self {
        Self(values)
    }

    fn get(&self, index: usize) -> &Value {
        self.0.get(index).unwrap_or(&Value::Null)
    }

    /// Returns column `index` as text; `""` for NULL, numbers in their JSON form.
    pub fn text(&self, index: usize) -> String {
        match self.get(index) {
            Value::Null => String::new(),
            Value::String(text) => text.clone(),
            other => other.to_string(),
        }
    }

    /// Returns column `index` as a signed integer; 0 for NULL.
    pub fn int(&self, index: usize) -> Result<i64, AnalyticsError> {
        match self.get(index) {
            Value::Null => Ok(0),
            Value::Number(number) => number
                .as_i64()
                .or_else(|| number.as_f64().map(|f| f as i64))
                .ok_or_else(|| AnalyticsError::Result(format!("{number} is not an integer"))),
            Value::String(text) => text
                .parse()
                .map_err(|_| AnalyticsError::Result(format!("{text:?} is not an integer"))),
            other => Err(AnalyticsError::Result(format!("{other} is not an integer"))),
        }
    }

    /// Returns column `index` as a count; 0 for NULL.
    pub fn count(&self, index: usize) -> Result<u64, AnalyticsError> {
        Ok(self.int(index)?.max(0) as u64)
    }

    /// Returns column `index` as a float; 0 for NULL.
    pub fn float(&self, index: usize) -> f64 {
        match self.get(index) {
            Value::Number(number) => number.as_f64().unwrap_or_default(),
            Value::String(text) => text.parse().unwrap_or_default(),
            _ => 0.0,
        }
    }

    /// Returns column `index` as a boolean (ClickHouse may send 0 and 1).
    pub fn bool(&self, index: usize) -> bool {
        match self.get(index) {
            Value::Bool(value) => *value,
            Value::Number(number) => number.as_i64().unwrap_or_default() != 0,
            _ => false,
        }
    }

    /// Returns column `index`, a string-to-string map, with keys sorted.
    pub fn map(&self, index: usize) -> BTreeMap<String, String> {
        match self.get(index) {
            Value::Object(object) => object
                .iter()
                .map(|(key, value)| {
                    let text = match value {
                        Value::String(text) => text.clone(),
                        Value::Null => String::new(),
                        other => other.to_string(),
                    };
                    (key.clone(), text)
                })
                .collect(),
            _ => BTreeMap::new(),
        }
    }

    /// Returns column `index`, a list, as its items.
    pub fn list(&self, index: usize) -> Vec<Value> {
        match self.get(index) {
            Value::Array(items) => items.clone(),
            _ => Vec::new(),
        }
    }

    /// Returns column `index`, a list of text, sorted and without duplicates.
    pub fn text_set(&self, index: usize) -> Vec<String> {
        let mut items: Vec<String> = self
            .list(index)
            .into_iter()
            .filter_map(|value| match value {
                Value::String(text) if !text.is_empty() => Some(text),
                _ => None,
            })
            .collect();
        items.sort();
        items.dedup();
        items
    }

    /// Returns the raw JSON value of column `index`.
    pub fn value(&self, index: usize) -> Value {
        self.get(index).clone()
    }
}

//! `GET /api/filters`: the keys a filter can use, or the values of one key, with counts.
//!
//! Keys come from a sample, the latest `KEY_SAMPLE_ROWS` matching rows of the
//! range: listing every attribute key of millions of rows would unpack every
//! map. Values of a column with few distinct values (service, span name,
//! status, severity, LOB, operator) are counted over the whole range, which is
//! cheap. Values of an attribute key or of an id column (order, user, session,
//! trace) come from the latest `VALUE_SAMPLE_ROWS` matching rows, because
//! counting millions of distinct ids costs more than a filter menu is worth,
//! and the response sets `sampled`.

use exos_store::Store;
use serde::Serialize;

use crate::error::AnalyticsError;
use crate::filter::{FilterColumn, FilterKey, Source, ATTRIBUTE_MAPS, FILTER_COLUMNS};
use crate::params::{check_text, Params};
use crate::rows::query;
use crate::scope::Scope;
use crate::sql::Sql;

/// Rows sampled to list keys.
pub const KEY_SAMPLE_ROWS: usize = 10_000;
/// Rows sampled to count the values of an attribute key.
pub const VALUE_SAMPLE_ROWS: usize = 100_000;
/// Keys or values listed at most.
pub const MAX_ITEMS: usize = 200;

/// The parameters of `/api/filters`.
#[derive(Debug, Clone, PartialEq)]
pub struct FiltersRequest {
    pub source: Source,
    pub scope: Scope,
    /// The key whose values to list; `None` lists keys.
    pub key: Option<FilterKey>,
    /// Lists only values starting with this text (case-sensitive).
    pub prefix: Option<String>,
}

impl FiltersRequest {
    /// Reads `source`, `from`, `to`, `filter`, `key` and `prefix`.
    pub fn from_query(pairs: &[(String, String)]) -> Result<Self, AnalyticsError> {
        let params = Params::new(pairs, &["source", "from", "to", "filter", "key", "prefix"])?;
        let key = params
            .one("key")?
            .map(|text| FilterKey::parse(text).map_err(|e| rename(e, "key")))
            .transpose()?;
        let prefix = params.one("prefix")?.map(str::to_string);
        if let Some(prefix) = &prefix {
            check_text("prefix", prefix)?;
        }
        if prefix.is_some() && key.is_none() {
            return Err(AnalyticsError::bad(
                "prefix",
                "a prefix needs a key; add key=<key> to list that key's values",
            ));
        }
        Ok(Self {
            source: Source::parse(params.one("source")?)?,
            scope: Scope::parse(&params)?,
            key,
            prefix,
        })
    }
}

/// Reports a key error under the parameter it came from.
fn rename(error: AnalyticsError, name: &str) -> AnalyticsError {
    match error {
        AnalyticsError::BadParameter { message, .. } => AnalyticsError::bad(name, message),
        other => other,
    }
}

/// The response body of `/api/filters`: keys, or the values of one key.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum FilterOptions {
    Keys {
        keys: Vec<KeyCount>,
        /// True: counts come from the latest matching rows only.
        sampled: bool,
    },
    Values {
        key: String,
        values: Vec<ValueCount>,
        sampled: bool,
    },
}

/// A filter key and the number of (sampled) rows that have it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KeyCount {
    pub key: String,
    pub count: u64,
}

/// A value and the number of rows with it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ValueCount {
    pub value: String,
    pub count: u64,
}

/// Lists filter keys, or the values of the requested key.
pub fn filters(
    store: &dyn Store,
    request: &FiltersRequest,
) -> Result<FilterOptions, AnalyticsError> {
    let sql = Sql::new(store.dialect());
    match &request.key {
        None => keys(store, &sql, request),
        Some(key) => values(store, &sql, request, key),
    }
}

/// Returns a condition selecting about the latest `rows` rows that match `condition`.
///
/// The cutoff time comes first, from a query that reads only `Timestamp`; the
/// sample is then the rows at or after it. A top-N query that also carried the
/// attribute maps would read every map of the range. Ties at the cutoff can add
/// a few rows to the sample.
pub fn latest_rows_condition(
    store: &dyn Store,
    sql: &Sql,
    table: &str,
    condition: &str,
    rows: usize,
) -> Result<String, AnalyticsError> {
    let text = format!(
        "SELECT {time} FROM {table} WHERE {condition} ORDER BY Timestamp DESC LIMIT 1 OFFSET {offset}",
        time = sql.epoch_ns("Timestamp"),
        offset = rows.saturating_sub(1),
    );
    let cutoff = query(store, &text, 1)?;
    Ok(match cutoff.first() {
        Some(row) => format!("{condition} AND Timestamp >= {}", sql.time(row.int(0)?)),
        None => condition.to_string(),
    })
}

/// Returns the columns that `present_keys` reads.
fn key_columns(source: Source) -> &'static str {
    match source {
        Source::Spans => {
            "ServiceName, SpanName, StatusCode, OrderId, OperatorId, Lob, UserId, \
                          RumSessionId, TraceId, SpanAttributes, ResourceAttributes"
        }
        Source::Logs | Source::Replay => {
            "ServiceName, SeverityText, SeverityNumber, OrderId, OperatorId, \
                          Lob, UserId, RumSessionId, TraceId, LogAttributes, ResourceAttributes"
        }
        Source::Metrics => "ServiceName, ResourceAttributes",
    }
}

/// Renders, per sampled row, the list of filter keys it has a non-empty value for.
fn present_keys(sql: &Sql, source: Source) -> String {
    let mut columns = Vec::new();
    for column in FILTER_COLUMNS {
        if let Some(expr) = column.expr(sql, source) {
            columns.push(format!(
                "CASE WHEN {expr} != '' THEN {} ELSE '' END",
                sql.text(column.name())
            ));
        }
    }
    let mut lists = vec![format!("[{}]", columns.join(", "))];
    for map in ATTRIBUTE_MAPS {
        if let Some(column) = map.column(source) {
            lists.push(sql.prefixed_map_keys(column, &format!("{}.", map.name())));
        }
    }
    sql.concat_lists(&lists)
}

fn keys(
    store: &dyn Store,
    sql: &Sql,
    request: &FiltersRequest,
) -> Result<FilterOptions, AnalyticsError> {
    let table = request.source.table();
    let condition = request.scope.condition(sql, request.source);
    let sampled = latest_rows_condition(store, sql, table, &condition, KEY_SAMPLE_ROWS)?;
    let sample = format!(
        "SELECT {} FROM {table} WHERE {sampled}",
        key_columns(request.source)
    );
    let text = sql.count_list_items(&present_keys(sql, request.source), &sample, MAX_ITEMS);
    let keys = query(store, &text, MAX_ITEMS)?
        .iter()
        .map(|row| {
            Ok(KeyCount {
                key: row.text(0),
                count: row.count(1)?,
            })
        })
        .collect::<Result<_, AnalyticsError>>()?;
    Ok(FilterOptions::Keys {
        keys,
        sampled: true,
    })
}

fn values(
    store: &dyn Store,
    sql: &Sql,
    request: &FiltersRequest,
    key: &FilterKey,
) -> Result<FilterOptions, AnalyticsError> {
    let sampled = match key {
        FilterKey::Attribute { .. } => true,
        FilterKey::Column(column) => matches!(
            column,
            FilterColumn::OrderId
                | FilterColumn::UserId
                | FilterColumn::RumSessionId
                | FilterColumn::TraceId
        ),
    };
    let Some(expr) = key.expr(sql, request.source) else {
        return Ok(FilterOptions::Values {
            key: key.text(),
            values: Vec::new(),
            sampled,
        });
    };
    let table = request.source.table();
    let mut condition = request.scope.condition(sql, request.source);
    if sampled {
        condition = latest_rows_condition(store, sql, table, &condition, VALUE_SAMPLE_ROWS)?;
    }
    let rows_sql = format!("SELECT {expr} AS v FROM {table} WHERE {condition} AND {expr} != ''");
    let mut filter = "v != ''".to_string();
    if let Some(prefix) = &request.prefix {
        filter.push_str(&format!(" AND {}", sql.starts_with("v", prefix)));
    }
    let text = format!(
        "SELECT v, count(*) AS n FROM ({rows_sql}) AS candidate WHERE {filter} \
         GROUP BY v ORDER BY n DESC, v {}",
        sql.limit(MAX_ITEMS)
    );
    let values = query(store, &text, MAX_ITEMS)?
        .iter()
        .map(|row| {
            Ok(ValueCount {
                value: row.text(0),
                count: row.count(1)?,
            })
        })
        .collect::<Result<_, AnalyticsError>>()?;
    Ok(FilterOptions::Values {
        key: key.text(),
        values,
        sampled,
    })
}

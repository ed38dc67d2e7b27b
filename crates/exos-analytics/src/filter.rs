//! Filters of the `filter` parameter (`key=value`, `key!=value`) and the tables they apply to.
//!
//! Keys come from a fixed allow-list of columns, or name one key of an
//! attribute map (`SpanAttributes.order.status`). The map key and the value
//! reach SQL only as escaped literals. A key that a table lacks (a
//! `SpanName` filter on logs) reads as the empty string there, the store's
//! convention for an absent value: `SpanName=x` matches no log record, and
//! `SpanName!=x` matches every one.

use crate::error::AnalyticsError;
use crate::params::check_text;
use crate::sql::Sql;

/// The tables a query reads, by layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// `otel_traces`.
    Spans,
    /// `otel_logs`.
    Logs,
    /// `hyperdx_sessions`: rrweb replay events in the logs layout.
    Replay,
    /// The `otel_metrics_*` tables.
    Metrics,
}

impl Source {
    /// Parses the `source` parameter of the explorer routes: `spans` (the default) or `logs`.
    pub fn parse(text: Option<&str>) -> Result<Self, AnalyticsError> {
        match text {
            None | Some("spans") => Ok(Source::Spans),
            Some("logs") => Ok(Source::Logs),
            Some(other) => Err(AnalyticsError::bad(
                "source",
                format!("{other:?} is not a source; use spans or logs"),
            )),
        }
    }

    /// Returns the table of this source (the gauge table for metrics).
    pub fn table(self) -> &'static str {
        match self {
            Source::Spans => "otel_traces",
            Source::Logs => "otel_logs",
            Source::Replay => "hyperdx_sessions",
            Source::Metrics => "otel_metrics_gauge",
        }
    }

    /// Returns the source's name in responses.
    pub fn name(self) -> &'static str {
        match self {
            Source::Spans => "spans",
            Source::Logs => "logs",
            Source::Replay => "replay",
            Source::Metrics => "metrics",
        }
    }

    fn has_log_layout(self) -> bool {
        matches!(self, Source::Logs | Source::Replay)
    }
}

/// A plain column a filter may name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilterColumn {
    ServiceName,
    SpanName,
    StatusCode,
    SeverityText,
    OrderId,
    OperatorId,
    Lob,
    UserId,
    RumSessionId,
    TraceId,
}

/// Every filterable column, in the order error messages list them.
pub const FILTER_COLUMNS: [FilterColumn; 10] = [
    FilterColumn::ServiceName,
    FilterColumn::SpanName,
    FilterColumn::StatusCode,
    FilterColumn::SeverityText,
    FilterColumn::OrderId,
    FilterColumn::OperatorId,
    FilterColumn::Lob,
    FilterColumn::UserId,
    FilterColumn::RumSessionId,
    FilterColumn::TraceId,
];

impl FilterColumn {
    /// Returns the column's name, as in the tables and in filter keys.
    pub fn name(self) -> &'static str {
        match self {
            FilterColumn::ServiceName => "ServiceName",
            FilterColumn::SpanName => "SpanName",
            FilterColumn::StatusCode => "StatusCode",
            FilterColumn::SeverityText => "SeverityText",
            FilterColumn::OrderId => "OrderId",
            FilterColumn::OperatorId => "OperatorId",
            FilterColumn::Lob => "Lob",
            FilterColumn::UserId => "UserId",
            FilterColumn::RumSessionId => "RumSessionId",
            FilterColumn::TraceId => "TraceId",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        FILTER_COLUMNS.into_iter().find(|c| c.name() == text)
    }

    /// Renders the column's value on `source`, or `None` when that table has no such column.
    pub fn expr(self, sql: &Sql, source: Source) -> Option<String> {
        use FilterColumn::*;
        let name = self.name().to_string();
        match (self, source) {
            (ServiceName, _) => Some(name),
            (SpanName | StatusCode, Source::Spans) => Some(name),
            (SeverityText, s) if s.has_log_layout() => Some(sql.severity_text()),
            (OrderId | OperatorId | Lob | UserId | RumSessionId | TraceId, s)
                if s != Source::Metrics =>
            {
                Some(name)
            }
            _ => None,
        }
    }
}

/// An attribute map a filter may look into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttributeMap {
    SpanAttributes,
    LogAttributes,
    ResourceAttributes,
}

/// Every attribute map, in the order error messages list them.
pub const ATTRIBUTE_MAPS: [AttributeMap; 3] = [
    AttributeMap::SpanAttributes,
    AttributeMap::LogAttributes,
    AttributeMap::ResourceAttributes,
];

impl AttributeMap {
    /// Returns the map column's name.
    pub fn name(self) -> &'static str {
        match self {
            AttributeMap::SpanAttributes => "SpanAttributes",
            AttributeMap::LogAttributes => "LogAttributes",
            AttributeMap::ResourceAttributes => "ResourceAttributes",
        }
    }

    /// Returns the map column on `source`, or `None` when that table has no such map.
    ///
    /// Metric tables call their data point attributes `Attributes`; filters do not reach them.
    pub fn column(self, source: Source) -> Option<&'static str> {
        match (self, source) {
            (AttributeMap::ResourceAttributes, _) => Some("ResourceAttributes"),
            (AttributeMap::SpanAttributes, Source::Spans) => Some("SpanAttributes"),
            (AttributeMap::LogAttributes, s) if s.has_log_layout() => Some("LogAttributes"),
            _ => None,
        }
    }
}

/// The left side of a filter: a column or an attribute key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FilterKey {
    Column(FilterColumn),
    Attribute { map: AttributeMap, key: String },
}

impl FilterKey {
    /// Parses a key: a column name or `<map>.<attribute key>`.
    pub fn parse(text: &str) -> Result<Self, AnalyticsError> {
        if let Some(column) = FilterColumn::parse(text) {
            return Ok(FilterKey::Column(column));
        }
        for map in ATTRIBUTE_MAPS {
            if let Some(key) = text
                .strip_prefix(map.name())
                .and_then(|rest| rest.strip_prefix('.'))
            {
                if key.is_empty() {
                    break;
                }
                check_text("filter", key)?;
                return Ok(FilterKey::Attribute {
                    map,
                    key: key.to_string(),
                });
            }
        }
        let columns: Vec<&str> = FILTER_COLUMNS.iter().map(|c| c.name()).collect();
        Err(AnalyticsError::bad(
            "filter",
            format!(
                "unknown key {text:?}; use one of {}, or an attribute as SpanAttributes.<key>, \
                 LogAttributes.<key> or ResourceAttributes.<key>",
                columns.join(", ")
            ),
        ))
    }

    /// Returns the key as written in a filter.
    pub fn text(&self) -> String {
        match self {
            FilterKey::Column(column) => column.name().to_string(),
            FilterKey::Attribute { map, key } => format!("{}.{key}", map.name()),
        }
    }

    /// Renders the key's value on `source`, or `None` when that table lacks it.
    pub fn expr(&self, sql: &Sql, source: Source) -> Option<String> {
        match self {
            FilterKey::Column(column) => column.expr(sql, source),
            FilterKey::Attribute { map, key } => {
                map.column(source).map(|column| sql.map_value(column, key))
            }
        }
    }
}

/// One `key=value` or `key!=value` condition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    pub key: FilterKey,
    pub value: String,
    /// True for `!=`.
    pub negated: bool,
}

impl Filter {
    /// Parses `key=value` or `key!=value`; the value may be empty and may contain `=`.
    pub fn parse(text: &str) -> Result<Self, AnalyticsError> {
        let Some((left, value)) = text.split_once('=') else {
            return Err(AnalyticsError::bad(
                "filter",
                format!("{text:?} has no `=`; write key=value or key!=value, e.g. Lob=Appraisal"),
            ));
        };
        let (key, negated) = match left.strip_suffix('!') {
            Some(key) => (key, true),
            None => (left, false),
        };
        check_text("filter", value)?;
        Ok(Self {
            key: FilterKey::parse(key)?,
            value: value.to_string(),
            negated,
        })
    }

    /// Parses every `filter` parameter.
    pub fn parse_all(texts: &[&str]) -> Result<Vec<Self>, AnalyticsError> {
        texts.iter().map(|text| Self::parse(text)).collect()
    }

    /// Renders the condition on `source`.
    pub fn condition(&self, sql: &Sql, source: Source) -> String {
        let Some(expr) = self.key.expr(sql, source) else {
            // The table lacks the key, so its value there is ''.
            let holds = self.value.is_empty() != self.negated;
            return if holds { "1 = 1" } else { "1 = 0" }.into();
        };
        let values = self.matching_values();
        let operator = match (values.len(), self.negated) {
            (1, false) => "=",
            (1, true) => "!=",
            (_, false) => "IN",
            (_, true) => "NOT IN",
        };
        let right = if values.len() == 1 {
            sql.text(&values[0])
        } else {
            sql.text_list(&values)
        };
        format!("{expr} {operator} {right}")
    }

    /// Returns the stored spellings that the value stands for.
    ///
    /// A `StatusCode` of `Unset`, `Ok` or `Error` also matches the exporter's older
    /// `STATUS_CODE_*` spelling, as the views do.
    fn matching_values(&self) -> Vec<String> {
        if self.key == FilterKey::Column(FilterColumn::StatusCode) {
            let upper = self.value.to_ascii_uppercase();
            if ["UNSET", "OK", "ERROR"].contains(&upper.as_str()) {
                let mut current = upper.to_ascii_lowercase();
                current[..1].make_ascii_uppercase();
                return vec![current, format!("STATUS_CODE_{upper}")];
            }
        }
        vec![self.value.clone()]
    }
}

/// Renders all filters as one condition joined by `AND` (`1 = 1` when there are none).
pub fn conditions(filters: &[Filter], sql: &Sql, source: Source) -> String {
    if filters.is_empty() {
        return "1 = 1".into();
    }
    filters
        .iter()
        .map(|filter| filter.condition(sql, source))
        .collect::<Vec<_>>()
        .join(" AND ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use exos_store::Dialect;

    fn duck() -> Sql {
        Sql::new(Dialect::DuckDb)
    }

    #[test]
    fn parses_equal_and_not_equal() {
        let filter = Filter::parse("Lob=Appraisal").unwrap();
        assert_eq!(filter.key, FilterKey::Column(FilterColumn::Lob));
        assert_eq!(filter.value, "Appraisal");
        assert!(!filter.negated);
        let filter = Filter::parse("SpanAttributes.http.route!=/a=b").unwrap();
        assert!(filter.negated);
        assert_eq!(filter.value, "/a=b");
        assert_eq!(
            filter.key,
            FilterKey::Attribute {
                map: AttributeMap::SpanAttributes,
                key: "http.route".into()
            }
        );
    }

    #[test]
    fn unknown_column_is_rejected_with_the_list() {
        let error = Filter::parse("Service=x").unwrap_err().to_string();
        assert!(error.contains("\"Service\""), "{error}");
        assert!(error.contains("ServiceName, SpanName"), "{error}");
        assert!(Filter::parse("SpanAttributes.=x").is_err());
        assert!(Filter::parse("no-equals-sign").is_err());
    }

    #[test]
    fn values_become_literals() {
        let filter = Filter::parse("OrderId=x' OR '1'='1").unwrap();
        assert_eq!(
            filter.condition(&duck(), Source::Spans),
            "OrderId = 'x'' OR ''1''=''1'"
        );
        let filter = Filter::parse("ResourceAttributes.host'name=a").unwrap();
        assert_eq!(
            filter.condition(&duck(), Source::Logs),
            "coalesce(ResourceAttributes['host''name'], '') = 'a'"
        );
    }

    #[test]
    fn status_code_matches_both_spellings() {
        let filter = Filter::parse("StatusCode!=error").unwrap();
        assert_eq!(
            filter.condition(&duck(), Source::Spans),
            "StatusCode NOT IN ('Error', 'STATUS_CODE_ERROR')"
        );
    }

    #[test]
    fn missing_columns_read_as_empty() {
        let equal = Filter::parse("SpanName=checkout").unwrap();
        let not_equal = Filter::parse("SpanName!=checkout").unwrap();
        let empty = Filter::parse("SpanName=").unwrap();
        assert_eq!(equal.condition(&duck(), Source::Logs), "1 = 0");
        assert_eq!(not_equal.condition(&duck(), Source::Logs), "1 = 1");
        assert_eq!(empty.condition(&duck(), Source::Logs), "1 = 1");
        let map = Filter::parse("LogAttributes.a=b").unwrap();
        assert_eq!(map.condition(&duck(), Source::Spans), "1 = 0");
    }

    #[test]
    fn nul_in_values_is_rejected() {
        assert!(Filter::parse("Lob=a\0b").is_err());
    }
}

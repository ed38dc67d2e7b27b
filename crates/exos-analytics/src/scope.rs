//! The range and filters that most routes share, parsed from `from`, `to` and `filter`.

use crate::error::AnalyticsError;
use crate::filter::{conditions, Filter, Source};
use crate::params::Params;
use crate::sql::Sql;
use crate::time::{now_ns, TimeRange};

/// A time range and the filters to apply within it.
#[derive(Debug, Clone, PartialEq)]
pub struct Scope {
    pub range: TimeRange,
    pub filters: Vec<Filter>,
}

impl Scope {
    /// Creates a scope over `range` with no filters.
    pub fn new(range: TimeRange) -> Self {
        Self {
            range,
            filters: Vec::new(),
        }
    }

    /// Reads `from`, `to` and every `filter` parameter; the range ends now by default.
    pub fn parse(params: &Params) -> Result<Self, AnalyticsError> {
        Ok(Self {
            range: TimeRange::parse(params.one("from")?, params.one("to")?, now_ns())?,
            filters: Filter::parse_all(&params.all("filter"))?,
        })
    }

    /// Renders the range and filter conditions for `source`, joined by `AND`.
    pub fn condition(&self, sql: &Sql, source: Source) -> String {
        let TimeRange { from_ns, to_ns } = self.range;
        let range = match source {
            Source::Spans => sql.time_range("Timestamp", from_ns, to_ns),
            Source::Logs | Source::Replay => sql.log_time_range(from_ns, to_ns),
            Source::Metrics => sql.time_range("TimeUnix", from_ns, to_ns),
        };
        format!("{range} AND {}", conditions(&self.filters, sql, source))
    }
}

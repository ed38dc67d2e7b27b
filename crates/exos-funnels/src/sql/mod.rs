//! SQL text for both stores, built from the typed definitions in `query`.
//!
//! `duckdb` renders the per-actor input of the Rust engines. `clickhouse`
//! renders native `windowFunnel` and `retention` queries, plus the same
//! per-actor input where no native function fits. Both render filters,
//! timestamps and periods through [`Dialect`], so the two stores see the same
//! rows. For example, a key absent from `SpanAttributes` reads as `''` on both.

pub mod clickhouse;
pub mod duckdb;

use crate::modes::{FunnelMode, FunnelModes};
use crate::query::{
    EventFilter, FunnelKind, FunnelQuery, Period, Property, RetentionQuery, TimeRange,
};

/// Nanoseconds in a day.
pub const DAY_NS: i64 = 86_400_000_000_000;

/// The SQL dialect a text is rendered for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    DuckDb,
    ClickHouse,
}

impl Dialect {
    /// Quotes `value` as a string literal. ClickHouse reads backslashes as
    /// escapes inside literals, DuckDB does not.
    pub fn string_literal(self, value: &str) -> String {
        match self {
            Dialect::DuckDb => format!("'{}'", value.replace('\'', "''")),
            Dialect::ClickHouse => {
                format!("'{}'", value.replace('\\', "\\\\").replace('\'', "\\'"))
            }
        }
    }

    /// Renders a property as a string expression, `''` when an attribute is absent.
    pub fn property(self, property: &Property) -> String {
        match property {
            Property::Column(column) => column.name().to_string(),
            Property::Attribute(key) => {
                let key = self.string_literal(key);
                match self {
                    Dialect::DuckDb => format!("coalesce(SpanAttributes[{key}], '')"),
                    Dialect::ClickHouse => format!("SpanAttributes[{key}]"),
                }
            }
        }
    }

    /// Renders a filter as a boolean expression that is never NULL.
    pub fn filter(self, filter: &EventFilter) -> String {
        match filter {
            EventFilter::SpanName(name) => format!("(SpanName = {})", self.string_literal(name)),
            EventFilter::Equals { property, value } => {
                format!(
                    "({} = {})",
                    self.property(property),
                    self.string_literal(value)
                )
            }
            EventFilter::All(filters) => self.join(filters, " AND ", "true"),
            EventFilter::Any(filters) => self.join(filters, " OR ", "false"),
        }
    }

    fn join(self, filters: &[EventFilter], separator: &str, empty: &str) -> String {
        if filters.is_empty() {
            return empty.to_string();
        }
        let parts: Vec<String> = filters.iter().map(|filter| self.filter(filter)).collect();
        format!("({})", parts.join(separator))
    }

    /// Renders `Timestamp` as signed nanoseconds since the Unix epoch.
    pub fn timestamp_ns(self) -> &'static str {
        match self {
            Dialect::DuckDb => "epoch_ns(Timestamp)",
            Dialect::ClickHouse => "toUnixTimestamp64Nano(Timestamp)",
        }
    }

    /// Renders the condition that `Timestamp` lies in `range`.
    pub fn time_range(self, range: &TimeRange) -> String {
        match self {
            Dialect::DuckDb => format!(
                "Timestamp >= make_timestamp_ns({}) AND Timestamp < make_timestamp_ns({})",
                range.from_ns, range.to_ns
            ),
            Dialect::ClickHouse => format!(
                "Timestamp >= fromUnixTimestamp64Nano({}) AND Timestamp < fromUnixTimestamp64Nano({})",
                range.from_ns, range.to_ns
            ),
        }
    }

    /// Renders the step bitmask of a span: bit k set when filter k holds.
    ///
    /// The bits are distinct powers of two, so their sum is their bitwise or.
    pub fn bitmask(self, filters: &[EventFilter]) -> String {
        if filters.is_empty() {
            return match self {
                Dialect::DuckDb => "CAST(0 AS UINTEGER)".to_string(),
                Dialect::ClickHouse => "toUInt32(0)".to_string(),
            };
        }
        let terms: Vec<String> = filters
            .iter()
            .enumerate()
            .map(|(bit, filter)| match self {
                Dialect::DuckDb => {
                    format!(
                        "CASE WHEN {} THEN {} ELSE 0 END",
                        self.filter(filter),
                        1u64 << bit
                    )
                }
                Dialect::ClickHouse => format!("if({}, {}, 0)", self.filter(filter), 1u64 << bit),
            })
            .collect();
        let sum = terms.join(" + ");
        match self {
            Dialect::DuckDb => format!("CAST({sum} AS UINTEGER)"),
            Dialect::ClickHouse => format!("toUInt32({sum})"),
        }
    }

    /// Renders the number of the `period` that contains `Timestamp`, counted as
    /// [`period_number`] counts it. Integer division truncates toward zero on
    /// both stores, which is the floor for timestamps after 1970.
    pub fn period_number(self, period: Period) -> String {
        let nanos = self.timestamp_ns();
        let day = match self {
            Dialect::DuckDb => format!("({nanos} // {DAY_NS})"),
            Dialect::ClickHouse => format!("intDiv({nanos}, {DAY_NS})"),
        };
        match (self, period) {
            (_, Period::Day) => format!("CAST({day} AS BIGINT)"),
            (Dialect::DuckDb, Period::Week) => format!("CAST(({day} + 3) // 7 AS BIGINT)"),
            (Dialect::ClickHouse, Period::Week) => format!("toInt64(intDiv({day} + 3, 7))"),
            (Dialect::DuckDb, Period::Month) => {
                "CAST(year(Timestamp) * 12 + month(Timestamp) - 1 AS BIGINT)".to_string()
            }
            (Dialect::ClickHouse, Period::Month) => {
                "toInt64(toYear(Timestamp, 'UTC') * 12 + toMonth(Timestamp, 'UTC') - 1)".to_string()
            }
        }
    }
}

/// Returns the number of the period containing `timestamp_ns` (UTC): days
/// since 1970-01-01, Monday-based weeks since the week of 1969-12-29, or
/// months since January of year 0.
pub fn period_number(period: Period, timestamp_ns: i64) -> i64 {
    let day = timestamp_ns.div_euclid(DAY_NS);
    match period {
        Period::Day => day,
        // 1970-01-01 was a Thursday, three days after a Monday.
        Period::Week => (day + 3).div_euclid(7),
        Period::Month => {
            let (year, month) = civil_year_month(day);
            year * 12 + month - 1
        }
    }
}

/// Returns the first nanosecond of period number `number`.
pub fn period_start_ns(period: Period, number: i64) -> i64 {
    let day = match period {
        Period::Day => number,
        Period::Week => number * 7 - 3,
        Period::Month => days_from_civil(number.div_euclid(12), number.rem_euclid(12) + 1),
    };
    day * DAY_NS
}

/// Converts days since 1970-01-01 to (year, month) of the proleptic Gregorian
/// calendar, by counting 400-year eras that start on March 1st.
fn civil_year_month(days: i64) -> (i64, i64) {
    let shifted = days + 719_468;
    let era = shifted.div_euclid(146_097);
    let day_of_era = shifted.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let march_month = (5 * day_of_year + 2) / 153;
    let month = if march_month < 10 {
        march_month + 3
    } else {
        march_month - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month)
}

/// Converts the first day of (`year`, `month`) to days since 1970-01-01.
fn days_from_civil(year: i64, month: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year.rem_euclid(400);
    let march_month = if month > 2 { month - 3 } else { month + 9 };
    let day_of_year = (153 * march_month + 2) / 5;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// Returns the `windowFunnel` modes of a sequential or strict funnel.
pub(crate) fn funnel_modes(query: &FunnelQuery) -> FunnelModes {
    match query.kind {
        FunnelKind::Strict => query.modes.with(FunnelMode::StrictOrder),
        FunnelKind::Sequential | FunnelKind::AnyOrder => query.modes,
    }
}

/// Returns whether spans matching no step must reach the engine: under
/// `strict_order` they break a chain.
pub(crate) fn keeps_every_span(query: &FunnelQuery) -> bool {
    query.kind != FunnelKind::AnyOrder && funnel_modes(query).contains(FunnelMode::StrictOrder)
}

pub(crate) fn exclusion_filters(query: &FunnelQuery) -> Vec<EventFilter> {
    query
        .exclusions
        .iter()
        .map(|exclusion| exclusion.event.clone())
        .collect()
}

pub(crate) fn breakdown_expression(dialect: Dialect, query: &FunnelQuery) -> String {
    match &query.breakdown {
        Some(property) => dialect.property(property),
        None => "''".to_string(),
    }
}

/// Renders the spans of a retention question that are start or return events
/// inside its periods: `actor, period` (index from the first period),
/// `is_start, is_return`.
pub(crate) fn retention_spans(dialect: Dialect, query: &RetentionQuery) -> String {
    let first = period_number(query.period, query.from_ns);
    let range = TimeRange {
        from_ns: period_start_ns(query.period, first),
        to_ns: period_start_ns(query.period, first + query.periods as i64),
    };
    let is_start = dialect.filter(&query.start_event);
    let is_return = dialect.filter(&query.return_event);
    let not_empty = match dialect {
        Dialect::DuckDb => "<>",
        Dialect::ClickHouse => "!=",
    };
    format!(
        "SELECT {actor} AS actor, {period} - {first} AS period, {is_start} AS is_start, \
         {is_return} AS is_return FROM otel_traces \
         WHERE {range} AND {actor} {not_empty} '' AND ({is_start} OR {is_return})",
        actor = query.actor.name(),
        period = dialect.period_number(query.period),
        range = dialect.time_range(&range),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const JAN_1_2026_NS: i64 = 1_767_225_600_000_000_000;

    #[test]
    fn literals_escape_per_dialect() {
        assert_eq!(Dialect::DuckDb.string_literal(r"it's \n"), r"'it''s \n'");
        assert_eq!(
            Dialect::ClickHouse.string_literal(r"it's \n"),
            r"'it\'s \\n'"
        );
    }

    #[test]
    fn month_numbers_round_trip() {
        let number = period_number(Period::Month, JAN_1_2026_NS);
        assert_eq!(number, 2026 * 12);
        assert_eq!(period_start_ns(Period::Month, number), JAN_1_2026_NS);
        assert_eq!(
            period_number(Period::Month, JAN_1_2026_NS - 1),
            2026 * 12 - 1
        );
        let march_2024 = period_start_ns(Period::Month, 2024 * 12 + 2);
        assert_eq!(march_2024, 1_709_251_200_000_000_000);
    }

    #[test]
    fn weeks_start_on_monday() {
        // 2026-01-01 is a Thursday, so its week began on Monday 2025-12-29.
        let week = period_number(Period::Week, JAN_1_2026_NS);
        assert_eq!(
            period_start_ns(Period::Week, week),
            JAN_1_2026_NS - 3 * DAY_NS
        );
        assert_eq!(
            period_number(Period::Week, JAN_1_2026_NS + 4 * DAY_NS),
            week + 1
        );
    }
}

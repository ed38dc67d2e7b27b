//! `POST /api/trends`: events over time, stickiness and lifecycle.
//!
//! A trend counts one or more events per time bucket (hour, day, or Monday-based
//! week, all in UTC): total events, unique actors, per-actor statistics, or a
//! statistic of a numeric property. A breakdown splits each series by a property
//! (its top values by events, the rest as `$other`), and `compare` adds the same
//! series over the period just before. Stickiness counts actors by the number of
//! buckets they were active in. Lifecycle sorts active actors into new, returning
//! and resurrecting, and counts those gone dormant, as PostHog defines them.
//!
//! The stores aggregate; Rust only places values in buckets. Values are rounded to
//! six decimals so floating-point sums agree on both stores, and percentiles use
//! type-7 interpolation on both (`Sql::quantile`).

use std::collections::BTreeMap;

use exos_store::Store;
use serde::{Deserialize, Serialize};

use crate::definitions::{check_actor, property_sql, Column, EventRef, Library, Property};
use crate::error::AnalyticsError;
use crate::paths::QueryRange;
use crate::rows::{query_all, Row};
use crate::sql::Sql;
use crate::time::format_ns;

/// Series per question at most.
pub const MAX_SERIES: usize = 5;
/// Buckets per question at most.
pub const MAX_BUCKETS: i64 = 2_000;
/// The breakdown value that gathers everything outside the top values.
pub const OTHER: &str = "$other";

const HOUR_NS: i64 = 3_600_000_000_000;
const DAY_NS: i64 = 24 * HOUR_NS;

/// The width of a bucket.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Interval {
    Hour,
    #[default]
    Day,
    Week,
}

impl Interval {
    fn width_ns(self) -> i64 {
        match self {
            Interval::Hour => HOUR_NS,
            Interval::Day => DAY_NS,
            Interval::Week => 7 * DAY_NS,
        }
    }

    /// Weeks start on Monday; 1970-01-01 was a Thursday, three days after one.
    fn offset_ns(self) -> i64 {
        match self {
            Interval::Week => 3 * DAY_NS,
            _ => 0,
        }
    }

    /// Returns the number of the bucket containing `ns`.
    pub fn number(self, ns: i64) -> i64 {
        (ns + self.offset_ns()).div_euclid(self.width_ns())
    }

    /// Returns the first nanosecond of bucket `number`.
    pub fn start_ns(self, number: i64) -> i64 {
        number * self.width_ns() - self.offset_ns()
    }

    /// Renders the bucket number of a span's `Timestamp`.
    fn number_sql(self, sql: &Sql) -> String {
        let epoch = sql.epoch_ns("Timestamp");
        let shifted = format!("({epoch} + {})", self.offset_ns());
        sql.int_div(&shifted, &self.width_ns().to_string())
    }
}

/// The kind of chart a question asks for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum View {
    #[default]
    Trends,
    Stickiness,
    Lifecycle,
}

/// A statistic over actors' event counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActorStat {
    Avg,
    Median,
    Min,
    Max,
}

/// A statistic over a numeric property.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PropertyStat {
    Sum,
    Avg,
    Min,
    Max,
    P50,
    P90,
    P99,
}

/// A numeric value of a span.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NumericProperty {
    /// The span's duration in milliseconds.
    DurationMs,
    /// A `SpanAttributes` entry read as a number; spans where it is no number are skipped.
    Attribute(String),
}

/// The value a series computes per bucket.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", deny_unknown_fields)]
pub enum Measure {
    /// Events.
    #[default]
    Total,
    /// Distinct actors.
    UniqueActors,
    /// A statistic of the actors' event counts (actors with no event are not counted).
    PerActor { stat: ActorStat },
    /// A statistic of a numeric property over the events.
    Property {
        property: NumericProperty,
        stat: PropertyStat,
    },
}

/// One series of a trend.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeriesQuery {
    pub event: EventRef,
    #[serde(default)]
    pub measure: Measure,
    /// The name shown in the legend (default: derived from the event).
    #[serde(default)]
    pub label: Option<String>,
}

/// A trends, stickiness or lifecycle question.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrendsQuery {
    pub actor: Column,
    pub time_range: QueryRange,
    #[serde(default)]
    pub interval: Interval,
    /// 1 to 5 series; stickiness and lifecycle use each series' event.
    pub series: Vec<SeriesQuery>,
    #[serde(default)]
    pub view: View,
    #[serde(default)]
    pub breakdown: Option<Property>,
    /// Breakdown values shown at most; the others are gathered as `$other`.
    #[serde(default = "default_breakdown_limit")]
    pub breakdown_limit: usize,
    /// Adds each series over the range just before, aligned bucket by bucket.
    #[serde(default)]
    pub compare: bool,
    #[serde(default)]
    pub cohort: Option<String>,
    /// The filter bar's filters (`Lob=Appraisal`, `SpanAttributes.browser!=Firefox`):
    /// only spans passing all of them count.
    #[serde(default)]
    pub filters: Vec<String>,
}

fn default_breakdown_limit() -> usize {
    5
}

/// One line of a trend chart.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TrendSeries {
    pub label: String,
    /// Index of the series in the question.
    pub series: usize,
    /// The breakdown value, when the question has a breakdown.
    pub breakdown: Option<String>,
    /// True for the previous period's values.
    pub previous: bool,
    /// One value per bucket.
    pub values: Vec<f64>,
}

/// Actors by the number of buckets in which they did a series' event.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Stickiness {
    pub label: String,
    pub series: usize,
    /// `actors[k]`: actors active in exactly k + 1 buckets.
    pub actors: Vec<u64>,
}

/// Lifecycle counts per bucket for one series; dormant counts are negative, as charts stack them below zero.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Lifecycle {
    pub label: String,
    pub series: usize,
    pub new: Vec<i64>,
    pub returning: Vec<i64>,
    pub resurrecting: Vec<i64>,
    pub dormant: Vec<i64>,
}

/// The response of `POST /api/trends`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TrendsResponse {
    pub view: View,
    pub interval: Interval,
    /// Bucket starts as text, `2026-12-01 00:00:00`.
    pub buckets: Vec<String>,
    pub series: Vec<TrendSeries>,
    pub stickiness: Vec<Stickiness>,
    pub lifecycle: Vec<Lifecycle>,
    /// Every statement that ran, in order.
    pub sql: Vec<String>,
}

impl TrendsQuery {
    /// Checks the bounds of every field; errors name the field and the fix.
    pub fn check(&self) -> Result<(), AnalyticsError> {
        check_actor(self.actor)?;
        let QueryRange { from_ns, to_ns } = self.time_range;
        if from_ns >= to_ns {
            return Err(AnalyticsError::bad(
                "time_range",
                "from_ns must be before to_ns",
            ));
        }
        if self.series.is_empty() || self.series.len() > MAX_SERIES {
            return Err(AnalyticsError::bad(
                "series",
                format!("{} series; give 1 to {MAX_SERIES}", self.series.len()),
            ));
        }
        let numbers = self.bucket_numbers();
        let buckets = numbers.end() - numbers.start() + 1;
        if buckets > MAX_BUCKETS {
            return Err(AnalyticsError::bad(
                "interval",
                format!("the range has {buckets} buckets of this interval; the limit is {MAX_BUCKETS}, choose a wider interval or a shorter range"),
            ));
        }
        if self.breakdown_limit == 0 || self.breakdown_limit > 25 {
            return Err(AnalyticsError::bad(
                "breakdown_limit",
                format!("{} is out of range; use 1 to 25", self.breakdown_limit),
            ));
        }
        Ok(())
    }

    fn bucket_numbers(&self) -> std::ops::RangeInclusive<i64> {
        let QueryRange { from_ns, to_ns } = self.time_range;
        self.interval.number(from_ns)..=self.interval.number(to_ns - 1)
    }

    /// Returns the range just before this one, of the same length.
    fn previous(&self) -> QueryRange {
        let QueryRange { from_ns, to_ns } = self.time_range;
        QueryRange {
            from_ns: from_ns - (to_ns - from_ns),
            to_ns: from_ns,
        }
    }
}

/// Answers a trends, stickiness or lifecycle question.
pub fn trends(
    store: &dyn Store,
    query: &TrendsQuery,
    library: &Library,
) -> Result<TrendsResponse, AnalyticsError> {
    query.check()?;
    let sql = Sql::new(store.dialect());
    let buckets: Vec<i64> = query.bucket_numbers().collect();
    let mut response = TrendsResponse {
        view: query.view,
        interval: query.interval,
        buckets: buckets
            .iter()
            .map(|number| format_ns(query.interval.start_ns(*number)))
            .collect(),
        series: Vec::new(),
        stickiness: Vec::new(),
        lifecycle: Vec::new(),
        sql: Vec::new(),
    };
    let filters = span_filters(&sql, &query.filters)?;
    for (index, series) in query.series.iter().enumerate() {
        let event = library.event_sql(&sql, &series.event)?;
        let cohort = match &query.cohort {
            Some(id) => Some(library.cohort_sql(&sql, id, query.actor, query.time_range.to_ns)?),
            None => None,
        };
        let context = SeriesContext {
            sql,
            query,
            index,
            label: series_label(series, index),
            event,
            cohort,
            filters: filters.clone(),
        };
        match query.view {
            View::Trends => context.trend(store, series, &buckets, &mut response)?,
            View::Stickiness => context.stickiness(store, &buckets, &mut response)?,
            View::Lifecycle => context.lifecycle(store, &buckets, &mut response)?,
        }
    }
    Ok(response)
}

fn series_label(series: &SeriesQuery, index: usize) -> String {
    if let Some(label) = &series.label {
        return label.clone();
    }
    match &series.event {
        EventRef::Action(reference) => format!("action {}", reference.action),
        EventRef::Filter(exos_funnels::EventFilter::SpanName(name)) => name.clone(),
        EventRef::Filter(_) => format!("series {}", index + 1),
    }
}

/// The parts that every statement of one series shares.
struct SeriesContext<'a> {
    sql: Sql,
    query: &'a TrendsQuery,
    index: usize,
    label: String,
    event: String,
    cohort: Option<String>,
    /// The filter bar's condition on spans, when it has filters.
    filters: Option<String>,
}

/// Renders the filter bar's filters as one condition on spans, or `None` without filters.
pub(crate) fn span_filters(
    sql: &Sql,
    filters: &[String],
) -> Result<Option<String>, AnalyticsError> {
    if filters.is_empty() {
        return Ok(None);
    }
    let texts: Vec<&str> = filters.iter().map(String::as_str).collect();
    let parsed = crate::filter::Filter::parse_all(&texts)?;
    Ok(Some(crate::filter::conditions(
        &parsed,
        sql,
        crate::filter::Source::Spans,
    )))
}

impl SeriesContext<'_> {
    /// Renders the conditions on the spans of this series' event in `range`.
    fn condition(&self, range: QueryRange, needs_actor: bool) -> String {
        let actor = self.query.actor.name();
        let mut parts = vec![
            self.sql.time_range("Timestamp", range.from_ns, range.to_ns),
            self.event.clone(),
        ];
        if needs_actor || self.cohort.is_some() {
            parts.push(format!("{actor} != ''"));
        }
        if let Some(cohort) = &self.cohort {
            parts.push(cohort.clone());
        }
        if let Some(filters) = &self.filters {
            parts.push(format!("({filters})"));
        }
        parts.join(" AND ")
    }

    fn trend(
        &self,
        store: &dyn Store,
        series: &SeriesQuery,
        buckets: &[i64],
        response: &mut TrendsResponse,
    ) -> Result<(), AnalyticsError> {
        let breakdown = self.breakdown_values(store, response)?;
        let mut ranges = vec![(self.query.time_range, false)];
        if self.query.compare {
            ranges.push((self.query.previous(), true));
        }
        for (range, previous) in ranges {
            let text = self.trend_sql(&series.measure, range, breakdown.as_deref());
            let rows = query_all(store, &[(text.clone(), 100_000)])?
                .pop()
                .unwrap_or_default();
            response.sql.push(text);
            let shift = if previous {
                buckets[0] - self.query.interval.number(range.from_ns)
            } else {
                0
            };
            self.place(
                &rows,
                buckets,
                shift,
                previous,
                breakdown.is_some(),
                response,
            )?;
        }
        Ok(())
    }

    /// Reads the top breakdown values by events; `None` without a breakdown.
    fn breakdown_values(
        &self,
        store: &dyn Store,
        response: &mut TrendsResponse,
    ) -> Result<Option<Vec<String>>, AnalyticsError> {
        let Some(property) = &self.query.breakdown else {
            return Ok(None);
        };
        let value = property_sql(&self.sql, property);
        let text = format!(
            "SELECT {value} AS value, count(*) AS n FROM otel_traces WHERE {} \
             GROUP BY value ORDER BY n DESC, value LIMIT {}",
            self.condition(self.query.time_range, false),
            self.query.breakdown_limit
        );
        let rows = query_all(store, &[(text.clone(), self.query.breakdown_limit)])?
            .pop()
            .unwrap_or_default();
        response.sql.push(text);
        Ok(Some(rows.iter().map(|row| row.text(0)).collect()))
    }

    /// Renders `bucket, value, breakdown` rows of a measure over `range`.
    fn trend_sql(&self, measure: &Measure, range: QueryRange, top: Option<&[String]>) -> String {
        let sql = &self.sql;
        let actor = self.query.actor.name();
        let bucket = self.query.interval.number_sql(sql);
        let breakdown = match (&self.query.breakdown, top) {
            (Some(property), Some(top)) => format!(
                "CASE WHEN {value} IN {list} THEN {value} ELSE {other} END",
                value = property_sql(sql, property),
                list = sql.text_list(top),
                other = sql.text(OTHER)
            ),
            _ => "''".to_string(),
        };
        let needs_actor = matches!(measure, Measure::UniqueActors | Measure::PerActor { .. });
        let condition = self.condition(range, needs_actor);
        let spans = |value: &str| {
            format!(
                "SELECT {bucket} AS bucket, {breakdown} AS breakdown, {actor} AS actor, {value} AS value \
                 FROM otel_traces WHERE {condition}"
            )
        };
        let grouped = |aggregate: &str, from: &str| {
            format!(
                "SELECT bucket, breakdown, {aggregate} AS value FROM ({from}) AS spans \
                 GROUP BY bucket, breakdown ORDER BY bucket, breakdown"
            )
        };
        match measure {
            Measure::Total => grouped("count(*)", &spans("0")),
            Measure::UniqueActors => grouped(&sql.count_distinct("actor"), &spans("0")),
            Measure::PerActor { stat } => {
                let per_actor = format!(
                    "SELECT bucket, breakdown, actor, count(*) AS n FROM ({}) AS events GROUP BY bucket, breakdown, actor",
                    spans("0")
                );
                let aggregate = match stat {
                    ActorStat::Avg => "avg(n)".to_string(),
                    ActorStat::Median => sql.quantile("n", 0.5),
                    ActorStat::Min => "min(n)".to_string(),
                    ActorStat::Max => "max(n)".to_string(),
                };
                grouped(&aggregate, &per_actor)
            }
            Measure::Property { property, stat } => {
                let value = match property {
                    NumericProperty::DurationMs => "Duration / 1e6".to_string(),
                    NumericProperty::Attribute(key) => {
                        sql.try_float(&sql.map_value("SpanAttributes", key))
                    }
                };
                let numbers = format!(
                    "SELECT * FROM ({}) AS raw WHERE value IS NOT NULL",
                    spans(&value)
                );
                let aggregate = match stat {
                    PropertyStat::Sum => "sum(value)".to_string(),
                    PropertyStat::Avg => "avg(value)".to_string(),
                    PropertyStat::Min => "min(value)".to_string(),
                    PropertyStat::Max => "max(value)".to_string(),
                    PropertyStat::P50 => sql.quantile("value", 0.5),
                    PropertyStat::P90 => sql.quantile("value", 0.9),
                    PropertyStat::P99 => sql.quantile("value", 0.99),
                };
                grouped(&aggregate, &numbers)
            }
        }
    }

    /// Puts `bucket, breakdown, value` rows into series, one per breakdown value.
    fn place(
        &self,
        rows: &[Row],
        buckets: &[i64],
        shift: i64,
        previous: bool,
        broken_down: bool,
        response: &mut TrendsResponse,
    ) -> Result<(), AnalyticsError> {
        let mut lines: BTreeMap<String, Vec<f64>> = BTreeMap::new();
        for row in rows {
            let Some(slot) = bucket_slot(buckets, row.int(0)? + shift) else {
                continue;
            };
            let values = lines
                .entry(row.text(1))
                .or_insert_with(|| vec![0.0; buckets.len()]);
            values[slot] = round6(row.float(2));
        }
        if lines.is_empty() {
            lines.insert(String::new(), vec![0.0; buckets.len()]);
        }
        for (breakdown, values) in lines {
            let suffix = if previous { " (previous period)" } else { "" };
            let label = match broken_down {
                true => format!("{} · {breakdown}{suffix}", self.label),
                false => format!("{}{suffix}", self.label),
            };
            response.series.push(TrendSeries {
                label,
                series: self.index,
                breakdown: broken_down.then_some(breakdown),
                previous,
                values,
            });
        }
        Ok(())
    }

    fn stickiness(
        &self,
        store: &dyn Store,
        buckets: &[i64],
        response: &mut TrendsResponse,
    ) -> Result<(), AnalyticsError> {
        let bucket = self.query.interval.number_sql(&self.sql);
        let text = format!(
            "SELECT active, count(*) AS actors FROM (SELECT {actor} AS actor, {distinct} AS active \
             FROM otel_traces WHERE {condition} GROUP BY actor) AS per_actor GROUP BY active ORDER BY active",
            actor = self.query.actor.name(),
            distinct = self.sql.count_distinct(&bucket),
            condition = self.condition(self.query.time_range, true),
        );
        let rows = query_all(store, &[(text.clone(), buckets.len() + 1)])?
            .pop()
            .unwrap_or_default();
        response.sql.push(text);
        let mut actors = vec![0; buckets.len()];
        for row in &rows {
            let active = row.count(0)? as usize;
            if (1..=buckets.len()).contains(&active) {
                actors[active - 1] = row.count(1)?;
            }
        }
        response.stickiness.push(Stickiness {
            label: self.label.clone(),
            series: self.index,
            actors,
        });
        Ok(())
    }

    fn lifecycle(
        &self,
        store: &dyn Store,
        buckets: &[i64],
        response: &mut TrendsResponse,
    ) -> Result<(), AnalyticsError> {
        let text = self.lifecycle_sql(buckets);
        let rows = query_all(store, &[(text.clone(), 4 * buckets.len() + 4)])?
            .pop()
            .unwrap_or_default();
        response.sql.push(text);
        let mut lifecycle = Lifecycle {
            label: self.label.clone(),
            series: self.index,
            new: vec![0; buckets.len()],
            returning: vec![0; buckets.len()],
            resurrecting: vec![0; buckets.len()],
            dormant: vec![0; buckets.len()],
        };
        for row in &rows {
            let Some(slot) = bucket_slot(buckets, row.int(0)?) else {
                continue;
            };
            let count = row.int(2)?;
            match row.text(1).as_str() {
                "new" => lifecycle.new[slot] = count,
                "returning" => lifecycle.returning[slot] = count,
                "resurrecting" => lifecycle.resurrecting[slot] = count,
                "dormant" => lifecycle.dormant[slot] = -count,
                other => {
                    return Err(AnalyticsError::Result(format!(
                        "lifecycle status {other:?}"
                    )))
                }
            }
        }
        response.lifecycle.push(lifecycle);
        Ok(())
    }

    /// Renders `bucket, status, actors` rows.
    ///
    /// An actor active in a bucket is new when its first event ever (over all stored
    /// history) falls in it, returning when it was active in the bucket before, and
    /// resurrecting otherwise. An actor active in a bucket and not in the next is
    /// dormant in the next. The bucket before the range is read so its actors can return.
    fn lifecycle_sql(&self, buckets: &[i64]) -> String {
        let sql = &self.sql;
        let interval = self.query.interval;
        let (first, last) = (buckets[0], buckets[buckets.len() - 1]);
        let actor = self.query.actor.name();
        let bucket = interval.number_sql(sql);
        let window = QueryRange {
            from_ns: interval.start_ns(first - 1),
            to_ns: self.query.time_range.to_ns,
        };
        let history = QueryRange {
            from_ns: 0,
            to_ns: self.query.time_range.to_ns,
        };
        let previous = sql.lag("bucket", "-1", "actor", "bucket");
        let next = sql.lead("bucket", "-1", "actor", "bucket");
        format!(
            "WITH active AS (SELECT {actor} AS actor, {bucket} AS bucket FROM otel_traces WHERE {window} GROUP BY actor, bucket), \
             firsts AS (SELECT {actor} AS first_actor, min({bucket}) AS first_bucket FROM otel_traces \
             WHERE {history} AND {actor} IN (SELECT actor FROM active) GROUP BY first_actor), \
             marked AS (SELECT actor, bucket, {previous} AS previous_bucket, {next} AS next_bucket FROM active) \
             SELECT bucket, CASE WHEN bucket = first_bucket THEN 'new' WHEN previous_bucket = bucket - 1 THEN 'returning' \
             ELSE 'resurrecting' END AS status, count(*) AS actors \
             FROM marked INNER JOIN firsts ON actor = first_actor WHERE bucket >= {first} GROUP BY bucket, status \
             UNION ALL \
             SELECT bucket + 1 AS later_bucket, 'dormant' AS status, count(*) AS actors FROM marked \
             WHERE next_bucket != bucket + 1 AND bucket + 1 >= {first} AND bucket + 1 <= {last} GROUP BY later_bucket",
            window = self.condition(window, true),
            history = self.condition(history, true),
        )
    }
}

fn bucket_slot(buckets: &[i64], number: i64) -> Option<usize> {
    let slot = number - buckets.first()?;
    (0..buckets.len() as i64)
        .contains(&slot)
        .then_some(slot as usize)
}

fn round6(value: f64) -> f64 {
    (value * 1e6).round() / 1e6
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weeks_start_on_monday() {
        // 2026-12-07 is a Monday.
        let monday = 1_796_601_600_000_000_000;
        let week = Interval::Week.number(monday);
        assert_eq!(Interval::Week.start_ns(week), monday);
        assert_eq!(Interval::Week.number(monday - 1), week - 1);
        assert_eq!(
            Interval::Day.start_ns(Interval::Day.number(monday + 5)),
            monday
        );
    }

    #[test]
    fn queries_read_json_and_check_bounds() {
        let query: TrendsQuery = serde_json::from_str(
            r#"{"actor": "UserId", "time_range": {"from_ns": 0, "to_ns": 86400000000000},
                "interval": "hour", "series": [{"event": {"span_name": "click"},
                "measure": {"kind": "property", "property": "duration_ms", "stat": "p90"}}]}"#,
        )
        .unwrap();
        assert!(query.check().is_ok());
        assert_eq!(query.bucket_numbers().count(), 24);
        let mut long = query.clone();
        long.time_range.to_ns = 100 * DAY_NS;
        assert!(long
            .check()
            .unwrap_err()
            .to_string()
            .contains("wider interval"));
        let mut none = query;
        none.series.clear();
        assert!(none.check().unwrap_err().to_string().contains("series"));
    }
}

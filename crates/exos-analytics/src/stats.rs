//! `GET /api/stats`: the overview page's figures for a range.
//!
//! One scan of spans per (service, bucket, latency bin) gives the totals, the
//! volume chart, the service ranking and the services' percentiles. The other figures (logs,
//! sessions, orders, errors, operators, table sizes) are independent queries
//! that run alongside the first.

use std::collections::BTreeMap;

use exos_store::schema::ORDER_STATUS_COLUMN;
use exos_store::{rollup, Store};
use serde::Serialize;

use crate::entities;
use crate::error::AnalyticsError;
use crate::filter::Source;
use crate::latency::Histogram;
use crate::params::Params;
use crate::rollups::{self, Read, Split};
use crate::rows::{query, query_all, Row};
use crate::scope::Scope;
use crate::sql::{Sql, IS_ERROR};
use crate::time::{format_ns, RangeInfo};

/// Services listed with percentiles and a series, the busiest first.
pub const TOP_SERVICES: usize = 10;
/// Rows of the recent-errors and busiest-operators lists.
pub const LIST_ROWS: usize = 10;
/// (LOB, status) pairs listed at most.
pub const MAX_LOB_STATUSES: usize = 200;

/// The parameters of `/api/stats`.
#[derive(Debug, Clone, PartialEq)]
pub struct StatsRequest {
    pub scope: Scope,
    /// A request for the brief figures only: span and log totals, the volume chart,
    /// the services and the table sizes. The other figures stay zero or empty.
    pub brief: bool,
}

impl StatsRequest {
    /// Creates a request for every figure over `scope`.
    pub fn new(scope: Scope) -> Self {
        Self {
            scope,
            brief: false,
        }
    }

    /// Reads `from`, `to`, `filter` and `brief` (`true` or `false`) from the query string's pairs.
    pub fn from_query(pairs: &[(String, String)]) -> Result<Self, AnalyticsError> {
        let params = Params::new(pairs, &["from", "to", "filter", "brief"])?;
        let brief = match params.one("brief")? {
            None | Some("false") => false,
            Some("true") => true,
            Some(other) => {
                return Err(AnalyticsError::bad(
                    "brief",
                    format!("`{other}` is not `true` or `false`"),
                ))
            }
        };
        Ok(Self {
            scope: Scope::parse(&params)?,
            brief,
        })
    }
}

/// The response body of `/api/stats`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Stats {
    pub range: RangeInfo,
    /// True when the request asked for the brief figures only.
    pub brief: bool,
    pub totals: Totals,
    pub volume: Vec<VolumePoint>,
    pub services: Vec<ServiceStats>,
    pub orders_by_lob: Vec<LobOrders>,
    pub recent_errors: Vec<RecentError>,
    pub busiest_operators: Vec<OperatorLoad>,
    /// Rows per table, whatever the range.
    pub tables: BTreeMap<String, u64>,
}

/// Counts over the range.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Totals {
    pub spans: u64,
    pub logs: u64,
    /// Spans with error status.
    pub errors: u64,
    /// `errors / spans`, 0 when there are no spans.
    pub error_rate: f64,
    /// Traces whose root span (no parent) started in the range.
    pub traces: u64,
    /// Distinct browser sessions with spans in the range.
    pub sessions: u64,
    /// Distinct orders with spans in the range.
    pub orders: u64,
    pub replay_events: u64,
    /// Data points of every metric table in the range.
    pub metric_points: u64,
}

/// One bucket of the volume chart.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VolumePoint {
    pub t: String,
    pub spans: u64,
    pub logs: u64,
    pub errors: u64,
}

/// One service's figures.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServiceStats {
    pub service: String,
    pub spans: u64,
    pub errors: u64,
    pub error_rate: f64,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub series: Vec<ServicePoint>,
}

/// One bucket of a service's series.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServicePoint {
    pub t: String,
    pub spans: u64,
    pub errors: u64,
    pub p95_ms: f64,
}

/// Orders of one line of business in one status.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LobOrders {
    pub lob: String,
    pub status: String,
    pub orders: u64,
}

/// One of the latest error spans.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RecentError {
    pub time: String,
    pub service: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub message: String,
    pub trace_id: String,
}

/// One operator's load.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OperatorLoad {
    pub operator: String,
    pub spans: u64,
    pub orders: u64,
}

/// The tables whose sizes the overview shows.
pub const COUNTED_TABLES: [&str; 6] = [
    "otel_traces",
    "otel_logs",
    "hyperdx_sessions",
    "otel_metrics_gauge",
    "otel_metrics_sum",
    "otel_metrics_histogram",
];

/// Every metric table, for the metric point total.
const METRIC_TABLES: [&str; 5] = [
    "otel_metrics_gauge",
    "otel_metrics_sum",
    "otel_metrics_histogram",
    "otel_metrics_exponential_histogram",
    "otel_metrics_summary",
];

/// Computes the overview figures for the request's range and filters.
pub fn stats(store: &dyn Store, request: &StatsRequest) -> Result<Stats, AnalyticsError> {
    stats_from(store, request, Read::Rollups)
}

/// Computes the overview figures, taking span counts from where `read` names.
pub fn stats_from(
    store: &dyn Store,
    request: &StatsRequest,
    read: Read,
) -> Result<Stats, AnalyticsError> {
    let sql = Sql::new(store.dialect());
    let scope = &request.scope;
    let split = Split::for_series(scope, read);
    let slots_split = Split::for_slots(scope, read);
    let summaries = rollups::use_summaries(store.dialect(), scope, read);
    let bin_queries = rollups::queries(
        split.as_ref(),
        &sql,
        &scope.condition(&sql, Source::Spans),
        "",
        |condition| span_bins_sql(&sql, scope, condition),
        |split| span_bins_rollup_sql(&sql, scope, split),
    );
    let bin_parts = bin_queries.len();
    let mut queries: Vec<(String, usize)> = bin_queries
        .into_iter()
        .map(|text| (text, MAX_BIN_ROWS + 1))
        .collect();
    // Brief requests skip the lists and distinct counts (the same empty query each).
    let unless_brief = |text: String| {
        if request.brief {
            "SELECT 1 WHERE 1 = 0".to_string()
        } else {
            text
        }
    };
    let operators = operators_sql(&sql, scope, slots_split.as_ref());
    queries.extend([
        (logs_per_bucket_sql(&sql, scope), 10_000),
        (unless_brief(scalars_sql(&sql, scope, summaries)), 1),
        (
            unless_brief(orders_by_lob_sql(&sql, scope, summaries)),
            MAX_LOB_STATUSES,
        ),
        (unless_brief(recent_errors_sql(&sql, scope)), LIST_ROWS),
        (unless_brief(operators.clone()), LIST_ROWS),
        (
            unless_brief(operator_orders_sql(&sql, scope, &operators)),
            LIST_ROWS,
        ),
        (table_sizes_sql(), COUNTED_TABLES.len()),
    ]);
    let mut results = query_all(store, &queries)?;
    let rest = results.split_off(bin_parts);
    let span_bins: Vec<Row> = results.into_iter().flatten().collect();
    let [logs, scalars, lobs, errors, operators, operator_orders, tables] =
        <[Vec<Row>; 7]>::try_from(rest).expect("one result per query");

    let mut spans = if span_bins.len() <= MAX_BIN_ROWS {
        read_span_bins(&span_bins)?
    } else {
        let rows = query(store, &per_service_bucket_sql(&sql, scope), 100_000)?;
        read_span_counts(&rows)?
    };
    let ranked = rank_services(&spans.per_service);
    let latency = match spans.latency.take() {
        Some(latency) => latency,
        None => {
            let names: Vec<&str> = ranked.iter().map(|r| r.0.as_str()).collect();
            let queries: Vec<(String, usize)> =
                latency_queries(&sql, scope, split.as_ref(), &names)
                    .into_iter()
                    .map(|text| (text, 1_000_000))
                    .collect();
            read_latency(&query_all(store, &queries)?.concat())?
        }
    };

    let buckets = scope.range.bucket_starts();
    let (mut totals, volume) = totals_and_volume(&spans, &buckets, &logs)?;
    if let Some(row) = scalars.first() {
        totals.sessions = row.count(0)?;
        totals.replay_events = row.count(1)?;
        totals.metric_points = row.count(2)?;
    }
    let orders_by_lob = read_lobs(&lobs)?;
    // Every (LOB, status) pair counts, also those past the listed ones.
    totals.orders = match lobs.first() {
        Some(row) => row.count(3)?,
        None => 0,
    };
    Ok(Stats {
        range: scope.range.info(),
        brief: request.brief,
        totals,
        volume,
        services: service_stats(ranked, &buckets, &spans.per_service, &latency),
        orders_by_lob,
        recent_errors: read_recent_errors(&errors),
        busiest_operators: read_operators(&operators, &operator_orders)?,
        tables: read_table_sizes(&tables)?,
    })
}

/// Rows of the (service, bucket, latency bin) scan read at most. Beyond that (well over
/// a hundred services), stats counts per (service, bucket) and bins the busiest only.
// NOTE: no test has enough services to reach that fallback.
const MAX_BIN_ROWS: usize = 200_000;

/// Span counts of the range, per service and bucket, with latency bins when the scan had them.
struct SpanCounts {
    per_service: ServiceCounts,
    /// Root spans, that is traces started in the range.
    roots: u64,
    latency: Option<ServiceBucketLatency>,
}

/// Renders one scan that counts spans, errors and roots per (service, bucket, latency bin)
/// over the spans that meet `condition`.
fn span_bins_sql(sql: &Sql, scope: &Scope, condition: &str) -> String {
    format!(
        "SELECT ServiceName, {bucket} AS t, {bin} AS bin, count(*), {errors}, {roots}, \
         min(Duration), max(Duration) FROM otel_traces WHERE {condition} \
         GROUP BY ServiceName, t, bin",
        bucket = sql.bucket_ns("Timestamp", scope.range.bucket_ns()),
        bin = sql.duration_bin("Duration"),
        errors = sql.count_if(IS_ERROR),
        roots = sql.count_if("ParentSpanId = ''"),
    )
}

/// Renders the same counts as `span_bins_sql` from the span rollup's whole slots.
fn span_bins_rollup_sql(sql: &Sql, scope: &Scope, split: &Split) -> String {
    format!(
        "SELECT ServiceName, {bucket} AS t, Bin AS bin, {spans}, {errors}, {roots}, \
         min(MinDuration), max(MaxDuration) FROM {table} WHERE {slots} \
         GROUP BY ServiceName, t, bin",
        bucket = sql.int_bucket("Slot", scope.range.bucket_ns()),
        spans = sql.sum_count("Spans"),
        errors = sql.sum_count("Errors"),
        roots = sql.sum_count("Roots"),
        table = rollup::SPAN_TABLE,
        slots = split.slots(),
    )
}

fn read_span_bins(rows: &[Row]) -> Result<SpanCounts, AnalyticsError> {
    let mut per_service: ServiceCounts = BTreeMap::new();
    let mut latency: ServiceBucketLatency = BTreeMap::new();
    let mut roots = 0;
    for row in rows {
        let (service, t) = (row.text(0), row.int(1)?);
        let spans = row.count(3)?;
        let point = per_service
            .entry(service.clone())
            .or_default()
            .entry(t)
            .or_default();
        point.0 += spans;
        point.1 += row.count(4)?;
        roots += row.count(5)?;
        let histogram = latency.entry(service).or_default().entry(t).or_default();
        histogram.add(row.int(2)?, spans);
        histogram.bound(row.count(6)?, row.count(7)?);
    }
    Ok(SpanCounts {
        per_service,
        roots,
        latency: Some(latency),
    })
}

fn read_span_counts(rows: &[Row]) -> Result<SpanCounts, AnalyticsError> {
    let mut per_service: ServiceCounts = BTreeMap::new();
    let mut roots = 0;
    for row in rows {
        let point = (row.count(2)?, row.count(3)?);
        roots += row.count(4)?;
        per_service
            .entry(row.text(0))
            .or_default()
            .insert(row.int(1)?, point);
    }
    Ok(SpanCounts {
        per_service,
        roots,
        latency: None,
    })
}

/// Sums the span and log counts into the totals and the volume chart (zeros for empty buckets).
fn totals_and_volume(
    spans: &SpanCounts,
    buckets: &[i64],
    logs: &[Row],
) -> Result<(Totals, Vec<VolumePoint>), AnalyticsError> {
    let mut totals = Totals {
        traces: spans.roots,
        ..Totals::default()
    };
    let mut volume: BTreeMap<i64, VolumePoint> = buckets
        .iter()
        .map(|t| {
            let point = VolumePoint {
                t: format_ns(*t),
                spans: 0,
                logs: 0,
                errors: 0,
            };
            (*t, point)
        })
        .collect();
    for points in spans.per_service.values() {
        for (t, (count, errors)) in points {
            totals.spans += count;
            totals.errors += errors;
            if let Some(point) = volume.get_mut(t) {
                point.spans += count;
                point.errors += errors;
            }
        }
    }
    for row in logs {
        let count = row.count(1)?;
        totals.logs += count;
        if let Some(point) = volume.get_mut(&row.int(0)?) {
            point.logs += count;
        }
    }
    totals.error_rate = rate(totals.errors, totals.spans);
    Ok((totals, volume.into_values().collect()))
}

/// Returns `part / whole`, 0 when `whole` is 0.
pub fn rate(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

fn per_service_bucket_sql(sql: &Sql, scope: &Scope) -> String {
    let bucket = sql.bucket_ns("Timestamp", scope.range.bucket_ns());
    format!(
        "SELECT ServiceName, {bucket} AS t, count(*) AS spans, {errors} AS errors, {roots} AS roots \
         FROM otel_traces WHERE {condition} GROUP BY ServiceName, t ORDER BY ServiceName, t",
        errors = sql.count_if(IS_ERROR),
        roots = sql.count_if("ParentSpanId = ''"),
        condition = scope.condition(sql, Source::Spans),
    )
}

fn logs_per_bucket_sql(sql: &Sql, scope: &Scope) -> String {
    let bucket = sql.bucket_ns("Timestamp", scope.range.bucket_ns());
    format!(
        "SELECT {bucket} AS t, count(*) AS logs FROM otel_logs WHERE {condition} GROUP BY t ORDER BY t",
        condition = scope.condition(sql, Source::Logs),
    )
}

/// Renders the session, replay event and metric point totals; with `summaries`, the
/// sessions come from the entity summaries.
fn scalars_sql(sql: &Sql, scope: &Scope, summaries: bool) -> String {
    let condition = scope.condition(sql, Source::Spans);
    let sessions = if summaries {
        entities::sessions_sql(scope, &condition)
    } else {
        format!(
            "SELECT count(DISTINCT RumSessionId) FROM otel_traces WHERE {condition} \
             AND RumSessionId != ''"
        )
    };
    let replay = format!(
        "SELECT count(*) FROM hyperdx_sessions WHERE {}",
        scope.condition(sql, Source::Replay)
    );
    let metric_condition = scope.condition(sql, Source::Metrics);
    let metrics: Vec<String> = METRIC_TABLES
        .iter()
        .map(|table| format!("(SELECT count(*) FROM {table} WHERE {metric_condition})"))
        .collect();
    format!(
        "SELECT ({sessions}) AS sessions, ({replay}) AS replay_events, ({}) AS metric_points",
        metrics.join(" + ")
    )
}

/// Renders the last `order.status` per order and its LOB, counted per (LOB, status);
/// with `summaries`, from the entity summaries.
///
/// The status comes from the spans' `OrderStatus` column, so no attribute map is
/// unpacked. An order's LOB is the greatest non-empty `Lob` of its spans (an order keeps
/// one LOB in practice).
fn orders_by_lob_sql(sql: &Sql, scope: &Scope, summaries: bool) -> String {
    if summaries {
        let condition = scope.condition(sql, Source::Spans);
        return entities::orders_by_lob_sql(sql, scope, &condition, MAX_LOB_STATUSES);
    }
    format!(
        "SELECT lob, status, count(*) AS orders, {total} FROM (\
           SELECT OrderId, max(Lob) AS lob, {last_status} AS status FROM (\
             SELECT OrderId, Lob, {time} AS t, {status} AS order_status FROM otel_traces \
             WHERE {condition} AND OrderId != '') AS order_span \
           GROUP BY OrderId) AS per_order \
         GROUP BY lob, status ORDER BY orders DESC, lob, status {limit}",
        time = sql.epoch_ns("Timestamp"),
        status = ORDER_STATUS_COLUMN.0,
        last_status = sql.last_value_if("order_status", "t", "order_status != ''"),
        condition = scope.condition(sql, Source::Spans),
        total = sql.sum_over_groups("count(*)"),
        limit = sql.limit(MAX_LOB_STATUSES),
    )
}

/// Renders the latest error spans; the exception attributes are unpacked for those rows only.
///
/// A first step finds the time of the tenth latest error reading only `Timestamp`,
/// so the events column is read for the spans at or after it, not for every error.
fn recent_errors_sql(sql: &Sql, scope: &Scope) -> String {
    let events = sql.column("Events.Attributes");
    let condition = format!("{} AND {IS_ERROR}", scope.condition(sql, Source::Spans));
    format!(
        "SELECT t, ServiceName, {kind} AS kind, {message} AS message, TraceId FROM (\
           SELECT {time} AS t, SpanId, ServiceName, TraceId, StatusMessage, {events} \
           FROM otel_traces WHERE {condition} AND Timestamp >= (\
             SELECT min(Timestamp) FROM (SELECT Timestamp FROM otel_traces WHERE {condition} \
             ORDER BY Timestamp DESC {limit}) AS newest) \
           ORDER BY Timestamp DESC, SpanId DESC {limit}) AS latest \
         ORDER BY t DESC, SpanId DESC",
        time = sql.epoch_ns("Timestamp"),
        kind = sql.first_event_attribute("exception.type"),
        message = crate::errors::message_expr(sql),
        limit = sql.limit(LIST_ROWS),
    )
}

/// Renders the busiest operators by spans, from the operator rollup's whole slots
/// and the edges' spans when `split` is given.
fn operators_sql(sql: &Sql, scope: &Scope, split: Option<&Split>) -> String {
    let parts = rollups::queries(
        split,
        sql,
        &scope.condition(sql, Source::Spans),
        "",
        |condition| {
            format!(
                "SELECT OperatorId, {spans} AS spans FROM otel_traces \
                 WHERE {condition} AND OperatorId != '' GROUP BY OperatorId",
                spans = sql.sum_count("1"),
            )
        },
        |split| {
            format!(
                "SELECT OperatorId, {spans} AS spans FROM {table} \
                 WHERE {slots} AND OperatorId != '' GROUP BY OperatorId",
                spans = sql.sum_count("Spans"),
                table = rollup::OPERATOR_TABLE,
                slots = split.slots(),
            )
        },
    );
    format!(
        "SELECT OperatorId, {spans} AS spans FROM ({parts}) AS part \
         GROUP BY OperatorId ORDER BY spans DESC, OperatorId {limit}",
        spans = sql.sum_count("spans"),
        parts = parts.join(" UNION ALL "),
        limit = sql.limit(LIST_ROWS),
    )
}

/// Renders the distinct orders of the operators that the busiest-operators query
/// `ranking` lists. Counting them for every operator would hash every (operator, order)
/// pair of the range. The ranking runs inside this query, so that it runs beside the
/// other figures instead of after them.
fn operator_orders_sql(sql: &Sql, scope: &Scope, ranking: &str) -> String {
    format!(
        "SELECT OperatorId, {orders} FROM otel_traces \
         WHERE {condition} AND OperatorId IN (SELECT OperatorId FROM ({ranking}) AS ranked) \
         GROUP BY OperatorId",
        orders = sql.count_distinct_nonempty("OrderId"),
        condition = scope.condition(sql, Source::Spans),
    )
}

fn table_sizes_sql() -> String {
    COUNTED_TABLES
        .iter()
        .map(|table| format!("SELECT '{table}' AS name, count(*) AS n FROM {table}"))
        .collect::<Vec<_>>()
        .join(" UNION ALL ")
}

/// Spans and errors per service and bucket start.
type ServiceCounts = BTreeMap<String, BTreeMap<i64, (u64, u64)>>;

/// Returns the busiest services with their span and error counts.
fn rank_services(per_service: &ServiceCounts) -> Vec<(String, u64, u64)> {
    let mut ranked: Vec<(String, u64, u64)> = per_service
        .iter()
        .map(|(service, points)| {
            let spans = points.values().map(|p| p.0).sum();
            let errors = points.values().map(|p| p.1).sum();
            (service.clone(), spans, errors)
        })
        .collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    ranked.truncate(TOP_SERVICES);
    ranked
}

/// Builds the figures of the ranked services from their counts and latency histograms.
fn service_stats(
    ranked: Vec<(String, u64, u64)>,
    buckets: &[i64],
    per_service: &ServiceCounts,
    histograms: &ServiceBucketLatency,
) -> Vec<ServiceStats> {
    let mut services = Vec::new();
    for (service, spans, errors) in ranked {
        let per_bucket = histograms.get(&service);
        let mut whole = Histogram::default();
        let mut series = Vec::new();
        for t in buckets {
            let (bucket_spans, bucket_errors) =
                per_service[&service].get(t).copied().unwrap_or_default();
            let histogram = per_bucket.and_then(|h| h.get(t));
            if let Some(histogram) = histogram {
                whole.merge(histogram);
            }
            series.push(ServicePoint {
                t: format_ns(*t),
                spans: bucket_spans,
                errors: bucket_errors,
                p95_ms: histogram.map_or(0.0, |h| h.quantile_ms(0.95)),
            });
        }
        services.push(ServiceStats {
            service,
            spans,
            errors,
            error_rate: rate(errors, spans),
            p50_ms: whole.quantile_ms(0.5),
            p95_ms: whole.quantile_ms(0.95),
            series,
        });
    }
    services
}

/// Latency histograms per service and bucket start.
pub type ServiceBucketLatency = BTreeMap<String, BTreeMap<i64, Histogram>>;

/// Renders the latency-bin counts per (service, bucket) of the named services,
/// over the spans that meet `condition`.
pub fn latency_sql(sql: &Sql, scope: &Scope, condition: &str, services: &[&str]) -> String {
    let bucket = sql.bucket_ns("Timestamp", scope.range.bucket_ns());
    let bin = sql.duration_bin("Duration");
    format!(
        "SELECT ServiceName, {bucket} AS t, {bin} AS bin, count(*) AS n, min(Duration), max(Duration) \
         FROM otel_traces WHERE {condition} AND ServiceName IN {names} \
         GROUP BY ServiceName, t, bin",
        names = sql.text_list(services),
    )
}

/// Renders the latency-bin counts of the named services over the range, as one
/// scan or as the rollup's slots and the edges' spans.
pub fn latency_queries(
    sql: &Sql,
    scope: &Scope,
    split: Option<&Split>,
    services: &[&str],
) -> Vec<String> {
    let rollup = |split: &Split| {
        format!(
            "SELECT ServiceName, {bucket} AS t, Bin AS bin, {spans} AS n, min(MinDuration), \
             max(MaxDuration) FROM {table} WHERE {slots} AND ServiceName IN {names} \
             GROUP BY ServiceName, t, bin",
            bucket = sql.int_bucket("Slot", scope.range.bucket_ns()),
            spans = sql.sum_count("Spans"),
            table = rollup::SPAN_TABLE,
            slots = split.slots(),
            names = sql.text_list(services),
        )
    };
    rollups::queries(
        split,
        sql,
        &scope.condition(sql, Source::Spans),
        "",
        |condition| latency_sql(sql, scope, condition, services),
        rollup,
    )
}

/// Reads (service, bucket, bin, count, min, max) rows into histograms.
pub fn read_latency(rows: &[Row]) -> Result<ServiceBucketLatency, AnalyticsError> {
    let mut out: ServiceBucketLatency = BTreeMap::new();
    for row in rows {
        let histogram = out
            .entry(row.text(0))
            .or_default()
            .entry(row.int(1)?)
            .or_default();
        histogram.add(row.int(2)?, row.count(3)?);
        histogram.bound(row.count(4)?, row.count(5)?);
    }
    Ok(out)
}

fn read_lobs(rows: &[Row]) -> Result<Vec<LobOrders>, AnalyticsError> {
    rows.iter()
        .map(|row| {
            let status = row.text(1);
            Ok(LobOrders {
                lob: row.text(0),
                status: if status.is_empty() {
                    "unknown".into()
                } else {
                    status
                },
                orders: row.count(2)?,
            })
        })
        .collect()
}

fn read_recent_errors(rows: &[Row]) -> Vec<RecentError> {
    rows.iter()
        .map(|row| RecentError {
            time: format_ns(row.int(0).unwrap_or_default()),
            service: row.text(1),
            kind: row.text(2),
            message: row.text(3),
            trace_id: row.text(4),
        })
        .collect()
}

fn read_operators(ranked: &[Row], orders: &[Row]) -> Result<Vec<OperatorLoad>, AnalyticsError> {
    let mut distinct = BTreeMap::new();
    for row in orders {
        distinct.insert(row.text(0), row.count(1)?);
    }
    ranked
        .iter()
        .map(|row| {
            let operator = row.text(0);
            Ok(OperatorLoad {
                orders: distinct.get(&operator).copied().unwrap_or_default(),
                spans: row.count(1)?,
                operator,
            })
        })
        .collect()
}

fn read_table_sizes(rows: &[Row]) -> Result<BTreeMap<String, u64>, AnalyticsError> {
    rows.iter()
        .map(|row| Ok((row.text(0), row.count(1)?)))
        .collect()
}

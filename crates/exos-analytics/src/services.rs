//! `GET /api/services`: RED metrics per service, a latency histogram, endpoints and the service map.
//!
//! Endpoints are the server and consumer spans, named by span name. An edge of
//! the service map is a client (or producer) span whose server (or consumer)
//! child belongs to another service: the child's `ParentSpanId` is the client
//! span's `SpanId` in the same trace, both within the range. Filters apply to
//! the spans counted and, for edges, to the child span.
//!
//! Without filters, on the embedded store, the map reads the edge rollup
//! (`exos_store::edges`) for the range's whole 5-minute slots and joins only the
//! spans of the partial slots at its ends. The rollup counts a call in its server
//! span's slot, wherever its client span lies, and misses the calls whose two spans
//! reached the store more than 5 minutes apart. In the partial slots, a call counts
//! when its client span started at most an hour before the partial slot and before
//! the range's end. A client span stored twice counts once on every path.

use std::collections::BTreeMap;

use exos_store::{edges, rollup, Store};
use serde::Serialize;

use crate::error::AnalyticsError;
use crate::filter::Source;
use crate::latency::Histogram;
use crate::params::{check_text, Params};
use crate::rollups::{self, Read, Split};
use crate::rows::{query, query_all, Row};
use crate::scope::Scope;
use crate::sql::{Sql, IS_ERROR};
use crate::stats::{latency_queries, read_latency};
use crate::time::{format_ns, RangeInfo};

/// Services listed at most, the busiest first.
pub const MAX_SERVICES: usize = 20;
/// Endpoints listed at most, the busiest first.
pub const MAX_ENDPOINTS: usize = 50;
/// Service-map edges listed at most, the busiest first.
pub const MAX_EDGES: usize = 200;
/// Spans of a range up to which the service map joins every trace. Over it, the map
/// joins a sample of traces, chosen by the last hex digits of their id.
pub const MAX_EDGE_SPANS: u64 = 1_000_000;
/// Upper bounds of the latency histogram's buckets, in ms; a last bucket takes the rest.
pub use exos_store::rollup::HISTOGRAM_LE_MS;

const SERVER_KINDS: &str = edges::CALLEE_KINDS_SQL;

/// The parameters of `/api/services`.
#[derive(Debug, Clone, PartialEq)]
pub struct ServicesRequest {
    pub scope: Scope,
    /// Limits services and endpoints to this service, and edges to those touching it.
    pub service: Option<String>,
}

impl ServicesRequest {
    /// Reads `from`, `to`, `filter` and `service`.
    pub fn from_query(pairs: &[(String, String)]) -> Result<Self, AnalyticsError> {
        let params = Params::new(pairs, &["from", "to", "filter", "service"])?;
        let service = params.one("service")?.map(str::to_string);
        if let Some(service) = &service {
            check_text("service", service)?;
        }
        Ok(Self {
            scope: Scope::parse(&params)?,
            service,
        })
    }
}

/// The response body of `/api/services`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Services {
    pub range: RangeInfo,
    pub services: Vec<ServiceRed>,
    pub histogram: Vec<LatencyBucket>,
    pub endpoints: Vec<Endpoint>,
    pub edges: Vec<Edge>,
    /// The service map counts one trace in this many and scales its counts by it;
    /// 1 when it counts every trace.
    pub edges_one_in: u32,
}

/// One service's rate, errors and duration.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServiceRed {
    pub service: String,
    pub spans: u64,
    pub errors: u64,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub series: Vec<RedPoint>,
}

/// One bucket of a service's series.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RedPoint {
    pub t: String,
    pub rate_per_s: f64,
    pub errors: u64,
    pub p50_ms: f64,
    pub p95_ms: f64,
}

/// Spans whose duration is above the previous bound and at most `le_ms`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LatencyBucket {
    /// Upper bound in ms; `null` for the last bucket, which has none.
    pub le_ms: Option<f64>,
    pub count: u64,
}

/// One endpoint: a service's server spans of one name.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Endpoint {
    pub service: String,
    pub name: String,
    pub count: u64,
    pub errors: u64,
    pub p50_ms: f64,
    pub p95_ms: f64,
}

/// Calls from one service to another.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Edge {
    pub source: String,
    pub target: String,
    pub calls: u64,
    /// Calls whose server span has error status.
    pub errors: u64,
    /// 95th percentile of the server spans' durations, in ms.
    pub p95_ms: f64,
}

/// Computes RED metrics, the latency histogram, endpoints and edges for the range.
pub fn services(store: &dyn Store, request: &ServicesRequest) -> Result<Services, AnalyticsError> {
    services_from(store, request, Read::Rollups)
}

/// Computes the engineering figures, taking span counts from where `read` names.
pub fn services_from(
    store: &dyn Store,
    request: &ServicesRequest,
    read: Read,
) -> Result<Services, AnalyticsError> {
    let sql = Sql::new(store.dialect());
    let scope = &request.scope;
    let only = request.service.as_ref().map_or(String::new(), |service| {
        format!(" AND ServiceName = {}", sql.text(service))
    });
    let condition = format!("{}{only}", scope.condition(&sql, Source::Spans));
    let series = Split::for_series(scope, read);
    let totals = Split::for_totals(scope, read);
    let edge_split = rollups::use_summaries(sql.dialect(), scope, read)
        .then(|| Split::for_slots(scope, read))
        .flatten();
    let (edge_parts, one_in) = match &edge_split {
        Some(split) => (
            edges_rollup_sql(&sql, scope, split, request.service.as_deref()),
            1,
        ),
        None => {
            let one_in = count_sampling(store, &sql, scope)?;
            let edges = edges_sql(&sql, scope, request.service.as_deref(), one_in);
            (vec![edges], one_in)
        }
    };

    let mut first = Vec::new();
    let per_bucket_parts = rollups::queries(
        series.as_ref(),
        &sql,
        &condition,
        &only,
        |condition| per_bucket_sql(&sql, scope, condition),
        |split| per_bucket_rollup_sql(&sql, scope, split, &only),
    );
    // One scan keeps only the busiest endpoints; two parts are added up and ranked here.
    let limit = totals.is_none().then_some(MAX_ENDPOINTS);
    let endpoint_parts = rollups::queries(
        totals.as_ref(),
        &sql,
        &condition,
        &only,
        |condition| endpoints_sql(&sql, condition, limit),
        |split| endpoints_rollup_sql(&sql, split, &only),
    );
    let (bucket_count, endpoint_count) = (per_bucket_parts.len(), endpoint_parts.len());
    first.extend(per_bucket_parts.into_iter().map(|text| (text, 100_000)));
    first.extend(endpoint_parts.into_iter().map(|text| (text, 100_000)));
    first.extend(edge_parts.into_iter().map(|text| (text, EDGE_ROWS)));
    let mut results = query_all(store, &first)?.into_iter();
    let per_bucket: Vec<Row> = results.by_ref().take(bucket_count).flatten().collect();
    let endpoint_rows = rank_endpoints(results.by_ref().take(endpoint_count).flatten())?;
    let edge_rows: Vec<Row> = results.flatten().collect();

    let (counts, histogram) = read_per_bucket(&per_bucket)?;
    let ranked = rank(&counts);
    let names: Vec<&str> = ranked.iter().map(|(name, _)| name.as_str()).collect();
    let endpoint_keys: Vec<(String, String)> = endpoint_rows
        .iter()
        .map(|row| (row.text(0), row.text(1)))
        .collect();
    let latency_parts = latency_queries(&sql, scope, series.as_ref(), &names);
    let latency_count = latency_parts.len();
    let endpoint_latency_parts = rollups::queries(
        totals.as_ref(),
        &sql,
        &condition,
        &only,
        |condition| endpoint_latency_sql(&sql, condition, &endpoint_keys),
        |split| endpoint_latency_rollup_sql(&sql, split, &endpoint_keys),
    );
    let second: Vec<(String, usize)> = latency_parts
        .into_iter()
        .chain(endpoint_latency_parts)
        .map(|text| (text, 1_000_000))
        .collect();
    let mut results = query_all(store, &second)?.into_iter();
    let latency: Vec<Row> = results.by_ref().take(latency_count).flatten().collect();
    let endpoint_latency: Vec<Row> = results.flatten().collect();

    let histograms = read_latency(&latency)?;
    let buckets = scope.range.bucket_starts();
    let bucket_s = scope.range.bucket_s() as f64;
    let services = ranked
        .into_iter()
        .map(|(service, points)| {
            let empty = BTreeMap::new();
            let per_bucket = histograms.get(&service).unwrap_or(&empty);
            red(service, &points, per_bucket, &buckets, bucket_s)
        })
        .collect();
    Ok(Services {
        range: scope.range.info(),
        services,
        histogram,
        endpoints: read_endpoints(&endpoint_rows, &endpoint_latency)?,
        edges: read_edges(&edge_rows, one_in)?,
        edges_one_in: one_in,
    })
}

/// Rows of the edge query read at most: (source, target, latency bin) groups.
const EDGE_ROWS: usize = 100_000;

/// Returns the service map over `scope`, joining one trace in `one_in` (see `edge_sampling`).
pub fn service_edges(
    store: &dyn Store,
    scope: &Scope,
    service: Option<&str>,
    one_in: u32,
) -> Result<Vec<Edge>, AnalyticsError> {
    let sql = Sql::new(store.dialect());
    let rows = query(store, &edges_sql(&sql, scope, service, one_in), EDGE_ROWS)?;
    read_edges(&rows, one_in)
}

/// Counts the spans in `scope` and returns the service map's sampling for them.
fn count_sampling(store: &dyn Store, sql: &Sql, scope: &Scope) -> Result<u32, AnalyticsError> {
    let counted = query(
        store,
        &format!(
            "SELECT count(*) FROM otel_traces WHERE {}",
            scope.condition(sql, Source::Spans)
        ),
        1,
    )?;
    Ok(edge_sampling(
        counted.first().map_or(Ok(0), |row| row.count(0))?,
    ))
}

/// Returns 1, 16 or 256, the first that brings `spans` down to `MAX_EDGE_SPANS`
/// (or 256): the service map then joins one trace in that many.
pub fn edge_sampling(spans: u64) -> u32 {
    let mut one_in = 1u32;
    while one_in < 256 && spans > MAX_EDGE_SPANS * u64::from(one_in) {
        one_in *= 16;
    }
    one_in
}

/// Renders the condition that keeps one trace in `one_in` (1, 16 or 256): trace
/// ids are random hex, so ending in one given digit (or two) keeps a sixteenth
/// (or a 256th) of them. The end of the id, not its start: some tracers put a
/// time in the first digits. `LIKE` with a fixed suffix is a cheap test on both stores.
fn trace_sample(column: &str, one_in: u32) -> String {
    match one_in {
        0 | 1 => String::new(),
        2..=16 => format!(" AND {column} LIKE '%0'"),
        _ => format!(" AND {column} LIKE '%00'"),
    }
}

fn per_bucket_sql(sql: &Sql, scope: &Scope, condition: &str) -> String {
    let bounds: Vec<String> = HISTOGRAM_LE_MS
        .iter()
        .map(|le| sql.count_if(&format!("Duration <= {}", rollup::le_ns(*le))))
        .collect();
    format!(
        "SELECT ServiceName, {bucket} AS t, count(*) AS spans, {errors}, {bounds} \
         FROM otel_traces WHERE {condition} GROUP BY ServiceName, t",
        bucket = sql.bucket_ns("Timestamp", scope.range.bucket_ns()),
        errors = sql.count_if(IS_ERROR),
        bounds = bounds.join(", "),
    )
}

/// Renders `per_bucket_sql`'s counts from the span rollup's whole slots; `only`
/// is empty or ` AND ServiceName = …`.
fn per_bucket_rollup_sql(sql: &Sql, scope: &Scope, split: &Split, only: &str) -> String {
    let bounds: Vec<String> = (0..HISTOGRAM_LE_MS.len())
        .map(|index| sql.sum_count_if("Spans", &format!("Bucket <= {index}")))
        .collect();
    format!(
        "SELECT ServiceName, {bucket} AS t, {spans} AS spans, {errors}, {bounds} \
         FROM {table} WHERE {slots}{only} GROUP BY ServiceName, t",
        bucket = sql.int_bucket("Slot", scope.range.bucket_ns()),
        spans = sql.sum_count("Spans"),
        errors = sql.sum_count("Errors"),
        bounds = bounds.join(", "),
        table = rollup::SPAN_TABLE,
        slots = split.slots(),
    )
}

/// Renders the server spans per endpoint, the busiest first when `limit` is set.
fn endpoints_sql(sql: &Sql, condition: &str, limit: Option<usize>) -> String {
    format!(
        "SELECT ServiceName, SpanName, count(*) AS n, {errors} FROM otel_traces \
         WHERE {condition} AND {SERVER_KINDS} \
         GROUP BY ServiceName, SpanName ORDER BY n DESC, ServiceName, SpanName {limit}",
        errors = sql.count_if(IS_ERROR),
        limit = limit.map_or(String::new(), |rows| sql.limit(rows)),
    )
}

/// Renders the server spans per endpoint from the endpoint rollup's whole slots.
fn endpoints_rollup_sql(sql: &Sql, split: &Split, only: &str) -> String {
    format!(
        "SELECT ServiceName, SpanName, {spans} AS n, {errors} FROM {table} \
         WHERE {slots}{only} AND {SERVER_KINDS} GROUP BY ServiceName, SpanName",
        spans = sql.sum_count("Spans"),
        errors = sql.sum_count("Errors"),
        table = rollup::ENDPOINT_TABLE,
        slots = split.slots(),
    )
}

/// Adds up (service, name, count, errors) rows of the same endpoint and keeps the busiest.
fn rank_endpoints(rows: impl Iterator<Item = Row>) -> Result<Vec<Row>, AnalyticsError> {
    let mut totals: BTreeMap<(String, String), (u64, u64)> = BTreeMap::new();
    for row in rows {
        let entry = totals.entry((row.text(0), row.text(1))).or_default();
        entry.0 += row.count(2)?;
        entry.1 += row.count(3)?;
    }
    let mut ranked: Vec<_> = totals.into_iter().collect();
    ranked.sort_by(|a, b| b.1 .0.cmp(&a.1 .0).then_with(|| a.0.cmp(&b.0)));
    ranked.truncate(MAX_ENDPOINTS);
    Ok(ranked
        .into_iter()
        .map(|((service, name), (count, errors))| {
            Row::new(vec![
                service.into(),
                name.into(),
                count.into(),
                errors.into(),
            ])
        })
        .collect())
}

fn endpoint_latency_sql(sql: &Sql, condition: &str, endpoints: &[(String, String)]) -> String {
    let services: Vec<&str> = endpoints.iter().map(|e| e.0.as_str()).collect();
    let names: Vec<&str> = endpoints.iter().map(|e| e.1.as_str()).collect();
    format!(
        "SELECT ServiceName, SpanName, {bin} AS bin, count(*), min(Duration), max(Duration) \
         FROM otel_traces WHERE {condition} AND {SERVER_KINDS} \
         AND ServiceName IN {services} AND SpanName IN {names} \
         GROUP BY ServiceName, SpanName, bin",
        bin = sql.duration_bin("Duration"),
        services = sql.text_list(&services),
        names = sql.text_list(&names),
    )
}

/// Renders `endpoint_latency_sql`'s counts from the endpoint rollup's whole slots.
fn endpoint_latency_rollup_sql(sql: &Sql, split: &Split, endpoints: &[(String, String)]) -> String {
    let services: Vec<&str> = endpoints.iter().map(|e| e.0.as_str()).collect();
    let names: Vec<&str> = endpoints.iter().map(|e| e.1.as_str()).collect();
    format!(
        "SELECT ServiceName, SpanName, Bin AS bin, {spans}, min(MinDuration), max(MaxDuration) \
         FROM {table} WHERE {slots} AND {SERVER_KINDS} \
         AND ServiceName IN {services} AND SpanName IN {names} \
         GROUP BY ServiceName, SpanName, bin",
        spans = sql.sum_count("Spans"),
        table = rollup::ENDPOINT_TABLE,
        slots = split.slots(),
        services = sql.text_list(&services),
        names = sql.text_list(&names),
    )
}

/// Renders the client-to-server calls across services, counted per latency bin of the
/// server span, by joining the spans in `scope` (one trace in `one_in`).
fn edges_sql(sql: &Sql, scope: &Scope, service: Option<&str>, one_in: u32) -> String {
    let range = scope.range;
    let callees = scope.condition(sql, Source::Spans);
    let callers = sql.time_range("Timestamp", range.from_ns, range.to_ns);
    edges_join_sql(sql, &callees, &callers, service, one_in)
}

/// Renders the calls whose server span meets `callees` and whose client span meets
/// `callers`, one trace in `one_in`, as (source, target, bin, calls, errors, min, max) rows.
fn edges_join_sql(
    sql: &Sql,
    callees: &str,
    callers: &str,
    service: Option<&str>,
    one_in: u32,
) -> String {
    let sample = trace_sample("TraceId", one_in);
    let join = edges::edges_select(
        sql.dialect(),
        &format!("{callees}{sample}"),
        &format!("{callers}{sample}"),
    );
    format!(
        "SELECT Source, Target, Bin, {calls}, {errors}, min(MinDuration), max(MaxDuration) \
         FROM ({join}) AS calls WHERE true{touching} GROUP BY Source, Target, Bin",
        calls = sql.sum_count("Calls"),
        errors = sql.sum_count("Errors"),
        touching = touching(sql, service),
    )
}

/// Renders ` AND …` keeping the edges from or to `service`, or nothing.
fn touching(sql: &Sql, service: Option<&str>) -> String {
    service.map_or(String::new(), |name| {
        let name = sql.text(name);
        format!(" AND (Source = {name} OR Target = {name})")
    })
}

/// Renders the service map from the edge rollup's whole slots and a join of the
/// spans of each edge of the split (embedded store only).
fn edges_rollup_sql(sql: &Sql, scope: &Scope, split: &Split, service: Option<&str>) -> Vec<String> {
    let rollup = format!(
        "SELECT Source, Target, Bin, {calls}, {errors}, min(MinDuration), max(MaxDuration) \
         FROM {table} WHERE {slots}{touching} GROUP BY Source, Target, Bin",
        calls = sql.sum_count("Calls"),
        errors = sql.sum_count("Errors"),
        table = edges::TABLE,
        slots = split.slots(),
        touching = touching(sql, service),
    );
    let joins = split.edge_windows().into_iter().map(|(start, end)| {
        // A client span starts before its server span, so the callers of an edge's
        // server spans are looked for from an hour earlier, not in the whole range.
        let callers_from = (start - edges::HOUR_NS).max(scope.range.from_ns);
        edges_join_sql(
            sql,
            &sql.time_range("Timestamp", start, end),
            &sql.time_range("Timestamp", callers_from, end),
            service,
            1,
        )
    });
    std::iter::once(rollup).chain(joins).collect()
}

/// Spans and errors per bucket start.
type BucketPoints = BTreeMap<i64, (u64, u64)>;
/// Spans and errors per service and bucket start.
type BucketCounts = BTreeMap<String, BucketPoints>;

fn read_per_bucket(rows: &[Row]) -> Result<(BucketCounts, Vec<LatencyBucket>), AnalyticsError> {
    let mut counts: BucketCounts = BTreeMap::new();
    let mut cumulative = [0u64; HISTOGRAM_LE_MS.len()];
    let mut total = 0;
    for row in rows {
        let spans = row.count(2)?;
        // The rollup's slots and the edges' spans may both count a bucket.
        let point = counts
            .entry(row.text(0))
            .or_default()
            .entry(row.int(1)?)
            .or_default();
        point.0 += spans;
        point.1 += row.count(3)?;
        total += spans;
        for (index, sum) in cumulative.iter_mut().enumerate() {
            *sum += row.count(4 + index)?;
        }
    }
    let mut histogram = Vec::new();
    let mut below = 0;
    for (le, at_most) in HISTOGRAM_LE_MS.iter().zip(cumulative) {
        histogram.push(LatencyBucket {
            le_ms: Some(*le),
            count: at_most - below,
        });
        below = at_most;
    }
    histogram.push(LatencyBucket {
        le_ms: None,
        count: total - below,
    });
    Ok((counts, histogram))
}

/// Returns the busiest services with their per-bucket counts.
fn rank(counts: &BucketCounts) -> Vec<(String, BucketPoints)> {
    let mut ranked: Vec<(String, BucketPoints)> = counts
        .iter()
        .map(|(name, points)| (name.clone(), points.clone()))
        .collect();
    let spans = |points: &BucketPoints| points.values().map(|p| p.0).sum::<u64>();
    ranked.sort_by(|a, b| spans(&b.1).cmp(&spans(&a.1)).then_with(|| a.0.cmp(&b.0)));
    ranked.truncate(MAX_SERVICES);
    ranked
}

fn red(
    service: String,
    points: &BucketPoints,
    histograms: &BTreeMap<i64, Histogram>,
    buckets: &[i64],
    bucket_s: f64,
) -> ServiceRed {
    let mut whole = Histogram::default();
    for histogram in histograms.values() {
        whole.merge(histogram);
    }
    let series = buckets
        .iter()
        .map(|t| {
            let (spans, errors) = points.get(t).copied().unwrap_or_default();
            let histogram = histograms.get(t).cloned().unwrap_or_default();
            RedPoint {
                t: format_ns(*t),
                rate_per_s: spans as f64 / bucket_s,
                errors,
                p50_ms: histogram.quantile_ms(0.5),
                p95_ms: histogram.quantile_ms(0.95),
            }
        })
        .collect();
    ServiceRed {
        service,
        spans: points.values().map(|p| p.0).sum(),
        errors: points.values().map(|p| p.1).sum(),
        p50_ms: whole.quantile_ms(0.5),
        p95_ms: whole.quantile_ms(0.95),
        p99_ms: whole.quantile_ms(0.99),
        series,
    }
}

/// Reads (a, b, bin, count, min, max) rows into one histogram per (a, b).
fn pair_histograms(
    rows: &[Row],
    first_count: usize,
) -> Result<BTreeMap<(String, String), Histogram>, AnalyticsError> {
    let mut out: BTreeMap<(String, String), Histogram> = BTreeMap::new();
    for row in rows {
        let histogram = out.entry((row.text(0), row.text(1))).or_default();
        histogram.add(row.int(2)?, row.count(first_count)?);
        histogram.bound(row.count(first_count + 1)?, row.count(first_count + 2)?);
    }
    Ok(out)
}

fn read_endpoints(ranked: &[Row], latency: &[Row]) -> Result<Vec<Endpoint>, AnalyticsError> {
    let histograms = pair_histograms(latency, 3)?;
    ranked
        .iter()
        .map(|row| {
            let key = (row.text(0), row.text(1));
            let histogram = histograms.get(&key).cloned().unwrap_or_default();
            Ok(Endpoint {
                count: row.count(2)?,
                errors: row.count(3)?,
                p50_ms: histogram.quantile_ms(0.5),
                p95_ms: histogram.quantile_ms(0.95),
                service: key.0,
                name: key.1,
            })
        })
        .collect()
}

/// Reads (source, target, bin, calls, errors, min, max) rows into edges, the busiest
/// first, with counts scaled up by the sampling.
fn read_edges(rows: &[Row], one_in: u32) -> Result<Vec<Edge>, AnalyticsError> {
    let mut edges: BTreeMap<(String, String), (u64, u64, Histogram)> = BTreeMap::new();
    for row in rows {
        let entry = edges.entry((row.text(0), row.text(1))).or_default();
        let calls = row.count(3)?;
        entry.0 += calls;
        entry.1 += row.count(4)?;
        entry.2.add(row.int(2)?, calls);
        entry.2.bound(row.count(5)?, row.count(6)?);
    }
    let mut out: Vec<Edge> = edges
        .into_iter()
        .map(|((source, target), (calls, errors, histogram))| Edge {
            source,
            target,
            calls: calls * u64::from(one_in),
            errors: errors * u64::from(one_in),
            p95_ms: histogram.quantile_ms(0.95),
        })
        .collect();
    out.sort_by(|a, b| {
        b.calls
            .cmp(&a.calls)
            .then_with(|| (&a.source, &a.target).cmp(&(&b.source, &b.target)))
    });
    out.truncate(MAX_EDGES);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sampling_keeps_the_join_near_a_million_spans() {
        assert_eq!(edge_sampling(0), 1);
        assert_eq!(edge_sampling(MAX_EDGE_SPANS), 1);
        assert_eq!(edge_sampling(MAX_EDGE_SPANS + 1), 16);
        assert_eq!(edge_sampling(16 * MAX_EDGE_SPANS), 16);
        assert_eq!(edge_sampling(16 * MAX_EDGE_SPANS + 1), 256);
        assert_eq!(edge_sampling(u64::MAX), 256);
        assert_eq!(trace_sample("TraceId", 1), "");
        assert_eq!(trace_sample("TraceId", 16), " AND TraceId LIKE '%0'");
        assert_eq!(trace_sample("TraceId", 256), " AND TraceId LIKE '%00'");
    }

    #[test]
    fn histogram_counts_are_not_cumulative() {
        let mut row = vec![json!("api"), json!(0), json!(10), json!(1)];
        let cumulative = [1, 3, 3, 3, 3, 5, 5, 5, 8, 9, 9, 9, 9];
        row.extend(cumulative.iter().map(|c| json!(c)));
        let (_, histogram) = read_per_bucket(&[Row::new(row)]).unwrap();
        let counts: Vec<u64> = histogram.iter().map(|b| b.count).collect();
        assert_eq!(counts, vec![1, 2, 0, 0, 0, 2, 0, 0, 3, 1, 0, 0, 0, 1]);
        assert_eq!(histogram.last().unwrap().le_ms, None);
    }
}

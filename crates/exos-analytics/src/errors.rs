//! `GET /api/errors` and `GET /api/errors/{fingerprint}`: error spans grouped by fingerprint.
//!
//! A fingerprint is the first 16 hex digits of the MD5 of three lines: the
//! exception type, the message with variable parts replaced by placeholders,
//! and the top stack frame. Type, message and stack trace come from the span's
//! first `exception` event (OpenTelemetry's `exception.*` attributes); the
//! message falls back to the span's status message. Normalisation runs in SQL
//! with the same RE2 patterns on both stores, so a group's fingerprint is the
//! same whichever store computed it.

use std::collections::BTreeMap;

use exos_store::Store;
use serde::Serialize;

use crate::error::AnalyticsError;
use crate::filter::Source;
use crate::params::Params;
use crate::rollups::{self, Read};
use crate::rows::{query, query_all, Row};
use crate::scope::Scope;
use crate::sql::{Sql, IS_ERROR};
use crate::time::format_ns;

pub use exos_store::errors::{NORMALISATIONS, TOP_FRAME};

/// Groups listed at most.
pub const MAX_GROUPS: usize = 100;
/// Occurrences listed for one group, the most recent first.
pub const MAX_OCCURRENCES: usize = 200;
/// Services named per group at most.
const MAX_GROUP_SERVICES: usize = 20;

/// The parameters of `/api/errors`.
#[derive(Debug, Clone, PartialEq)]
pub struct ErrorsRequest {
    pub scope: Scope,
}

impl ErrorsRequest {
    /// Reads `from`, `to` and `filter` from the query string's pairs.
    pub fn from_query(pairs: &[(String, String)]) -> Result<Self, AnalyticsError> {
        let params = Params::new(pairs, &["from", "to", "filter"])?;
        Ok(Self {
            scope: Scope::parse(&params)?,
        })
    }
}

/// The parameters of `/api/errors/{fingerprint}`.
#[derive(Debug, Clone, PartialEq)]
pub struct ErrorGroupRequest {
    /// 16 lowercase hex digits.
    pub fingerprint: String,
    pub scope: Scope,
}

impl ErrorGroupRequest {
    /// Reads the path's fingerprint and `from`, `to`, `filter` from the query string's pairs.
    pub fn from_query(
        fingerprint: &str,
        pairs: &[(String, String)],
    ) -> Result<Self, AnalyticsError> {
        let params = Params::new(pairs, &["from", "to", "filter"])?;
        Ok(Self {
            fingerprint: parse_fingerprint(fingerprint)?,
            scope: Scope::parse(&params)?,
        })
    }
}

/// Checks a fingerprint's form and returns it in lowercase.
pub fn parse_fingerprint(text: &str) -> Result<String, AnalyticsError> {
    if text.len() == 16 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(text.to_ascii_lowercase());
    }
    Err(AnalyticsError::bad(
        "fingerprint",
        format!("{text:?} is not a fingerprint; use the 16 hex digits from /api/errors"),
    ))
}

/// The response body of `/api/errors`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ErrorGroups {
    pub groups: Vec<ErrorGroup>,
}

/// One group of errors with the same fingerprint.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ErrorGroup {
    pub fingerprint: String,
    #[serde(rename = "type")]
    pub kind: String,
    /// The normalised message.
    pub message: String,
    pub top_frame: String,
    pub services: Vec<String>,
    pub count: u64,
    /// Distinct users, browser sessions and orders on any span of the failing
    /// traces in the range: a back-end error reaches the user whose request it broke.
    pub users: u64,
    pub sessions: u64,
    pub orders: u64,
    pub first_seen: String,
    pub last_seen: String,
    pub series: Vec<CountPoint>,
    /// The trace of the latest occurrence.
    pub sample_trace_id: String,
}

/// A count in one time bucket.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CountPoint {
    pub t: String,
    pub count: u64,
}

/// The response body of `/api/errors/{fingerprint}`: the group and its latest occurrences.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ErrorGroupDetail {
    #[serde(flatten)]
    pub group: ErrorGroup,
    pub occurrences: Vec<Occurrence>,
}

/// One error span of a group.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Occurrence {
    pub time: String,
    pub trace_id: String,
    pub span_id: String,
    pub service: String,
    pub user: String,
    pub session: String,
    pub order: String,
    /// The message as recorded, before normalisation.
    pub message: String,
    pub stacktrace: String,
}

/// Renders an error span's message: the exception event's, else the span's status message.
pub fn message_expr(sql: &Sql) -> String {
    let exception = sql.first_event_attribute("exception.message");
    format!("(CASE WHEN {exception} != '' THEN {exception} ELSE StatusMessage END)")
}

/// Renders the normalised form of a message expression.
pub fn normalised_expr(sql: &Sql, message: &str) -> String {
    NORMALISATIONS
        .iter()
        .fold(message.to_string(), |expr, (pattern, placeholder)| {
            sql.regexp_replace_all(&expr, pattern, placeholder)
        })
}

/// Renders the fingerprint of a type, a normalised message and a top frame.
pub fn fingerprint_expr(sql: &Sql, kind: &str, normalised: &str, frame: &str) -> String {
    let newline = sql.newline();
    let digest = sql.md5_hex(&format!(
        "{kind} || {newline} || {normalised} || {newline} || {frame}"
    ));
    sql.left(&digest, 16)
}

/// Renders `WITH fingerprinted AS (…)`: one row per error span in scope with its fingerprint,
/// read from the error summaries with `summaries`.
fn fingerprinted_cte(sql: &Sql, scope: &Scope, summaries: bool) -> String {
    let rows = if summaries {
        summarised_sql(sql, scope)
    } else {
        fingerprinted_sql(sql, scope)
    };
    format!("WITH fingerprinted AS ({rows})")
}

/// Renders the error spans in scope from the error summaries (`exos_errors`, DuckDB
/// only), with the columns of `fingerprinted_sql` that groups and series need.
fn summarised_sql(sql: &Sql, scope: &Scope) -> String {
    format!(
        "SELECT {time} AS t, Timestamp, TraceId, SpanId, ServiceName, UserId, RumSessionId, OrderId, \
         Kind AS kind, Normalised AS normalised, Frame AS frame, Fingerprint AS fingerprint \
         FROM {table} WHERE {condition}",
        time = sql.epoch_ns("Timestamp"),
        table = exos_store::errors::TABLE,
        condition = scope.condition(sql, Source::Spans),
    )
}

/// Renders one row per error span in scope with its fingerprint and the columns groups need.
fn fingerprinted_sql(sql: &Sql, scope: &Scope) -> String {
    let occurrences = format!(
        "SELECT {time} AS t, Timestamp, TraceId, SpanId, ServiceName, UserId, RumSessionId, OrderId, \
         {kind} AS kind, {message} AS message, {stack} AS stack \
         FROM otel_traces WHERE {condition} AND {IS_ERROR}",
        time = sql.epoch_ns("Timestamp"),
        kind = sql.first_event_attribute("exception.type"),
        message = message_expr(sql),
        stack = sql.first_event_attribute("exception.stacktrace"),
        condition = scope.condition(sql, Source::Spans),
    );
    let normalised = format!(
        "SELECT *, {normalised} AS normalised, {frame} AS frame FROM ({occurrences}) AS occurrence",
        normalised = normalised_expr(sql, "message"),
        frame = sql.regexp_first_group("stack", TOP_FRAME),
    );
    format!(
        "SELECT *, {fingerprint} AS fingerprint FROM ({normalised}) AS normalised_occurrence",
        fingerprint = fingerprint_expr(sql, "kind", "normalised", "frame"),
    )
}

// NOTE: no query below filters on `fingerprint` in a WHERE clause. DuckDB 1.5.6
// pushed such a filter into the scan, even out of a MATERIALIZED CTE, and computed
// the fingerprint of every span in the range (over a second for one hour of ten
// million spans a day). Ordering, CASE and a check in Rust select the group instead.

/// Renders the groups, the most frequent first; with `first`, that group comes first.
fn groups_sql(sql: &Sql, scope: &Scope, first: Option<&str>, summaries: bool) -> String {
    let order = first.map_or(String::new(), |fp| {
        format!("(fingerprint = {}) DESC, ", sql.text(fp))
    });
    format!(
        "{rows} SELECT fingerprint, min(kind), min(normalised), min(frame), {services}, count(*) AS n, \
         {users}, {sessions}, {orders}, min(t), max(t), {sample} \
         FROM fingerprinted GROUP BY fingerprint ORDER BY {order}n DESC, fingerprint {limit}",
        services = sql.distinct_list("ServiceName"),
        users = sql.count_distinct_nonempty("UserId"),
        sessions = sql.count_distinct_nonempty("RumSessionId"),
        orders = sql.count_distinct_nonempty("OrderId"),
        sample = sql.last_value("TraceId", "t"),
        rows = fingerprinted_cte(sql, scope, summaries),
        limit = sql.limit(MAX_GROUPS),
    )
}

/// Renders, per group, the distinct users, sessions and orders on any span of its
/// traces within the range, not only on the error spans. The range alone bounds the
/// spans read, because filters choose the errors, not whom they reached. With
/// `only`, the traces of that group alone are joined.
fn reach_sql(sql: &Sql, scope: &Scope, summaries: bool, only: Option<&str>) -> String {
    let group = match only {
        Some(fingerprint) => format!(" WHERE fingerprint = {}", sql.text(fingerprint)),
        None => String::new(),
    };
    format!(
        "{rows} SELECT failed.fingerprint, {users}, {sessions}, {orders} \
         FROM (SELECT DISTINCT fingerprint, TraceId FROM fingerprinted{group}) AS failed \
         JOIN otel_traces AS span ON span.TraceId = failed.TraceId \
         WHERE {range} AND (span.UserId != '' OR span.RumSessionId != '' OR span.OrderId != '') \
         GROUP BY failed.fingerprint",
        rows = fingerprinted_cte(sql, scope, summaries),
        users = sql.count_distinct_nonempty("span.UserId"),
        sessions = sql.count_distinct_nonempty("span.RumSessionId"),
        orders = sql.count_distinct_nonempty("span.OrderId"),
        range = sql.time_range("span.Timestamp", scope.range.from_ns, scope.range.to_ns),
    )
}

/// Replaces each group's users, sessions and orders with the counts over its traces.
fn fill_reach(groups: &mut [ErrorGroup], rows: &[Row]) -> Result<(), AnalyticsError> {
    let mut reach: BTreeMap<String, (u64, u64, u64)> = BTreeMap::new();
    for row in rows {
        reach.insert(row.text(0), (row.count(1)?, row.count(2)?, row.count(3)?));
    }
    for group in groups {
        if let Some(&(users, sessions, orders)) = reach.get(&group.fingerprint) {
            // The traces include the error spans, so these counts are never below theirs.
            group.users = group.users.max(users);
            group.sessions = group.sessions.max(sessions);
            group.orders = group.orders.max(orders);
        }
    }
    Ok(())
}

/// Renders counts per (fingerprint, bucket): for every group without a list, else for
/// the listed groups, with the other groups counted under `''`.
fn series_sql(
    sql: &Sql,
    scope: &Scope,
    fingerprints: Option<&[String]>,
    summaries: bool,
) -> String {
    let listed = match fingerprints {
        None => "fingerprint".to_string(),
        Some(list) => format!(
            "CASE WHEN fingerprint IN {} THEN fingerprint ELSE '' END",
            sql.text_list(list)
        ),
    };
    format!(
        "{rows} SELECT {listed} AS listed, {bucket} AS b, count(*) FROM fingerprinted \
         GROUP BY listed, b",
        bucket = sql.bucket_ns("Timestamp", scope.range.bucket_ns()),
        rows = fingerprinted_cte(sql, scope, summaries),
    )
}

/// Rows of the reach of every group: one per fingerprint.
const MAX_REACH_ROWS: usize = 100_000;

/// (Fingerprint, bucket) rows the series of every group may take; beyond that, the
/// series are asked again for the listed groups only.
const ALL_SERIES_ROWS: usize = 100_000;

/// Renders the latest error spans with this group's first.
///
/// When the group has fewer than `MAX_OCCURRENCES` spans, the rest are other
/// groups' spans, which the caller drops.
fn occurrences_sql(sql: &Sql, scope: &Scope, fingerprint: &str) -> String {
    format!(
        "{rows} SELECT t, TraceId, SpanId, ServiceName, UserId, RumSessionId, OrderId, message, stack, \
         fingerprint FROM fingerprinted \
         ORDER BY (fingerprint = {fingerprint}) DESC, t DESC, SpanId DESC {limit}",
        rows = fingerprinted_cte(sql, scope, false),
        fingerprint = sql.text(fingerprint),
        limit = sql.limit(MAX_OCCURRENCES),
    )
}

/// Renders the latest spans of one group from the error summaries: time, trace and span id.
fn picked_sql(sql: &Sql, scope: &Scope, fingerprint: &str) -> String {
    format!(
        "SELECT {time} AS t, TraceId, SpanId FROM {table} WHERE {condition} \
         AND Fingerprint = {fingerprint} ORDER BY t DESC, SpanId DESC {limit}",
        time = sql.epoch_ns("Timestamp"),
        table = exos_store::errors::TABLE,
        condition = scope.condition(sql, Source::Spans),
        fingerprint = sql.text(fingerprint),
        limit = sql.limit(MAX_OCCURRENCES),
    )
}

/// Reads the spans of the picked (time, trace id, span id) rows, in the columns and
/// order of `occurrences_sql`. Only the picked rows' time span is scanned.
fn picked_occurrences(
    store: &dyn Store,
    sql: &Sql,
    fingerprint: &str,
    picked: &[Row],
) -> Result<Vec<Row>, AnalyticsError> {
    let mut times = Vec::with_capacity(picked.len());
    let mut pairs = std::collections::HashSet::new();
    for row in picked {
        times.push(row.int(0)?);
        pairs.insert((row.text(1), row.text(2)));
    }
    let (Some(first), Some(last)) = (times.iter().min(), times.iter().max()) else {
        return Ok(Vec::new());
    };
    let trace_ids: Vec<&str> = pairs.iter().map(|pair| pair.0.as_str()).collect();
    let span_ids: Vec<&str> = pairs.iter().map(|pair| pair.1.as_str()).collect();
    let text = format!(
        "SELECT {time} AS t, TraceId, SpanId, ServiceName, UserId, RumSessionId, OrderId, \
         {message} AS message, {stack} AS stack, {fingerprint} FROM otel_traces \
         WHERE {range} AND {IS_ERROR} AND SpanId IN {span_ids} AND TraceId IN {trace_ids} \
         ORDER BY t DESC, SpanId DESC",
        time = sql.epoch_ns("Timestamp"),
        message = message_expr(sql),
        stack = sql.first_event_attribute("exception.stacktrace"),
        fingerprint = sql.text(fingerprint),
        range = sql.time_range("Timestamp", *first, last.saturating_add(1)),
        span_ids = sql.text_list(&span_ids),
        trace_ids = sql.text_list(&trace_ids),
    );
    // A span id may come back with another picked span's trace id; the pair decides.
    let rows = query(store, &text, MAX_OCCURRENCES * 4)?
        .into_iter()
        .filter(|row| pairs.contains(&(row.text(1), row.text(2))))
        .take(MAX_OCCURRENCES)
        .collect();
    Ok(rows)
}

/// Lists the error groups of the range, the most frequent first.
pub fn errors(store: &dyn Store, request: &ErrorsRequest) -> Result<ErrorGroups, AnalyticsError> {
    errors_from(store, request, Read::Rollups, ALL_SERIES_ROWS)
}

/// Lists the error groups as `errors` does. With `Read::Rollups`, no filters and
/// DuckDB, they come from the error summaries. The series of all groups are taken
/// when they fit in `all_series_rows` rows (tests pass 0 to take the listed groups').
pub fn errors_from(
    store: &dyn Store,
    request: &ErrorsRequest,
    read: Read,
    all_series_rows: usize,
) -> Result<ErrorGroups, AnalyticsError> {
    let sql = Sql::new(store.dialect());
    let scope = &request.scope;
    let summaries = rollups::use_summaries(store.dialect(), scope, read);
    // The groups and the series of all groups run side by side; the listed groups
    // are known only when both are done.
    let queries = [
        (groups_sql(&sql, scope, None, summaries), MAX_GROUPS),
        (
            series_sql(&sql, scope, None, summaries),
            all_series_rows + 1,
        ),
        (reach_sql(&sql, scope, summaries, None), MAX_REACH_ROWS),
    ];
    let [rows, mut series, reach] =
        <[Vec<Row>; 3]>::try_from(query_all(store, &queries)?).expect("one result per query");
    let mut groups = rows.iter().map(read_group).collect::<Result<Vec<_>, _>>()?;
    if groups.is_empty() {
        return Ok(ErrorGroups { groups });
    }
    fill_reach(&mut groups, &reach)?;
    if series.len() > all_series_rows {
        let fingerprints: Vec<String> = groups.iter().map(|g| g.fingerprint.clone()).collect();
        series = query(
            store,
            &series_sql(&sql, scope, Some(&fingerprints), summaries),
            MAX_GROUPS * 1000,
        )?;
    }
    fill_series(&mut groups, &series, scope)?;
    Ok(ErrorGroups { groups })
}

/// Returns one error group with its latest occurrences; `NotFound` when it has none in range.
pub fn error_group(
    store: &dyn Store,
    request: &ErrorGroupRequest,
) -> Result<ErrorGroupDetail, AnalyticsError> {
    let sql = Sql::new(store.dialect());
    let scope = &request.scope;
    let fingerprint = parse_fingerprint(&request.fingerprint)?;
    let summaries = rollups::use_summaries(store.dialect(), scope, Read::Rollups);
    // With the summaries, the latest spans of the group come from them, and only
    // those spans' messages and stacks from `otel_traces`.
    let occurrences_query = if summaries {
        picked_sql(&sql, scope, &fingerprint)
    } else {
        occurrences_sql(&sql, scope, &fingerprint)
    };
    let queries = [
        (groups_sql(&sql, scope, Some(&fingerprint), summaries), 1),
        (
            series_sql(
                &sql,
                scope,
                Some(std::slice::from_ref(&fingerprint)),
                summaries,
            ),
            10_000,
        ),
        (occurrences_query, MAX_OCCURRENCES),
        (
            reach_sql(&sql, scope, summaries, Some(&fingerprint)),
            MAX_REACH_ROWS,
        ),
    ];
    let [group, series, mut occurrences, reach] =
        <[Vec<Row>; 4]>::try_from(query_all(store, &queries)?).expect("one result per query");
    if summaries {
        occurrences = picked_occurrences(store, &sql, &fingerprint, &occurrences)?;
    }
    let Some(row) = group.first().filter(|row| row.text(0) == fingerprint) else {
        return Err(AnalyticsError::NotFound(format!(
            "no errors with fingerprint {fingerprint} between {} and {}; widen the range",
            format_ns(scope.range.from_ns),
            format_ns(scope.range.to_ns)
        )));
    };
    let mut groups = vec![read_group(row)?];
    fill_reach(&mut groups, &reach)?;
    fill_series(&mut groups, &series, scope)?;
    let occurrences = occurrences
        .iter()
        .filter(|row| row.text(9) == fingerprint)
        .map(|row| {
            Ok(Occurrence {
                time: format_ns(row.int(0)?),
                trace_id: row.text(1),
                span_id: row.text(2),
                service: row.text(3),
                user: row.text(4),
                session: row.text(5),
                order: row.text(6),
                message: row.text(7),
                stacktrace: row.text(8),
            })
        })
        .collect::<Result<Vec<_>, AnalyticsError>>()?;
    Ok(ErrorGroupDetail {
        group: groups.remove(0),
        occurrences,
    })
}

fn read_group(row: &Row) -> Result<ErrorGroup, AnalyticsError> {
    let mut services = row.text_set(4);
    services.truncate(MAX_GROUP_SERVICES);
    Ok(ErrorGroup {
        fingerprint: row.text(0),
        kind: row.text(1),
        message: row.text(2),
        top_frame: row.text(3),
        services,
        count: row.count(5)?,
        users: row.count(6)?,
        sessions: row.count(7)?,
        orders: row.count(8)?,
        first_seen: format_ns(row.int(9)?),
        last_seen: format_ns(row.int(10)?),
        series: Vec::new(),
        sample_trace_id: row.text(11),
    })
}

/// Fills each group's series from (fingerprint, bucket, count) rows, with zeros for empty buckets.
fn fill_series(
    groups: &mut [ErrorGroup],
    rows: &[Row],
    scope: &Scope,
) -> Result<(), AnalyticsError> {
    let mut counts: BTreeMap<(String, i64), u64> = BTreeMap::new();
    for row in rows {
        counts.insert((row.text(0), row.int(1)?), row.count(2)?);
    }
    let buckets = scope.range.bucket_starts();
    for group in groups {
        group.series = buckets
            .iter()
            .map(|t| CountPoint {
                t: format_ns(*t),
                count: counts
                    .get(&(group.fingerprint.clone(), *t))
                    .copied()
                    .unwrap_or_default(),
            })
            .collect();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use exos_store::Dialect;

    /// The error summaries fingerprint spans at ingest with the store's DuckDB text;
    /// it must be this module's, or the two readings would group differently.
    #[test]
    fn fingerprint_sql_matches_the_store() {
        let sql = Sql::new(Dialect::DuckDb);
        assert_eq!(
            normalised_expr(&sql, "Message"),
            exos_store::errors::duckdb_normalised("Message")
        );
        assert_eq!(
            sql.regexp_first_group("Stack", TOP_FRAME),
            exos_store::errors::duckdb_frame("Stack")
        );
        assert_eq!(
            fingerprint_expr(&sql, "Kind", "normalised", "frame"),
            exos_store::errors::duckdb_fingerprint("Kind", "normalised", "frame")
        );
        // A rebuild reads type, message and stack from the spans' events.
        assert_eq!(
            sql.first_event_attribute("exception.type"),
            exos_store::errors::duckdb_first_event_attribute("exception.type")
        );
    }
}

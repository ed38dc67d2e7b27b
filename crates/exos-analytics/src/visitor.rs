//! `GET /api/visitor`: one user's or one browser session's profile over a range.
//!
//! The timeline lists page views, user actions, error spans, business spans
//! (spans with an order id) and log records, newest first. Plain internal spans
//! without an order id are left out, because they show little of what the
//! person did. A span is classified as in the `page_views` and `user_actions` views.

use std::collections::BTreeSet;

use exos_store::Store;
use serde::Serialize;

use crate::error::AnalyticsError;
use crate::errors::message_expr;
use crate::filter::Source;
use crate::params::{check_text, Params};
use crate::rows::{query_all, Row};
use crate::scope::Scope;
use crate::sql::{Sql, IS_ERROR};
use crate::time::format_ns;

/// Sessions listed at most, the latest first.
pub const MAX_SESSIONS: usize = 50;
/// Timeline entries at most, the newest first.
pub const MAX_TIMELINE: usize = 200;
/// Timeline entries read per source: one more than are listed.
const TIMELINE_READ: usize = MAX_TIMELINE + 1;
/// Orders listed at most, the most recently touched first.
pub const MAX_ORDERS: usize = 100;
/// Characters of a log body shown in the timeline at most.
pub const MAX_DETAIL_CHARS: usize = 300;

/// Whose profile to build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Visitor {
    /// A `user.id`.
    User(String),
    /// A browser session id (`rum.session_id`).
    Session(String),
}

impl Visitor {
    fn column(&self) -> &'static str {
        match self {
            Visitor::User(_) => "UserId",
            Visitor::Session(_) => "RumSessionId",
        }
    }

    fn id(&self) -> &str {
        match self {
            Visitor::User(id) | Visitor::Session(id) => id,
        }
    }

    fn kind(&self) -> &'static str {
        match self {
            Visitor::User(_) => "user",
            Visitor::Session(_) => "session",
        }
    }
}

/// The parameters of `/api/visitor`.
#[derive(Debug, Clone, PartialEq)]
pub struct VisitorRequest {
    pub visitor: Visitor,
    pub scope: Scope,
}

impl VisitorRequest {
    /// Reads `user` or `session` (exactly one), `from` and `to`.
    pub fn from_query(pairs: &[(String, String)]) -> Result<Self, AnalyticsError> {
        let params = Params::new(pairs, &["user", "session", "from", "to"])?;
        let visitor = match (params.one("user")?, params.one("session")?) {
            (Some(user), None) => Visitor::User(user.to_string()),
            (None, Some(session)) => Visitor::Session(session.to_string()),
            (Some(_), Some(_)) => {
                return Err(AnalyticsError::bad(
                    "session",
                    "give either user or session, not both",
                ))
            }
            (None, None) => {
                return Err(AnalyticsError::bad(
                    "user",
                    "missing; give user=<user id> or session=<session id>",
                ))
            }
        };
        check_text(visitor.kind(), visitor.id())?;
        Ok(Self {
            visitor,
            scope: Scope::parse(&params)?,
        })
    }
}

/// The response body of `/api/visitor`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Profile {
    /// `user` or `session`.
    pub kind: &'static str,
    pub id: String,
    pub summary: Summary,
    pub sessions: Vec<SessionSummary>,
    /// Newest first, at most [`MAX_TIMELINE`] entries.
    pub timeline: Vec<TimelineEntry>,
    /// True when the range may hold more timeline entries than `timeline` lists.
    pub timeline_cut: bool,
    pub orders: Vec<OrderTouched>,
}

/// Totals over the range; times are `null` when nothing was found.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Summary {
    pub first_seen: Option<String>,
    pub last_seen: Option<String>,
    pub sessions: u64,
    /// Spans and log records.
    pub events: u64,
    /// Spans with error status.
    pub errors: u64,
    pub orders: u64,
}

/// One browser session of the visitor.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SessionSummary {
    pub session_id: String,
    pub start: String,
    pub end: String,
    pub page_views: u64,
    pub actions: u64,
    pub errors: u64,
    pub has_replay: bool,
}

/// One thing the visitor did or met.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TimelineEntry {
    pub time: String,
    /// `page_view`, `action`, `error`, `span` or `log`.
    pub kind: &'static str,
    pub name: String,
    pub detail: String,
    pub trace_id: String,
    pub order_id: String,
    #[serde(skip)]
    time_ns: i64,
}

/// An order the visitor's spans carry.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OrderTouched {
    pub order_id: String,
    pub first_seen: String,
    pub last_seen: String,
    pub spans: u64,
}

/// Span names of page loads, as the browser SDK names them.
const PAGE_LOAD_SPANS: [&str; 2] = ["documentLoad", "routeChange"];

/// The SQL conditions that classify spans, as the `page_views` and `user_actions` views do.
struct Classes {
    page_view: String,
    action: String,
}

impl Classes {
    fn new(sql: &Sql) -> Self {
        let attribute = |key: &str| sql.map_value("SpanAttributes", key);
        Self {
            page_view: format!(
                "(SpanName IN {} OR {} = 'page_view')",
                sql.text_list(&PAGE_LOAD_SPANS),
                attribute("event.name")
            ),
            action: format!(
                "({} != '' OR {} = 'true')",
                attribute("event_type"),
                attribute("product.event")
            ),
        }
    }
}

/// Builds the visitor's profile.
pub fn visitor(store: &dyn Store, request: &VisitorRequest) -> Result<Profile, AnalyticsError> {
    let sql = Sql::new(store.dialect());
    let visitor_condition = format!(
        "{} = {}",
        request.visitor.column(),
        sql.text(request.visitor.id())
    );
    let spans = format!(
        "{} AND {visitor_condition}",
        request.scope.condition(&sql, Source::Spans)
    );
    let logs = format!(
        "{} AND {visitor_condition}",
        request.scope.condition(&sql, Source::Logs)
    );
    let classes = Classes::new(&sql);
    let queries = [
        (span_summary_sql(&sql, &spans), 1),
        (log_summary_sql(&sql, &logs), 1),
        (sessions_sql(&sql, &spans, &classes), MAX_SESSIONS),
        (timeline_cutoff_sql(&sql, &spans), 1),
        (log_timeline_sql(&sql, &logs), TIMELINE_READ),
        (orders_sql(&sql, &spans), MAX_ORDERS),
    ];
    let [span_summary, log_summary, session_rows, cutoff, log_events, order_rows] =
        <[Vec<Row>; 6]>::try_from(query_all(store, &queries)?).expect("one result per query");

    let mut sessions = read_sessions(&session_rows)?;
    let newest = match cutoff.first() {
        Some(row) if row.count(1)? >= TIMELINE_READ as u64 => {
            format!("{spans} AND Timestamp >= {}", sql.time(row.int(0)?))
        }
        _ => spans,
    };
    let [replays, span_events] = <[Vec<Row>; 2]>::try_from(query_all(
        store,
        &[
            (replays_sql(&sql, request, &sessions), MAX_SESSIONS),
            (span_timeline_sql(&sql, &newest, &classes), TIMELINE_READ),
        ],
    )?)
    .expect("one result per query");
    let recorded: BTreeSet<String> = replays.iter().map(|row| row.text(0)).collect();
    for session in &mut sessions {
        session.has_replay = recorded.contains(&session.session_id);
    }
    let mut timeline = read_span_timeline(&span_events)?;
    timeline.extend(read_log_timeline(&log_events)?);
    timeline.sort_by(|a, b| {
        b.time_ns
            .cmp(&a.time_ns)
            .then_with(|| a.kind.cmp(b.kind))
            .then_with(|| a.name.cmp(&b.name))
            .then_with(|| a.trace_id.cmp(&b.trace_id))
    });
    // One entry more than the list keeps is read, so that a cut list is distinguished
    // from one with exactly the limit.
    let timeline_cut = timeline.len() > MAX_TIMELINE;
    timeline.truncate(MAX_TIMELINE);
    Ok(Profile {
        kind: request.visitor.kind(),
        id: request.visitor.id().to_string(),
        summary: read_summary(&span_summary, &log_summary, &order_rows)?,
        sessions,
        timeline,
        timeline_cut,
        orders: read_orders(&order_rows)?,
    })
}

/// Renders the span totals. The distinct orders come with the orders list instead,
/// so that `OrderId` is read by one query less.
fn span_summary_sql(sql: &Sql, condition: &str) -> String {
    format!(
        "SELECT count(*), min({time}), max({time}), {errors}, {sessions} \
         FROM otel_traces WHERE {condition}",
        time = sql.epoch_ns("Timestamp"),
        errors = sql.count_if(IS_ERROR),
        sessions = sql.count_distinct_nonempty("RumSessionId"),
    )
}

fn log_summary_sql(sql: &Sql, condition: &str) -> String {
    format!(
        "SELECT count(*), min({time}), max({time}) FROM otel_logs WHERE {condition}",
        time = sql.epoch_ns("Timestamp"),
    )
}

fn sessions_sql(sql: &Sql, condition: &str, classes: &Classes) -> String {
    format!(
        "SELECT RumSessionId, min({time}), max({time}) AS last_ns, {page_views}, {actions}, {errors} \
         FROM otel_traces WHERE {condition} AND RumSessionId != '' \
         GROUP BY RumSessionId ORDER BY last_ns DESC, RumSessionId {limit}",
        time = sql.epoch_ns("Timestamp"),
        page_views = sql.count_if(&classes.page_view),
        actions = sql.count_if(&classes.action),
        errors = sql.count_if(IS_ERROR),
        limit = sql.limit(MAX_SESSIONS),
    )
}

/// Renders the condition for timeline spans that plain columns classify: errors, page
/// loads by span name and spans with an order. Every other kind needs the attribute map.
fn plain_timeline_condition(sql: &Sql) -> String {
    format!(
        "({IS_ERROR} OR SpanName IN {names} OR OrderId != '')",
        names = sql.text_list(&PAGE_LOAD_SPANS),
    )
}

/// Renders the time of the newest `TIMELINE_READ`-th span that plain columns put in the
/// timeline, and how many such spans there are (at most `TIMELINE_READ`).
///
/// No span older than that time can be in the timeline, so its query reads the
/// attribute maps of the newer spans only, instead of every span of the visitor.
fn timeline_cutoff_sql(sql: &Sql, condition: &str) -> String {
    format!(
        "SELECT min({time}), count(*) FROM (SELECT Timestamp FROM otel_traces \
         WHERE {condition} AND {plain} ORDER BY Timestamp DESC {limit}) AS newest",
        time = sql.epoch_ns("Timestamp"),
        plain = plain_timeline_condition(sql),
        limit = sql.limit(TIMELINE_READ),
    )
}

fn span_timeline_sql(sql: &Sql, condition: &str, classes: &Classes) -> String {
    let attribute = |key: &str| sql.map_value("SpanAttributes", key);
    format!(
        "SELECT {time}, SpanName, TraceId, OrderId, ServiceName, {IS_ERROR} AS failed, \
         {page_view} AS page_view, {action} AS action, {message} AS message, \
         {href}, {url}, {full_url}, {event_type}, {target} \
         FROM otel_traces WHERE {condition} \
         AND ({IS_ERROR} OR {page_view} OR {action} OR OrderId != '') \
         ORDER BY Timestamp DESC, SpanId DESC {limit}",
        time = sql.epoch_ns("Timestamp"),
        page_view = classes.page_view,
        action = classes.action,
        message = message_expr(sql),
        href = attribute("location.href"),
        url = attribute("http.url"),
        full_url = attribute("url.full"),
        event_type = attribute("event_type"),
        target = attribute("target_element"),
        limit = sql.limit(TIMELINE_READ),
    )
}

fn log_timeline_sql(sql: &Sql, condition: &str) -> String {
    format!(
        "SELECT {time}, {severity}, Body, TraceId, OrderId FROM otel_logs WHERE {condition} \
         ORDER BY Timestamp DESC, Body {limit}",
        time = sql.epoch_ns("Timestamp"),
        severity = sql.severity_text(),
        limit = sql.limit(TIMELINE_READ),
    )
}

/// Renders the orders the visitor's spans carry, each row with the number of orders.
fn orders_sql(sql: &Sql, condition: &str) -> String {
    format!(
        "SELECT OrderId, min({time}), max({time}) AS last_ns, count(*), {orders} FROM otel_traces \
         WHERE {condition} AND OrderId != '' \
         GROUP BY OrderId ORDER BY last_ns DESC, OrderId {limit}",
        time = sql.epoch_ns("Timestamp"),
        orders = sql.sum_over_groups("1"),
        limit = sql.limit(MAX_ORDERS),
    )
}

/// Renders the sessions among `sessions` that have replay events in the range.
fn replays_sql(sql: &Sql, request: &VisitorRequest, sessions: &[SessionSummary]) -> String {
    if sessions.is_empty() {
        return "SELECT '' WHERE 1 = 0".to_string();
    }
    let ids: Vec<&str> = sessions.iter().map(|s| s.session_id.as_str()).collect();
    let range = request.scope.range;
    format!(
        "SELECT DISTINCT RumSessionId FROM hyperdx_sessions WHERE {} AND RumSessionId IN {}",
        sql.log_time_range(range.from_ns, range.to_ns),
        sql.text_list(&ids)
    )
}

fn optional_time(row: &Row, index: usize, count: u64) -> Result<Option<i64>, AnalyticsError> {
    if count == 0 {
        Ok(None)
    } else {
        Ok(Some(row.int(index)?))
    }
}

fn read_summary(spans: &[Row], logs: &[Row], orders: &[Row]) -> Result<Summary, AnalyticsError> {
    let mut summary = Summary::default();
    let mut first: Option<i64> = None;
    let mut last: Option<i64> = None;
    for (rows, is_spans) in [(spans, true), (logs, false)] {
        let Some(row) = rows.first() else { continue };
        let count = row.count(0)?;
        summary.events += count;
        if let Some(min) = optional_time(row, 1, count)? {
            first = Some(first.map_or(min, |f| f.min(min)));
        }
        if let Some(max) = optional_time(row, 2, count)? {
            last = Some(last.map_or(max, |l| l.max(max)));
        }
        if is_spans {
            summary.errors = row.count(3)?;
            summary.sessions = row.count(4)?;
        }
    }
    if let Some(row) = orders.first() {
        summary.orders = row.count(4)?;
    }
    summary.first_seen = first.map(format_ns);
    summary.last_seen = last.map(format_ns);
    Ok(summary)
}

fn read_sessions(rows: &[Row]) -> Result<Vec<SessionSummary>, AnalyticsError> {
    rows.iter()
        .map(|row| {
            Ok(SessionSummary {
                session_id: row.text(0),
                start: format_ns(row.int(1)?),
                end: format_ns(row.int(2)?),
                page_views: row.count(3)?,
                actions: row.count(4)?,
                errors: row.count(5)?,
                has_replay: false,
            })
        })
        .collect()
}

fn first_nonempty(row: &Row, indexes: &[usize]) -> String {
    indexes
        .iter()
        .map(|index| row.text(*index))
        .find(|text| !text.is_empty())
        .unwrap_or_default()
}

fn read_span_timeline(rows: &[Row]) -> Result<Vec<TimelineEntry>, AnalyticsError> {
    rows.iter()
        .map(|row| {
            let (kind, detail) = if row.bool(5) {
                ("error", row.text(8))
            } else if row.bool(6) {
                ("page_view", first_nonempty(row, &[9, 10, 11]))
            } else if row.bool(7) {
                ("action", first_nonempty(row, &[13, 12]))
            } else {
                ("span", row.text(4))
            };
            let time_ns = row.int(0)?;
            Ok(TimelineEntry {
                time: format_ns(time_ns),
                kind,
                name: row.text(1),
                detail,
                trace_id: row.text(2),
                order_id: row.text(3),
                time_ns,
            })
        })
        .collect()
}

fn read_log_timeline(rows: &[Row]) -> Result<Vec<TimelineEntry>, AnalyticsError> {
    rows.iter()
        .map(|row| {
            let time_ns = row.int(0)?;
            Ok(TimelineEntry {
                time: format_ns(time_ns),
                kind: "log",
                name: row.text(1),
                detail: row.text(2).chars().take(MAX_DETAIL_CHARS).collect(),
                trace_id: row.text(3),
                order_id: row.text(4),
                time_ns,
            })
        })
        .collect()
}

fn read_orders(rows: &[Row]) -> Result<Vec<OrderTouched>, AnalyticsError> {
    rows.iter()
        .map(|row| {
            Ok(OrderTouched {
                order_id: row.text(0),
                first_seen: format_ns(row.int(1)?),
                last_seen: format_ns(row.int(2)?),
                spans: row.count(3)?,
            })
        })
        .collect()
}

//! The store side of replay: reading a session's records, analysing and storing
//! its signals, listing sessions, and building one session's replay timeline.
//!
//! SQL is built here for both dialects. Every user-given value goes through
//! `literal`, never straight into the text.

use std::time::Duration;

use exos_store::{Dialect, QueryLimits, ReplayAnalysis, Store, StoreError};
use serde_json::value::RawValue;
use serde_json::Value;

use crate::incremental::SessionState;
use crate::{ChunkRecord, EventHead, SignalSettings};

/// Quotes a value as an SQL string literal for either dialect.
pub fn literal(dialect: Dialect, value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('\'');
    for c in value.chars() {
        match c {
            '\'' => out.push_str("''"),
            '\\' if dialect == Dialect::ClickHouse => out.push_str("\\\\"),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn number(value: &Value) -> f64 {
    match value {
        Value::Number(n) => n.as_f64().unwrap_or(0.0),
        Value::String(s) => s.parse().unwrap_or(0.0),
        _ => 0.0,
    }
}

/// A unit of time since the Unix epoch.
#[derive(Clone, Copy)]
enum Unit {
    Millis,
    Nanos,
}

/// `Timestamp` as a number of `unit` since the epoch, in the store's dialect.
fn epoch(dialect: Dialect, unit: Unit) -> &'static str {
    match (dialect, unit) {
        (Dialect::DuckDb, Unit::Millis) => "epoch_ms(Timestamp)",
        (Dialect::DuckDb, Unit::Nanos) => "epoch_ns(Timestamp)",
        (Dialect::ClickHouse, Unit::Millis) => "toUnixTimestamp64Milli(Timestamp)",
        (Dialect::ClickHouse, Unit::Nanos) => "toUnixTimestamp64Nano(Timestamp)",
    }
}

const LIMITS: QueryLimits = QueryLimits {
    max_rows: 2_000_000,
    timeout: Duration::from_secs(120),
};

/// The record bodies to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bodies {
    /// Every body: what playback needs.
    All,
    /// Bodies of events sent whole only. Chunked events are DOM snapshots, megabytes
    /// each, which signal detection never reads; their records still count for gaps.
    Unchunked,
}

/// Reads one session's replay records from the store, in storage order.
pub fn load_records(
    store: &dyn Store,
    session: &str,
    bodies: Bodies,
) -> Result<Vec<ChunkRecord>, StoreError> {
    let dialect = store.dialect();
    let nanos = epoch(dialect, Unit::Nanos);
    let body = match bodies {
        Bodies::All => "Body",
        Bodies::Unchunked => {
            "CASE WHEN LogAttributes['rr-web.total-chunks'] IN ('', '1', '1.0') THEN Body ELSE '' END"
        }
    };
    let sql = format!(
        "SELECT ResourceAttributes['rum.scriptInstance'], LogAttributes['rr-web.event'], \
         LogAttributes['rr-web.chunk'], LogAttributes['rr-web.total-chunks'], {nanos}, {body} \
         FROM hyperdx_sessions WHERE RumSessionId = {} ORDER BY Timestamp",
        literal(dialect, session)
    );
    let result = store.query(&sql, &LIMITS)?;
    Ok(result
        .rows
        .into_iter()
        .map(|row| ChunkRecord {
            script_instance: text(&row[0]),
            event: number(&row[1]) as u64,
            chunk: number(&row[2]).max(1.0) as u32,
            total: number(&row[3]).max(1.0) as u32,
            time_ns: number(&row[4]) as i64,
            body: text(&row[5]),
        })
        .collect())
}

/// Times (ms) of the session's JavaScript errors, reported by the SDK as error spans.
pub fn error_times(store: &dyn Store, session: &str) -> Result<Vec<i64>, StoreError> {
    let dialect = store.dialect();
    let millis = epoch(dialect, Unit::Millis);
    let sql = format!(
        "SELECT {millis} FROM errors WHERE RumSessionId = {}",
        literal(dialect, session)
    );
    Ok(store
        .query(&sql, &LIMITS)?
        .rows
        .iter()
        .map(|row| number(&row[0]) as i64)
        .collect())
}

/// Analyses one session's recording. `None` when it has no replay records.
pub fn analyse(
    store: &dyn Store,
    session: &str,
    settings: &SignalSettings,
) -> Result<Option<ReplayAnalysis>, StoreError> {
    Ok(load_state(store, session)?.map(|state| state.analysis(session, settings)))
}

/// Reads one session's recording and errors from the store into the state
/// its analysis needs. `None` when it has no replay records.
pub fn load_state(store: &dyn Store, session: &str) -> Result<Option<SessionState>, StoreError> {
    let records = load_records(store, session, Bodies::Unchunked)?;
    if records.is_empty() {
        return Ok(None);
    }
    let mut state = SessionState::default();
    state.add_records(records);
    state.add_errors(error_times(store, session)?);
    Ok(Some(state))
}

/// Lists sessions with replay records since `since_ms` and no stored
/// analysis, at most `limit`: what a server stopped with a backlog left behind.
pub fn unanalysed_sessions(
    store: &dyn Store,
    since_ms: i64,
    limit: usize,
) -> Result<Vec<String>, StoreError> {
    let sql = format!(
        "SELECT DISTINCT RumSessionId FROM hyperdx_sessions WHERE Timestamp >= {} \
         AND RumSessionId != '' \
         AND RumSessionId NOT IN (SELECT SessionId FROM exos_replay_sessions) LIMIT {limit}",
        time_literal(store.dialect(), since_ms)
    );
    Ok(store
        .query(&sql, &LIMITS)?
        .rows
        .iter()
        .map(|row| text(&row[0]))
        .collect())
}

fn time_literal(dialect: Dialect, ms: i64) -> String {
    match dialect {
        Dialect::DuckDb => format!("make_timestamp({ms}::BIGINT * 1000)"),
        Dialect::ClickHouse => format!("fromUnixTimestamp64Milli(toInt64({ms}))"),
    }
}

/// The order of the sessions list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionSort {
    #[default]
    Newest,
    Longest,
    MostErrors,
    MostFrustrated,
}

/// A sessions-list query.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct SessionQuery {
    pub from_ms: i64,
    pub to_ms: i64,
    /// Matches user, operator, session id or an order touched.
    pub search: Option<String>,
    pub lob: Option<String>,
    /// Only sessions with at least one rage, dead or error click.
    #[serde(default)]
    pub frustrated: bool,
    /// Only sessions with (true) or without (false) a recording.
    pub has_replay: Option<bool>,
    /// Only sessions with a span of this name ("did event X").
    pub did: Option<String>,
    /// Only sessions of this browser, as [`browser_of`] names it.
    pub browser: Option<String>,
    /// Only sessions of this device class, as [`device_of`] names it.
    pub device: Option<String>,
    /// Only sessions from this country code.
    pub country: Option<String>,
    #[serde(default)]
    pub sort: SessionSort,
    pub limit: Option<usize>,
}

/// One row of the sessions list.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SessionRow {
    pub session_id: String,
    pub start: String,
    pub end: String,
    pub duration_ms: f64,
    /// Time with user activity in the recording; `None` until the session has an analysis.
    pub active_ms: Option<f64>,
    pub user: String,
    pub operator: String,
    pub lob: String,
    pub orders: u64,
    pub pages: u64,
    pub actions: u64,
    pub clicks: u64,
    pub errors: u64,
    pub rage_clicks: u64,
    pub dead_clicks: u64,
    pub error_clicks: u64,
    pub has_replay: bool,
    pub browser: String,
    /// `desktop`, `mobile` or `tablet`, from the user agent; "" when unknown.
    pub device: String,
    /// ISO 3166 country code when the client or a collector set one; "" otherwise.
    pub country: String,
}

/// Counts of every session the query matches, including those beyond the limit.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct SessionTotals {
    pub sessions: u64,
    pub with_replay: u64,
    /// Sessions with at least one rage, dead or error click.
    pub frustrated: u64,
    /// Errors summed over the sessions.
    pub errors: u64,
}

/// A page of the sessions list with the totals of everything the query matches.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct SessionList {
    pub sessions: Vec<SessionRow>,
    pub totals: SessionTotals,
}

fn count(value: &Value) -> u64 {
    number(value).max(0.0) as u64
}

/// The session's browser user agent: the resource's `user_agent.original` when set, else the
/// `http.user_agent` span attribute that `@hyperdx/browser` 0.26 puts on page loads and fetches.
const AGENT: &str = "max(CASE WHEN coalesce(ResourceAttributes['user_agent.original'], '') != '' \
     THEN ResourceAttributes['user_agent.original'] ELSE SpanAttributes['http.user_agent'] END)";

/// The session's country: OpenTelemetry's `geo.country.iso_code` (or the older
/// `client.geo.country_iso_code`) on the resource or a span, set by the client or by a
/// collector that looks up the client address. EXOS does no address lookup itself.
const COUNTRY: &str = "max(coalesce(nullif(ResourceAttributes['geo.country.iso_code'], ''), \
     nullif(SpanAttributes['geo.country.iso_code'], ''), \
     nullif(SpanAttributes['client.geo.country_iso_code'], ''), ''))";

/// The user that `@hyperdx/browser` names through `setGlobalAttributes({userId, userEmail})`:
/// span attributes `userId` and `userEmail`, used when no span carries `user.id`.
const SDK_USER: &str = "max(CASE WHEN coalesce(SpanAttributes['userEmail'], '') != '' \
     THEN SpanAttributes['userEmail'] ELSE SpanAttributes['userId'] END)";

/// The sum of a session's rage, dead and error clicks.
const FRUSTRATION: &str =
    "coalesce(r.RageClicks, 0) + coalesce(r.DeadClicks, 0) + coalesce(r.ErrorClicks, 0)";

/// Lists sessions that started in the range, with their replay analysis, and counts
/// every session that matches. Window functions compute the counts before `LIMIT`,
/// so the list and the counts come from one query.
pub fn list_sessions(store: &dyn Store, query: &SessionQuery) -> Result<SessionList, StoreError> {
    let d = store.dialect();
    let (epoch_ms, analysis, uniq, any_agent) = match d {
        Dialect::DuckDb => (
            "epoch_ms",
            "exos_replay_sessions",
            "count(DISTINCT OrderId) FILTER (WHERE OrderId != '')",
            AGENT,
        ),
        Dialect::ClickHouse => (
            "toUnixTimestamp64Milli",
            "(SELECT * FROM exos_replay_sessions FINAL)",
            "uniqExactIf(OrderId, OrderId != '')",
            AGENT,
        ),
    };
    let totals = match d {
        Dialect::DuckDb => format!(
            "count(*) OVER (), count(*) FILTER (WHERE s.HasReplay) OVER (), \
             count(*) FILTER (WHERE {FRUSTRATION} > 0) OVER (), CAST(sum(s.Errors) OVER () AS BIGINT)"
        ),
        Dialect::ClickHouse => format!(
            "count() OVER (), countIf(s.HasReplay) OVER (), \
             countIf({FRUSTRATION} > 0) OVER (), sum(s.Errors) OVER ()"
        ),
    };
    let mut conditions = vec![
        format!("s.StartTime >= {}", time_literal(d, query.from_ms)),
        format!("s.StartTime < {}", time_literal(d, query.to_ms)),
    ];
    if let Some(search) = query.search.as_deref().filter(|s| !s.is_empty()) {
        let value = literal(d, search);
        conditions.push(format!(
            "(s.SessionId = {value} OR s.UserId = {value} OR s.OperatorId = {value} OR s.SessionId IN \
             (SELECT RumSessionId FROM otel_traces WHERE OrderId = {value} \
              OR SpanAttributes['userId'] = {value} OR SpanAttributes['userEmail'] = {value}))"
        ));
    }
    if let Some(lob) = query.lob.as_deref().filter(|s| !s.is_empty()) {
        conditions.push(format!("s.Lob = {}", literal(d, lob)));
    }
    if query.frustrated {
        conditions.push(format!("({FRUSTRATION}) > 0"));
    }
    match query.has_replay {
        Some(true) => conditions.push("s.HasReplay".into()),
        Some(false) => conditions.push("NOT s.HasReplay".into()),
        None => {}
    }
    if let Some(name) = query.did.as_deref().filter(|s| !s.is_empty()) {
        conditions.push(format!(
            "s.SessionId IN (SELECT RumSessionId FROM otel_traces WHERE SpanName = {})",
            literal(d, name)
        ));
    }
    for (filter, value) in [
        (
            browser_condition as fn(&str) -> Option<String>,
            &query.browser,
        ),
        (device_condition, &query.device),
    ] {
        if let Some(value) = value.as_deref().filter(|s| !s.is_empty()) {
            conditions.push(filter(value).ok_or_else(|| {
                StoreError::Query(format!(
                    "unknown browser or device {value:?}: use Chrome, Edge, Firefox, Opera or \
                     Safari, or desktop, mobile or tablet"
                ))
            })?);
        }
    }
    if let Some(country) = query.country.as_deref().filter(|s| !s.is_empty()) {
        conditions.push(format!(
            "upper(coalesce(o.country, '')) = {}",
            literal(d, &country.to_ascii_uppercase())
        ));
    }
    let order = match query.sort {
        SessionSort::Newest => "s.StartTime DESC",
        SessionSort::Longest => "duration_ms DESC, s.StartTime DESC",
        SessionSort::MostErrors => "s.Errors DESC, s.StartTime DESC",
        SessionSort::MostFrustrated => "frustration DESC, s.StartTime DESC",
    };
    let sql = format!(
        "SELECT s.SessionId, s.StartTime, s.EndTime, \
         {epoch_ms}(s.EndTime) - {epoch_ms}(s.StartTime) AS duration_ms, \
         CASE WHEN coalesce(r.SessionId, '') != '' THEN r.ActiveMs END, CASE WHEN s.UserId != '' THEN s.UserId ELSE coalesce(o.sdk_user, '') END, s.OperatorId, s.Lob, coalesce(o.orders, 0), s.PageViews, s.Actions, \
         coalesce(r.Clicks, 0), s.Errors, coalesce(r.RageClicks, 0), coalesce(r.DeadClicks, 0), \
         coalesce(r.ErrorClicks, 0), s.HasReplay, coalesce(o.agent, ''), coalesce(o.country, ''), \
         {FRUSTRATION} AS frustration, {totals} \
         FROM sessions s \
         LEFT JOIN {analysis} r ON r.SessionId = s.SessionId \
         LEFT JOIN (SELECT RumSessionId, {uniq} AS orders, {any_agent} AS agent, {COUNTRY} AS country, {SDK_USER} AS sdk_user FROM otel_traces \
                    WHERE RumSessionId != '' GROUP BY RumSessionId) o ON o.RumSessionId = s.SessionId \
         WHERE {} ORDER BY {order} LIMIT {}",
        conditions.join(" AND "),
        query.limit.unwrap_or(200).clamp(1, 1000)
    );
    let result = store.query(&sql, &LIMITS)?;
    let totals = result
        .rows
        .first()
        .map(|row| SessionTotals {
            sessions: count(&row[20]),
            with_replay: count(&row[21]),
            frustrated: count(&row[22]),
            errors: count(&row[23]),
        })
        .unwrap_or_default();
    let sessions = result
        .rows
        .iter()
        .map(|row| SessionRow {
            session_id: text(&row[0]),
            start: text(&row[1]),
            end: text(&row[2]),
            duration_ms: number(&row[3]),
            active_ms: (!row[4].is_null()).then(|| number(&row[4])),
            user: text(&row[5]),
            operator: text(&row[6]),
            lob: text(&row[7]),
            orders: count(&row[8]),
            pages: count(&row[9]),
            actions: count(&row[10]),
            clicks: count(&row[11]),
            errors: count(&row[12]),
            rage_clicks: count(&row[13]),
            dead_clicks: count(&row[14]),
            error_clicks: count(&row[15]),
            has_replay: row[16].as_bool().unwrap_or(number(&row[16]) > 0.0),
            browser: browser_of(&text(&row[17])),
            device: device_of(&text(&row[17])),
            country: text(&row[18]).to_ascii_uppercase(),
        })
        .collect();
    Ok(SessionList { sessions, totals })
}

/// Names the browser of a user-agent string, or returns "" when unknown.
pub fn browser_of(agent: &str) -> String {
    let name = if agent.contains("Edg/") {
        "Edge"
    } else if agent.contains("OPR/") {
        "Opera"
    } else if agent.contains("Firefox/") {
        "Firefox"
    } else if agent.contains("Chrome/")
        || agent.contains("Chromium/")
        || agent.contains("HeadlessChrome/")
    {
        "Chrome"
    } else if agent.contains("Safari/") {
        "Safari"
    } else {
        ""
    };
    name.to_string()
}

/// `LIKE` conditions on the session's user agent, one per substring test of
/// [`browser_of`] and [`device_of`], so that SQL filters agree with the names shown.
fn agent_has(needles: &[&str]) -> String {
    let tests: Vec<String> = needles
        .iter()
        .map(|needle| format!("coalesce(o.agent, '') LIKE '%{needle}%'"))
        .collect();
    format!("({})", tests.join(" OR "))
}

fn browser_condition(name: &str) -> Option<String> {
    let (edge, opera, firefox) = (
        agent_has(&["Edg/"]),
        agent_has(&["OPR/"]),
        agent_has(&["Firefox/"]),
    );
    let chrome = agent_has(&["Chrome/", "Chromium/", "HeadlessChrome/"]);
    Some(match name.to_ascii_lowercase().as_str() {
        "edge" => edge,
        "opera" => format!("{opera} AND NOT {edge}"),
        "firefox" => format!("{firefox} AND NOT {edge} AND NOT {opera}"),
        "chrome" => format!("{chrome} AND NOT {edge} AND NOT {opera} AND NOT {firefox}"),
        "safari" => format!(
            "{} AND NOT {chrome} AND NOT {edge} AND NOT {opera} AND NOT {firefox}",
            agent_has(&["Safari/"])
        ),
        _ => return None,
    })
}

fn device_condition(name: &str) -> Option<String> {
    let tablet_word = agent_has(&["iPad", "Tablet"]);
    let mobile_word = agent_has(&["Mobi", "iPhone"]);
    let android = agent_has(&["Android"]);
    Some(match name.to_ascii_lowercase().as_str() {
        "tablet" => format!("({tablet_word} OR ({android} AND NOT {mobile_word}))"),
        "mobile" => format!("{mobile_word} AND NOT {tablet_word}"),
        "desktop" => format!(
            "coalesce(o.agent, '') != '' AND NOT {tablet_word} AND NOT {mobile_word} AND NOT {android}"
        ),
        _ => return None,
    })
}

/// Names the device class of a user-agent string, or returns "" when there is none.
pub fn device_of(agent: &str) -> String {
    let name = if agent.is_empty() {
        ""
    } else if agent.contains("iPad") || agent.contains("Tablet") {
        "tablet"
    } else if agent.contains("Mobi") || agent.contains("iPhone") {
        "mobile"
    } else if agent.contains("Android") {
        // Android browsers leave "Mobile" out on tablets.
        "tablet"
    } else {
        "desktop"
    };
    name.to_string()
}

/// A point on the replay timeline: something that happened in the session or its backend.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Marker {
    /// Milliseconds since the epoch.
    pub time_ms: i64,
    /// `page_view`, `click`, `error`, `console`, `network`, `backend` or a signal kind.
    pub kind: String,
    pub name: String,
    pub detail: String,
    pub trace_id: String,
    pub span_id: String,
    pub service: String,
    pub duration_ms: f64,
    pub status: String,
    /// HTTP response status code of a network request (`http.status_code`), or "".
    pub http_status: String,
}

/// Everything the replay page shows for one session.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Replay {
    pub session_id: String,
    /// The rrweb events as stored: valid JSON, passed through unparsed, because
    /// building and re-encoding values took most of the answer's time.
    pub events: Vec<Box<RawValue>>,
    pub gaps: Vec<crate::Gap>,
    pub duplicates: usize,
    pub markers: Vec<Marker>,
    pub activity: crate::Activity,
}

/// Most spans of a session and its backend traces shown on the timeline.
const MAX_MARKERS: usize = 5_000;

fn kind_of(name: &str, attributes: &Value, service_is_browser: bool, status: &str) -> &'static str {
    let attr = |key: &str| attributes.get(key).and_then(Value::as_str).unwrap_or("");
    if !service_is_browser {
        return "backend";
    }
    if name == "documentLoad" || name == "routeChange" {
        "page_view"
    } else if status == "Error"
        || status == "STATUS_CODE_ERROR"
        || !attr("exception.message").is_empty()
    {
        "error"
    } else if name.starts_with("console") || !attr("console.level").is_empty() {
        "console"
    } else if !attr("event_type").is_empty() {
        "click"
    } else if !attr("http.url").is_empty() || !attr("url.full").is_empty() {
        "network"
    } else {
        "span"
    }
}

/// Returns the first non-empty value, or "".
fn first_set(values: &[String]) -> String {
    values
        .iter()
        .find(|value| !value.is_empty())
        .cloned()
        .unwrap_or_default()
}

/// Builds one session's replay: its reassembled recording and a timeline of markers.
pub fn replay(
    store: &dyn Store,
    session: &str,
    settings: &SignalSettings,
) -> Result<Replay, StoreError> {
    let d = store.dialect();
    let reassembled = crate::reassemble(load_records(store, session, Bodies::All)?);
    let events: Vec<Box<RawValue>> = reassembled
        .events
        .iter()
        .filter_map(|event| RawValue::from_string(event.json.clone()).ok())
        .collect();
    let heads: Vec<EventHead> = reassembled
        .events
        .iter()
        .filter_map(|event| EventHead::parse(&event.json))
        .collect();
    let errors = error_times(store, session)?;
    let activity = crate::activity(&heads, settings);
    let millis = epoch(d, Unit::Millis);
    let value = literal(d, session);
    let sql = format!(
        "SELECT {millis}, SpanName, ServiceName, TraceId, SpanId, Duration / 1000000.0, StatusCode, \
         SpanAttributes, RumSessionId = {value} AS Browser, StatusMessage FROM otel_traces \
         WHERE RumSessionId = {value} OR TraceId IN \
         (SELECT TraceId FROM otel_traces WHERE RumSessionId = {value} AND TraceId != '') \
         ORDER BY Timestamp LIMIT {MAX_MARKERS}"
    );
    let mut markers: Vec<Marker> = store
        .query(&sql, &LIMITS)?
        .rows
        .iter()
        .map(|row| {
            let name = text(&row[1]);
            let status = text(&row[6]);
            let browser = row[8].as_bool().unwrap_or(number(&row[8]) > 0.0);
            let attributes = &row[7];
            let kind = kind_of(&name, attributes, browser, &status);
            let attr = |key: &str| {
                attributes
                    .get(key)
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string()
            };
            let detail = match kind {
                "page_view" => attr("location.href"),
                "click" => format!("{} {}", attr("event_type"), attr("target_element"))
                    .trim()
                    .to_string(),
                "network" => format!("{} {}", attr("http.method"), {
                    let url = attr("http.url");
                    if url.is_empty() {
                        attr("url.full")
                    } else {
                        url
                    }
                })
                .trim()
                .to_string(),
                "error" => first_set(&[
                    attr("exception.message"),
                    attr("error.message"),
                    text(&row[9]),
                ]),
                // `@hyperdx/browser` 0.26 puts a console message in `error.message`.
                "console" => first_set(&[attr("console.message"), attr("error.message")]),
                _ => attr("http.route"),
            };
            Marker {
                time_ms: number(&row[0]) as i64,
                kind: kind.to_string(),
                name,
                detail,
                trace_id: text(&row[3]),
                span_id: text(&row[4]),
                service: text(&row[2]),
                duration_ms: number(&row[5]),
                status,
                http_status: first_set(&[
                    attr("http.status_code"),
                    attr("http.response.status_code"),
                ]),
            }
        })
        .collect();
    for signal in crate::detect(&heads, &errors, settings) {
        markers.push(Marker {
            time_ms: signal.time_ms,
            kind: signal.kind.as_str().to_string(),
            name: signal.kind.as_str().replace('_', " "),
            detail: format!(
                "{} click(s) at ({:.0}, {:.0})",
                signal.clicks, signal.x, signal.y
            ),
            trace_id: String::new(),
            span_id: String::new(),
            service: String::new(),
            duration_ms: 0.0,
            status: String::new(),
            http_status: String::new(),
        });
    }
    markers.sort_by_key(|m| m.time_ms);
    Ok(Replay {
        session_id: session.to_string(),
        events,
        gaps: reassembled.gaps,
        duplicates: reassembled.duplicates,
        markers,
        activity,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1";
    const IPAD: &str = "Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/604.1";
    const ANDROID_TABLET: &str = "Mozilla/5.0 (Linux; Android 14; SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36";
    const HEADLESS: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/156.0 Safari/537.36";

    #[test]
    fn user_agent_browser_and_device() {
        assert_eq!(
            (browser_of(IPHONE), device_of(IPHONE)),
            ("Safari".into(), "mobile".into())
        );
        assert_eq!(device_of(IPAD), "tablet");
        assert_eq!(
            (browser_of(ANDROID_TABLET), device_of(ANDROID_TABLET)),
            ("Chrome".into(), "tablet".into())
        );
        assert_eq!(
            (browser_of(HEADLESS), device_of(HEADLESS)),
            ("Chrome".into(), "desktop".into())
        );
        assert_eq!(
            (browser_of(""), device_of("")),
            (String::new(), String::new())
        );
    }
}

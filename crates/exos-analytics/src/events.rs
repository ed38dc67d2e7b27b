//! `GET /api/events`: the explorer's rows of spans or logs, newest first, with a count histogram.
//!
//! Pages are cut by a cursor `<timestamp ns>:<rows already returned at that
//! timestamp>`, so the next page starts exactly after the last row returned even
//! when many rows share a timestamp. Rows are ordered by timestamp, then trace
//! and span id (and body for logs), newest first, the same on both stores.

use std::collections::BTreeMap;

use exos_store::Store;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::error::AnalyticsError;
use crate::filter::Source;
use crate::params::{check_text, Params};
use crate::rows::{query, query_all, Row};
use crate::scope::Scope;
use crate::sql::Sql;
use crate::time::{format_ns, ns_to_ms};

/// Rows per page when `limit` is absent.
pub const DEFAULT_LIMIT: usize = 100;
/// Rows per page at most.
pub const MAX_LIMIT: usize = 1000;

/// Columns a spans page may show.
pub const SPAN_COLUMNS: [&str; 18] = [
    "Timestamp",
    "TraceId",
    "SpanId",
    "ParentSpanId",
    "ServiceName",
    "SpanName",
    "SpanKind",
    "Duration",
    "StatusCode",
    "StatusMessage",
    "ScopeName",
    "OrderId",
    "OperatorId",
    "Lob",
    "RumSessionId",
    "UserId",
    "SpanAttributes",
    "ResourceAttributes",
];

/// Columns a logs page may show.
pub const LOG_COLUMNS: [&str; 15] = [
    "Timestamp",
    "TraceId",
    "SpanId",
    "ServiceName",
    "SeverityText",
    "SeverityNumber",
    "Body",
    "ScopeName",
    "OrderId",
    "OperatorId",
    "Lob",
    "RumSessionId",
    "UserId",
    "LogAttributes",
    "ResourceAttributes",
];

const DEFAULT_SPAN_COLUMNS: [&str; 6] = [
    "Timestamp",
    "ServiceName",
    "SpanName",
    "Duration",
    "StatusCode",
    "TraceId",
];
const DEFAULT_LOG_COLUMNS: [&str; 5] = [
    "Timestamp",
    "ServiceName",
    "SeverityText",
    "Body",
    "TraceId",
];

/// The position where the next page starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    /// Timestamp of the last row returned, ns since the epoch.
    pub timestamp_ns: i64,
    /// Rows with exactly that timestamp already returned.
    pub rows_at_timestamp: usize,
}

impl Cursor {
    /// Parses the `cursor` parameter.
    pub fn parse(text: &str) -> Result<Self, AnalyticsError> {
        let parsed = text
            .split_once(':')
            .and_then(|(t, n)| Some((t.parse().ok()?, n.parse().ok()?)));
        match parsed {
            Some((timestamp_ns, rows_at_timestamp)) => Ok(Self {
                timestamp_ns,
                rows_at_timestamp,
            }),
            None => Err(AnalyticsError::bad(
                "cursor",
                format!(
                    "{text:?} is not a cursor; pass next_cursor from the previous response unchanged"
                ),
            )),
        }
    }

    /// Returns the cursor's text form.
    pub fn text(&self) -> String {
        format!("{}:{}", self.timestamp_ns, self.rows_at_timestamp)
    }
}

/// The parameters of `/api/events`.
#[derive(Debug, Clone, PartialEq)]
pub struct EventsRequest {
    /// `Spans` or `Logs`.
    pub source: Source,
    pub scope: Scope,
    /// Text searched, ignoring case, in span names, status messages and attribute values, or log bodies.
    pub search: Option<String>,
    /// Columns to show: from `SPAN_COLUMNS` or `LOG_COLUMNS`, or one key of an
    /// attribute map, such as `SpanAttributes.order.id`.
    pub columns: Vec<EventColumn>,
    pub limit: usize,
    pub cursor: Option<Cursor>,
    /// The parts to compute: the page of rows, the histogram, or both.
    pub part: Part,
}

/// The parts of an events response that a request computes (`part=rows|histogram`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// The page of rows and the histogram (no `part`).
    Both,
    /// The page of rows only, with an empty histogram: a search returns sooner,
    /// and a further page (with `cursor`) needs no histogram.
    Rows,
    /// The histogram only, with no rows.
    Histogram,
}

impl Part {
    fn parse(text: Option<&str>) -> Result<Self, AnalyticsError> {
        match text {
            None => Ok(Part::Both),
            Some("rows") => Ok(Part::Rows),
            Some("histogram") => Ok(Part::Histogram),
            Some(other) => Err(AnalyticsError::bad(
                "part",
                format!(
                    "{other:?} is not a part; use rows or histogram, or leave part out for both"
                ),
            )),
        }
    }
}

impl EventsRequest {
    /// Reads `source`, `from`, `to`, `filter`, `q`, `columns`, `limit`, `cursor` and `part`.
    pub fn from_query(pairs: &[(String, String)]) -> Result<Self, AnalyticsError> {
        let params = Params::new(
            pairs,
            &[
                "source", "from", "to", "filter", "q", "columns", "limit", "cursor", "part",
            ],
        )?;
        let source = Source::parse(params.one("source")?)?;
        // Spaces around the text are not part of it, and blank text is no search.
        let search = params
            .one("q")?
            .map(str::trim)
            .filter(|text| !text.is_empty())
            .map(str::to_string);
        if let Some(text) = &search {
            check_text("q", text)?;
        }
        Ok(Self {
            source,
            scope: Scope::parse(&params)?,
            search,
            columns: parse_columns(source, params.one("columns")?)?,
            limit: params.count("limit", DEFAULT_LIMIT, MAX_LIMIT)?,
            cursor: params.one("cursor")?.map(Cursor::parse).transpose()?,
            part: Part::parse(params.one("part")?)?,
        })
    }
}

/// Maximum length in bytes of the attribute key a map-key column names.
const MAX_KEY_LEN: usize = 200;
/// Columns a page may show at most.
const MAX_COLUMNS: usize = 40;

/// One column of the explorer: a plain column, or one key of an attribute map.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventColumn {
    Plain(&'static str),
    MapKey { map: &'static str, key: String },
}

impl EventColumn {
    /// Returns the name the column has in the request and in each row object.
    pub fn name(&self) -> String {
        match self {
            EventColumn::Plain(name) => (*name).to_string(),
            EventColumn::MapKey { map, key } => format!("{map}.{key}"),
        }
    }

    fn expr(&self, sql: &Sql) -> String {
        match self {
            EventColumn::Plain("Timestamp") => sql.epoch_ns("Timestamp"),
            EventColumn::Plain("SeverityText") => sql.severity_text(),
            EventColumn::Plain(name) => sql.column(name),
            EventColumn::MapKey { map, key } => sql.map_value(&sql.column(map), key),
        }
    }
}

impl Serialize for EventColumn {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.name())
    }
}

/// Parses the comma-separated `columns` parameter against the source's
/// allow-list. A name such as `SpanAttributes.order.id` is the key `order.id`
/// of the map column `SpanAttributes`.
pub fn parse_columns(
    source: Source,
    text: Option<&str>,
) -> Result<Vec<EventColumn>, AnalyticsError> {
    let (allowed, own_map): (&[&'static str], &str) = match source {
        Source::Logs => (&LOG_COLUMNS, "LogAttributes"),
        _ => (&SPAN_COLUMNS, "SpanAttributes"),
    };
    let Some(text) = text else {
        let defaults: &[&'static str] = match source {
            Source::Logs => &DEFAULT_LOG_COLUMNS,
            _ => &DEFAULT_SPAN_COLUMNS,
        };
        return Ok(defaults
            .iter()
            .map(|name| EventColumn::Plain(name))
            .collect());
    };
    let mut columns = Vec::new();
    for name in text.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        let column = if let Some(plain) = allowed.iter().find(|c| **c == name) {
            EventColumn::Plain(plain)
        } else if let Some(column) = map_key_column(allowed, name)? {
            column
        } else {
            return Err(AnalyticsError::bad(
                "columns",
                format!(
                    "{name:?} is not a column of {}; use any of {}, or a map key such as {own_map}.order.id",
                    source.name(),
                    allowed.join(", "),
                ),
            ));
        };
        if !columns.contains(&column) {
            columns.push(column);
        }
    }
    if columns.len() > MAX_COLUMNS {
        return Err(AnalyticsError::bad(
            "columns",
            format!(
                "{} columns requested; ask for {MAX_COLUMNS} at most",
                columns.len()
            ),
        ));
    }
    Ok(columns)
}

/// Reads `Map.key` as one key of an attribute map among `allowed`; `None` when
/// the name does not start with such a map.
fn map_key_column(
    allowed: &[&'static str],
    name: &str,
) -> Result<Option<EventColumn>, AnalyticsError> {
    let Some((map, key)) = name.split_once('.') else {
        return Ok(None);
    };
    let Some(map) = allowed
        .iter()
        .find(|c| **c == map && c.ends_with("Attributes"))
    else {
        return Ok(None);
    };
    if key.is_empty() || key.len() > MAX_KEY_LEN || key.chars().any(char::is_control) {
        return Err(AnalyticsError::bad(
            "columns",
            format!(
                "{name:?} names no valid key of {map}; give a key of 1 to {MAX_KEY_LEN} bytes without control characters, such as {map}.order.id"
            ),
        ));
    }
    Ok(Some(EventColumn::MapKey {
        map,
        key: key.to_string(),
    }))
}

/// One row of the explorer: column name to value.
pub type EventRow = Map<String, Value>;

/// The response body of `/api/events`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Events {
    pub source: &'static str,
    pub columns: Vec<EventColumn>,
    /// One object per row: the requested columns plus `TraceId` and `SpanId`.
    pub rows: Vec<EventRow>,
    pub next_cursor: Option<String>,
    pub histogram: Vec<HistogramPoint>,
}

/// The number of matching rows in one time bucket.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HistogramPoint {
    pub t: String,
    pub count: u64,
}

/// Returns one page of rows and the histogram of all matching rows in the range.
pub fn events(store: &dyn Store, request: &EventsRequest) -> Result<Events, AnalyticsError> {
    let sql = Sql::new(store.dialect());
    let selected = selected_columns(request);
    let condition = match_condition(&sql, request);
    let (page, histogram) = match request.part {
        Part::Both => {
            let skip = request.cursor.map_or(0, |c| c.rows_at_timestamp);
            let queries = [
                (
                    page_sql(&sql, request, &selected, &condition),
                    request.limit + skip + 1,
                ),
                (histogram_sql(&sql, request, &condition), 10_000),
            ];
            let [page, histogram] = <[Vec<Row>; 2]>::try_from(query_all(store, &queries)?)
                .expect("one result per query");
            (page, histogram)
        }
        Part::Rows => (
            newest_rows(store, &sql, request, &selected, &condition)?,
            Vec::new(),
        ),
        Part::Histogram => (
            Vec::new(),
            query(store, &histogram_sql(&sql, request, &condition), 10_000)?,
        ),
    };
    let (rows, next_cursor) = read_page(&page, &selected, request)?;
    let histogram = match request.part {
        Part::Rows => Vec::new(),
        _ => read_histogram(&histogram, request)?,
    };
    Ok(Events {
        source: request.source.name(),
        columns: request.columns.clone(),
        rows,
        next_cursor: next_cursor.map(|c| c.text()),
        histogram,
    })
}

/// Parts of the range, as fractions of it (1/64, then 1/16, then 1/4), that a
/// search reads first, newest first, before it reads the whole range.
const SEARCH_WINDOWS: [i64; 3] = [64, 16, 4];

/// Fetches the page's rows. A search first reads only the newest part of the
/// range (below the cursor), and widens it until it has a full page: a page of a
/// common word then reads a fraction of the spans. The rows are the ones a read of
/// the whole range returns first, because every row left out is older than every
/// row read.
fn newest_rows(
    store: &dyn Store,
    sql: &Sql,
    request: &EventsRequest,
    selected: &[EventColumn],
    condition: &str,
) -> Result<Vec<Row>, AnalyticsError> {
    let skip = request.cursor.map_or(0, |c| c.rows_at_timestamp);
    let needed = request.limit + skip + 1;
    if request.search.is_some() {
        let range = request.scope.range;
        let newest = request.cursor.map_or(range.to_ns, |c| {
            c.timestamp_ns.saturating_add(1).min(range.to_ns)
        });
        let span = newest.saturating_sub(range.from_ns);
        for fraction in SEARCH_WINDOWS {
            let oldest = newest - span / fraction;
            if oldest <= range.from_ns {
                break;
            }
            let windowed = format!("{condition} AND Timestamp >= {}", sql.time(oldest));
            let rows = query(store, &page_sql(sql, request, selected, &windowed), needed)?;
            if rows.len() >= needed {
                return Ok(rows);
            }
        }
    }
    query(store, &page_sql(sql, request, selected, condition), needed)
}

/// Returns the requested columns plus `TraceId` and `SpanId`, each once, with `Timestamp` first.
fn selected_columns(request: &EventsRequest) -> Vec<EventColumn> {
    let mut selected = vec![EventColumn::Plain("Timestamp")];
    let always = [EventColumn::Plain("TraceId"), EventColumn::Plain("SpanId")];
    for column in request.columns.iter().chain(&always) {
        if !selected.contains(column) {
            selected.push(column.clone());
        }
    }
    selected
}

/// Renders range, filters and the search text for the request's source.
fn match_condition(sql: &Sql, request: &EventsRequest) -> String {
    let mut condition = request.scope.condition(sql, request.source);
    if let Some(text) = &request.search {
        let search = match request.source {
            Source::Logs => sql.contains("Body", text),
            _ => format!(
                "({} OR {} OR {})",
                sql.contains("SpanName", text),
                sql.contains("StatusMessage", text),
                sql.map_values_contain("SpanAttributes", text)
            ),
        };
        condition.push_str(&format!(" AND {search}"));
    }
    condition
}

fn page_sql(
    sql: &Sql,
    request: &EventsRequest,
    selected: &[EventColumn],
    condition: &str,
) -> String {
    let columns: Vec<String> = selected.iter().map(|c| c.expr(sql)).collect();
    let mut text = format!(
        "SELECT {} FROM {} WHERE {condition}",
        columns.join(", "),
        request.source.table()
    );
    if let Some(cursor) = request.cursor {
        text.push_str(&format!(
            " AND Timestamp <= {}",
            sql.time(cursor.timestamp_ns)
        ));
    }
    let tie_break = match request.source {
        Source::Logs => ", Body DESC",
        _ => "",
    };
    let skip = request.cursor.map_or(0, |c| c.rows_at_timestamp);
    text.push_str(&format!(
        " ORDER BY Timestamp DESC, TraceId DESC, SpanId DESC{tie_break} {}",
        sql.limit(request.limit + skip + 1)
    ));
    text
}

fn histogram_sql(sql: &Sql, request: &EventsRequest, condition: &str) -> String {
    format!(
        "SELECT {bucket} AS t, count(*) FROM {table} WHERE {condition} GROUP BY t",
        bucket = sql.bucket_ns("Timestamp", request.scope.range.bucket_ns()),
        table = request.source.table(),
    )
}

/// Turns fetched rows into the page's objects and the next cursor.
fn read_page(
    fetched: &[Row],
    selected: &[EventColumn],
    request: &EventsRequest,
) -> Result<(Vec<EventRow>, Option<Cursor>), AnalyticsError> {
    let mut rows: Vec<EventRow> = Vec::new();
    let mut times = Vec::new();
    let (cursor_time, mut to_skip) = request
        .cursor
        .map_or((i64::MIN, 0), |c| (c.timestamp_ns, c.rows_at_timestamp));
    let mut more = false;
    for row in fetched {
        let time = row.int(0)?;
        if to_skip > 0 && time == cursor_time {
            to_skip -= 1;
            continue;
        }
        if rows.len() == request.limit {
            more = true;
            break;
        }
        rows.push(row_object(row, selected)?);
        times.push(time);
    }
    let next = match (more, times.last()) {
        (true, Some(&last)) => {
            let mut rows_at_timestamp = times.iter().filter(|t| **t == last).count();
            if last == cursor_time {
                rows_at_timestamp += request.cursor.map_or(0, |c| c.rows_at_timestamp);
            }
            Some(Cursor {
                timestamp_ns: last,
                rows_at_timestamp,
            })
        }
        _ => None,
    };
    Ok((rows, next))
}

fn row_object(row: &Row, selected: &[EventColumn]) -> Result<Map<String, Value>, AnalyticsError> {
    let mut object = Map::new();
    for (index, column) in selected.iter().enumerate() {
        let value = match column {
            EventColumn::Plain("Timestamp") => Value::String(format_ns(row.int(index)?)),
            EventColumn::Plain("Duration") => serde_json::json!(ns_to_ms(row.float(index))),
            _ => row.value(index),
        };
        object.insert(column.name(), value);
    }
    Ok(object)
}

fn read_histogram(
    rows: &[Row],
    request: &EventsRequest,
) -> Result<Vec<HistogramPoint>, AnalyticsError> {
    let mut counts = BTreeMap::new();
    for row in rows {
        counts.insert(row.int(0)?, row.count(1)?);
    }
    Ok(request
        .scope
        .range
        .bucket_starts()
        .into_iter()
        .map(|t| HistogramPoint {
            t: format_ns(t),
            count: counts.get(&t).copied().unwrap_or_default(),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trips() {
        let cursor = Cursor {
            timestamp_ns: 1_796_083_200_000_000_000,
            rows_at_timestamp: 3,
        };
        assert_eq!(Cursor::parse(&cursor.text()).unwrap(), cursor);
        assert!(Cursor::parse("abc").is_err());
    }

    #[test]
    fn unknown_columns_are_rejected() {
        let error = parse_columns(Source::Logs, Some("Body,SpanName")).unwrap_err();
        let text = error.to_string();
        assert!(
            text.contains("\"SpanName\" is not a column of logs"),
            "{text}"
        );
    }

    #[test]
    fn default_columns_follow_source() {
        let names =
            |columns: Vec<EventColumn>| columns.iter().map(EventColumn::name).collect::<Vec<_>>();
        assert_eq!(
            names(parse_columns(Source::Spans, None).unwrap()),
            DEFAULT_SPAN_COLUMNS
        );
        assert_eq!(
            names(parse_columns(Source::Logs, Some("Body, Body")).unwrap()),
            vec!["Body"]
        );
    }

    #[test]
    fn map_key_columns_parse() {
        let columns = parse_columns(
            Source::Spans,
            Some("SpanName,SpanAttributes.order.id,ResourceAttributes.service.version"),
        )
        .unwrap();
        assert_eq!(
            columns[1],
            EventColumn::MapKey {
                map: "SpanAttributes",
                key: "order.id".into()
            }
        );
        assert_eq!(columns[2].name(), "ResourceAttributes.service.version");
        let logs = parse_columns(Source::Logs, Some("LogAttributes.level")).unwrap();
        assert_eq!(logs[0].name(), "LogAttributes.level");
    }

    #[test]
    fn bad_map_key_columns_are_rejected() {
        for (source, text, expected) in [
            (
                Source::Logs,
                "SpanAttributes.order.id",
                "is not a column of logs",
            ),
            (Source::Spans, "SpanAttributes.", "names no valid key"),
            (Source::Spans, "SpanName.x", "is not a column of spans"),
            (Source::Spans, "SpanAttributes.a\nb", "names no valid key"),
        ] {
            let error = parse_columns(source, Some(text)).unwrap_err().to_string();
            assert!(error.contains(expected), "{text:?}: {error}");
        }
        let long = format!("SpanAttributes.{}", "k".repeat(MAX_KEY_LEN + 1));
        assert!(parse_columns(Source::Spans, Some(&long)).is_err());
        let many: Vec<String> = (0..=MAX_COLUMNS)
            .map(|n| format!("SpanAttributes.k{n}"))
            .collect();
        assert!(parse_columns(Source::Spans, Some(&many.join(","))).is_err());
    }
}

//! The views every store offers, with what each selects and why.
//!
//! Views are the stable vocabulary for users, pages and the AI: they hide the
//! two spellings of enums (`Error` / `STATUS_CODE_ERROR`) and the map lookups
//! behind plain columns. Each has a DuckDB and a ClickHouse text, because
//! time arithmetic and a few functions differ between the two. An empty
//! attribute value counts as absent in both, as the exporter stores absent values as `''`.

/// One view, with its purpose and its SQL per dialect.
#[derive(Debug, Clone, Copy)]
pub struct View {
    pub name: &'static str,
    /// A description of what the view selects and why it exists, shown in docs and the schema API.
    pub about: &'static str,
    pub duckdb: &'static str,
    pub clickhouse: &'static str,
}

/// Returns every view in creation order.
pub fn views() -> Vec<View> {
    vec![
        View {
            name: "traces",
            about: "One row per trace: start, end, duration in ns, span and error counts, \
                    the root span's service and name, and the business keys seen in the trace.",
            duckdb: "SELECT TraceId, min(Timestamp) AS StartTime, \
                     make_timestamp_ns(max(epoch_ns(Timestamp) + Duration::BIGINT)) AS EndTime, \
                     (max(epoch_ns(Timestamp) + Duration::BIGINT) - min(epoch_ns(Timestamp)))::UBIGINT AS Duration, \
                     count(*) AS SpanCount, \
                     count(*) FILTER (WHERE StatusCode IN ('Error', 'STATUS_CODE_ERROR')) AS ErrorCount, \
                     arg_min(ServiceName, Timestamp) FILTER (WHERE ParentSpanId = '') AS RootService, \
                     arg_min(SpanName, Timestamp) FILTER (WHERE ParentSpanId = '') AS RootName, \
                     max(OrderId) AS OrderId, max(OperatorId) AS OperatorId, max(Lob) AS Lob, \
                     max(RumSessionId) AS RumSessionId, max(UserId) AS UserId \
                     FROM otel_traces GROUP BY TraceId",
            clickhouse: "SELECT TraceId, min(Timestamp) AS StartTime, \
                     max(Timestamp + toIntervalNanosecond(otel_traces.Duration)) AS EndTime, \
                     toUInt64(toUnixTimestamp64Nano(max(Timestamp + toIntervalNanosecond(otel_traces.Duration))) - toUnixTimestamp64Nano(min(Timestamp))) AS Duration, \
                     count() AS SpanCount, countIf(StatusCode IN ('Error', 'STATUS_CODE_ERROR')) AS ErrorCount, \
                     argMinIf(ServiceName, Timestamp, ParentSpanId = '') AS RootService, \
                     argMinIf(SpanName, Timestamp, ParentSpanId = '') AS RootName, \
                     max(OrderId) AS OrderId, max(OperatorId) AS OperatorId, max(Lob) AS Lob, \
                     max(RumSessionId) AS RumSessionId, max(UserId) AS UserId \
                     FROM otel_traces GROUP BY TraceId",
        },
        View {
            name: "errors",
            about: "Spans with error status, one row each, with the first exception event's \
                    type and message (OpenTelemetry `exception.*` semantic conventions) and the business keys.",
            duckdb: "SELECT Timestamp, TraceId, SpanId, ServiceName, SpanName, StatusMessage, \
                     coalesce(list_extract(list_transform(list_filter(\"Events.Attributes\", a -> a['exception.type'] IS NOT NULL), a -> a['exception.type']), 1), '') AS ExceptionType, \
                     coalesce(list_extract(list_transform(list_filter(\"Events.Attributes\", a -> a['exception.message'] IS NOT NULL), a -> a['exception.message']), 1), StatusMessage) AS ExceptionMessage, \
                     OrderId, OperatorId, Lob, RumSessionId, UserId, SpanAttributes, ResourceAttributes \
                     FROM otel_traces WHERE StatusCode IN ('Error', 'STATUS_CODE_ERROR')",
            clickhouse: "SELECT Timestamp, TraceId, SpanId, ServiceName, SpanName, StatusMessage, \
                     arrayFirst(x -> x != '', arrayMap(a -> a['exception.type'], `Events.Attributes`)) AS ExceptionType, \
                     if(arrayFirst(x -> x != '', arrayMap(a -> a['exception.message'], `Events.Attributes`)) != '', \
                        arrayFirst(x -> x != '', arrayMap(a -> a['exception.message'], `Events.Attributes`)), StatusMessage) AS ExceptionMessage, \
                     OrderId, OperatorId, Lob, RumSessionId, UserId, SpanAttributes, ResourceAttributes \
                     FROM otel_traces WHERE StatusCode IN ('Error', 'STATUS_CODE_ERROR')",
        },
        View {
            name: "logs",
            about: "Application log records (not replay events) with the business keys; \
                    `SeverityText` falls back to a name derived from `SeverityNumber`.",
            duckdb: "SELECT Timestamp, TraceId, SpanId, ServiceName, \
                     CASE WHEN SeverityText != '' THEN SeverityText WHEN SeverityNumber >= 21 THEN 'FATAL' \
                     WHEN SeverityNumber >= 17 THEN 'ERROR' WHEN SeverityNumber >= 13 THEN 'WARN' \
                     WHEN SeverityNumber >= 9 THEN 'INFO' WHEN SeverityNumber >= 5 THEN 'DEBUG' \
                     WHEN SeverityNumber >= 1 THEN 'TRACE' ELSE '' END AS SeverityText, SeverityNumber, Body, \
                     OrderId, OperatorId, Lob, RumSessionId, UserId, LogAttributes, ResourceAttributes \
                     FROM otel_logs",
            clickhouse: "SELECT Timestamp, TraceId, SpanId, ServiceName, \
                     multiIf(otel_logs.SeverityText != '', otel_logs.SeverityText, SeverityNumber >= 21, 'FATAL', SeverityNumber >= 17, 'ERROR', \
                     SeverityNumber >= 13, 'WARN', SeverityNumber >= 9, 'INFO', SeverityNumber >= 5, 'DEBUG', \
                     SeverityNumber >= 1, 'TRACE', '') AS SeverityText, SeverityNumber, Body, \
                     OrderId, OperatorId, Lob, RumSessionId, UserId, LogAttributes, ResourceAttributes \
                     FROM otel_logs",
        },
        View {
            name: "page_views",
            about: "Browser page loads and in-app route changes (document-load and route-change spans \
                    of the browser SDK), with the page URL, session and user.",
            duckdb: "SELECT Timestamp, TraceId, SpanId, RumSessionId, UserId, OperatorId, Lob, ServiceName, SpanName, \
                     coalesce(nullif(SpanAttributes['location.href'], ''), nullif(SpanAttributes['http.url'], ''), SpanAttributes['url.full'], '') AS Url, \
                     Duration FROM otel_traces \
                     WHERE SpanName IN ('documentLoad', 'routeChange') OR SpanAttributes['event.name'] = 'page_view'",
            clickhouse: "SELECT Timestamp, TraceId, SpanId, RumSessionId, UserId, OperatorId, Lob, ServiceName, SpanName, \
                     multiIf(SpanAttributes['location.href'] != '', SpanAttributes['location.href'], \
                     SpanAttributes['http.url'] != '', SpanAttributes['http.url'], SpanAttributes['url.full']) AS Url, \
                     Duration FROM otel_traces \
                     WHERE SpanName IN ('documentLoad', 'routeChange') OR SpanAttributes['event.name'] = 'page_view'",
        },
        View {
            name: "user_actions",
            about: "Browser user interactions (clicks, submits, key presses recorded by the SDK's \
                    user-interaction instrumentation, and spans marked `product.event`), with target and session.",
            duckdb: "SELECT Timestamp, TraceId, SpanId, RumSessionId, UserId, OperatorId, Lob, OrderId, SpanName, \
                     coalesce(nullif(SpanAttributes['event_type'], ''), SpanName) AS ActionType, \
                     coalesce(SpanAttributes['target_element'], '') AS TargetElement, \
                     coalesce(SpanAttributes['target_xpath'], '') AS TargetXPath, \
                     coalesce(SpanAttributes['location.href'], '') AS Url \
                     FROM otel_traces \
                     WHERE SpanAttributes['event_type'] IS NOT NULL OR SpanAttributes['product.event'] = 'true'",
            clickhouse: "SELECT Timestamp, TraceId, SpanId, RumSessionId, UserId, OperatorId, Lob, OrderId, SpanName, \
                     if(SpanAttributes['event_type'] != '', SpanAttributes['event_type'], SpanName) AS ActionType, \
                     SpanAttributes['target_element'] AS TargetElement, SpanAttributes['target_xpath'] AS TargetXPath, \
                     SpanAttributes['location.href'] AS Url \
                     FROM otel_traces \
                     WHERE mapContains(SpanAttributes, 'event_type') OR SpanAttributes['product.event'] = 'true'",
        },
        View {
            name: "sessions",
            about: "One row per browser session (`rum.session_id`): time span, user, operator, LOB, \
                    span, page-view, action and error counts, and whether replay events were recorded.",
            duckdb: "WITH spans AS (SELECT RumSessionId, min(Timestamp) AS StartTime, max(Timestamp) AS EndTime, \
                     max(UserId) AS UserId, max(OperatorId) AS OperatorId, max(Lob) AS Lob, count(*) AS SpanCount, \
                     count(*) FILTER (WHERE SpanName IN ('documentLoad', 'routeChange')) AS PageViews, \
                     count(*) FILTER (WHERE SpanAttributes['event_type'] IS NOT NULL) AS Actions, \
                     count(*) FILTER (WHERE StatusCode IN ('Error', 'STATUS_CODE_ERROR')) AS Errors \
                     FROM otel_traces WHERE RumSessionId != '' GROUP BY RumSessionId), \
                     replay AS (SELECT RumSessionId, min(Timestamp) AS StartTime, max(Timestamp) AS EndTime, count(*) AS ReplayEvents \
                     FROM hyperdx_sessions WHERE RumSessionId != '' GROUP BY RumSessionId) \
                     SELECT coalesce(s.RumSessionId, r.RumSessionId) AS SessionId, \
                     least(coalesce(s.StartTime, r.StartTime), coalesce(r.StartTime, s.StartTime)) AS StartTime, \
                     greatest(coalesce(s.EndTime, r.EndTime), coalesce(r.EndTime, s.EndTime)) AS EndTime, \
                     coalesce(s.UserId, '') AS UserId, coalesce(s.OperatorId, '') AS OperatorId, coalesce(s.Lob, '') AS Lob, \
                     coalesce(s.SpanCount, 0) AS SpanCount, coalesce(s.PageViews, 0) AS PageViews, \
                     coalesce(s.Actions, 0) AS Actions, coalesce(s.Errors, 0) AS Errors, \
                     coalesce(r.ReplayEvents, 0) AS ReplayEvents, r.RumSessionId IS NOT NULL AS HasReplay \
                     FROM spans s FULL OUTER JOIN replay r ON s.RumSessionId = r.RumSessionId",
            clickhouse: "WITH spans AS (SELECT RumSessionId, min(Timestamp) AS StartTime, max(Timestamp) AS EndTime, \
                     max(UserId) AS UserId, max(OperatorId) AS OperatorId, max(Lob) AS Lob, count() AS SpanCount, \
                     countIf(SpanName IN ('documentLoad', 'routeChange')) AS PageViews, \
                     countIf(mapContains(SpanAttributes, 'event_type')) AS Actions, \
                     countIf(StatusCode IN ('Error', 'STATUS_CODE_ERROR')) AS Errors \
                     FROM otel_traces WHERE RumSessionId != '' GROUP BY RumSessionId), \
                     replay AS (SELECT RumSessionId, min(Timestamp) AS StartTime, max(Timestamp) AS EndTime, count() AS ReplayEvents \
                     FROM hyperdx_sessions WHERE RumSessionId != '' GROUP BY RumSessionId) \
                     SELECT if(s.RumSessionId != '', s.RumSessionId, r.RumSessionId) AS SessionId, \
                     if(s.RumSessionId = '', r.StartTime, if(r.RumSessionId = '', s.StartTime, least(s.StartTime, r.StartTime))) AS StartTime, \
                     if(s.RumSessionId = '', r.EndTime, if(r.RumSessionId = '', s.EndTime, greatest(s.EndTime, r.EndTime))) AS EndTime, \
                     s.UserId AS UserId, s.OperatorId AS OperatorId, s.Lob AS Lob, s.SpanCount AS SpanCount, \
                     s.PageViews AS PageViews, s.Actions AS Actions, s.Errors AS Errors, \
                     r.ReplayEvents AS ReplayEvents, toBool(r.RumSessionId != '') AS HasReplay \
                     FROM spans s FULL OUTER JOIN replay r ON s.RumSessionId = r.RumSessionId",
        },
        View {
            name: "services",
            about: "One row per service: first and last span, span and error counts, error rate, \
                    and p50/p95/p99 span duration in ns.",
            duckdb: "SELECT ServiceName, min(Timestamp) AS FirstSeen, max(Timestamp) AS LastSeen, count(*) AS SpanCount, \
                     count(*) FILTER (WHERE StatusCode IN ('Error', 'STATUS_CODE_ERROR')) AS ErrorCount, \
                     (count(*) FILTER (WHERE StatusCode IN ('Error', 'STATUS_CODE_ERROR')))::DOUBLE / count(*) AS ErrorRate, \
                     quantile_cont(Duration, 0.5) AS P50Duration, quantile_cont(Duration, 0.95) AS P95Duration, \
                     quantile_cont(Duration, 0.99) AS P99Duration \
                     FROM otel_traces GROUP BY ServiceName",
            clickhouse: "SELECT ServiceName, min(Timestamp) AS FirstSeen, max(Timestamp) AS LastSeen, count() AS SpanCount, \
                     countIf(StatusCode IN ('Error', 'STATUS_CODE_ERROR')) AS ErrorCount, \
                     countIf(StatusCode IN ('Error', 'STATUS_CODE_ERROR')) / count() AS ErrorRate, \
                     quantile(0.5)(Duration) AS P50Duration, quantile(0.95)(Duration) AS P95Duration, \
                     quantile(0.99)(Duration) AS P99Duration \
                     FROM otel_traces GROUP BY ServiceName",
        },
    ]
}

/// Returns the names of all views.
pub fn view_names() -> Vec<&'static str> {
    views().iter().map(|view| view.name).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const IS_ERROR: &str = "StatusCode IN ('Error', 'STATUS_CODE_ERROR')";

    #[test]
    fn error_predicate_reads_both_spellings() {
        for view in views().iter().filter(|v| v.name == "errors") {
            assert!(view.duckdb.contains(IS_ERROR));
            assert!(view.clickhouse.contains(IS_ERROR));
        }
    }
}

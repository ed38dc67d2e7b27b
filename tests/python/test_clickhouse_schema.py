"""The ClickHouse DDL that `exos schema` prints, executed on a real ClickHouse engine (chdb).

The tables must accept rows the way the OpenTelemetry Collector's ClickHouse
exporter inserts them, fill the materialized business-key columns, and every
view must return results over them.
"""

import os
import subprocess

import pytest

chdb_session = pytest.importorskip("chdb.session")

EXOS_BIN = os.environ.get("EXOS_BIN", os.path.expanduser("~/.cache/exos-target/debug/exos"))

# An insert as the exporter writes it: explicit columns, materialized ones left out.
COLLECTOR_SPAN_INSERT = """
INSERT INTO otel_traces (Timestamp, TraceId, SpanId, ParentSpanId, TraceState, SpanName, SpanKind,
  ServiceName, ResourceAttributes, ScopeName, ScopeVersion, SpanAttributes, Duration, StatusCode,
  StatusMessage, `Events.Timestamp`, `Events.Name`, `Events.Attributes`, `Links.TraceId`,
  `Links.SpanId`, `Links.TraceState`, `Links.Attributes`)
VALUES
  ('2026-06-01 10:00:00.000000001', '5b8efff798038103d269b633813fc60c', 'eee19b7ec3c1b174', '', '',
   'Approve', 'Server', 'order-api', {'service.name': 'order-api', 'rum.sessionId': 's-1'}, 'scope', '1.0',
   {'order.id': 'ORD-1', 'lob': 'Title', 'event_type': 'click'}, 2500, 'Error', 'boom',
   ['2026-06-01 10:00:00.000000002'], ['exception'],
   [{'exception.type': 'IOError', 'exception.message': 'disk full'}], [], [], [], []),
  ('2026-06-01 10:00:01', '5b8efff798038103d269b633813fc60c', 'aaa19b7ec3c1b174', 'eee19b7ec3c1b174', '',
   'documentLoad', 'SPAN_KIND_INTERNAL', 'order-web', {'service.name': 'order-web'}, 'scope', '1.0',
   {'rum.session_id': 's-1', 'location.href': 'http://app/orders'}, 1000, 'Unset', '', [], [], [], [], [], [], [])
"""

COLLECTOR_LOG_INSERT = """
INSERT INTO otel_logs (Timestamp, TraceId, SpanId, TraceFlags, SeverityText, SeverityNumber, ServiceName,
  Body, ResourceSchemaUrl, ResourceAttributes, ScopeSchemaUrl, ScopeName, ScopeVersion, ScopeAttributes, LogAttributes)
VALUES ('2026-06-01 10:00:00.5', '', '', 0, '', 17, 'order-api', 'failed to save', '', {}, '', 's', '', {}, {'order.id': 'ORD-1'})
"""


def exos_schema(*args):
    result = subprocess.run([EXOS_BIN, "schema", *args], capture_output=True, text=True, check=True)
    return [s.strip() for s in result.stdout.split(";\n\n") if s.strip()]


@pytest.fixture()
def session(tmp_path):
    s = chdb_session.Session(str(tmp_path / "chdb"))
    yield s
    s.close()


def rows(session, sql):
    out = session.query(sql, "JSONCompact")
    import json

    return json.loads(out.bytes())["data"]


def test_ddl_executes_on_clickhouse(session):
    statements = exos_schema("--dialect", "clickhouse", "--retention-days", "30")
    assert len(statements) == 17
    for statement in statements:
        session.query(statement)
    tables = [r[0] for r in rows(session, "SELECT name FROM system.tables WHERE database = currentDatabase() ORDER BY name")]
    for name in ["otel_traces", "otel_logs", "hyperdx_sessions", "otel_metrics_gauge", "otel_metrics_sum",
                 "otel_metrics_histogram", "otel_metrics_exponential_histogram", "otel_metrics_summary",
                 "otel_traces_trace_id_ts", "otel_traces_trace_id_ts_mv",
                 "sessions", "traces", "errors", "logs", "page_views", "user_actions", "services"]:
        assert name in tables


def test_ttl_and_indexes_are_declared(session):
    for statement in exos_schema("--dialect", "clickhouse", "--retention-days", "7"):
        session.query(statement)
    create = rows(session, "SELECT create_table_query FROM system.tables WHERE name = 'otel_traces' AND database = currentDatabase()")[0][0]
    assert "TTL toDateTime(Timestamp) + toIntervalDay(7)" in create
    assert "INDEX idx_span_attr_key mapKeys(SpanAttributes) TYPE bloom_filter(0.01)" in create
    assert "PRIMARY KEY (ServiceName, SpanName, toDateTime(Timestamp))" in create
    assert "ORDER BY (ServiceName, SpanName, toDateTime(Timestamp), Timestamp)" in create
    assert "`SpanAttributeItems` Array(String) ALIAS" in create


def test_collector_rows_fill_business_columns_and_views(session):
    for statement in exos_schema("--dialect", "clickhouse"):
        session.query(statement)
    session.query(COLLECTOR_SPAN_INSERT)
    session.query(COLLECTOR_LOG_INSERT)
    keys = rows(session, "SELECT SpanName, OrderId, Lob, RumSessionId FROM otel_traces ORDER BY SpanName")
    assert keys == [["Approve", "ORD-1", "Title", "s-1"], ["documentLoad", "", "", "s-1"]]
    assert rows(session, "SELECT ExceptionType, ExceptionMessage, OrderId FROM errors") == [["IOError", "disk full", "ORD-1"]]
    assert rows(session, "SELECT SpanCount, ErrorCount, RootName FROM traces") == [[2, 1, "Approve"]]
    assert rows(session, "SELECT SeverityText, OrderId FROM logs") == [["ERROR", "ORD-1"]]
    assert rows(session, "SELECT Url FROM page_views") == [["http://app/orders"]]
    assert rows(session, "SELECT ActionType, OrderId FROM user_actions") == [["click", "ORD-1"]]
    session_row = rows(session, "SELECT SessionId, SpanCount, PageViews, Errors, HasReplay FROM sessions")
    assert session_row == [["s-1", 2, 1, 1, False]]
    services = rows(session, "SELECT ServiceName, SpanCount, ErrorCount FROM services ORDER BY ServiceName")
    assert services == [["order-api", 1, 1], ["order-web", 1, 0]]


def test_duckdb_ddl_matches_clickhouse_columns(session):
    """Both dialects declare the same columns in the same order, table by table."""
    clickhouse = exos_schema("--dialect", "clickhouse")
    duckdb = exos_schema("--dialect", "duckdb")
    for statement in clickhouse:
        session.query(statement)
    for ddl in duckdb[:8]:
        name = ddl.split()[5]
        ch_columns = [r[0] for r in rows(session, f"SELECT name FROM system.columns WHERE table = '{name}' AND database = currentDatabase() AND default_kind != 'ALIAS' ORDER BY position")]
        duck_columns = [line.strip().split('"')[1] for line in ddl.splitlines()[1:-1] if line.strip().startswith('"')]
        assert duck_columns == ch_columns, name

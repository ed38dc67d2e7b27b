"""`POST /api/sql`: authentication, the response shape and value encoding.

Values come back as JSON on both stores: strings as strings, integers as
numbers, doubles as numbers (NaN and infinities as null), maps as objects and
lists as arrays. Nanosecond times come back as text without trailing zeros of
the fraction, which is DuckDB's text form of TIMESTAMP_NS. Each query is
written once per SQL dialect, and the checks are the same on both stores.
"""

from __future__ import annotations

import pytest
import requests

from stores import ON_CLICKHOUSE, by_store

QUERY_MAX_ROWS = 5


def test_sql_requires_auth(exos):
    url = f"{exos.http_url}/api/sql"
    missing = requests.post(url, json={"sql": "SELECT 1"}, timeout=30)
    wrong = requests.post(url, json={"sql": "SELECT 1"}, auth=("admin", exos.admin_password + "x"), timeout=30)
    assert missing.status_code == 401
    assert wrong.status_code == 401
    assert "rows" not in missing.json()
    assert "error" in wrong.json()


VALUE_QUERY = by_store(
    "SELECT 'café' AS text, 42 AS small, 9007199254740993::BIGINT AS big, count(*) AS counted, "
    "0.1::DOUBLE AS tenth, 'nan'::DOUBLE AS not_a_number, 'inf'::DOUBLE AS infinite, "
    "true AS flag, NULL::INTEGER AS missing, [1, 2] AS numbers, ['a'] AS texts, "
    "MAP {'k': 'v'} AS attributes, "
    "'2026-01-02 03:04:05.123456789'::TIMESTAMP_NS AS nanos, "
    "'2026-01-02 03:04:05'::TIMESTAMP_NS AS whole_second "
    "FROM (SELECT 1 AS x)",
    "SELECT 'café' AS text, 42 AS small, toInt64(9007199254740993) AS big, count(*) AS counted, "
    "toFloat64(0.1) AS tenth, nan AS not_a_number, inf AS infinite, "
    "true AS flag, CAST(NULL AS Nullable(Int32)) AS missing, [1, 2] AS numbers, ['a'] AS texts, "
    "map('k', 'v') AS attributes, "
    "toDateTime64('2026-01-02 03:04:05.123456789', 9, 'UTC') AS nanos, "
    "toDateTime64('2026-01-02 03:04:05', 9, 'UTC') AS whole_second "
    "FROM (SELECT 1 AS x)",
)


def test_sql_value_encoding(exos):
    body = exos.sql_response(VALUE_QUERY)
    assert body["row_count"] == 1
    assert body["truncated"] is False
    assert body["elapsed_ms"] >= 0
    types = {column["name"]: column["type"] for column in body["columns"]}
    assert types["counted"] == by_store("BIGINT", "UInt64")
    assert types["nanos"] == by_store("TIMESTAMP_NS", "DateTime64(9, 'UTC')")

    row = dict(zip(types, body["rows"][0]))
    assert row["text"] == "café"
    assert row["small"] == 42
    assert row["big"] == 9007199254740993
    assert row["counted"] == 1
    assert row["tenth"] == 0.1
    assert row["not_a_number"] is None
    assert row["infinite"] is None
    assert row["flag"] is True
    assert row["missing"] is None
    assert row["numbers"] == [1, 2]
    assert row["texts"] == ["a"]
    assert row["attributes"] == {"k": "v"}
    assert row["nanos"] == "2026-01-02 03:04:05.123456789"
    assert row["whole_second"] == "2026-01-02 03:04:05"


def test_sql_sum_is_number(exos):
    # DuckDB's sum() of integer columns returns HUGEINT, as in sum(Duration);
    # ClickHouse's returns UInt64, which JSON could quote.
    row = exos.sql(
        by_store(
            "SELECT sum(x) AS total FROM (SELECT unnest([1, 2]) AS x)",
            "SELECT sum(x) AS total FROM (SELECT arrayJoin([1, 2]) AS x)",
        )
    )[0]
    assert row["total"] == 3


def test_sql_short_fraction_text(exos):
    # DuckDB 1.5.6 casts '2026-01-02 03:04:05.5'::TIMESTAMP_NS to VARCHAR without
    # trailing zeros of the fraction. ClickHouse prints all nine digits of a
    # DateTime64(9), and exos trims them to the same text.
    row = exos.sql(
        by_store(
            "SELECT '2026-01-02 03:04:05.5'::TIMESTAMP_NS AS stamp",
            "SELECT toDateTime64('2026-01-02 03:04:05.5', 9, 'UTC') AS stamp",
        )
    )[0]
    assert row["stamp"] == "2026-01-02 03:04:05.5"


def test_sql_time_list_text(exos):
    row = exos.sql(
        by_store(
            "SELECT ['2026-01-02 03:04:05.5'::TIMESTAMP_NS, '2026-01-02 03:04:06'::TIMESTAMP_NS] AS stamps",
            "SELECT [toDateTime64('2026-01-02 03:04:05.5', 9, 'UTC'), "
            "toDateTime64('2026-01-02 03:04:06', 9, 'UTC')] AS stamps",
        )
    )[0]
    assert row["stamps"] == ["2026-01-02 03:04:05.5", "2026-01-02 03:04:06"]


def test_sql_comparison_result(exos):
    # A comparison is a BOOLEAN on DuckDB and a UInt8 on ClickHouse.
    row = exos.sql("SELECT 2 > 1 AS greater, 1 > 2 AS smaller")[0]
    assert (row["greater"], row["smaller"]) == by_store((True, False), (1, 0))


def test_sql_row_limit(exos_factory):
    server = exos_factory.start(("--query-max-rows", str(QUERY_MAX_ROWS)))
    body = server.sql_response(
        by_store("SELECT range AS i FROM range(10)", "SELECT number AS i FROM numbers(10)")
    )
    assert body["truncated"] is True
    assert body["row_count"] == QUERY_MAX_ROWS
    assert len(body["rows"]) == QUERY_MAX_ROWS
    assert [row[0] for row in body["rows"]] == list(range(QUERY_MAX_ROWS))


@pytest.mark.skipif(ON_CLICKHOUSE, reason="ClickHouse counts the memory of every value against its limit")
def test_sql_rejects_values_built_outside_the_memory_limit(exos):
    """DuckDB builds list ranges and repeated text whole, outside its memory limit."""
    url = f"{exos.http_url}/api/sql"
    for query in ("SELECT unnest(range(1000000000))", "SELECT repeat('x', 1000000000)"):
        response = requests.post(url, json={"sql": query, "max_rows": 10}, auth=("admin", exos.admin_password), timeout=30)
        assert response.status_code == 400, (query, response.text)
        assert response.json()["error"]["kind"] == "sql_rejected", response.text
    # A large scan through the table function streams and stops at the row limit.
    body = exos.sql_response("SELECT range FROM range(100000000000)")
    assert body["truncated"] is True

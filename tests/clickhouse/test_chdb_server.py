"""End-to-end tests of chdb_server.py, the ClickHouse HTTP harness, over real HTTP.

The requests are the ones the Rust `clickhouse` crate 0.15.3 sends: the query in the
body or in the `query` URL parameter, settings and `default_format` as URL parameters,
`X-ClickHouse-User`/`X-ClickHouse-Key` headers, and INSERT data as a chunked body.
"""

from __future__ import annotations

import base64
import json
import re
import signal
import socket
import struct
import threading
from datetime import UTC, datetime

import pytest
import requests

import chdb_server

EXCEPTION_BODY = re.compile(
    r"^Code: (\d+)\. DB::Exception: .+ \(([A-Z_0-9]+)\) \(version [0-9.]+\)\n$", re.DOTALL
)

# A table with every type EXOS's rows use. `OrderId` mirrors EXOS's materialized keys.
SPANS_DDL = """
CREATE TABLE spans (
    Timestamp DateTime64(9),
    SpanId String,
    ServiceName LowCardinality(String),
    Attributes Map(LowCardinality(String), String),
    Duration UInt64,
    IsRoot Bool,
    Events Nested (Timestamp DateTime64(9), Name LowCardinality(String)),
    Note String DEFAULT 'none',
    OrderId LowCardinality(String) MATERIALIZED Attributes['order.id']
) ENGINE = MergeTree ORDER BY (ServiceName, Timestamp)
"""
SPAN_COLUMNS = (
    "Timestamp",
    "SpanId",
    "ServiceName",
    "Attributes",
    "Duration",
    "IsRoot",
    "Events.Timestamp",
    "Events.Name",
)
SPAN_TYPES = (
    "DateTime64(9)",
    "String",
    "LowCardinality(String)",
    "Map(LowCardinality(String), String)",
    "UInt64",
    "Bool",
    "Array(DateTime64(9))",
    "Array(LowCardinality(String))",
)
NANOS = 1_780_000_000_123_456_789


# --- RowBinary encoding, written from the format's documentation ----------------------------------


def leb128(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def rb_string(value: str) -> bytes:
    data = value.encode()
    return leb128(len(data)) + data


def rb_map(pairs: dict[str, str]) -> bytes:
    return leb128(len(pairs)) + b"".join(rb_string(k) + rb_string(v) for k, v in pairs.items())


def span_row(index: int) -> bytes:
    """Encode one `spans` row in SPAN_COLUMNS order."""
    timestamp = NANOS + index
    return b"".join(
        (
            struct.pack("<q", timestamp),
            rb_string(f"{index:016x}"),
            rb_string("order-api"),
            rb_map({"order.id": f"ORD-{index}", "note": "tab\t, ' quote, ünïcode"}),
            struct.pack("<Q", 2**64 - 1 - index),
            b"\x01" if index % 2 == 0 else b"\x00",
            leb128(2) + struct.pack("<qq", timestamp + 1, timestamp + 2),
            leb128(2) + rb_string("exception") + rb_string("log"),
        )
    )


def names_and_types_header() -> bytes:
    return (
        leb128(len(SPAN_COLUMNS))
        + b"".join(map(rb_string, SPAN_COLUMNS))
        + b"".join(map(rb_string, SPAN_TYPES))
    )


def insert_query(input_format: str) -> str:
    columns = ",".join(f"`{name}`" for name in SPAN_COLUMNS)
    return f"INSERT INTO `spans`({columns}) FORMAT {input_format}"


# --- helpers --------------------------------------------------------------------------------------


def post(server, sql: str | bytes = b"", params=None, headers=None, **kwargs) -> requests.Response:
    return requests.post(
        server.url + "/", params=params, data=sql, headers=headers, timeout=60, **kwargs
    )


def ok(server, sql: str, params=None, **kwargs) -> requests.Response:
    response = post(server, sql, params=params, **kwargs)
    assert response.status_code == 200, response.text
    return response


def rows(server, sql: str) -> list[dict]:
    text = ok(server, sql, params={"default_format": "JSONEachRow"}).text
    return [json.loads(line) for line in text.splitlines()]


def assert_exception(response: requests.Response, status: int, code: int, name: str) -> str:
    assert response.status_code == status, response.text
    assert response.headers["X-ClickHouse-Exception-Code"] == str(code)
    match = EXCEPTION_BODY.match(response.text)
    assert match, f"not ClickHouse's exception format: {response.text!r}"
    assert int(match.group(1)) == code
    assert match.group(2) == name
    return response.text


def chunked(data: bytes, size: int = 7):
    """Yield `data` in small pieces, so that requests sends it with chunked transfer encoding."""
    for start in range(0, len(data), size):
        yield data[start : start + size]


# --- health and authentication --------------------------------------------------------------------


def test_ping_and_root_return_ok(server):
    for path in ("/ping", "/", "/replicas_status"):
        response = requests.get(server.url + path, timeout=10)
        assert response.status_code == 200, path
        assert response.text == "Ok.\n", path
    assert requests.get(server.url + "/nowhere", timeout=10).status_code == 404


def test_listening_line_is_only_stdout(start_server, tmp_path):
    server = start_server(tmp_path / "other", "--port", "0")
    assert server.port > 0
    assert server.stop() == 0
    assert server._process.stdout.read() == ""


def test_credentials_accepted_in_every_form(start_server):
    server = start_server(None, "--user", "exos", "--password", "s3cret")
    basic = "Basic " + base64.b64encode(b"exos:s3cret").decode()
    for kwargs in (
        {"headers": {"X-ClickHouse-User": "exos", "X-ClickHouse-Key": "s3cret"}},
        {"headers": {"Authorization": basic}},
        {"params": {"user": "exos", "password": "s3cret"}},
    ):
        assert ok(server, "SELECT 1", **kwargs).text == "1\n"


def test_wrong_password_is_403(start_server):
    server = start_server(None, "--user", "exos", "--password", "s3cret")
    response = post(
        server, "SELECT 1", headers={"X-ClickHouse-User": "exos", "X-ClickHouse-Key": "wrong"}
    )
    text = assert_exception(response, 403, 516, "AUTHENTICATION_FAILED")
    assert (
        "exos: Authentication failed: password is incorrect, or there is no user with such name"
        in text
    )

    response = post(
        server, "SELECT 1", headers={"X-ClickHouse-User": "nobody", "X-ClickHouse-Key": "s3cret"}
    )
    assert_exception(response, 403, 516, "AUTHENTICATION_FAILED")


def test_missing_password_is_401(start_server):
    server = start_server(None, "--user", "exos", "--password", "s3cret")
    response = post(server, "SELECT 1")
    assert_exception(response, 401, 194, "REQUIRED_PASSWORD")
    assert response.headers["WWW-Authenticate"].startswith("Basic")


def test_mixed_auth_methods_rejected(server):
    basic = "Basic " + base64.b64encode(b"default:").decode()
    response = post(
        server, "SELECT 1", headers={"X-ClickHouse-User": "default", "Authorization": basic}
    )
    text = assert_exception(response, 403, 516, "AUTHENTICATION_FAILED")
    assert "not allowed to use X-ClickHouse HTTP headers and Authorization HTTP header" in text


# --- SELECT and DDL -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("output_format", "content_type", "body"),
    [
        ("TabSeparated", "text/tab-separated-values; charset=UTF-8", b"1\ta\\tb\n"),
        ("CSVWithNames", "text/csv; charset=UTF-8; header=present", b'"n","s"\n1,"a\tb"\n'),
        ("JSONEachRow", "application/x-ndjson; charset=UTF-8", b'{"n":1,"s":"a\\tb"}\n'),
        ("RowBinary", "application/octet-stream", b"\x01\x03a\tb"),
        (
            "RowBinaryWithNamesAndTypes",
            "application/octet-stream",
            b"\x02\x01n\x01s\x05UInt8\x06String\x01\x03a\tb",
        ),
    ],
)
def test_select_output_formats(server, output_format, content_type, body):
    response = ok(server, "SELECT 1 AS n, 'a\tb' AS s", params={"default_format": output_format})
    assert response.content == body
    assert response.headers["Content-Type"] == content_type
    assert response.headers["X-ClickHouse-Format"] == output_format


def test_json_compact_meta_and_data(server):
    response = ok(
        server,
        "SELECT number, toString(number) AS s FROM numbers(3)",
        params={"default_format": "JSONCompact"},
    )
    document = response.json()
    assert document["meta"] == [
        {"name": "number", "type": "UInt64"},
        {"name": "s", "type": "String"},
    ]
    assert document["data"] == [[0, "0"], [1, "1"], [2, "2"]]
    assert response.headers["Content-Type"] == "application/json; charset=UTF-8"


def test_format_clause_beats_default_format(server):
    response = ok(
        server, "SELECT 1 AS a FORMAT JSONEachRow", params={"default_format": "RowBinary"}
    )
    assert response.text == '{"a":1}\n'
    assert response.headers["X-ClickHouse-Format"] == "JSONEachRow"


def test_format_header_with_get_query(server):
    response = requests.get(
        server.url,
        params={"query": "SELECT 2 AS b"},
        headers={"X-ClickHouse-Format": "JSONEachRow"},
        timeout=10,
    )
    assert response.status_code == 200
    assert response.text == '{"b":2}\n'


def test_query_id_and_summary_headers(server):
    response = ok(server, "SELECT sum(number) FROM numbers(10)", params={"query_id": "q-42"})
    assert response.headers["X-ClickHouse-Query-Id"] == "q-42"
    summary = json.loads(response.headers["X-ClickHouse-Summary"])
    assert summary["read_rows"] == "10"
    assert summary["result_rows"] == "1"
    assert all(isinstance(value, str) for value in summary.values())

    generated = ok(server, "SELECT 1").headers["X-ClickHouse-Query-Id"]
    assert generated
    assert generated != "q-42"


def test_ddl_has_no_format_header(server):
    response = ok(server, SPANS_DDL)
    assert response.content == b""
    assert "X-ClickHouse-Format" not in response.headers


def test_query_split_across_parameter_and_body(server):
    assert ok(server, "+ 1 AS two", params={"query": "SELECT 1"}).text == "2\n"


def test_database_parameter_selects_database(server):
    ok(server, "CREATE DATABASE other")
    ok(
        server,
        "CREATE TABLE t (x UInt8) ENGINE = MergeTree ORDER BY x",
        params={"database": "other"},
    )
    assert (
        ok(server, "SELECT currentDatabase(), count() FROM t", params={"database": "other"}).text
        == "other\t0\n"
    )
    assert ok(server, "SELECT currentDatabase()").text == "default\n"


def test_multipart_server_side_parameters(server):
    fields = {
        "query": (None, "SELECT {a:UInt32} + 1, {s:String}"),
        "param_a": (None, "41"),
        "param_s": (None, "it's"),
    }
    response = requests.post(server.url, files=fields, timeout=10)
    assert response.status_code == 200
    assert response.text == "42\tit\\'s\n"
    response = ok(server, "SELECT {n:UInt8} * 2", params={"param_n": "21"})
    assert response.text == "42\n"


# --- INSERT with data -----------------------------------------------------------------------------


def test_rowbinary_with_names_and_types_round_trip(server):
    ok(server, SPANS_DDL)
    body = names_and_types_header() + b"".join(span_row(i) for i in range(50))
    response = post(
        server, chunked(body, 4096), params={"query": insert_query("RowBinaryWithNamesAndTypes")}
    )
    assert response.status_code == 200, response.text
    assert json.loads(response.headers["X-ClickHouse-Summary"])["written_rows"] == "50"

    first = rows(server, "SELECT *, OrderId FROM spans ORDER BY SpanId LIMIT 1")[0]
    expected_time = datetime.fromtimestamp(NANOS // 10**9, UTC).strftime("%Y-%m-%d %H:%M:%S")
    assert first == {
        "Timestamp": f"{expected_time}.{NANOS % 10**9:09d}",
        "SpanId": "0000000000000000",
        "ServiceName": "order-api",
        "Attributes": {"order.id": "ORD-0", "note": "tab\t, ' quote, ünïcode"},
        "Duration": 2**64 - 1,
        "IsRoot": True,
        "Events.Timestamp": [
            f"{expected_time}.{NANOS % 10**9 + 1:09d}",
            f"{expected_time}.{NANOS % 10**9 + 2:09d}",
        ],
        "Events.Name": ["exception", "log"],
        "Note": "none",
        "OrderId": "ORD-0",
    }


def test_rowbinary_insert_in_tiny_chunks(server):
    ok(server, SPANS_DDL)
    body = b"".join(span_row(i) for i in range(20))
    response = post(server, chunked(body, 7), params={"query": insert_query("RowBinary")})
    assert response.status_code == 200, response.text
    raw = ok(
        server,
        "SELECT toUnixTimestamp64Nano(Timestamp), Duration, IsRoot FROM spans ORDER BY SpanId",
        params={"default_format": "RowBinary"},
    ).content
    decoded = [struct.unpack_from("<qQ?", raw, offset) for offset in range(0, len(raw), 17)]
    assert decoded == [(NANOS + i, 2**64 - 1 - i, i % 2 == 0) for i in range(20)]


def test_values_insert_with_body_data(server):
    ok(server, "CREATE TABLE v (a UInt64, s String) ENGINE = MergeTree ORDER BY a")
    ok(server, "(1, 'x;y'), (2, 'z')", params={"query": "INSERT INTO v (a, s) VALUES"})
    ok(server, "INSERT INTO v VALUES (3, 'w')")
    assert ok(server, "SELECT a, s FROM v ORDER BY a").text == "1\tx;y\n2\tz\n3\tw\n"


def test_post_without_framing_is_411(server):
    with socket.create_connection((server.host, server.port), timeout=10) as connection:
        connection.sendall(b"POST / HTTP/1.1\r\nHost: x\r\n\r\n")
        reply = connection.makefile("rb").read()
    assert reply.startswith(b"HTTP/1.1 411 ")
    assert b"X-ClickHouse-Exception-Code: 381" in reply


def test_json_insert_with_query_in_body(server):
    ok(server, "CREATE TABLE j (a UInt64, m Map(String, String)) ENGINE = MergeTree ORDER BY a")
    ok(server, 'INSERT INTO j FORMAT JSONEachRow\n{"a": 1, "m": {"k": "v"}}\n{"a": 2, "m": {}}\n')
    ok(server, '{"a": 3, "m": {}}', params={"query": "INSERT INTO j (a, m) FORMAT JSONEachRow"})
    assert rows(server, "SELECT a, m FROM j ORDER BY a") == [
        {"a": 1, "m": {"k": "v"}},
        {"a": 2, "m": {}},
        {"a": 3, "m": {}},
    ]


def test_insert_through_input_function_rejected(server):
    ok(server, "CREATE TABLE i (a UInt64) ENGINE = MergeTree ORDER BY a")
    query = "INSERT INTO i SELECT a * 2 FROM input('a UInt64') FORMAT CSV"
    response = post(server, "1\n2\n", params={"query": query})
    assert_exception(response, 501, 48, "NOT_IMPLEMENTED")
    assert ok(server, "SELECT count() FROM i").text == "0\n"


def test_leading_whitespace_bytes_survive(server):
    ok(server, "CREATE TABLE w (a UInt64) ENGINE = MergeTree ORDER BY a")
    body = struct.pack("<QQ", 0x0A0D0920, 0x20)  # leading bytes: space, tab, CR, LF
    ok(server, body, params={"query": "INSERT INTO w FORMAT RowBinary"})
    assert ok(server, "SELECT a FROM w ORDER BY a").text == f"{0x20}\n{0x0A0D0920}\n"


def test_malformed_insert_commits_nothing(server):
    ok(server, SPANS_DDL)
    body = b"".join(span_row(i) for i in range(3)) + b"\x05ab"
    response = post(server, body, params={"query": insert_query("RowBinary")})
    assert response.status_code != 200
    assert EXCEPTION_BODY.match(response.text), response.text
    assert ok(server, "SELECT count() FROM spans").text == "0\n"


def test_cut_off_insert_commits_nothing(server):
    ok(server, SPANS_DDL)
    row = span_row(1)
    query = (
        requests.Request("POST", server.url + "/", params={"query": insert_query("RowBinary")})
        .prepare()
        .path_url
    )
    with socket.create_connection((server.host, server.port), timeout=10) as connection:
        connection.sendall(
            f"POST {query} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n".encode()
            + f"{len(row):x}\r\n".encode()
            + row
            + b"\r\n"
        )
        # The client goes away before the final zero-size chunk.
    assert ok(server, "SELECT count() FROM spans").text == "0\n"


def test_insert_into_unknown_table(server):
    response = post(server, b"\x01", params={"query": "INSERT INTO nosuch FORMAT RowBinary"})
    text = assert_exception(response, 404, 60, "UNKNOWN_TABLE")
    assert "Table default.nosuch does not exist" in text


# --- settings -------------------------------------------------------------------------------------


def test_settings_last_one_request(server):
    assert ok(server, "SELECT getSetting('max_threads')", params={"max_threads": "1"}).text == "1\n"
    assert ok(server, "SELECT getSetting('max_threads')").text != "1\n"


def test_result_limits_and_timeouts(server):
    limits = {"max_result_rows": "2", "result_overflow_mode": "throw"}
    assert_exception(
        post(server, "SELECT * FROM numbers(5)", params=limits), 500, 396, "TOO_MANY_ROWS_OR_BYTES"
    )
    response = post(server, "SELECT sleep(1)", params={"max_execution_time": "0.1"})
    assert_exception(response, 408, 159, "TIMEOUT_EXCEEDED")


def test_unknown_setting_error(server):
    text = assert_exception(
        post(server, "SELECT 1", params={"no_such_setting": "1"}), 404, 115, "UNKNOWN_SETTING"
    )
    assert "no_such_setting" in text


def test_bad_setting_value_error(server):
    response = post(server, "SELECT 1", params={"max_threads": "many"})
    assert response.status_code in (400, 500)
    assert EXCEPTION_BODY.match(response.text), response.text


def test_readonly_rejects_writes_and_settings(server):
    ok(server, "CREATE TABLE r (a UInt8) ENGINE = MergeTree ORDER BY a")
    readonly = {"readonly": "1", "max_result_rows": "10"}
    assert_exception(
        post(server, "INSERT INTO r VALUES (1)", params=readonly), 500, 164, "READONLY"
    )
    assert_exception(
        post(server, "SELECT 1 SETTINGS max_threads = 1", params=readonly), 500, 164, "READONLY"
    )
    assert ok(server, "SELECT count() FROM r", params=readonly).text == "0\n"


def test_get_requests_are_read_only(server):
    ok(server, "CREATE TABLE g (a UInt8) ENGINE = MergeTree ORDER BY a")
    response = requests.get(server.url, params={"query": "INSERT INTO g VALUES (1)"}, timeout=10)
    assert_exception(response, 500, 164, "READONLY")


def test_insert_settings_reach_insert(server):
    ok(server, "CREATE TABLE a (x UInt64) ENGINE = MergeTree ORDER BY x")
    params = {
        "query": "INSERT INTO a FORMAT JSONEachRow",
        "async_insert": "1",
        "wait_for_async_insert": "1",
    }
    ok(server, '{"x": 1}\n', params=params)
    assert ok(server, "SELECT count() FROM a").text == "1\n"
    assert_exception(
        post(server, '{"x": 2}', params={**params, "no_such_setting": "1"}),
        404,
        115,
        "UNKNOWN_SETTING",
    )


# --- errors ---------------------------------------------------------------------------------------


def test_unknown_table_error_format(server):
    text = assert_exception(post(server, "SELECT * FROM nosuch"), 404, 60, "UNKNOWN_TABLE")
    assert "nosuch" in text


def test_syntax_errors_are_400(server):
    assert_exception(post(server, "SELEC 1"), 400, 62, "SYNTAX_ERROR")
    assert "Empty query" in assert_exception(post(server, ""), 400, 62, "SYNTAX_ERROR")
    text = assert_exception(post(server, "SELECT 1; SELECT 2"), 400, 62, "SYNTAX_ERROR")
    assert "Multi-statements are not allowed" in text
    assert ok(server, "SELECT 1;").text == "1\n"


def test_unknown_database_is_404(server):
    assert_exception(
        post(server, "SELECT 1", params={"database": "nodb"}), 404, 81, "UNKNOWN_DATABASE"
    )


def test_http_session_reported_unsupported(server):
    assert_exception(
        post(server, "SELECT 1", params={"session_id": "s1"}), 501, 48, "NOT_IMPLEMENTED"
    )


# --- durability and concurrency -------------------------------------------------------------------


def test_inserts_survive_sigkill(start_server, tmp_path):
    data_dir = tmp_path / "durable"
    first = start_server(data_dir)
    ok(first, SPANS_DDL)
    ok(
        first,
        chunked(b"".join(span_row(i) for i in range(10)), 512),
        params={"query": insert_query("RowBinary")},
    )
    assert first.stop(signal.SIGKILL) == -signal.SIGKILL

    second = start_server(data_dir)
    assert ok(second, "SELECT count(), countIf(OrderId != '') FROM spans").text == "10\t10\n"
    assert second.stop() == 0

    third = start_server(data_dir)
    assert ok(third, "SELECT count() FROM spans").text == "10\n"


def test_concurrent_requests_all_served(server):
    ok(server, "CREATE TABLE c (w UInt8, i UInt32) ENGINE = MergeTree ORDER BY (w, i)")
    failures = []

    def work(worker: int):
        session = requests.Session()  # keep-alive, as the crate's connection pool does
        for i in range(20):
            body = "".join(json.dumps({"w": worker, "i": i * 10 + k}) + "\n" for k in range(10))
            response = session.post(
                server.url,
                params={"query": "INSERT INTO c FORMAT JSONEachRow"},
                data=body,
                timeout=60,
            )
            check = session.post(server.url, data="SELECT count() FROM c", timeout=60)
            if response.status_code != 200 or check.status_code != 200:
                failures.append((response.text, check.text))

    threads = [threading.Thread(target=work, args=(worker,)) for worker in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures
    assert ok(server, "SELECT count(), uniqExact(w, i) FROM c").text == "1200\t1200\n"


def test_256_mib_chunked_insert(server):
    ok(server, "CREATE TABLE big (a UInt64, s String) ENGINE = MergeTree ORDER BY a")
    payload = b"x" * 1000
    row_count = (256 << 20) // (8 + 2 + len(payload)) + 1

    def body():
        batch = 4096
        for start in range(0, row_count, batch):
            yield b"".join(
                struct.pack("<Q", i) + leb128(len(payload)) + payload
                for i in range(start, min(start + batch, row_count))
            )

    response = post(server, body(), params={"query": "INSERT INTO big FORMAT RowBinary"})
    assert response.status_code == 200, response.text
    assert (
        ok(server, "SELECT count(), sum(length(s)) FROM big").text
        == f"{row_count}\t{row_count * 1000}\n"
    )


# --- statement parsing, without a server ----------------------------------------------------------


@pytest.mark.parametrize(
    ("sql", "head", "input_format", "data"),
    [
        ("INSERT INTO t VALUES (1)", "INSERT INTO t", "Values", " (1)"),
        ("INSERT INTO db.values VALUES (1)", "INSERT INTO db.values", "Values", " (1)"),
        ("INSERT INTO t FORMAT RowBinary\n\x00\x01", "INSERT INTO t", "RowBinary", "\x00\x01"),
        (
            'INSERT INTO `t`(`a`,`b`) FORMAT JSONEachRow {"a":1}',
            "INSERT INTO `t`(`a`,`b`)",
            "JSONEachRow",
            '{"a":1}',
        ),
        (
            "insert into t settings async_insert=1 format CSV \t\r\n1,2",
            "insert into t settings async_insert=1",
            "CSV",
            "1,2",
        ),
        (
            "INSERT INTO t /* FORMAT x */ FORMAT TSV\n\n",
            "INSERT INTO t /* FORMAT x */",
            "TSV",
            "\n",
        ),
        (
            "INSERT INTO `format`(`format`) FORMAT Native\n ",
            "INSERT INTO `format`(`format`)",
            "Native",
            " ",
        ),
    ],
)
def test_insert_split_points(sql, head, input_format, data):
    insert = chdb_server.find_insert_with_data(sql)
    split = (insert.head, insert.input_format, sql[insert.data_start :])
    assert split == (head, input_format, data)


@pytest.mark.parametrize(
    "sql",
    [
        "INSERT INTO t SELECT * FROM values('a UInt8', 1)",
        "SELECT 1 FORMAT RowBinary",
        "INSERT INTO t (a) SELECT format FROM x",
        "INSERT INTO t SELECT 1 FORMAT TSV",
    ],
)
def test_plain_queries_have_no_insert_data(sql):
    assert chdb_server.find_insert_with_data(sql) is None


def test_insert_select_from_input_is_marked():
    insert = chdb_server.find_insert_with_data(
        "INSERT INTO t SELECT * FROM input('a Int8') FORMAT TSV"
    )
    assert insert.through_select
    assert insert.input_format == "TSV"


@pytest.mark.parametrize(
    ("sql", "output_format"),
    [
        ("SELECT 1 FORMAT JSON", "JSON"),
        ("SELECT 1 FORMAT JSON SETTINGS max_threads = 1;", "JSON"),
        ("SELECT format FROM t", None),
        ("SELECT 1 AS format", None),
        ("SELECT * FROM (SELECT 1 FORMAT JSON)", None),
        ("SELECT 'FORMAT JSON'", None),
    ],
)
def test_output_format_only_at_end(sql, output_format):
    assert chdb_server.describe_query(sql).output_format == output_format


def test_second_statement_outside_strings():
    assert chdb_server.describe_query("SELECT ';' -- ; SELECT 2\n;").second_statement_at is None
    assert chdb_server.describe_query("SELECT 1; SELECT 2").second_statement_at == 10

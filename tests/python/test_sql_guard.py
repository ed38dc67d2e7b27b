"""`POST /api/sql` rejects SQL that would leave the EXOS tables, on each store.

Each store has its own ways out. DuckDB reads a file named by a string literal
and has file-reading table functions. ClickHouse has the scalar `file()`,
`url()`, `SETTINGS`, `INTO OUTFILE`, `FORMAT` and the `system` database, and
its `readonly` setting does not stop all of them. A rejection is a 400 with kind `sql_rejected` and a
message that names the rejected part. Nothing may be read, written or fetched:
the loopback listener below counts the requests that a url escape would send.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from otlp_payloads import new_span_id, post_spans, span_request
from stores import ON_CLICKHOUSE, only_clickhouse, only_duckdb

SECRET_FILE = "/etc/passwd"
SECRET_TEXT = "root:"


class CountingHandler(BaseHTTPRequestHandler):
    """Record each request path and respond with a one-line CSV."""

    def do_GET(self):
        self.server.paths.append(self.path)
        body = b"leaked\n"
        self.send_response(200)
        self.send_header("content-type", "text/csv")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def listener():
    """An HTTP server on a loopback port that records the paths it is asked for."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), CountingHandler)
    server.paths = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join()


def listener_url(listener) -> str:
    host, port = listener.server_address[:2]
    return f"http://{host}:{port}/escape.csv"


def rejection(server, sql: str) -> str:
    """Post `sql`, assert the guard's 400 and return the error message."""
    response = requests.post(
        f"{server.http_url}/api/sql",
        json={"sql": sql},
        auth=("admin", server.admin_password),
        timeout=30,
    )
    assert response.status_code == 400, f"{sql!r} was not rejected: {response.status_code} {response.text[:500]}"
    assert SECRET_TEXT not in response.text, f"{sql!r} leaked {SECRET_FILE}: {response.text[:500]}"
    error = response.json()["error"]
    assert error["kind"] == "sql_rejected", f"{sql!r}: {error}"
    return error["message"]


WRITES = {
    "drop": ("DROP TABLE otel_traces", "statement `DROP TABLE` is not allowed"),
    "delete": ("DELETE FROM otel_traces", "statement `DELETE FROM` is not allowed"),
    "insert": ("INSERT INTO otel_traces (SpanName) VALUES ('x')", "statement `INSERT INTO` is not allowed"),
    "create": ("CREATE TABLE stolen AS SELECT * FROM otel_traces", "statement `CREATE TABLE` is not allowed"),
    "two_statements": ("SELECT 1; DROP TABLE otel_traces", "found 2 statements: send exactly one statement"),
}


@pytest.mark.parametrize("case", sorted(WRITES))
def test_guard_writes(exos, case):
    span_id = new_span_id()
    body = span_request("guard", [span_id]).SerializeToString()
    response = post_spans(exos.otlp_http_url, body, {"authorization": exos.ingest_key})
    assert response.status_code == 200, response.text

    sql, named = WRITES[case]
    message = rejection(exos, sql)
    assert named in message, message
    assert exos.sql("SELECT SpanId FROM otel_traces WHERE ServiceName = 'guard'") == [{"SpanId": span_id.hex()}]


DUCKDB_ESCAPES = {
    "literal_path": (f"SELECT * FROM '{SECRET_FILE}'", f"`'{SECRET_FILE}'` reads a file or url"),
    "read_text": (f"SELECT * FROM read_text('{SECRET_FILE}')", "table function `read_text` is not allowed"),
    "read_csv": (f"SELECT * FROM read_csv('{SECRET_FILE}')", "table function `read_csv` is not allowed"),
    "qualified": (
        f"SELECT * FROM system.main.read_text('{SECRET_FILE}')",
        "qualified function name `system.main.read_text` is not allowed",
    ),
    "scalar_in_subquery": (
        f"SELECT (SELECT content FROM read_text('{SECRET_FILE}')) AS leaked",
        "table function `read_text` is not allowed",
    ),
    "settings": (
        "SELECT current_setting('enable_external_access') AS setting",
        "function `current_setting` is not allowed",
    ),
    "catalog": ("SELECT * FROM duckdb_databases()", "table function `duckdb_databases` is not allowed"),
    "attach": ("ATTACH ':memory:' AS scratch", "statement `ATTACH` is not allowed"),
}


@only_duckdb
@pytest.mark.parametrize("case", sorted(DUCKDB_ESCAPES))
def test_guard_duckdb(exos, case):
    sql, named = DUCKDB_ESCAPES[case]
    message = rejection(exos, sql)
    assert named in message, message


@only_duckdb
def test_guard_duckdb_url(exos, listener):
    message = rejection(exos, f"SELECT * FROM read_csv('{listener_url(listener)}')")
    assert "table function `read_csv` is not allowed" in message, message
    assert listener.paths == []


CLICKHOUSE_ESCAPES = {
    "file_table": (
        f"SELECT * FROM file('{SECRET_FILE}', 'LineAsString')",
        "table function `file` is not allowed",
    ),
    "file_scalar": (f"SELECT file('{SECRET_FILE}') AS leaked", "function `file` is not allowed"),
    "settings": ("SELECT 1 AS one SETTINGS readonly = 0", "`SETTINGS` is not allowed"),
    "settings_same_value": ("SELECT 1 AS one SETTINGS readonly = 2", "`SETTINGS` is not allowed"),
    "format": ("SELECT 1 AS one FORMAT TabSeparated", "`FORMAT` is not allowed"),
    "system_tables": ("SELECT name FROM system.tables", "`system.tables` is outside the default schema"),
    "system_in": ("SELECT 1 IN system.one AS found", "`system.one` is outside the default schema"),
    "kill_query": ("KILL QUERY WHERE 1", "statement `KILL QUERY` is not allowed"),
    "get_setting": ("SELECT getSetting('readonly') AS setting", "function `getSetting` is not allowed"),
    "remote": ("SELECT * FROM remote('127.0.0.1', system.one)", "table function `remote` is not allowed"),
}


@only_clickhouse
@pytest.mark.parametrize("case", sorted(CLICKHOUSE_ESCAPES))
def test_guard_clickhouse(exos, case):
    sql, named = CLICKHOUSE_ESCAPES[case]
    message = rejection(exos, sql)
    assert named in message, message


@only_clickhouse
def test_guard_clickhouse_url(exos, listener):
    url = listener_url(listener)
    table = rejection(exos, f"SELECT * FROM url('{url}', 'CSV', 'a String')")
    assert "table function `url` is not allowed" in table, table
    assert listener.paths == []


@only_clickhouse
def test_guard_clickhouse_outfile(exos, tmp_path):
    target = tmp_path / "outfile.tsv"
    message = rejection(exos, f"SELECT 1 AS one INTO OUTFILE '{target}'")
    assert "`INTO OUTFILE` is not allowed" in message, message
    assert not target.exists()


def test_guard_other_dialect(exos):
    """Each store has its own allow-list: the other dialect's functions are rejected."""
    function = "toStartOfHour" if not ON_CLICKHOUSE else "epoch_ns"
    message = rejection(exos, f"SELECT {function}(now()) AS converted")
    assert f"function `{function}` is not allowed" in message, message

#!/usr/bin/env python3
"""Serve a persistent chdb database over the part of ClickHouse's HTTP interface that
the Rust `clickhouse` crate (0.15.3, no compression) uses, so that EXOS's tests can run
against the real ClickHouse engine on a machine without a ClickHouse server.

Usage:

    python tests/clickhouse/chdb_server.py --data-dir DIR [--host 127.0.0.1] [--port 0]
        [--user default] [--password ''] [--max-body-bytes N]

The process binds a loopback address, prints exactly one line
`chdb-server listening on HOST:PORT` to stdout, and serves until SIGTERM or SIGINT.
Data lives in DIR and survives restarts, SIGKILL included, because the harness
responds to an INSERT only after chdb has written its parts.

What it serves, modelled on ClickHouse's `HTTPHandler` (src/Server/HTTPHandler.cpp):

- `GET /ping`, `GET /replicas_status`, and `GET /` without a query return `Ok.\\n`.
- `POST /` and `GET /?query=...` run one statement. The query is the `query` URL
  parameter, a newline and the body, as ClickHouse concatenates them, or the `query`
  field of a multipart/form-data body, where the crate also sends `param_*` values.
- `INSERT ... FORMAT <fmt>` and `INSERT ... VALUES` stream their data into chdb's
  streaming insert, so RowBinary, RowBinaryWithNamesAndTypes, Native, JSONEachRow and
  the other input formats reach the engine's own parser, defaults and type checks.
  A body cut off before its end inserts nothing.
- URL parameters that ClickHouse does not reserve are settings. Each request gets its
  own chdb connection, and the settings are applied to it with `SET`, so they last for
  that request only, and `readonly`, unknown names and bad values behave as the engine
  decides. A GET request runs with `readonly = 2`, as ClickHouse does.
- Errors are ClickHouse's exception text from the engine, with the HTTP status that
  ClickHouse's `exceptionCodeToHTTPStatus` gives and the `X-ClickHouse-Exception-Code`
  header. The harness writes the few errors the engine cannot raise (authentication,
  an empty query, several statements in one request) in the same format.
- HTTP sessions (`session_id`), `compress`/`decompress`, a compressed request body,
  external tables in multipart bodies and `INSERT ... SELECT ... FROM input()` with
  data are rejected with NOT_IMPLEMENTED rather than served differently.

The whole result is built before the response starts, so an error never arrives after
a 200 status. Requests are served on threads, and one lock serializes every call
into chdb.
"""

from __future__ import annotations

import argparse
import base64
import email.parser
import email.policy
import faulthandler
import io
import ipaddress
import json
import re
import signal
import socket
import sys
import tempfile
import threading
import time
import traceback
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import BinaryIO
from urllib.parse import parse_qsl, urlsplit

import chdb
import chdb.session

# URL parameters that ClickHouse's HTTPHandler consumes itself instead of treating them
# as settings (`reserved_param_names` in src/Server/HTTPHandler.cpp), plus `query`.
RESERVED_PARAMS = frozenset(
    """
    compress decompress user password quota_key query_id stacktrace role buffer_size
    wait_end_of_query session_id session_timeout session_check client_protocol_version
    close_session database default_format query
    """.split()
)

# Settings that chdb (as clickhouse-local) changes from the server defaults. Each
# connection puts them back first, so that SQL behaves as on `clickhouse-server`.
# For example, with `implicit_select = 1` a bare `1 + 1` would run as a query.
SERVER_DEFAULT_SETTINGS = (("implicit_select", "0"), ("allow_introspection_functions", "0"))

# HTTP status per exception name, from ClickHouse's exceptionCodeToHTTPStatus
# (src/Server/HTTP/exceptionCodeToHTTPStatus.cpp). Every other code gives 500.
HTTP_STATUS_BY_ERROR = {
    **dict.fromkeys(["REQUIRED_PASSWORD"], 401),
    **dict.fromkeys(
        "UNKNOWN_USER WRONG_PASSWORD AUTHENTICATION_FAILED SET_NON_GRANTED_ROLE".split(), 403
    ),
    **dict.fromkeys(
        """
        BAD_ARGUMENTS CANNOT_COMPILE_REGEXP CANNOT_PARSE_TEXT CANNOT_PARSE_ESCAPE_SEQUENCE
        CANNOT_PARSE_QUOTED_STRING CANNOT_PARSE_DATE CANNOT_PARSE_DATETIME CANNOT_PARSE_NUMBER
        CANNOT_PARSE_DOMAIN_VALUE_FROM_STRING CANNOT_PARSE_IPV4 CANNOT_PARSE_IPV6
        CANNOT_PARSE_INPUT_ASSERTION_FAILED CANNOT_PARSE_UUID DUPLICATE_COLUMN ILLEGAL_COLUMN
        UNKNOWN_ELEMENT_IN_AST UNKNOWN_TYPE_OF_AST_NODE THERE_IS_NO_COLUMN TOO_DEEP_AST
        TOO_BIG_AST UNEXPECTED_AST_STRUCTURE SYNTAX_ERROR INCORRECT_DATA TYPE_MISMATCH
        VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE
        """.split(),
        400,
    ),
    **dict.fromkeys(
        """
        UNKNOWN_TABLE UNKNOWN_FUNCTION UNKNOWN_IDENTIFIER UNKNOWN_TYPE UNKNOWN_STORAGE
        UNKNOWN_DATABASE UNKNOWN_SETTING UNKNOWN_DIRECTION_OF_SORTING UNKNOWN_AGGREGATE_FUNCTION
        UNKNOWN_FORMAT UNKNOWN_DATABASE_ENGINE UNKNOWN_TYPE_OF_QUERY UNKNOWN_ROLE
        """.split(),
        404,
    ),
    "QUERY_IS_TOO_LARGE": 413,
    "NOT_IMPLEMENTED": 501,
    "SOCKET_TIMEOUT": 503,
    "CANNOT_OPEN_FILE": 503,
    "CANNOT_SCHEDULE_TASK": 503,
    "HTTP_LENGTH_REQUIRED": 411,
    "TIMEOUT_EXCEEDED": 408,
}

TEXT_PLAIN = "text/plain; charset=UTF-8"

# Content-Type per output format (lowercase), from the `getContentType()` overrides of
# ClickHouse's output format classes. TSV and CSV variants are handled in
# `content_type()`, and formats without an override get text/plain, as there.
CONTENT_TYPE_BY_FORMAT = {
    **dict.fromkeys(
        """
        rowbinary rowbinarywithnames rowbinarywithnamesandtypes rowbinarywithdefaults native
        arrow arrowstream parquet orc avro msgpack protobuf protobufsingle capnproto npy
        bsoneachrow
        """.split(),
        "application/octet-stream",
    ),
    **dict.fromkeys(
        "json jsonstrings jsoncompact jsoncompactstrings".split(), "application/json; charset=UTF-8"
    ),
    **dict.fromkeys(
        "jsoneachrow jsonlines ndjson jsonstringseachrow".split(),
        "application/x-ndjson; charset=UTF-8",
    ),
    "xml": "application/xml; charset=UTF-8",
}

# First keywords of statements that return a result set, and so get an
# `X-ClickHouse-Format` header.
RESULT_KEYWORDS = frozenset(
    "SELECT WITH SHOW DESCRIBE DESC EXISTS EXPLAIN CHECK KILL FROM (".split()
)

# chdb's Python wrapper turns these output format names into Python objects instead of
# bytes. They are no ClickHouse formats, so the harness rejects them.
PYTHON_ONLY_FORMATS = frozenset({"dataframe", "arrowtable", "datastore"})

SPOOL_MEMORY_BYTES = 8 << 20
INSERT_CHUNK_BYTES = 4 << 20
# How much of a body is scanned for the end of an `INSERT ... FORMAT x` head; it is
# ClickHouse's default `max_query_size`.
INSERT_HEAD_BYTES = 256 << 10
# Keep idle keep-alive connections open much longer than the crate's 2 s pool timeout,
# so the server never closes a connection the client is about to reuse.
IDLE_CONNECTION_TIMEOUT_S = 300


class ClickHouseError(Exception):
    """An exception in ClickHouse's text format, `Code: N. DB::Exception: ... (NAME)`."""

    def __init__(self, code: int, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


class BodyTooLarge(Exception):
    """The request body is larger than `--max-body-bytes`."""


# --- SQL lexing ---------------------------------------------------------------------------
#
# The harness needs only the shape of a statement: its first keyword, an `INSERT`'s
# `FORMAT` clause and where the data after it starts, a trailing output `FORMAT`, and a
# second statement. The lexer works on text decoded as Latin-1, so that offsets are
# byte offsets and binary data after an `INSERT` head cannot break decoding.

_TOKEN = re.compile(
    r"""
      (?P<space>\s+)
    | (?P<comment>--[^\n]*|\#[\ !][^\n]*)
    | (?P<string>'(?:[^'\\]|\\.|'')*'?)
    | (?P<quoted>`(?:[^`\\]|\\.|``)*`?|"(?:[^"\\]|\\.|"")*"?)
    | (?P<heredoc>\$(?P<tag>[A-Za-z0-9_]*)\$.*?\$(?P=tag)\$)
    | (?P<word>[A-Za-z_\x80-\xff][A-Za-z0-9_$\x80-\xff]*)
    | (?P<number>[0-9][A-Za-z0-9_.]*(?:[eEpP][+-][0-9]+)?)
    | (?P<open>[(\[{])
    | (?P<close>[)\]}])
    | (?P<punct>.)
    """,
    re.VERBOSE | re.DOTALL,
)


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    start: int
    end: int
    depth: int

    def is_keyword(self, word: str) -> bool:
        return self.kind == "word" and self.text.upper() == word


def lex(text: str):
    """Yield the tokens of `text` without whitespace and comments, with their nesting depth."""
    position, depth = 0, 0
    while position < len(text):
        if text.startswith("/*", position):
            position = _skip_block_comment(text, position)
            continue
        match = _TOKEN.match(text, position)
        kind = match.lastgroup if match.lastgroup != "tag" else "heredoc"
        if kind == "close":
            depth = max(depth - 1, 0)
        if kind not in ("space", "comment"):
            yield Token(kind, match.group(), match.start(), match.end(), depth)
        if kind == "open":
            depth += 1
        position = match.end()


def _skip_block_comment(text: str, position: int) -> int:
    """Return the offset after the block comment at `position`, which may nest others."""
    nesting = 0
    while position < len(text):
        if text.startswith("/*", position):
            nesting, position = nesting + 1, position + 2
        elif text.startswith("*/", position):
            nesting, position = nesting - 1, position + 2
            if nesting == 0:
                return position
        else:
            position += 1
    return position


@dataclass(frozen=True)
class InsertWithData:
    """An `INSERT ... FORMAT x` or `INSERT ... VALUES` statement with data after it."""

    head: str
    input_format: str
    data_start: int
    # True for `INSERT ... SELECT ... FROM input(...) FORMAT x`, which reads its data
    # through a SELECT.
    through_select: bool = False


def find_insert_with_data(text: str) -> InsertWithData | None:
    """Split `INSERT ... FORMAT x <data>` or `INSERT ... VALUES <data>`, or return None.

    After `FORMAT x` the data starts behind spaces and tabs and one line break, the
    rule of ClickHouse's insert parser, so binary rows that begin with a whitespace
    byte stay intact. An `INSERT ... SELECT` returns None unless it reads `input()`.
    """
    tokens = lex(text)
    first = next(tokens, None)
    if first is None or not first.is_keyword("INSERT"):
        return None
    previous, through_select, reads_input = first, False, False
    for token in tokens:
        through_select = through_select or (token.depth == 0 and token.is_keyword("SELECT"))
        reads_input = reads_input or (previous.is_keyword("INPUT") and token.text == "(")
        if token.depth == 0 and token.is_keyword("VALUES") and not through_select:
            if not _names_table(previous):
                return InsertWithData(text[: token.start].rstrip(), "Values", token.end)
        is_format = previous.depth == 0 and previous.is_keyword("FORMAT") and token.kind == "word"
        if is_format and (reads_input or not through_select):
            head = text[: previous.start].rstrip()
            data_start = _data_start(text, token.end)
            return InsertWithData(head, token.text, data_start, through_select)
        previous = token
    return None


def _names_table(token: Token) -> bool:
    """Tell whether the next word is a table name, as in `INSERT INTO values VALUES`."""
    return token.is_keyword("INTO") or token.is_keyword("TABLE") or token.text == "."


def _data_start(text: str, position: int) -> int:
    while position < len(text) and text[position] in " \t\f\v":
        position += 1
    if text.startswith("\r", position):
        position += 1
    if text.startswith("\n", position):
        position += 1
    return position


@dataclass(frozen=True)
class QueryShape:
    keyword: str
    output_format: str | None
    second_statement_at: int | None


def describe_query(text: str) -> QueryShape:
    """Find the first keyword, a trailing `FORMAT x` clause and a second statement."""
    tokens = list(lex(text))
    if not tokens:
        return QueryShape("", None, None)
    first = tokens[0]
    keyword = first.text.upper() if first.kind in ("word", "open") else first.text
    return QueryShape(keyword, _output_format(tokens), _second_statement(tokens))


def _output_format(tokens: list[Token]) -> str | None:
    """Return the name in a top-level `FORMAT name` that ends the statement, if any.

    The name must be followed by nothing, `;` or a `SETTINGS` clause, so that a column
    called `format` (`SELECT format FROM t`) is not taken for the clause.
    """
    for index in range(len(tokens) - 2, -1, -1):
        keyword, name = tokens[index], tokens[index + 1]
        if keyword.depth or not keyword.is_keyword("FORMAT") or name.kind != "word":
            continue
        rest = tokens[index + 2 :]
        if not rest or rest[0].text == ";" or rest[0].is_keyword("SETTINGS"):
            return name.text
    return None


def _second_statement(tokens: list[Token]) -> int | None:
    for index, token in enumerate(tokens[:-1]):
        if token.depth == 0 and token.text == ";":
            return tokens[index + 1].start
    return None


# --- requests -----------------------------------------------------------------------------


@dataclass
class QueryRequest:
    """One query as ClickHouse's HTTP handler receives it, after the body was read."""

    method: str
    param_text: str | None
    body: BinaryIO
    database: str
    default_format: str
    query_id: str
    roles: list[str]
    settings: list[tuple[str, str]]
    query_params: dict[str, str] = field(default_factory=dict)


@dataclass
class Reply:
    status: int
    body: bytes
    headers: dict[str, str]


def sql_string(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace("'", "\\'")
    return f"'{escaped}'"


def sql_identifier(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace("`", "\\`")
    return f"`{escaped}`"


class Engine:
    """The chdb database, opened once, and the one lock that serializes calls into it.

    Each query runs on a fresh chdb connection to the same database, as ClickHouse
    gives each HTTP request its own query context. So `USE`, `SET` and `readonly`
    last for that request only. Opening a connection took under 1 ms on the 2-core
    test machine (chdb 4.4.0).
    """

    def __init__(self, data_dir: str):
        self._data_dir = data_dir
        self._lock = threading.Lock()
        # The session keeps chdb's embedded server, and so the database, open between
        # requests.
        self._session = chdb.session.Session(data_dir)
        self.version = self._scalar("SELECT version()")
        self.timezone = self._scalar("SELECT timezone()")
        self._error_names = self._load_error_names()
        self._error_codes = {name: code for code, name in self._error_names.items()}

    def _scalar(self, sql: str) -> str:
        return bytes(self._session.query(sql, "TabSeparatedRaw").bytes()).decode().strip()

    def _load_error_names(self) -> dict[int, str]:
        rows = self._scalar(
            "SELECT arrayStringConcat(groupArray(concat(toString(number), ':', name)), ',') "
            "FROM (SELECT number, errorCodeToName(number) AS name FROM numbers(2000)) "
            "WHERE name != ''"
        )
        pairs = (item.split(":", 1) for item in rows.split(","))
        return {int(code): name for code, name in pairs}

    def close(self) -> None:
        with self._lock:
            self._session.close()

    def error(self, name: str, text: str) -> ClickHouseError:
        """Build an exception the harness raises itself, in ClickHouse's format."""
        code = self._error_codes[name]
        return ClickHouseError(
            code, f"Code: {code}. DB::Exception: {text}. ({name}) (version {self.version})"
        )

    def http_status(self, code: int) -> int:
        return HTTP_STATUS_BY_ERROR.get(self._error_names.get(code, ""), 500)

    def from_chdb(self, error: Exception) -> ClickHouseError:
        """Turn a chdb exception into ClickHouse's text, as a server would send it."""
        text = str(error)
        start = text.find("Code: ")
        if start < 0:
            return self.error("STD_EXCEPTION", f"chdb: {text}")
        text = _unwrap_rethrown(text[start:].strip())
        if not _VERSION_SUFFIX.search(text):
            text = f"{text} (version {self.version})"
        return ClickHouseError(int(_CODE.match(text).group(1)), text)

    def run_query(
        self, request: QueryRequest, sql: str, output_format: str
    ) -> tuple[bytes, dict[str, str]]:
        with self._lock:
            connection = self._connect(request)
            try:
                result = connection.query(sql, output_format, params=request.query_params)
                body = bytes(result.bytes())
            except Exception as error:
                raise self.from_chdb(error) from None
            finally:
                connection.close()
        # chdb's `rows_read()` and `bytes_read()` count the result. Its storage counters
        # are what ClickHouse reports as read rows and bytes.
        summary = _summary(
            read_rows=result.storage_rows_read(),
            read_bytes=result.storage_bytes_read(),
            written_rows=result.rows_written(),
            written_bytes=result.bytes_written(),
            result_rows=result.rows_read(),
            result_bytes=result.bytes_read(),
            elapsed_ns=int(result.elapsed() * 1e9),
        )
        return body, summary

    def run_insert(self, request: QueryRequest, insert: InsertWithData, chunks) -> dict[str, str]:
        with self._lock:
            connection = self._connect(request)
            try:
                result = _stream_insert(connection, insert, chunks)
            except Exception as error:
                raise self.from_chdb(error) from None
            finally:
                connection.close()
        return _summary(
            written_rows=result.rows_written,
            written_bytes=result.bytes_written,
            elapsed_ns=int(result.elapsed * 1e9),
        )

    def _connect(self, request: QueryRequest):
        """Open a connection and give it the request's database, roles and settings."""
        try:
            # Fails with UNKNOWN_DATABASE once `default` is dropped, as a server does
            # for every request that names no database.
            connection = chdb.connect(self._data_dir)
        except Exception as error:
            raise self.from_chdb(error) from None
        try:
            self._configure(connection, request)
        except Exception as error:
            connection.close()
            raise self.from_chdb(error) from None
        return connection

    def _configure(self, connection, request: QueryRequest) -> None:
        for name, value in SERVER_DEFAULT_SETTINGS:
            connection.query(f"SET {name} = {value}")
        if request.database:
            connection.query(f"USE {sql_identifier(request.database)}")
        if request.roles:
            connection.query("SET ROLE " + ", ".join(map(sql_identifier, request.roles)))
        # ClickHouse makes GET requests read-only before it applies the URL settings,
        # and checks all of them against the settings in force before any is applied.
        # `readonly` goes last, because after `readonly = 1` no SET is allowed.
        if request.method in ("GET", "HEAD"):
            connection.query("SET readonly = 2")
        settings = [item for item in request.settings if item[0] != "readonly"]
        settings += [item for item in request.settings if item[0] == "readonly"]
        for name, value in settings:
            connection.query(f"SET {sql_identifier(name)} = {sql_string(value)}")


_CODE = re.compile(r"Code: (\d+)\.")
_VERSION_SUFFIX = re.compile(r"\(version [^()]*(?:\([^()]*\))?\)$")
# chdb rethrows some engine exceptions with the inner text as the message, which nests
# `Code: 73. DB::Exception: Code: 73. DB::Exception: ... (version v). (UNKNOWN_FORMAT)`.
_RETHROWN = re.compile(
    r"Code: (\d+)\. DB::Exception: (Code: \1\. DB::Exception: .*)\. \(\w+\)", re.DOTALL
)


def _unwrap_rethrown(text: str) -> str:
    while match := _RETHROWN.fullmatch(text):
        text = match.group(2)
    return text


def _stream_insert(connection, insert: InsertWithData, chunks):
    inserter = connection.send_insert(insert.head, insert.input_format)
    try:
        for chunk in chunks:
            inserter.append(chunk)
    except Exception:
        inserter.cancel()
        raise
    return inserter.finish()


def _summary(**values: int) -> dict[str, str]:
    """Build the `X-ClickHouse-Summary` header, with every value a JSON string as in ClickHouse."""
    text = json.dumps({name: str(value) for name, value in values.items()}, separators=(",", ":"))
    return {"X-ClickHouse-Summary": text}


def content_type(format_name: str) -> str:
    lowered = format_name.lower()
    if lowered.startswith(("tabseparated", "tsv")):
        return "text/tab-separated-values; charset=UTF-8"
    if lowered.startswith("csv"):
        header = "present" if "withnames" in lowered else "absent"
        return f"text/csv; charset=UTF-8; header={header}"
    return CONTENT_TYPE_BY_FORMAT.get(lowered, TEXT_PLAIN)


class QueryRunner:
    """Run the statement of one request, either an insert with streamed data or a query."""

    def __init__(self, engine: Engine):
        self.engine = engine

    def run(self, request: QueryRequest) -> Reply:
        prefix = self._query_prefix(request)
        insert = find_insert_with_data(prefix.decode("latin-1"))
        if insert is not None:
            return self._insert(request, insert)
        return self._query(request)

    def _query_prefix(self, request: QueryRequest) -> bytes:
        """Return the start of the query text, enough to find an `INSERT` head in it."""
        param = self._param_bytes(request)
        request.body.seek(0)
        return param + request.body.read(INSERT_HEAD_BYTES)

    @staticmethod
    def _param_bytes(request: QueryRequest) -> bytes:
        # ClickHouse joins the `query` parameter and the body with a line break.
        return b"" if not request.param_text else request.param_text.encode() + b"\n"

    def _insert(self, request: QueryRequest, insert: InsertWithData) -> Reply:
        if insert.through_select:
            # chdb's streaming insert rejects INSERT ... SELECT, and chdb's query call does
            # not pass inline data to `input()`, so such an insert would write no rows.
            raise self.engine.error(
                "NOT_IMPLEMENTED",
                "harness: INSERT ... SELECT with data in the request (the input() function) "
                "is not supported, insert the rows with INSERT ... FORMAT instead",
            )
        # The lexer read Latin-1 text, but chdb gets the head as the UTF-8 it was sent as.
        head = insert.head.encode("latin-1").decode("utf-8", errors="replace")
        insert = InsertWithData(head, insert.input_format, insert.data_start)
        summary = self.engine.run_insert(
            request, insert, self._data_chunks(request, insert.data_start)
        )
        return Reply(200, b"", self._headers(request, None, summary))

    def _data_chunks(self, request: QueryRequest, data_start: int):
        """Yield the rest of the `query` parameter after the head, then the body."""
        param = self._param_bytes(request)
        if data_start < len(param):
            yield param[data_start:]
        request.body.seek(max(data_start - len(param), 0))
        while chunk := request.body.read(INSERT_CHUNK_BYTES):
            yield chunk

    def _query(self, request: QueryRequest) -> Reply:
        sql = self._full_text(request)
        shape = describe_query(sql)
        self._check_single_statement(sql, shape)
        output_format = shape.output_format or request.default_format or "TabSeparated"
        if output_format.lower() in PYTHON_ONLY_FORMATS:
            raise self.engine.error("UNKNOWN_FORMAT", f"Unknown format {output_format}")
        body, summary = self.engine.run_query(request, sql, output_format)
        format_name = output_format if shape.keyword in RESULT_KEYWORDS else None
        return Reply(200, body, self._headers(request, format_name, summary))

    def _full_text(self, request: QueryRequest) -> str:
        request.body.seek(0)
        raw = self._param_bytes(request) + request.body.read()
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as error:
            # NOTE: chdb takes query text as a Python str, so a non-INSERT query must be UTF-8.
            raise self.engine.error(
                "CANNOT_PARSE_TEXT",
                f"harness: invalid UTF-8 in the query text at byte {error.start}, "
                "send the query as UTF-8 or its data after FORMAT",
            ) from None

    def _check_single_statement(self, sql: str, shape: QueryShape) -> None:
        # chdb runs several statements in one call, but ClickHouse's HTTP interface rejects them.
        if not shape.keyword:
            raise self.engine.error("SYNTAX_ERROR", "Empty query")
        if shape.second_statement_at is not None:
            position = shape.second_statement_at
            raise self.engine.error(
                "SYNTAX_ERROR",
                "Syntax error (Multi-statements are not allowed): "
                f"failed at position {position + 1}: {sql[position : position + 40]}",
            )

    def _headers(
        self, request: QueryRequest, format_name: str | None, summary: dict[str, str]
    ) -> dict[str, str]:
        headers = {
            "Content-Type": content_type(format_name) if format_name else TEXT_PLAIN,
            "X-ClickHouse-Query-Id": request.query_id,
            "X-ClickHouse-Timezone": self.engine.timezone,
            **summary,
        }
        if format_name:
            headers["X-ClickHouse-Format"] = format_name
        return headers


# --- HTTP ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Credentials:
    user: str
    password: str


def request_credentials(headers, params: dict[str, str], engine: Engine) -> Credentials:
    """Read the user and password the way ClickHouse's authenticateUserByHTTP does.

    The `X-ClickHouse-User`/`X-ClickHouse-Key` headers, HTTP Basic auth and the
    `user`/`password` URL parameters exclude each other. Without any of them the user
    is `default` with an empty password.
    """
    user = headers.get("X-ClickHouse-User", "")
    key = headers.get("X-ClickHouse-Key", "")
    authorization = headers.get("Authorization", "")
    in_params = "user" in params or "password" in params
    if user or key:
        if authorization:
            raise _mixed_methods(engine, "X-ClickHouse HTTP headers", "Authorization HTTP header")
        if in_params:
            raise _mixed_methods(
                engine, "X-ClickHouse HTTP headers", "authentication via parameters"
            )
        return _non_empty_user(Credentials(user, key), "X-ClickHouse HTTP headers", engine)
    if authorization:
        if in_params:
            raise _mixed_methods(
                engine, "Authorization HTTP header", "authentication via parameters"
            )
        return _non_empty_user(
            _basic_credentials(authorization, engine), "Authorization HTTP header", engine
        )
    credentials = Credentials(params.get("user", "default"), params.get("password", ""))
    return _non_empty_user(credentials, "authentication via parameters", engine)


def _basic_credentials(authorization: str, engine: Engine) -> Credentials:
    scheme, _, encoded = authorization.partition(" ")
    if scheme.lower() != "basic":
        raise engine.error(
            "AUTHENTICATION_FAILED",
            f"Invalid authentication: '{scheme}' HTTP Authorization scheme is not supported",
        )
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except ValueError:
        raise engine.error(
            "AUTHENTICATION_FAILED", "Invalid authentication: malformed Basic credentials"
        ) from None
    user, _, password = decoded.partition(":")
    return Credentials(user, password)


def _mixed_methods(engine: Engine, first: str, second: str) -> ClickHouseError:
    return engine.error(
        "AUTHENTICATION_FAILED",
        f"Invalid authentication: it is not allowed to use {first} and {second} simultaneously",
    )


def _non_empty_user(credentials: Credentials, method: str, engine: Engine) -> Credentials:
    if not credentials.user:
        raise engine.error("AUTHENTICATION_FAILED", f"Got an empty user name from {method}")
    return credentials


def check_credentials(given: Credentials, expected: Credentials, engine: Engine) -> None:
    """Raise ClickHouse's error for wrong credentials.

    An empty password for a user that has one is REQUIRED_PASSWORD, with HTTP 401 so
    that a browser prompts for it. Any other mismatch is AUTHENTICATION_FAILED (403).
    """
    if given == expected:
        return
    name = (
        "REQUIRED_PASSWORD" if not given.password and expected.password else "AUTHENTICATION_FAILED"
    )
    raise engine.error(
        name,
        f"{given.user}: Authentication failed: password is incorrect, "
        "or there is no user with such name",
    )


def read_body(handler: BaseHTTPRequestHandler, limit: int) -> BinaryIO:
    """Spool the request body to memory or a temporary file, decoding chunked encoding.

    Raises ConnectionError when the client closes the connection before the body ends,
    so that a cut-off INSERT never reaches the database.
    """
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_MEMORY_BYTES)  # noqa: SIM115
    try:
        if "chunked" in handler.headers.get("Transfer-Encoding", "").lower():
            _copy_chunked(handler.rfile, spool, limit)
        else:
            size = int(handler.headers.get("Content-Length") or 0)
            if size > limit:
                raise BodyTooLarge(size)
            _copy_exact(handler.rfile, spool, size)
    except BaseException:
        spool.close()
        raise
    spool.seek(0)
    return spool


def _copy_exact(source: BinaryIO, target: BinaryIO, size: int) -> None:
    while size > 0:
        chunk = source.read(min(size, 1 << 20))
        if not chunk:
            raise ConnectionError("client closed the connection inside the request body")
        target.write(chunk)
        size -= len(chunk)


def _copy_chunked(source: BinaryIO, target: BinaryIO, limit: int) -> int:
    """Copy a chunked body (RFC 9112 section 7.1) and return its decoded size."""
    total = 0
    while True:
        line = source.readline(1024)
        if not line.endswith(b"\n"):
            raise ConnectionError("client closed the connection inside a chunk header")
        size = int(line.split(b";", 1)[0].strip(), 16)
        if size == 0:
            break
        total += size
        if total > limit:
            raise BodyTooLarge(total)
        _copy_exact(source, target, size)
        if source.readline(3).strip():
            raise ConnectionError("chunk data is not followed by CRLF")
    while source.readline(65537).strip():
        pass  # trailer fields, which ClickHouse ignores too
    return total


def parse_multipart(content_type_header: str, body: BinaryIO, engine: Engine) -> dict[str, str]:
    """Return the fields of a multipart/form-data body, which the crate uses for `param_*`."""
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        f"Content-Type: {content_type_header}\r\n\r\n".encode() + body.read()
    )
    fields = {}
    for part in message.iter_parts():
        if part.get_filename() is not None:
            raise engine.error(
                "NOT_IMPLEMENTED",
                "harness: external data tables in multipart bodies are not supported",
            )
        fields[part.get_param("name", header="content-disposition")] = part.get_payload(
            decode=True
        ).decode("utf-8")
    return fields


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "chdb-server"
    timeout = IDLE_CONNECTION_TIMEOUT_S

    # Set by `serve()` on the class.
    engine: Engine
    runner: QueryRunner
    credentials: Credentials
    max_body_bytes: int

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_HEAD(self) -> None:
        self._handle("HEAD")

    def _handle(self, method: str) -> None:
        started = time.monotonic()
        url = urlsplit(self.path)
        params = parse_qsl(url.query, keep_blank_values=True)
        if url.path in ("/ping", "/replicas_status") or (
            url.path == "/" and method != "POST" and not _has(params, "query")
        ):
            reply = Reply(200, b"Ok.\n", {"Content-Type": TEXT_PLAIN})
        elif url.path != "/":
            reply = Reply(
                404, f"There is no handle {url.path}\n".encode(), {"Content-Type": TEXT_PLAIN}
            )
        else:
            reply = self._query_reply(method, params)
            if reply is None:
                return  # the connection broke while the body was read
        self._send(reply, method)
        elapsed_ms = (time.monotonic() - started) * 1e3
        code = reply.headers.get("X-ClickHouse-Exception-Code", "0")
        query_id = reply.headers.get("X-ClickHouse-Query-Id", "-")
        self.log_message(
            "%s %s status=%d code=%s query_id=%s %.1f ms",
            *(method, url.path, reply.status, code, query_id, elapsed_ms),
        )

    def _query_reply(self, method: str, params: list[tuple[str, str]]) -> Reply | None:
        query_id = self._query_id(params)
        if method == "POST" and not self._body_is_framed():
            self.close_connection = True  # without framing the body's end is unknown
            failure = self.engine.error(
                "HTTP_LENGTH_REQUIRED",
                "The Transfer-Encoding is not chunked and there is no Content-Length header "
                "for POST request",
            )
            return self._error_reply(failure, query_id)
        try:
            body = read_body(self, self.max_body_bytes)
        except (OSError, ValueError) as error:  # a closed connection or a bad chunk header
            self.close_connection = True
            self.log_message("query_id=%s dropped, request body incomplete: %s", query_id, error)
            return None
        except BodyTooLarge as error:
            self.close_connection = True  # the rest of the body is still on the socket
            failure = self.engine.error(
                "QUERY_IS_TOO_LARGE", f"harness: request body exceeds --max-body-bytes ({error})"
            )
            return self._error_reply(failure, query_id)
        try:
            return self.runner.run(self._query_request(method, params, body, query_id))
        except ClickHouseError as error:
            return self._error_reply(error, query_id)
        except Exception as error:  # a harness bug, reported the way ClickHouse reports one
            traceback.print_exc()
            failure = self.engine.error(
                "STD_EXCEPTION", f"harness: {type(error).__name__}: {error}"
            )
            return self._error_reply(failure, query_id)
        finally:
            body.close()

    def _body_is_framed(self) -> bool:
        chunked = "chunked" in self.headers.get("Transfer-Encoding", "").lower()
        return chunked or "Content-Length" in self.headers

    def _query_id(self, params: list[tuple[str, str]]) -> str:
        given = dict(params).get("query_id") or self.headers.get("X-ClickHouse-Query-Id", "")
        return given or str(uuid.uuid4())

    def _query_request(self, method, params, body, query_id) -> QueryRequest:
        named = dict(params)
        check_credentials(
            request_credentials(self.headers, named, self.engine), self.credentials, self.engine
        )
        self._reject_unsupported(named)
        param_text = named.get("query")
        if self.headers.get("Content-Type", "").startswith("multipart/form-data"):
            fields = parse_multipart(self.headers["Content-Type"], body, self.engine)
            param_text = fields.pop("query", param_text)
            params = params + list(fields.items())
            body = io.BytesIO()
        settings = [
            (k, v)
            for k, v in params
            if k and k not in RESERVED_PARAMS and not k.startswith("param_")
        ]
        return QueryRequest(
            method=method,
            param_text=param_text,
            body=body,
            database=self.headers.get("X-ClickHouse-Database", named.get("database", "")),
            default_format=self.headers.get("X-ClickHouse-Format", named.get("default_format", "")),
            query_id=query_id,
            roles=[v for k, v in params if k == "role"],
            settings=settings,
            query_params={k[len("param_") :]: v for k, v in params if k.startswith("param_")},
        )

    def _reject_unsupported(self, params: dict[str, str]) -> None:
        # NOTE: HTTP sessions, compressed bodies and ClickHouse's block compression are
        # not served, which is safe because the crate sends none with `Compression::None`.
        for name in ("session_id", "compress", "decompress"):
            if params.get(name, "0") not in ("", "0"):
                raise self.engine.error(
                    "NOT_IMPLEMENTED",
                    f"harness: the '{name}' URL parameter is not supported, "
                    "send the request without it",
                )
        encoding = self.headers.get("Content-Encoding", "identity").strip().lower()
        if encoding not in ("", "identity"):
            raise self.engine.error(
                "NOT_IMPLEMENTED",
                f"harness: Content-Encoding '{encoding}' is not supported, "
                "send the body uncompressed",
            )

    def _error_reply(self, error: ClickHouseError, query_id: str) -> Reply:
        status = self.engine.http_status(error.code)
        headers = {
            "Content-Type": TEXT_PLAIN,
            "X-ClickHouse-Exception-Code": str(error.code),
            "X-ClickHouse-Query-Id": query_id,
        }
        if status == 401:
            headers["WWW-Authenticate"] = 'Basic realm="ClickHouse server HTTP API"'
        return Reply(status, error.message.encode() + b"\n", headers)

    def _send(self, reply: Reply, method: str) -> None:
        self.send_response(reply.status)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.send_header("X-ClickHouse-Server-Display-Name", socket.gethostname())
        self.send_header("Content-Length", str(len(reply.body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        else:
            self.send_header("Keep-Alive", f"timeout={IDLE_CONNECTION_TIMEOUT_S}")
        self.end_headers()
        if method != "HEAD":
            self.wfile.write(reply.body)

    def log_message(self, format: str, *args) -> None:
        # The request line is left out because its URL can carry a password.
        sys.stderr.write(f"chdb-server: {format % args}\n")

    def log_request(self, code="-", size="-") -> None:
        pass  # `_handle` logs each request with its timing instead


def _has(params: list[tuple[str, str]], name: str) -> bool:
    return any(key == name for key, _ in params)


class LoopbackServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def check_loopback(host: str) -> None:
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except socket.gaierror as error:
        raise SystemExit(f"chdb-server: cannot resolve --host {host!r}: {error}") from None
    if not all(ipaddress.ip_address(address.split("%")[0]).is_loopback for address in addresses):
        raise SystemExit(
            f"chdb-server: --host {host!r} is not a loopback address; use 127.0.0.1 or ::1"
        )


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", required=True, help="database folder, created if missing")
    parser.add_argument(
        "--host", default="127.0.0.1", help="loopback address to bind (default 127.0.0.1)"
    )
    parser.add_argument(
        "--port", type=int, default=0, help="port to bind; 0 picks a free one (default 0)"
    )
    parser.add_argument(
        "--user", default="default", help="the one user accepted (default 'default')"
    )
    parser.add_argument("--password", default="", help="that user's password (default empty)")
    parser.add_argument(
        "--max-body-bytes",
        type=int,
        default=1 << 30,
        help="largest request body accepted (default 1 GiB)",
    )
    return parser.parse_args(argv)


def serve(args: argparse.Namespace) -> None:
    check_loopback(args.host)
    engine = Engine(args.data_dir)
    Handler.engine = engine
    Handler.runner = QueryRunner(engine)
    Handler.credentials = Credentials(args.user, args.password)
    Handler.max_body_bytes = args.max_body_bytes
    LoopbackServer.address_family = socket.AF_INET6 if ":" in args.host else socket.AF_INET
    server = LoopbackServer((args.host, args.port), Handler)

    stop = threading.Event()
    for signal_number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signal_number, lambda *_: stop.set())
    worker = threading.Thread(target=server.serve_forever, name="chdb-server", daemon=True)
    worker.start()
    host, port = server.server_address[:2]
    print(f"chdb-server listening on {host}:{port}", flush=True)

    stop.wait()
    # Each phase of the stop is logged, so a stop that hangs shows where it hangs.
    # SIGUSR1 writes every thread's stack to the log (see `register_stack_dump`).
    log_phase("stopping: closing the HTTP server")
    server.shutdown()
    server.server_close()
    # `close()` waits for the query in progress, if any, before it closes the database.
    log_phase("stopping: closing the database")
    engine.close()
    log_phase("stopped")


def log_phase(text: str) -> None:
    print(f"chdb-server: {text}", file=sys.stderr, flush=True)


def register_stack_dump() -> None:
    """Make SIGUSR1 write the stack of every thread to stderr, the harness's log."""
    faulthandler.register(signal.SIGUSR1, file=sys.stderr, all_threads=True)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    register_stack_dump()
    serve(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())

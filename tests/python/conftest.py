"""Fixtures that run the real `exos serve` binary for end-to-end tests.

Every server listens on loopback ports that the operating system picks (port
0), writes into a fresh data folder under pytest's tmp_path, and is stopped
with SIGTERM at teardown. A server that exits non-zero on SIGTERM fails the
test, because a clean shutdown (drain, checkpoint, exit 0) is part of the
contract under test.

The binary comes from `EXOS_BIN`, or `~/.cache/exos-target/debug/exos` when
that is unset (build it with `cargo build -p exos`).

With `EXOS_TEST_STORE=clickhouse` every server stores into ClickHouse instead (see
stores.py): the factory starts a chdb harness for each new data folder and stops
it after the servers. A server restarted on the same data folder reuses the
harness of that folder, so what the first server stored is still there.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from stores import ChdbHarness, ON_CLICKHOUSE

# Helper modules whose asserts should explain their failures like a test's.
pytest.register_assert_rewrite("otel_rows", "metric_checks")

EXOS_BIN = os.environ.get(
    "EXOS_BIN", os.path.expanduser("~/.cache/exos-target/debug/exos")
)
READY_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 60.0
SQL_TIMEOUT_S = 60.0

PASSWORD_LINE = re.compile(r"^admin password: (\S+)$")
INGEST_KEY_LINE = re.compile(r"^ingest key: (\S+)$")
READY_LINE = re.compile(
    r"^exos ready: http=(\S+:\d+) otlp_http=(\S+:\d+) otlp_grpc=(\S+:\d+)$"
)

SERVE_ADDR_FLAGS = (
    "--http-addr",
    "127.0.0.1:0",
    "--otlp-http-addr",
    "127.0.0.1:0",
    "--otlp-grpc-addr",
    "127.0.0.1:0",
)


@dataclass(frozen=True)
class Credentials:
    """Secrets that `exos serve` prints once, on its first start in a data folder."""

    admin_password: str
    ingest_key: str


class SqlError(AssertionError):
    """`POST /api/sql` returned a status other than 200."""


class ExosServer:
    """One `exos serve` process and the addresses it printed when ready."""

    def __init__(
        self,
        data_dir: Path,
        stderr_path: Path,
        extra_args: tuple[str, ...],
        credentials: Credentials | None,
        harness: ChdbHarness | None = None,
    ):
        self.data_dir = data_dir
        self.stderr_path = stderr_path
        self.extra_args = extra_args
        # The ClickHouse engine behind the server, when the suite runs on ClickHouse.
        self.harness = harness
        self.stdout_lines: list[str] = []
        self.returncode: int | None = None
        self._password: str | None = None
        self._ingest_key: str | None = None
        self._known_credentials = credentials
        self._ready = threading.Event()
        self._addresses: tuple[str, str, str] | None = None
        self._process: subprocess.Popen | None = None

    # -- lifecycle ---------------------------------------------------------

    def start(self) -> None:
        if not os.access(EXOS_BIN, os.X_OK):
            pytest.fail(
                f"exos binary not found or not executable at {EXOS_BIN}: "
                "build it with `cargo build -p exos` or set EXOS_BIN"
            )
        command = [
            EXOS_BIN,
            "serve",
            "--data-dir",
            str(self.data_dir),
            *SERVE_ADDR_FLAGS,
            *self.extra_args,
            *self.store_args,
        ]
        self._process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self.stderr_path.open("ab"),
            env=_server_environment(),
            text=True,
            bufsize=1,
        )
        threading.Thread(target=self._read_stdout, daemon=True).start()
        self._wait_ready()

    @property
    def store_args(self) -> tuple[str, ...]:
        if self.harness is None:
            return ()
        return ("--clickhouse-url", self.harness.url)

    def _read_stdout(self) -> None:
        assert self._process is not None and self._process.stdout is not None
        for raw_line in self._process.stdout:
            line = raw_line.rstrip("\r\n")
            self.stdout_lines.append(line)
            if match := PASSWORD_LINE.match(line):
                self._password = match.group(1)
            elif match := INGEST_KEY_LINE.match(line):
                self._ingest_key = match.group(1)
            elif match := READY_LINE.match(line):
                self._addresses = (match.group(1), match.group(2), match.group(3))
                self._ready.set()
        # End of stdout: the process has exited, so waiters must stop waiting.
        self._ready.set()

    def _wait_ready(self) -> None:
        self._ready.wait(READY_TIMEOUT_S)
        if self._addresses is not None:
            return
        exited = self._process.poll()
        if exited is None:
            self._process.kill()
            self._process.wait()
            reason = f"did not print its ready line within {READY_TIMEOUT_S:.0f} s"
        else:
            reason = f"exited with status {exited} before printing its ready line"
        pytest.fail(
            f"exos serve {reason}.\n"
            f"command args: {self.extra_args + self.store_args}\n"
            f"stdout:\n{self.stdout_text()}\n"
            f"stderr (last 4000 chars):\n{self.stderr_tail()}"
            + self.harness_log()
        )

    def stop(self, sig: int = signal.SIGTERM) -> int:
        """Send `sig`, wait for the exit and return the exit status."""
        if self.returncode is not None:
            return self.returncode
        self._process.send_signal(sig)
        try:
            self.returncode = self._process.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
            pytest.fail(
                f"exos serve did not exit within {STOP_TIMEOUT_S:.0f} s of signal "
                f"{signal.Signals(sig).name}.\nstderr:\n{self.stderr_tail()}"
            )
        return self.returncode

    def kill(self) -> int:
        """Kill the server with SIGKILL, as a crash or power loss would."""
        return self.stop(signal.SIGKILL)

    @property
    def pid(self) -> int:
        return self._process.pid

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    # -- what the server printed ----------------------------------------------

    @property
    def printed_credentials(self) -> bool:
        return self._password is not None or self._ingest_key is not None

    @property
    def credentials(self) -> Credentials:
        if self._password is not None and self._ingest_key is not None:
            return Credentials(self._password, self._ingest_key)
        if self._known_credentials is not None:
            return self._known_credentials
        pytest.fail(
            "exos serve printed no `admin password:` and `ingest key:` lines on "
            f"its first start.\nstdout:\n{self.stdout_text()}"
        )

    @property
    def ingest_key(self) -> str:
        return self.credentials.ingest_key

    @property
    def admin_password(self) -> str:
        return self.credentials.admin_password

    @property
    def http_url(self) -> str:
        return f"http://{self._addresses[0]}"

    @property
    def otlp_http_url(self) -> str:
        return f"http://{self._addresses[1]}"

    @property
    def otlp_grpc_address(self) -> str:
        """`host:port` of the OTLP/gRPC listener, as gRPC channels take it."""
        return self._addresses[2]

    def harness_log(self) -> str:
        """Return the tail of the chdb harness log as a message part, or '' on DuckDB."""
        if self.harness is None:
            return ""
        return f"\nchdb harness log (last 4000 chars):\n{self.harness.log_tail()}"

    def stdout_text(self) -> str:
        return "\n".join(self.stdout_lines)

    def stderr_tail(self, chars: int = 4000) -> str:
        try:
            return self.stderr_path.read_text(errors="replace")[-chars:]
        except FileNotFoundError:
            return "<no stderr file>"

    # -- SQL ------------------------------------------------------------------

    def sql_response(self, query: str) -> dict:
        """Run `query` through `POST /api/sql` and return the decoded JSON body."""
        response = requests.post(
            f"{self.http_url}/api/sql",
            json={"sql": query},
            auth=("admin", self.admin_password),
            timeout=SQL_TIMEOUT_S,
        )
        if response.status_code != 200:
            raise SqlError(
                f"POST /api/sql returned {response.status_code} for query:\n{query}\n"
                f"body: {response.text[:2000]}"
                + (self.harness_log() if response.status_code >= 500 else "")
            )
        return response.json()

    def sql(self, query: str) -> list[dict]:
        """Run `query` and return its rows as dicts keyed by column name."""
        body = self.sql_response(query)
        assert body["truncated"] is False, f"result truncated for query:\n{query}"
        names = [column["name"] for column in body["columns"]]
        return [dict(zip(names, row)) for row in body["rows"]]

    def sql_value(self, query: str):
        """Run a query that returns one row of one column and return that value."""
        rows = self.sql_response(query)["rows"]
        assert len(rows) == 1, f"expected one row, got {len(rows)} for:\n{query}"
        assert len(rows[0]) == 1, f"expected one column, got {rows[0]} for:\n{query}"
        return rows[0][0]


def _server_environment() -> dict[str, str]:
    # EXOS_* variables of the calling shell (EXOS_QUEUE_BYTES, say) would
    # change settings that the test did not pass as flags, so they are dropped.
    environment = {
        name: value for name, value in os.environ.items() if not name.startswith("EXOS_")
    }
    environment.setdefault("RUST_BACKTRACE", "1")
    return environment


class ExosFactory:
    """Starts servers for one test or module and stops them all at its end.

    A restart passes the first server's data folder and credentials, because
    `exos serve` prints the credentials only on the first start. On ClickHouse
    the restart also gets the first server's harness, started again on the same
    port and data when it is no longer running.
    """

    def __init__(self, tmp_path: Path):
        self._tmp_path = tmp_path
        self.servers: list[ExosServer] = []
        self.harnesses: dict[Path, ChdbHarness] = {}

    def start(
        self,
        extra_args: tuple[str, ...] = (),
        data_dir: Path | None = None,
        credentials: Credentials | None = None,
    ) -> ExosServer:
        index = len(self.servers)
        if data_dir is None:
            data_dir = self._tmp_path / f"exos-data-{index}"
            data_dir.mkdir()
        server = ExosServer(
            data_dir=data_dir,
            stderr_path=self._tmp_path / f"exos-{index}.stderr",
            extra_args=tuple(extra_args),
            credentials=credentials,
            harness=self._harness_for(data_dir, index) if ON_CLICKHOUSE else None,
        )
        self.servers.append(server)
        server.start()
        return server

    def _harness_for(self, data_dir: Path, index: int) -> ChdbHarness:
        """Return the harness of `data_dir`, starting one on a fresh folder if there is none."""
        harness = self.harnesses.get(data_dir)
        if harness is None:
            chdb_dir = self._tmp_path / f"chdb-data-{index}"
            chdb_dir.mkdir()
            harness = ChdbHarness(chdb_dir, self._tmp_path / f"chdb-{index}.log")
            harness.start()
            self.harnesses[data_dir] = harness
        elif harness.returncode is None and not harness.running:
            pytest.fail(
                f"chdb_server.py (pid {harness.pid}) exited by itself before the restart.\n"
                f"log (last 4000 chars):\n{harness.log_tail()}"
            )
        elif harness.returncode is not None:
            # The test stopped the harness: start it again on the same port and data.
            harness.restart()
        return harness

    def stop_all(self) -> list[str]:
        """Stop every server still running, then the harnesses, and list the unclean exits.

        The harnesses stop last because a server drains its queue into the store on SIGTERM.
        """
        failures = [failure for server in self.servers if (failure := _stop_server(server))]
        for harness in self.harnesses.values():
            if harness.returncode is None and not harness.running:
                failures.append(
                    f"chdb_server.py (pid {harness.pid}) exited by itself during the test.\n"
                    f"log (last 4000 chars):\n{harness.log_tail()}"
                )
                continue
            status = harness.stop(signal.SIGTERM)
            if status != 0:
                failures.append(
                    f"chdb_server.py (pid {harness.pid}) exited with status {status} on "
                    f"SIGTERM.\nlog (last 4000 chars):\n{harness.log_tail()}"
                )
        return failures


def _stop_server(server: ExosServer) -> str | None:
    """Stop `server` with SIGTERM if it still runs, and describe an unclean exit."""
    if server.returncode is not None:
        return None
    if not server.running:
        # The test never stopped it: the server died on its own.
        server.returncode = server._process.returncode
        return (
            f"exos serve (pid {server.pid}) exited by itself during the test "
            f"with status {server.returncode}.\nstderr (last 4000 chars):\n"
            f"{server.stderr_tail()}"
        )
    status = server.stop(signal.SIGTERM)
    if status != 0:
        return (
            f"exos serve (pid {server.pid}) exited with status {status} on "
            f"SIGTERM.\nstderr (last 4000 chars):\n{server.stderr_tail()}"
        )
    return None


def _stop_or_fail(factory: ExosFactory) -> None:
    failures = factory.stop_all()
    if failures:
        pytest.fail("\n\n".join(failures))


@pytest.fixture
def exos_factory(tmp_path: Path):
    factory = ExosFactory(tmp_path)
    yield factory
    _stop_or_fail(factory)


@pytest.fixture
def exos(exos_factory: ExosFactory) -> ExosServer:
    """A running `exos serve` on a fresh data folder with default settings."""
    return exos_factory.start()


@pytest.fixture(scope="module")
def module_exos(tmp_path_factory) -> ExosServer:
    """One server shared by the tests of a module, for modules whose tests
    read different tables of the same run (each test still filters by its
    own service name)."""
    factory = ExosFactory(tmp_path_factory.mktemp("exos"))
    yield factory.start()
    _stop_or_fail(factory)


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return Path(__file__).resolve().parents[2]

"""The store under test, and the ClickHouse engine that serves it when asked for.

`EXOS_TEST_STORE=clickhouse` runs every `exos serve` of the suite on ClickHouse, as
the Rust end-to-end tests do (`crates/exos/tests/common/mod.rs`). Each server then
gets its own `tests/clickhouse/chdb_server.py`: the real ClickHouse engine (chdb)
behind ClickHouse's HTTP interface, on a fresh data folder and a loopback port.
Any other value, or none, keeps the embedded DuckDB store.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

STORE_VARIABLE = "EXOS_TEST_STORE"
ON_CLICKHOUSE = os.environ.get(STORE_VARIABLE) == "clickhouse"

HARNESS = Path(__file__).resolve().parents[1] / "clickhouse" / "chdb_server.py"
LISTENING_LINE = re.compile(r"^chdb-server listening on (\S+):(\d+)$")
HARNESS_READY_TIMEOUT_S = 60.0
HARNESS_STOP_TIMEOUT_S = 60.0

only_duckdb = pytest.mark.skipif(ON_CLICKHOUSE, reason="runs on the DuckDB store only")
only_clickhouse = pytest.mark.skipif(
    not ON_CLICKHOUSE, reason=f"runs on the ClickHouse store only ({STORE_VARIABLE}=clickhouse)"
)


def by_store(duckdb, clickhouse):
    """Return the DuckDB or the ClickHouse form of a query or value, for the store under test."""
    return clickhouse if ON_CLICKHOUSE else duckdb


class ChdbHarness:
    """One `chdb_server.py` process, its data folder and the port it listens on.

    The harness runs with the Python that runs pytest, whose environment has chdb
    (tests/python/requirements.txt).
    """

    def __init__(self, data_dir: Path, log_path: Path):
        self.data_dir = data_dir
        self.log_path = log_path
        self.port = 0
        self.returncode: int | None = None
        self._process: subprocess.Popen | None = None

    def start(self) -> None:
        """Start the harness on `self.port` (0 the first time) and wait for its listening line."""
        self.returncode = None
        self._process = subprocess.Popen(
            [sys.executable, str(HARNESS), "--data-dir", str(self.data_dir), "--port", str(self.port)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self.log_path.open("ab"),
            text=True,
        )
        address = self._read_address()
        if address is None:
            self._process.kill()
            self._process.wait()
            pytest.fail(
                f"chdb_server.py printed no `chdb-server listening on HOST:PORT` line within "
                f"{HARNESS_READY_TIMEOUT_S:.0f} s (exit status {self._process.returncode}).\n"
                f"log (last 4000 chars):\n{self.log_tail()}"
            )
        self.host, self.port = address

    def _read_address(self) -> tuple[str, int] | None:
        found: list[tuple[str, int]] = []
        printed = threading.Event()

        def read_stdout() -> None:
            # Reading goes on after the address, so the harness never blocks on a full pipe.
            for line in self._process.stdout:
                match = LISTENING_LINE.match(line.rstrip("\n"))
                if match and not found:
                    found.append((match.group(1), int(match.group(2))))
                    printed.set()
            printed.set()

        threading.Thread(target=read_stdout, daemon=True).start()
        printed.wait(HARNESS_READY_TIMEOUT_S)
        return found[0] if found else None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def pid(self) -> int:
        return self._process.pid

    def restart(self) -> None:
        """Kill the harness, as a crash would, and start it again on the same port and data."""
        self.stop(signal.SIGKILL)
        self.start()

    def stop(self, sig: int = signal.SIGTERM) -> int:
        """Send `sig`, wait for the exit and return the exit status."""
        if self.returncode is not None:
            return self.returncode
        if self._process.poll() is None:
            self._process.send_signal(sig)
        try:
            self.returncode = self._process.wait(HARNESS_STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self.returncode = self._process.wait()
            pytest.fail(
                f"chdb_server.py (pid {self.pid}) did not exit within "
                f"{HARNESS_STOP_TIMEOUT_S:.0f} s of {signal.Signals(sig).name}.\n"
                f"log (last 4000 chars):\n{self.log_tail()}"
            )
        return self.returncode

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except FileNotFoundError:
            return "<no log file>"

"""Fixtures that run `chdb_server.py`, the ClickHouse HTTP harness, as a child process.

Each server binds 127.0.0.1 on a port the operating system picks, keeps its database
in a folder under pytest's tmp_path, and is stopped with SIGTERM at teardown. A
non-zero exit status on SIGTERM fails the test, because closing the database cleanly
is part of what the harness promises.
"""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

HARNESS = Path(__file__).with_name("chdb_server.py")
LISTENING_LINE = re.compile(r"^chdb-server listening on (\S+):(\d+)$")
STOP_TIMEOUT_S = 60.0


class ChdbServer:
    """One harness process and the address it printed."""

    def __init__(self, data_dir: Path, log_path: Path, extra_args: tuple[str, ...] = ()):
        self.data_dir = data_dir
        self.log_path = log_path
        self.extra_args = extra_args
        self.returncode: int | None = None
        command = [sys.executable, str(HARNESS), "--data-dir", str(data_dir), *extra_args]
        self._process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=log_path.open("ab"),
            text=True,
        )
        line = self._process.stdout.readline().rstrip("\n")
        match = LISTENING_LINE.match(line)
        if match is None:
            self._process.kill()
            self._process.wait()
            pytest.fail(
                f"chdb_server.py printed {line!r} instead of its listening line.\n"
                f"log:\n{self.log_tail()}"
            )
        self.host, self.port = match.group(1), int(match.group(2))

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def stop(self, sig: int = signal.SIGTERM) -> int:
        """Send `sig`, wait for the exit and return the exit status."""
        if self.returncode is None:
            self._process.send_signal(sig)
            try:
                self.returncode = self._process.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                # Ask for every thread's stack in the log before the kill, so the
                # failure shows where the stop hung.
                self._process.send_signal(signal.SIGUSR1)
                time.sleep(2)
                self._process.kill()
                self._process.wait()
                pytest.fail(
                    f"chdb_server.py ignored {signal.Signals(sig).name} for {STOP_TIMEOUT_S:.0f} s"
                    f"\nlog:\n{self.log_tail(12000)}"
                )
        return self.returncode

    def log_tail(self, size: int = 4000) -> str:
        return self.log_path.read_text(errors="replace")[-size:]


@pytest.fixture()
def start_server(tmp_path):
    """Return a function that starts a harness on a data folder, stopping each at teardown."""
    servers: list[ChdbServer] = []

    def start(data_dir: Path | None = None, *extra_args: str) -> ChdbServer:
        server = ChdbServer(
            data_dir or tmp_path / "data", tmp_path / f"server-{len(servers)}.log", extra_args
        )
        servers.append(server)
        return server

    yield start
    for server in servers:
        status = server.stop()
        assert status in (0, -signal.SIGKILL), (
            f"chdb_server.py exited with {status} on SIGTERM\n{server.log_tail()}"
        )


@pytest.fixture()
def server(start_server) -> ChdbServer:
    return start_server()

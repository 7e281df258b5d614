"""A real Redis server for the sandbox: Debian's ``redis-server`` on a loopback port,
with a password, no persistence and its own working directory.

The sandbox starts it and stops it by its process id. Where the binary is missing the
checks that need Redis are reported as not run, saying which package to install.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path
from typing import Any, Self

from sandbox.parts.http import HOST
from sandbox.parts.lifecycle import Managed

BINARY = "redis-server"
INSTALL_HINT = "apt-get install redis-server"
READY_TIMEOUT = 10.0
STOP_TIMEOUT = 5.0


def available() -> tuple[bool, str]:
    found = shutil.which(BINARY, path="/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin")
    if found:
        return True, f"{BINARY} at {found}"
    return False, f"{BINARY} not found: {INSTALL_HINT}"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


class RedisServer(Managed):
    """``redis-server`` listening on ``127.0.0.1:<port>`` and nowhere else; every client
    must AUTH with ``password``. Nothing is ever written to disk."""

    name = "redis"

    def __init__(self, workdir: Path, password: str) -> None:
        self._dir = workdir
        self.password = password
        self.port = 0
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def start(self) -> Self:
        ok, reason = available()
        if not ok:
            raise RuntimeError(reason)
        self._dir.mkdir(parents=True, exist_ok=True)
        self.port = _free_port()
        conf = self._dir / "redis.conf"
        # The password goes in a file only the sandbox reads, never on a command line.
        conf.write_text("\n".join([
            f"bind {HOST}", f"port {self.port}", "protected-mode yes", 'save ""',
            "appendonly no", f"dir {self._dir}", f"logfile {self._dir / 'redis.log'}",
            f"requirepass {self.password}", "daemonize no", ""]), encoding="utf-8")
        conf.chmod(0o600)
        # Its own process group, as PostgreSQL's: a terminal's Ctrl-C is the run's to act on.
        self._proc = subprocess.Popen([shutil.which(BINARY) or BINARY, str(conf)],
                                      stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL, process_group=0)
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                break
            try:
                if self.client().ping():
                    return self
            except Exception:  # noqa: BLE001 - not listening yet
                time.sleep(0.02)
        tail = self._log_tail()
        self.stop()
        raise RuntimeError(f"{BINARY} did not start ({tail or 'no log'})")

    def _log_tail(self) -> str:
        path = self._dir / "redis.log"
        lines = path.read_text(errors="replace").splitlines() if path.exists() else []
        return lines[-1].strip() if lines else ""

    def url(self) -> str:
        return f"redis://:{self.password}@{HOST}:{self.port}/0"

    def client(self, timeout: float | None = 2.0) -> Any:
        """A client for seeding state before the diagnostics run (``timeout=None`` for
        one that waits on the server, such as a MONITOR)."""
        import redis

        return redis.Redis(host=HOST, port=self.port, password=self.password,
                           socket_timeout=timeout, socket_connect_timeout=2.0)

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(STOP_TIMEOUT)

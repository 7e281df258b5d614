"""A loopback Pushgateway stand-in: keeps what is pushed, by grouping path, so the
self-tests can read back exactly what a run sent.

It honours the part of the Pushgateway's API a push uses: ``PUT`` or ``POST`` of the text
exposition format to ``/metrics/job/<job>{/<label>/<value>}``, answered 200; a ``GET`` of
``/metrics`` returns every group pushed so far.
"""

from __future__ import annotations

import shutil
import subprocess
import threading
import time
import urllib.request

from sandbox.parts.http import (
    HOST,
    HttpService,
    Request,
    RequestLog,
    Response,
    refused_port,
    text_response,
)

PREFIX = "/metrics/job/"


class Pushgateway:
    def __init__(self) -> None:
        self.groups: dict[str, str] = {}
        self.log = RequestLog()
        self._lock = threading.Lock()
        self._service = HttpService("pushgateway", self._app, self.log)
        self.url = ""

    def _app(self, request: Request) -> Response:
        if request.method in ("PUT", "POST") and request.path.startswith(PREFIX):
            with self._lock:
                self.groups[request.path] = request.body.decode("utf-8")
            return text_response(200, "")
        if request.method == "GET" and request.path == "/metrics":
            with self._lock:
                return text_response(200, "".join(self.groups.values()),
                                     "text/plain; version=0.0.4; charset=utf-8")
        return text_response(404, "not found")

    def __enter__(self) -> Pushgateway:
        self.url = self._service.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._service.stop()


BINARY = "prometheus-pushgateway"  # Debian's package of the real Pushgateway


class RealPushgateway:
    """The real Pushgateway (Debian's ``prometheus-pushgateway``) on a loopback port, for
    proving that a push is accepted by the genuine article, not only by the stand-in."""

    def __init__(self) -> None:
        self.url = ""
        self._process: subprocess.Popen | None = None

    @staticmethod
    def available() -> str | None:
        """Why it cannot run here, or None."""
        return None if shutil.which(BINARY) else (
            f"{BINARY} not found: apt-get install prometheus-pushgateway")

    def __enter__(self) -> RealPushgateway:
        port = refused_port()  # free now; the gateway binds it next
        self.url = f"http://{HOST}:{port}"
        self._process = subprocess.Popen(
            [BINARY, f"--web.listen-address={HOST}:{port}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.url}/-/ready", timeout=1):
                    return self
            except OSError:
                time.sleep(0.1)
        self.__exit__()
        raise RuntimeError(f"{BINARY} did not become ready on {self.url}")

    def metrics(self) -> str:
        with urllib.request.urlopen(f"{self.url}/metrics", timeout=5) as response:
            return response.read().decode("utf-8")

    def __exit__(self, *exc: object) -> None:
        process, self._process = self._process, None
        if process is not None:
            process.terminate()
            try:
                process.wait(5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)

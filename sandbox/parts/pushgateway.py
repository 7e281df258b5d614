"""A loopback Pushgateway stand-in: keeps what is pushed, by grouping path, so the
self-tests can read back exactly what a run sent.

It honours the part of the Pushgateway's API a push uses: ``PUT`` or ``POST`` of the text
exposition format to ``/metrics/job/<job>{/<label>/<value>}``, answered 200; a ``GET`` of
``/metrics`` returns every group pushed so far.
"""

from __future__ import annotations

import threading

from sandbox.parts.http import HttpService, Request, RequestLog, Response, text_response

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

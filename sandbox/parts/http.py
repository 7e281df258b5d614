"""Loopback HTTP plumbing shared by every simulated service.

Each service is an `App` (a function from Request to Response) behind its own listener,
so a service can be swapped, faulted or left down without touching the others.
"""

from __future__ import annotations

import contextlib
import json
import selectors
import socket
import socketserver
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

HOST = "127.0.0.1"
JOIN_TIMEOUT = 2.0


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: str
    headers: Message
    body: bytes


@dataclass
class Response:
    status: int
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict[str, str | list[str]] = field(default_factory=dict)


App = Callable[[Request], Response]


def json_response(status: int, payload: object, headers: dict[str, str] | None = None) -> Response:
    """Compact separators match what DRF's JSON renderer sends."""
    body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return Response(status, body, "application/json", dict(headers or {}))


def text_response(
    status: int, text: str, content_type: str = "text/plain; charset=utf-8"
) -> Response:
    return Response(status, text.encode("utf-8"), content_type)


class RequestLog:
    """Every (method, path?query) served, so tests can prove that a check only read."""

    def __init__(self) -> None:
        self.entries: list[tuple[str, str]] = []
        self._lock = threading.Lock()

    def record(self, method: str, path: str) -> None:
        with self._lock:
            self.entries.append((method, path))


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # without it keep-alive requests stall ~40 ms each
    server: _Server

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        """Access logs would drown the test output; the request log keeps the record."""

    def _serve(self) -> None:
        target = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        query = f"?{target.query}" if target.query else ""
        self.server.log.record(self.command, target.path + query)
        request = Request(self.command, target.path, target.query, self.headers, body)
        response = self.server.app(request)
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        for name, value in response.headers.items():
            for each in value if isinstance(value, list) else [value]:  # Set-Cookie, twice
                self.send_header(name, each)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = _serve


class _Server(ThreadingHTTPServer):
    """Tracks open connections so stop() can close idle keep-alive sockets and join their
    threads instead of leaving them blocked on a read. Its accept loop sleeps until a
    client or stop() wakes it: serve_forever() would either poll (CPU while idle) or make
    stop() wait for the next poll."""

    daemon_threads = True

    def __init__(self, app: App, log: RequestLog) -> None:
        self.app = app
        self.log = log
        self._open: dict[socket.socket, threading.Thread] = {}
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._wake_reader, self._wake_writer = socket.socketpair()
        super().__init__((HOST, 0), _Handler)

    def serve(self) -> None:
        with selectors.DefaultSelector() as selector:
            selector.register(self, selectors.EVENT_READ)
            selector.register(self._wake_reader, selectors.EVENT_READ)
            while not self._closing.is_set():
                if any(key.fileobj is self for key, _ in selector.select()):
                    self._handle_request_noblock()

    def wake_and_close(self) -> None:
        self._closing.set()
        self._wake_writer.send(b"\0")

    def server_bind(self) -> None:
        """Skip HTTPServer's getfqdn(), a reverse DNS lookup that can stall the boot."""
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]

    def process_request(self, request: socket.socket, client_address: object) -> None:
        thread = threading.Thread(
            target=self.process_request_thread, args=(request, client_address), daemon=True
        )
        with self._lock:
            self._open[request] = thread
        thread.start()

    def shutdown_request(self, request: socket.socket) -> None:
        with self._lock:
            self._open.pop(request, None)
        super().shutdown_request(request)

    def handle_error(self, request: object, client_address: object) -> None:
        """A client hanging up mid-response is routine here, not worth a traceback."""
        if not isinstance(sys.exc_info()[1], OSError):
            super().handle_error(request, client_address)

    def server_close(self) -> None:
        super().server_close()
        self._wake_reader.close()
        self._wake_writer.close()

    def close_connections(self) -> list[threading.Thread]:
        with self._lock:
            connections = list(self._open.items())
        for sock, _ in connections:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        return [thread for _, thread in connections]


class HttpService:
    """One simulated service on an ephemeral loopback port."""

    def __init__(self, name: str, app: App, log: RequestLog) -> None:
        self.name = name
        self._app = app
        self._log = log
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> str:
        self._server = _Server(self._app, self._log)
        self._thread = threading.Thread(
            target=self._server.serve, name=f"sandbox-{self.name}", daemon=True
        )
        self._thread.start()
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.wake_and_close()
        if self._thread is not None:
            self._thread.join(JOIN_TIMEOUT)
        server.server_close()
        for thread in server.close_connections():
            thread.join(JOIN_TIMEOUT)


class DownService:
    """A service that is not running: its URL names a loopback port nobody listens on."""

    def __init__(self, name: str) -> None:
        self.name = name

    def start(self) -> str:
        return f"http://{HOST}:{refused_port()}"

    def stop(self) -> None:
        pass


def refused_port() -> int:
    """Borrow a free port from the kernel and give it back, so connecting is refused."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]

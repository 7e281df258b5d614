"""A hostile target: a loopback server that answers every request badly, in one way.

The diagnostics are used on the worst day, against a target that is half down or
answers garbage. Each mode is one such answer; the self-tests point every URL of a
profile at one mode and prove the suite still ends every check with a one-line reason,
within its bound, with capped evidence and no INTERNALERROR.

Raw sockets on purpose: an HTTP framework would refuse to send most of these answers.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
import time
from collections.abc import Callable
from typing import Self

from sandbox.parts.http import HOST, JOIN_TIMEOUT
from sandbox.parts.lifecycle import Managed

HUGE_BYTES = 50 * 1024 * 1024
CHUNK = 64 * 1024


def _head(status: str, content_type: str, length: int | None,
          extra: tuple[str, ...] = ()) -> bytes:
    lines = [f"HTTP/1.1 {status}", f"Content-Type: {content_type}", "Connection: close",
             *extra]
    if length is not None:
        lines.append(f"Content-Length: {length}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def _answer(status: str, content_type: str, body: bytes, *extra: str) -> bytes:
    return _head(status, content_type, len(body), extra) + body


def _send(payload: bytes) -> Callable[[socket.socket, threading.Event], None]:
    def reply(conn: socket.socket, _stop: threading.Event) -> None:
        conn.sendall(payload)

    return reply


def _huge(conn: socket.socket, stop: threading.Event) -> None:
    conn.sendall(_head("200 OK", "application/json", HUGE_BYTES))
    conn.sendall(b'{"items": [')
    block = b'"x",' * (CHUNK // 4)
    sent = 0
    while sent < HUGE_BYTES and not stop.is_set():
        conn.sendall(block)
        sent += len(block)


def _drip(conn: socket.socket, stop: threading.Event) -> None:
    for byte in _answer("200 OK", "application/json", b'{"status": "ok"}'):
        if stop.wait(1.0):
            return
        conn.sendall(bytes([byte]))


def _reset(conn: socket.socket, _stop: threading.Event) -> None:
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def _silent(_conn: socket.socket, stop: threading.Event) -> None:
    stop.wait()


def _redirect(conn: socket.socket, _stop: threading.Event) -> None:
    conn.sendall(_answer("302 Found", "text/html", b"", "Location: /loop"))


MODES: dict[str, tuple[str, Callable[[socket.socket, threading.Event], None]]] = {
    "non_json": ("200 with an HTML page where JSON was expected", _send(_answer(
        "200 OK", "text/html", b"<html><body>Service Temporarily Unavailable</body></html>"))),
    "truncated_json": ("200 with JSON cut off in the middle", _send(_answer(
        "200 OK", "application/json", b'{"status": "ok", "results": [{"id": 1, "na'))),
    "huge_body": ("200 with a 50 MB JSON body", _huge),
    "drip": ("one byte per second", _drip),
    "redirect_loop": ("302 to itself, for ever", _redirect),
    "wrong_content_type": ("200 with a binary body labelled image/png", _send(_answer(
        "200 OK", "image/png", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8))),
    "error_200": ("200 whose JSON body is an error", _send(_answer(
        "200 OK", "application/json",
        b'{"error": {"code": 500, "message": "upstream exploded"}, "detail": "error"}'))),
    "reset": ("the connection is reset after the request", _reset),
    "silent": ("accepts the connection and never answers", _silent),
    "plain_http": ("plain HTTP, for a profile that speaks TLS to it", _send(_answer(
        "200 OK", "application/json", b'{"status": "ok"}'))),
}


class HostileServer(Managed):
    """One mode on one loopback port; ``url`` is where to point a profile."""

    def __init__(self, mode: str) -> None:
        if mode not in MODES:
            raise ValueError(f"unknown hostile mode {mode!r}: choose one of {', '.join(MODES)}")
        self.mode = mode
        self._reply = MODES[mode][1]
        self._stop = threading.Event()
        self._listener: socket.socket | None = None
        self._threads: list[threading.Thread] = []
        self._conns: list[socket.socket] = []
        self.url = ""

    def start(self) -> Self:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((HOST, 0))
        listener.listen(64)
        listener.settimeout(0.2)
        self._listener = listener
        self.url = f"http://{HOST}:{listener.getsockname()[1]}"
        accept = threading.Thread(target=self._accept, name=f"hostile-{self.mode}", daemon=True)
        accept.start()
        self._threads.append(accept)
        return self

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self._conns.append(conn)
            worker = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            worker.start()
            self._threads.append(worker)

    def _serve(self, conn: socket.socket) -> None:
        with contextlib.suppress(OSError):
            conn.settimeout(5.0)
            _read_request(conn)
            conn.settimeout(None)
            self._reply(conn, self._stop)
        with contextlib.suppress(OSError):
            conn.close()

    def stop(self) -> None:
        self._stop.set()
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        for conn in self._conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        deadline = time.monotonic() + JOIN_TIMEOUT
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        self._threads, self._conns = [], []


def _read_request(conn: socket.socket) -> None:
    """Read up to the end of the headers (and a small body), whatever the client sends."""
    data = b""
    while b"\r\n\r\n" not in data and len(data) < 65536:
        chunk = conn.recv(4096)
        if not chunk:
            return
        data += chunk

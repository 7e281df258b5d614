"""AWS for the sandbox: moto's own HTTP server on a loopback port.

The checks talk to it with botocore over HTTP, exactly as they would to AWS, so signing,
protocols and error envelopes are real. moto lacks a few calls (SES's account state);
those are answered by small overrides in front of it, and only those. The callers seed
their state through the same HTTP API before the request log starts, so the log shows only
what the diagnostics sent.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Self
from urllib.parse import parse_qs

from sandbox.parts.http import HOST, JOIN_TIMEOUT, RequestLog
from sandbox.parts.lifecycle import Managed

REGION = "us-east-1"
# moto accepts any key; these are not secrets, and the profile's own are used by checks.
SEED_KEY = ("sandbox-seed", "sandbox-seed")
SERVICES = ("ses", "sesv2", "s3", "sts", "iam", "cloudwatch")


@dataclass(frozen=True)
class Call:
    """One request as an override sees it: enough to recognise an AWS operation."""

    method: str
    path: str
    query: str
    body: bytes
    headers: dict[str, str]

    @property
    def action(self) -> str:
        """The query-protocol operation name (SES v1), or ''."""
        fields = parse_qs(self.body.decode("utf-8", "replace")) if self.method == "POST" else {}
        fields = fields or parse_qs(self.query)
        return (fields.get("Action") or [""])[0]


@dataclass
class Reply:
    status: int
    body: bytes
    content_type: str = "text/xml"
    headers: dict[str, str] = field(default_factory=dict)


Override = Callable[[Call], Reply | None]


class AwsServer(Managed):
    """moto on ``http://127.0.0.1:<port>``; ``overrides`` answer the calls moto lacks."""

    name = "aws"

    def __init__(self, log: RequestLog, overrides: Sequence[Override] = ()) -> None:
        self._log = log
        self._overrides = tuple(overrides)
        self._outages: tuple[Override, ...] = ()
        self._logging = False
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self._session: Any = None
        self._clients: dict[str, Any] = {}
        self._clients_lock = threading.Lock()
        self.url = ""

    def start(self) -> Self:
        from moto.server import DomainDispatcherApplication, create_backend_app
        from werkzeug.serving import WSGIRequestHandler, make_server

        class Quiet(WSGIRequestHandler):
            def log(self, *_args: object, **_kwargs: object) -> None:
                pass

        _reset_backends()
        app = DomainDispatcherApplication(create_backend_app)
        self._server = make_server(HOST, 0, self._wsgi(app), threaded=True,
                                   request_handler=Quiet)
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,),
                                        name="sandbox-aws", daemon=True)
        self._thread.start()
        self.url = f"http://{HOST}:{self._server.server_port}"
        return self

    def client(self, service: str) -> Any:
        """A client for seeding state before the diagnostics run. Every stand-in that
        seeds gets the same one per service, made from one session: a new session parses
        botocore's JSON models again, which cost the boot more than the seeds themselves
        (about 1.2 s of interpreter time with four systems). Clients are thread-safe;
        making them is not, hence the lock."""
        with self._clients_lock:
            if service not in self._clients:
                import boto3
                from botocore.config import Config

                if self._session is None:
                    self._session = boto3.session.Session()
                self._clients[service] = self._session.client(
                    service, endpoint_url=self.url, region_name=REGION,
                    aws_access_key_id=SEED_KEY[0], aws_secret_access_key=SEED_KEY[1],
                    config=Config(s3={"addressing_style": "path"},
                                  retries={"max_attempts": 1}))
            return self._clients[service]

    def add_overrides(self, overrides: Iterable[Override]) -> None:
        """Put more overrides in front of moto: each system that shares this server brings
        its own, and every one of them sees every call."""
        self._overrides = (*self._overrides, *overrides)

    def add_outages(self, outages: Iterable[Override]) -> None:
        """Overrides that put a service out for everyone: they see each call before any
        other override, so no system's own answer (stand-ins start in parallel, in no
        fixed order) can hide the outage from its checks."""
        self._outages = (*self._outages, *outages)

    def start_logging(self) -> None:
        """From now on every request is in the sandbox's request log."""
        self._logging = True

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if self._thread is not None:
            self._thread.join(JOIN_TIMEOUT)
        with self._clients_lock:
            clients, self._clients = self._clients, {}
        for client in clients.values():
            client.close()
        _reset_backends()

    def _wsgi(self, app: Callable) -> Callable:
        def serve(environ: dict, start_response: Callable) -> Iterable[bytes]:
            length = int(environ.get("CONTENT_LENGTH") or 0)
            body = environ["wsgi.input"].read(length) if length else b""
            environ["wsgi.input"] = io.BytesIO(body)
            call = Call(environ["REQUEST_METHOD"], environ.get("PATH_INFO", "/"),
                        environ.get("QUERY_STRING", ""), body,
                        {k[5:].replace("_", "-").lower(): v for k, v in environ.items()
                         if k.startswith("HTTP_")})
            if self._logging:
                shown = call.path + (f"?{call.query}" if call.query else "")
                action = call.action
                self._log.record(call.method, shown + (f" Action={action}" if action else ""))
            for override in (*self._outages, *self._overrides):
                reply = override(call)
                if reply is not None:
                    headers = [("Content-Type", reply.content_type),
                               ("Content-Length", str(len(reply.body))),
                               *reply.headers.items()]
                    start_response(f"{reply.status} X", headers)
                    return [reply.body]
            return app(environ, start_response)

        return serve


def _reset_backends() -> None:
    """moto keeps state per process; a new sandbox starts from an empty account."""
    from moto.backends import get_backend

    for service in SERVICES:
        for regions in get_backend(service).values():
            for backend in regions.values():
                backend.reset()

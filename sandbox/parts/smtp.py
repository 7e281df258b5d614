"""A real SMTP server for the sandbox: aiosmtpd on a loopback port that requires AUTH
(PLAIN or LOGIN) before any mail, as a provider's submission port does.

With a ``tls_dir`` it also offers STARTTLS, with a certificate for 127.0.0.1 and its
hostname that a CA made at start signs (``ca_pem``), and then, like a real submission
port, accepts AUTH and mail only after STARTTLS. Without one it offers no STARTTLS and
takes AUTH in the clear, as a misconfigured server would.

Every command verb it receives after ``start_logging()`` goes to the sandbox's request
log as ``SMTP <VERB>`` (never an argument: AUTH carries the password), as it arrives and
whatever the answer, so a run's log proves that no mail, and no credential, was sent.
"""

from __future__ import annotations

import functools
import logging
import socket
import ssl
import warnings
from pathlib import Path
from typing import Any, Self

from sandbox.parts.http import HOST, RequestLog
from sandbox.parts.lifecycle import Managed

MECHANISMS = ("PLAIN", "LOGIN")
SERVER_HOSTNAME = "smtp.sandbox"
# Without TLS the sandbox asks AUTH in the clear on purpose; aiosmtpd warns of it on every
# connection, and logs each session to "mail.log".
warnings.filterwarnings("ignore", message="Requiring AUTH while not requiring TLS")
logging.getLogger("mail.log").setLevel(logging.CRITICAL)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


class _Handler:
    """Accepts mail only from a signed-in session (aiosmtpd enforces AUTH first) and keeps
    nothing: the count of DATA commands is all it remembers."""

    def __init__(self, log: RequestLog, logging: list[bool]) -> None:
        self._log = log
        self._logging = logging
        self.delivered = 0

    def verb(self, name: str) -> None:
        if self._logging[0]:
            self._log.record("SMTP", name)

    async def handle_EHLO(self, server: Any, session: Any, envelope: Any, hostname: str,
                          responses: list[str]) -> list[str]:
        self.verb("EHLO")
        session.host_name = hostname
        return responses

    async def handle_MAIL(self, server: Any, session: Any, envelope: Any, address: str,
                          options: list[str]) -> str:
        self.verb("MAIL")
        envelope.mail_from = address
        return "250 OK"

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          options: list[str]) -> str:
        self.verb("RCPT")
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.verb("DATA")
        self.delivered += 1
        return "250 Message accepted"


@functools.cache
def _controller_class() -> type:
    """aiosmtpd's controller whose sessions log STARTTLS and AUTH on arrival: the
    handler's hooks see neither a handshake that fails nor an AUTH refused before its
    credentials are read. Built on first use, so that importing the part stays cheap."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import SMTP, syntax

    class Session(SMTP):
        @syntax("STARTTLS", when="tls_context")
        async def smtp_STARTTLS(self, arg: str) -> None:
            self.event_handler.verb("STARTTLS")
            await super().smtp_STARTTLS(arg)

        @syntax("AUTH <mechanism>")
        async def smtp_AUTH(self, arg: str) -> None:
            self.event_handler.verb("AUTH")
            await super().smtp_AUTH(arg)

    class Logged(Controller):
        def factory(self) -> SMTP:
            return Session(self.handler, **self.SMTP_kwargs)

    return Logged


class SmtpServer(Managed):
    """The server's own credential is the provider's, which a fault may make differ from
    the app's env file. ``tls_dir`` (a directory its owner removes) is where the key
    passes on its way into ``ssl``; giving one turns STARTTLS on."""

    name = "smtp"

    def __init__(self, log: RequestLog, username: str, password: str, *,
                 tls_dir: Path | None = None) -> None:
        self._logging = [False]
        self._handler = _Handler(log, self._logging)
        self.username = username
        self.password = password
        self.port = 0
        self.ca_pem = b""
        self._tls_dir = tls_dir
        self._controller: Any = None

    def _authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str,
                      auth_data: Any) -> Any:
        from aiosmtpd.smtp import AuthResult, LoginPassword

        ok = (isinstance(auth_data, LoginPassword)
              and auth_data.login.decode(errors="replace") == self.username
              and auth_data.password.decode(errors="replace") == self.password)
        return AuthResult(success=ok, handled=False)

    def start(self) -> Self:
        tls = self._tls_context()
        self.port = _free_port()
        self._controller = _controller_class()(
            self._handler, hostname=HOST, port=self.port, server_hostname=SERVER_HOSTNAME,
            ready_timeout=5.0, authenticator=self._authenticate, auth_required=True,
            tls_context=tls, require_starttls=tls is not None,
            auth_require_tls=tls is not None)
        self._controller.start()
        return self

    def _tls_context(self) -> ssl.SSLContext | None:
        """A fresh CA and the certificate it signs for this server, or None without TLS."""
        if self._tls_dir is None:
            return None
        from sandbox.parts import certs

        authority = certs.Authority("sandbox SMTP CA")
        self.ca_pem = authority.pem
        return certs.server_context(authority.issue(SERVER_HOSTNAME, (HOST,)), self._tls_dir)

    def start_logging(self) -> None:
        self._logging[0] = True

    @property
    def delivered(self) -> int:
        return self._handler.delivered

    def stop(self) -> None:
        controller, self._controller = self._controller, None
        if controller is not None:
            controller.stop()

"""A real SMTP server for the sandbox: aiosmtpd on a loopback port that requires AUTH
(PLAIN or LOGIN) before any mail, as a provider's submission port does.

Every command verb it receives after ``start_logging()`` goes to the sandbox's request
log as ``SMTP <VERB>`` (never an argument: AUTH carries the password), so a run's log
proves that no mail was sent. The sandbox offers no STARTTLS on loopback.
"""

from __future__ import annotations

import logging
import socket
import warnings
from typing import Any, Self

from sandbox.parts.http import HOST, RequestLog
from sandbox.parts.lifecycle import Managed

MECHANISMS = ("PLAIN", "LOGIN")
# On loopback the sandbox asks AUTH without TLS on purpose; aiosmtpd warns of it on every
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


class SmtpServer(Managed):
    """``accepts(username, password)`` decides AUTH; the server's own credential is the
    provider's, which a fault may make differ from the app's env file."""

    name = "smtp"

    def __init__(self, log: RequestLog, username: str, password: str) -> None:
        self._logging = [False]
        self._handler = _Handler(log, self._logging)
        self.username = username
        self.password = password
        self.port = 0
        self._controller: Any = None

    def _authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str,
                      auth_data: Any) -> Any:
        from aiosmtpd.smtp import AuthResult, LoginPassword

        self._handler.verb("AUTH")
        ok = (isinstance(auth_data, LoginPassword)
              and auth_data.login.decode(errors="replace") == self.username
              and auth_data.password.decode(errors="replace") == self.password)
        return AuthResult(success=ok, handled=False)

    def start(self) -> Self:
        from aiosmtpd.controller import Controller

        self.port = _free_port()
        self._controller = Controller(
            self._handler, hostname=HOST, port=self.port, server_hostname="smtp.sandbox",
            ready_timeout=5.0, authenticator=self._authenticate, auth_required=True,
            auth_require_tls=False)
        self._controller.start()
        return self

    def start_logging(self) -> None:
        self._logging[0] = True

    @property
    def delivered(self) -> int:
        return self._handler.delivered

    def stop(self) -> None:
        controller, self._controller = self._controller, None
        if controller is not None:
            controller.stop()

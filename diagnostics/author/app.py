"""What the author app's checks read beyond HTTP, SQL and AWS: its env files, Redis (the
API's sessions, the worker's queue) and its SMTP server. Each read is bounded by the
profile's timeouts, recorded as evidence, and redacted; none of them writes.

The pack keeps these two small probes itself: Redis and SMTP are this system's only.
"""

from __future__ import annotations

import smtplib
import ssl
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from fixtures import evidence
from fixtures.context import Context
from fixtures.probes import files
from fixtures.redact import is_secret_name

ENV_FILES = {"api_env": "the API", "web_env": "the web app", "worker_env": "the worker"}
SCAN_COUNT = 500
SCAN_LIMIT = 20  # SCAN rounds at most: a bounded read even on a huge keyspace


@dataclass
class EnvFile:
    where: str
    values: dict[str, str] = field(default_factory=dict)
    error: str = ""


def env_file(ctx: Context, key: str) -> EnvFile:
    """``[author.paths] <key>``, read once per file version; the secrets in it (secret
    names, URL passwords) are handed to the redactor as soon as they are read."""
    path = ctx.profile.paths.get(key, "")
    if not path:
        return EnvFile(f"{ctx.profile.table('paths')} {key}",
                       error=f"the target profile names no {ctx.profile.table('paths')} {key}")
    read = files.read_text(Path(path), ctx.redactor)
    if not read.exists:
        return EnvFile(path, error=f"{path} not found")
    values = files.parse_env(read.data)
    for name, value in values.items():
        if is_secret_name(name) or name.endswith("_URL"):
            ctx.redactor.add(value)
            ctx.redactor.add(urlsplit(value).password if "://" in value else None)
    return EnvFile(path, values)


# -- Redis --------------------------------------------------------------------------------


class RedisStore:
    """Read-only Redis commands (PING, SCAN, LLEN, ZCARD) on one connection per process."""

    def __init__(self, url: str, timeout: float, where: str) -> None:
        self.url = url
        self.where = where
        self._timeout = timeout
        self._client: Any = None

    @property
    def shown(self) -> str:
        parts = urlsplit(self.url)
        return f"redis://{parts.hostname}:{parts.port or 6379}{parts.path}"

    def _connect(self) -> Any:
        if self._client is None:
            import redis

            self._client = redis.Redis.from_url(
                self.url, socket_timeout=self._timeout, socket_connect_timeout=self._timeout)
        return self._client

    def _run(self, what: str, call) -> Any:
        started = time.monotonic()
        try:
            answer = call(self._connect())
        except Exception as exc:  # noqa: BLE001 - any failure is the observation
            reason = f"{self.shown}: {type(exc).__name__}: {exc}"
            evidence.record(evidence.Entry("redis", self.shown, f"{what} failed: {reason}"))
            raise RedisError(reason) from None
        took = round((time.monotonic() - started) * 1000, 1)
        evidence.record(evidence.Entry("redis", self.shown, f"{what}: {answer}",
                                       {"command": what, "answer": answer, "ms": took}))
        return answer

    def ping(self) -> tuple[bool, str]:
        if not self.url:
            return False, f"no REDIS_URL in {self.where}"
        try:
            self._run("PING", lambda c: c.ping())
        except RedisError as exc:
            return False, str(exc)
        return True, f"{self.shown} answered PING (REDIS_URL from {self.where})"

    def count_keys(self, pattern: str) -> tuple[int, bool]:
        """Keys matching ``pattern`` (SCAN, never KEYS), and whether the scan finished."""

        def scan(client: Any) -> tuple[int, bool]:
            cursor, seen = 0, 0
            for _ in range(SCAN_LIMIT):
                cursor, keys = client.scan(cursor=cursor, match=pattern, count=SCAN_COUNT)
                seen += len(keys)
                if cursor == 0:
                    return seen, True
            return seen, False

        return self._run(f"SCAN MATCH {pattern}", scan)

    def length(self, key: str, kind: str) -> int:
        command = {"list": "LLEN", "zset": "ZCARD"}[kind]
        return int(self._run(f"{command} {key}", lambda c: c.execute_command(command, key)))

    def close(self) -> None:
        if self._client is not None:
            self._client.close()


class RedisError(Exception):
    pass


def redis_store(ctx: Context) -> RedisStore:
    """Redis at ``[author.sessions] redis_url`` when the profile names one (the app's own
    host name may not resolve where the diagnostics run), else the API's REDIS_URL."""

    def build() -> RedisStore:
        override = str(ctx.profile.area("sessions").get("redis_url", ""))
        api = env_file(ctx, "api_env")
        url = override or api.values.get("REDIS_URL", "")
        ctx.redactor.add(urlsplit(url).password if url else None)
        return RedisStore(url, ctx.profile.timeouts["total"], api.where)

    return ctx.once("author-redis", build)


# -- SMTP ---------------------------------------------------------------------------------


@dataclass
class Exchange:
    """One SMTP conversation up to AUTH, never as far as MAIL: each step's reply, and the
    failure ``state`` the check links its own fix steps by."""

    host: str
    port: int
    steps: list[tuple[str, str]] = field(default_factory=list)
    error: str = ""
    state: str = ""
    auth: str = "not tried"
    starttls: str = "not offered"
    trust: str = ""

    @property
    def ok(self) -> bool:
        return not self.error

    def fail(self, state: str, error: str) -> None:
        self.state, self.error = state, error


def smtp_exchange(host: str, port: int, user: str, password: str, timeout: float,
                  try_auth: bool, *, ca_file: str = "", require_tls: bool = False) -> Exchange:
    """Connect, EHLO, STARTTLS where offered, then AUTH when asked to; QUIT. No mail.

    The server's certificate must chain to ``ca_file`` (else to the system's trust store)
    and name the host, as the app's own client demands. With ``require_tls`` a server that
    offers no STARTTLS is not sent AUTH: the password would cross the network in clear."""
    seen = Exchange(host, port, trust=ca_file or "the system's trust store")
    client: smtplib.SMTP | None = None
    try:
        client = smtplib.SMTP(host, port, timeout=timeout, local_hostname="diagnostics")
        code, text = client.ehlo()
        seen.steps.append(("EHLO", f"{code} {_first(text)}"))
        if client.has_extn("starttls"):
            _starttls(client, seen, ca_file)
        elif require_tls:
            seen.fail("no-starttls", "STARTTLS not offered" + (
                ", so the credentials were not sent" if try_auth else ""))
        if try_auth and seen.ok:
            if not client.has_extn("auth"):
                seen.auth = "not offered"
            else:
                code, text = client.login(user, password)
                seen.auth = f"{code}"
                seen.steps.append(("AUTH", f"{code} {_first(text)}"))
    except smtplib.SMTPAuthenticationError as exc:
        seen.auth = f"{exc.smtp_code}"
        seen.steps.append(("AUTH", f"{exc.smtp_code} {_first(exc.smtp_error)}"))
        seen.fail("auth", f"AUTH refused ({exc.smtp_code} {_first(exc.smtp_error)})")
    except ssl.SSLCertVerificationError as exc:
        seen.starttls = "untrusted"
        seen.steps.append(("STARTTLS", "handshake refused: certificate not trusted"))
        seen.fail("tls-untrusted", f"certificate not trusted by {seen.trust}: "
                                   f"{exc.verify_message or exc.reason}")
    except (OSError, smtplib.SMTPException, ssl.SSLError) as exc:
        seen.error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    finally:
        if client is not None:
            try:
                client.quit()
            except (OSError, smtplib.SMTPException):
                client.close()
    return seen


def _starttls(client: smtplib.SMTP, seen: Exchange, ca_file: str) -> None:
    try:
        context = ssl.create_default_context(cafile=ca_file or None)
    except OSError as exc:  # ssl.SSLError too: a file that holds no certificate
        why = getattr(exc, "reason", None) or exc.strerror or type(exc).__name__
        seen.fail("", f"the CA file {ca_file} cannot be read ({why})")
        return
    code, text = client.starttls(context=context)
    seen.starttls = f"{code}"
    seen.steps.append(("STARTTLS", f"{code} {_first(text)}"))
    client.ehlo()


def _first(text: bytes | str) -> str:
    value = text.decode(errors="replace") if isinstance(text, bytes) else str(text)
    return value.splitlines()[0] if value else ""


def record_exchange(ctx: Context, seen: Exchange) -> None:
    target = f"smtp://{seen.host}:{seen.port}"
    summary = ", ".join(f"{verb} {reply}" for verb, reply in seen.steps) or seen.error
    evidence.record(evidence.Entry("smtp", target, ctx.redactor.text(summary), {
        "steps": [ctx.redactor.text(f"{v} {r}") for v, r in seen.steps],
        "starttls": seen.starttls, "trust": seen.trust, "auth": seen.auth,
        "error": ctx.redactor.text(seen.error)}))


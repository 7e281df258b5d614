"""What the Chatwoot/RAG MVP's checks share: the projects they range over, the server's
env file, and the diagnostics' own signed-in session per project.

The server's env file is read once per process; the values of secret-named keys are
handed to the redactor as soon as they are read, so a token the server holds can be sent
to Chatwoot, OpenAI or Telegram and still never be shown.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from fixtures.context import Context
from fixtures.probes import files
from fixtures.redact import is_secret_name

APP = "app"
# The server env keys a profile without an env file may name through [chatwoot.server_env].
SERVER_SECRETS = ("OPENAI_API_KEY", "CHATWOOT_API_TOKEN", "TELEGRAM_BOT_TOKEN",
                  "TELEGRAM_WEBHOOK_SECRET", "SIGNUP_PIN_SECRET")
_COOKIE_START = re.compile(r",\s*(?=[!#$%&'*+.^_`|~0-9A-Za-z-]+=)")


def settings(ctx: Context) -> dict:
    """``[chatwoot.app]``: who the diagnostics sign in as, the UI's origin, the projects
    to check and the operator whose session the search runbook asks about."""
    return ctx.settings("app", {"username": "", "password_env": "", "projects": [],
                                "ui_origin": "http://localhost:3000", "operator": ""})


def projects(ctx: Context) -> list[str]:
    return [str(p) for p in settings(ctx)["projects"]]


def one_project(fn: Callable) -> Callable:
    """A check about the server as a whole that still needs a signed-in session: it runs
    once, as the first project's session."""
    fn.first_project_only = True
    return fn


@dataclass
class ServerEnv:
    """The server's settings: ``where`` they were read from, and ``values``; ``error`` when
    they could not be read."""

    where: str
    values: dict[str, str] = field(default_factory=dict)
    error: str = ""

    def is_set(self, key: str) -> bool:
        return bool(self.values.get(key, "").strip())

    def shown(self, key: str) -> str:
        """A value as a report may show it: secrets only as set or empty."""
        if not self.is_set(key):
            return "empty" if key in self.values else "absent"
        return "set" if is_secret_name(key) else self.values[key]


def server_env(ctx: Context) -> ServerEnv:
    """The env file ``[chatwoot.paths] env_file``; a profile that cannot reach the
    server's file names env vars holding its secrets in ``[chatwoot.server_env]``."""
    path = ctx.profile.paths.get("env_file", "")
    if path:
        read = files.read_text(Path(path), ctx.redactor)
        if not read.exists:
            return ServerEnv(path, error=f"{path} not found")
        env = ServerEnv(path, files.parse_env(read.data))
    else:
        named = ctx.profile.area("server_env")
        env = ServerEnv(f"{ctx.profile.table('server_env')} env vars", {
            key: ctx.profile.secret(str(named.get(f"{key.lower()}_env", "")))
            for key in SERVER_SECRETS if named.get(f"{key.lower()}_env")})
    for key, value in env.values.items():
        if is_secret_name(key) or key == "DATABASE_URL":
            ctx.redactor.add(value)
    return env


@dataclass
class Session:
    """The diagnostics' own session on one project: the cookies sent back, the CSRF token,
    and the sign-in's ``Set-Cookie`` as the server sent it."""

    project: str
    project_id: str
    cookies: dict[str, str]
    csrf: str
    set_cookie: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}


def sessions(ctx: Context) -> dict[str, Session]:
    return ctx.once("chatwoot-sessions", dict)


@dataclass(frozen=True)
class Cookie:
    name: str
    value: str
    attributes: dict[str, str]

    def described(self) -> str:
        """The cookie as evidence shows it: its name and attributes, never its value."""
        attrs = "; ".join(f"{k}={v}" if v else k for k, v in self.attributes.items())
        return f"{self.name}=<value>; {attrs}"


def parse_set_cookie(header: str) -> list[Cookie]:
    """Each cookie of a ``Set-Cookie`` header (several are joined with commas)."""
    found = []
    for text in _COOKIE_START.split(header or ""):
        first, *rest = [part.strip() for part in text.split(";")]
        name, sep, value = first.partition("=")
        if not sep:
            continue
        attrs = {}
        for part in rest:
            key, _, val = part.partition("=")
            if key:
                attrs[key.strip().lower()] = val.strip()
        found.append(Cookie(name.strip(), value.strip(), attrs))
    return found

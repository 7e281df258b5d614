"""The Chatwoot/RAG MVP as its runbooks' checks find it: its API (and a reverse proxy in
front of it) on a real PostgreSQL database, the server's env file, and the Chatwoot,
OpenAI and Telegram APIs it calls, started on the run's shared parts."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sandbox.chatwoot import database, services
from sandbox.chatwoot.app import App
from sandbox.chatwoot.faults import check_faults
from sandbox.chatwoot.world import Secrets, World, env_text
from sandbox.parts.http import DownService, HttpService
from sandbox.parts.postgres import Databases, Postgres
from sandbox.parts.shared import Parts, Unavailable
from sandbox.parts.standin import Services, Workdir

DATABASES = ("cw_db",)


def _invented() -> str:
    return "sbx-" + secrets.token_urlsafe(18)


class StandIn:
    """Each secret is the value the profile's env var holds (invented when unset), so the
    suite meets the same credentials a real deployment would check."""

    name = "chatwoot"

    def __init__(self, faults: Iterable[str] = (), workdir: Path | str | None = None, *,
                 username: str = "diagnostics", password: str = "", db_password: str = "",
                 server: dict[str, str] | None = None) -> None:
        self.faults = check_faults(faults)
        given = {k: v for k, v in (server or {}).items() if v}
        self.secrets = Secrets(
            username=username, password=password or _invented(),
            chatwoot_token=given.get("chatwoot_api_token") or _invented(),
            openai_key=given.get("openai_api_key") or _invented(),
            telegram_token=given.get("telegram_bot_token") or _invented(),
            webhook_secret=given.get("telegram_webhook_secret") or _invented(),
            pin_secret=given.get("signup_pin_secret") or _invented(),
            app_db_password=_invented())
        self._db_password = db_password or _invented()
        self.urls: dict[str, str] = {}
        self.paths: dict[str, str] = {}
        self.dsn: dict[str, str] = {}
        self._dir = Workdir(workdir, "chatwoot-sandbox-")
        self._services = Services()
        self._pg: Postgres | None = None

    def placeholders(self) -> dict[str, str]:
        """What ``{sandbox.<name>}`` stands for in the profile, for this system."""
        return {f"cw_{k}": v for k, v in (self.urls | self.paths).items()} | dict(self.dsn)

    def start(self, parts: Parts) -> None:
        world = World.build(self.faults, self.secrets)
        for name, app in (("chatwoot_api", services.chatwoot(world)),
                          ("openai", services.openai(world))):
            self.urls[name] = self._services.start(HttpService(f"cw-{name}", app, parts.log))
        env: dict[str, str] = {}
        app = App(world, env, self._connect, lambda: self._openai_error(world, env))
        if world.has("cwapp_down"):
            self.urls["app"] = self._services.start(DownService("cw-app"))
        else:
            self.urls["app"] = self._services.start(HttpService("cw-app", app, parts.log))
        self.urls["proxy"] = self._services.start(
            HttpService("cw-proxy", services.proxy(world, app), parts.log))
        hook = f"{self.urls['proxy']}/auth/telegram/webhook"
        masked = services.MaskedLog(parts.log, self.secrets.telegram_token)
        self.urls["telegram"] = self._services.start(
            HttpService("cw-telegram", services.telegram(world, hook), masked))
        self._start_database(parts, world)
        env.update(world.env(self._database_url(), self.urls["chatwoot_api"]))
        env_file = self._dir.open() / "chatwoot.env"
        env_file.write_text(env_text(env), encoding="utf-8")
        self.paths["env_file"] = str(env_file)

    def _start_database(self, parts: Parts, world: World) -> None:
        try:
            self._pg = parts.postgres()
        except Unavailable as exc:
            self.dsn["cw_db_unavailable"] = str(exc)
            return
        pg = self._pg
        Databases(self.faults, self.dsn).build("cw_db", lambda: database.build(
            pg, world, self._db_password))

    def _database_url(self) -> str:
        if self._pg is None:
            return ""
        return (f"postgresql://cw_app:{self.secrets.app_db_password}@{self._pg.host}:"
                f"{self._pg.port}/{database.DBNAME}")

    def _connect(self) -> Any:
        if self._pg is None:
            raise RuntimeError("the MVP's database is not available")
        return self._pg.superuser(database.DBNAME)

    @staticmethod
    def _openai_error(world: World, env: dict[str, str]) -> str | None:
        refused = services.openai_error(world, f"Bearer {env.get('OPENAI_API_KEY', '')}")
        return f"OpenAI embeddings failed ({refused[0]})" if refused else None

    def stop(self) -> None:
        """Safe to call twice or after a failed start; the shared parts are not its own."""
        self._services.stop()
        self.urls = {}
        self.paths = {}
        self.dsn = {}
        self._pg = None
        self._dir.remove()

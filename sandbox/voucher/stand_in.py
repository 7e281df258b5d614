"""The voucher app, as its runbooks' checks find it: for the DR rehearsal, backups in S3
and on disk, the snapshot manifest behind its bearer token, the run's files, and the
primary and restored databases; for the incident runbooks, the admin app, the Edge
Functions and the platform's functions API, and the app's own database. All started on
the run's shared parts."""

from __future__ import annotations

import secrets
from collections.abc import Collection, Iterable
from datetime import UTC, datetime
from pathlib import Path

from sandbox.parts.http import DownService
from sandbox.parts.postgres import Databases
from sandbox.parts.shared import Parts, Unavailable
from sandbox.parts.standin import Services, Workdir
from sandbox.voucher import backups, functions
from sandbox.voucher.app_db import STALLED, Dispatcher, build_app_db
from sandbox.voucher.databases import build_voucher_dbs
from sandbox.voucher.faults import check_faults

DATABASE, AWS, DR, INCIDENTS = "database", "aws", "dr", "incidents"
DATABASES = ("dr_primary", "dr_restored", "app")


class StandIn:
    """`runtime` names the heavier parts to use: "aws" (the backups in S3) and, with
    "database", "dr" (the two voucher databases) and "incidents" (the app database).
    `db_password` is the read-only reader role's, `manifest_token` the bearer the
    snapshot manifest accepts; `incident_secrets` hold the app database's password, the
    admin session cookie, the platform token and the functions' service key."""

    name = "voucher"

    def __init__(self, faults: Iterable[str] = (), workdir: Path | str | None = None, *,
                 runtime: Collection[str] = (), db_password: str | None = None,
                 manifest_token: str | None = None,
                 incident_secrets: dict[str, str] | None = None) -> None:
        self.faults = check_faults(faults)
        self.urls: dict[str, str] = {}
        self.paths: dict[str, str] = {}
        self.dsn: dict[str, str] = {}
        self._runtime_parts = frozenset(runtime)
        self._db_password = db_password or secrets.token_hex(12)
        self._manifest_token = manifest_token or secrets.token_urlsafe(24)
        given = incident_secrets or {}
        self._incident = {name: given.get(name) or secrets.token_urlsafe(18)
                          for name in ("app_db", "session", "access_token", "service_key")}
        self._dir = Workdir(workdir, "voucher-sandbox-")
        self._services = Services()
        self._dispatcher: Dispatcher | None = None

    def placeholders(self) -> dict[str, str]:
        """What ``{sandbox.<name>}`` stands for in the profile, for this system."""
        return dict(self.urls) | dict(self.paths) | dict(self.dsn)

    def start(self, parts: Parts) -> None:
        state = backups.BackupState.build(self.faults, self._manifest_token, datetime.now(UTC))
        service = backups.manifest_service(state, parts.log)
        self.urls[service.name] = self._services.start(service)
        self._start_incident_services(parts)
        self.paths = backups.write_files(self._dir.open(), state)
        if AWS in self._runtime_parts:
            aws = parts.aws(seeds=[lambda server: backups.seed(server, state)])
            self.urls[AWS] = aws.url
        if DATABASE in self._runtime_parts:
            self._start_databases(parts)

    def _start_incident_services(self, parts: Parts) -> None:
        keys = functions.Secrets(self._incident["session"], self._incident["access_token"],
                                 self._incident["service_key"])
        for service in functions.services(self.faults, keys, parts.log):
            down = f"{service.name}_down" in self.faults
            self.urls[service.name] = self._services.start(
                DownService(service.name) if down else service)

    def _start_databases(self, parts: Parts) -> None:
        try:
            pg = parts.postgres()
        except Unavailable as exc:
            self.dsn.update({f"{name}_unavailable": str(exc) for name in DATABASES})
            return
        if DR in self._runtime_parts:
            Databases(self.faults, self.dsn).build_all(DATABASES[:2], lambda: build_voucher_dbs(
                pg, password=self._db_password, faults=self.faults))
        if INCIDENTS in self._runtime_parts:
            Databases(self.faults, self.dsn).build("app", lambda: build_app_db(
                pg, password=self._incident["app_db"], faults=self.faults))
            if "app" in self.dsn and STALLED not in self.faults:
                self._dispatcher = Dispatcher(pg).start()

    def stop(self) -> None:
        """Safe to call twice or after a failed start; the shared parts are not its own."""
        dispatcher, self._dispatcher = self._dispatcher, None
        if dispatcher is not None:
            dispatcher.stop()
        self._services.stop()
        self.urls = {}
        self.paths = {}
        self.dsn = {}
        self._dir.remove()

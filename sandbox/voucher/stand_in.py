"""The voucher app's DR rehearsal, as the runbook's checks find it: backups in S3 and on
disk, the snapshot manifest behind its bearer token, the run's files, and the primary and
restored databases, started on the run's shared parts."""

from __future__ import annotations

import secrets
from collections.abc import Collection, Iterable
from datetime import UTC, datetime
from pathlib import Path

from sandbox.parts.postgres import Databases
from sandbox.parts.shared import Parts, Unavailable
from sandbox.parts.standin import Services, Workdir
from sandbox.voucher import backups
from sandbox.voucher.databases import build_voucher_dbs
from sandbox.voucher.faults import check_faults

DATABASE, AWS, DR = "database", "aws", "dr"
DATABASES = ("dr_primary", "dr_restored")


class StandIn:
    """`runtime` names the heavier parts to use: "aws" (the backups in S3) and, together,
    "database" and "dr" (the two voucher databases). `db_password` is the read-only
    reader role's, `manifest_token` the bearer the snapshot manifest accepts."""

    name = "voucher"

    def __init__(self, faults: Iterable[str] = (), workdir: Path | str | None = None, *,
                 runtime: Collection[str] = (), db_password: str | None = None,
                 manifest_token: str | None = None) -> None:
        self.faults = check_faults(faults)
        self.urls: dict[str, str] = {}
        self.paths: dict[str, str] = {}
        self.dsn: dict[str, str] = {}
        self._runtime_parts = frozenset(runtime)
        self._db_password = db_password or secrets.token_hex(12)
        self._manifest_token = manifest_token or secrets.token_urlsafe(24)
        self._dir = Workdir(workdir, "voucher-sandbox-")
        self._services = Services()

    def placeholders(self) -> dict[str, str]:
        """What ``{sandbox.<name>}`` stands for in the profile, for this system."""
        return dict(self.urls) | dict(self.paths) | dict(self.dsn)

    def start(self, parts: Parts) -> None:
        state = backups.BackupState.build(self.faults, self._manifest_token, datetime.now(UTC))
        service = backups.manifest_service(state, parts.log)
        self.urls[service.name] = self._services.start(service)
        self.paths = backups.write_files(self._dir.open(), state)
        if AWS in self._runtime_parts:
            aws = parts.aws(seeds=[lambda server: backups.seed(server, state)])
            self.urls[AWS] = aws.url
        if DATABASE in self._runtime_parts:
            self._start_databases(parts)

    def _start_databases(self, parts: Parts) -> None:
        try:
            pg = parts.postgres()
        except Unavailable as exc:
            self.dsn.update({f"{name}_unavailable": str(exc) for name in DATABASES})
            return
        if DR in self._runtime_parts:
            Databases(self.faults, self.dsn).build_all(DATABASES, lambda: build_voucher_dbs(
                pg, password=self._db_password, faults=self.faults))

    def stop(self) -> None:
        """Safe to call twice or after a failed start; the shared parts are not its own."""
        self._services.stop()
        self.urls = {}
        self.paths = {}
        self.dsn = {}
        self._dir.remove()

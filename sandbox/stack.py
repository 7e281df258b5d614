"""The Sandbox: boots the simulated services on loopback and tears them down again.

Services are listed in SERVICES; adding one (an Airbyte server, a database) means adding a
factory there, and its URL then shows up in `Sandbox.urls` under the service's name.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from types import TracebackType
from typing import Protocol

from sandbox import api, dbt, superset
from sandbox.auth import Sessions
from sandbox.faults import check_faults
from sandbox.http import RequestLog
from sandbox.state import Account, Tenant, World, build_tenants, utc_now


class Service(Protocol):
    name: str

    def start(self) -> str: ...

    def stop(self) -> None: ...


SERVICES: tuple[Callable[[World, RequestLog], Service], ...] = (api.service, superset.service)


class Sandbox:
    """A faithful, faultable ADinsights stack on 127.0.0.1, for demos and self-tests."""

    def __init__(
        self,
        accounts: Sequence[Account],
        faults: Iterable[str] = (),
        workdir: Path | str | None = None,
    ) -> None:
        self.faults = check_faults(faults)
        self.tenants: list[Tenant] = list(build_tenants(list(accounts), self.faults))
        self.urls: dict[str, str] = {}
        self.paths: dict[str, str] = {}
        self._workdir = Path(workdir).resolve() if workdir is not None else None
        self._tempdir: Path | None = None
        self._log = RequestLog()
        self._services: list[Service] = []

    @property
    def request_log(self) -> list[tuple[str, str]]:
        return self._log.entries

    def start(self) -> Sandbox:
        if self._services:
            raise RuntimeError("sandbox already started")
        root = self._workdir
        if root is None:
            root = self._tempdir = Path(tempfile.mkdtemp(prefix="adinsights-sandbox-"))
        target = root / "dbt" / "target"
        dbt.write_artifacts(target, self.faults, utc_now())
        world = World(tuple(self.tenants), self.faults, target, Sessions(tuple(self.tenants)))
        try:
            for factory in SERVICES:
                service = factory(world, self._log)
                self._services.append(service)
                self.urls[service.name] = service.start()
        except BaseException:
            self.stop()
            raise
        self.paths = {"dbt_target": str(target)}
        return self

    def stop(self) -> None:
        """Safe to call twice or after a failed start: each step only undoes what exists."""
        services, self._services = self._services, []
        for service in reversed(services):
            service.stop()
        self.urls = {}
        self.paths = {}
        tempdir, self._tempdir = self._tempdir, None
        if tempdir is not None:
            shutil.rmtree(tempdir, ignore_errors=True)

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

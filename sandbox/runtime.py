"""The sandbox's heavier parts, booted only when a run selects checks that look at them:
a real PostgreSQL server holding Airbyte's config database and the application database,
and a real Docker-API engine running the Airbyte containers.

Either part may be impossible on a machine (no PostgreSQL server binaries, no podman);
the rest of the sandbox still runs, and the reason is handed to the profile so the
affected checks are reported as not run, saying why, instead of failing.
"""

from __future__ import annotations

import contextlib
import secrets
import socket
from collections.abc import Callable, Collection
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sandbox import containers, postgres
from sandbox.airbyte_db import build_airbyte_db
from sandbox.airbyte_objects import airbyte_jobs, job_status
from sandbox.app_db import build_app_db
from sandbox.dr_db import build_audit_history, build_voucher_dbs
from sandbox.engine import Engine, EngineUnavailable
from sandbox.meta_db import build_meta_db
from sandbox.state import World, stable_id

DATABASE, CONTAINERS, DR = "database", "containers", "dr"
PARTS = (DATABASE, CONTAINERS, DR)
DATABASES = ("airbyte_db", "app_db", "meta_ops_db", "audit_db", "dr_primary", "dr_restored")


@dataclass
class Runtime:
    workdir: Path
    faults: frozenset[str]
    parts: Collection[str]
    airbyte_db_password: str
    app_db_password: str
    meta_ops_db_password: str = ""
    dr_db_password: str = ""
    audit_db_password: str = ""
    urls: dict[str, str] = field(default_factory=dict)
    dsn: dict[str, str] = field(default_factory=dict)
    _pg: postgres.Postgres | None = None
    _engine: containers.AirbyteService | None = None
    _early: Engine | None = None
    _pending: Future | None = None
    _log_mark: int = 0

    def start(self, world: World) -> None:
        """The container engine's service starts while the database boots: the containers
        need the database's port, the service does not."""
        early = self._start_engine() if CONTAINERS in self.parts else None
        db_port = self._start_database(world) if DATABASE in self.parts else None
        if CONTAINERS in self.parts:
            self._start_containers(db_port, early)
        if self._pg is not None:
            self._log_mark = self._pg.log_mark()

    def statements(self) -> list[tuple[str, str]]:
        """What the sandbox's database roles sent since the runtime was up."""
        return self._pg.statements(self._log_mark) if self._pg is not None else []

    def _start_database(self, world: World) -> int | None:
        ok, reason = postgres.available()
        if not ok:
            self._unavailable(f"no PostgreSQL server here ({reason})")
            return None
        try:
            self._pg = postgres.Postgres(self.workdir / "postgres").start()
        except Exception as exc:  # noqa: BLE001 - the rest of the sandbox still serves
            self._unavailable(f"the sandbox's PostgreSQL did not start ({exc})")
            return None
        self._build("airbyte_db", lambda: build_airbyte_db(
            self._pg, password=self.airbyte_db_password, faults=self.faults,
            connections=db_connections(world)))
        self._build("app_db", lambda: build_app_db(
            self._pg, owner_password=secrets.token_hex(12), app_password=self.app_db_password,
            faults=self.faults, tenants=db_tenants(world)))
        if "app_db" in self.dsn:  # the Meta tables live in the application database
            self._build("meta_ops_db", lambda: build_meta_db(
                self._pg, ops_password=self.meta_ops_db_password or secrets.token_hex(12),
                faults=self.faults, world=world))
        else:
            self.dsn["meta_ops_db_unavailable"] = self.dsn.get("app_db_unavailable", "")
        if DR in self.parts:
            self._build_dr()
        return self._pg.port

    def _build_dr(self) -> None:
        if "app_db" in self.dsn:  # the audit history lives in the application database
            self._build("audit_db", lambda: build_audit_history(
                self._pg, password=self.audit_db_password or secrets.token_hex(12),
                faults=self.faults))
        else:
            self.dsn["audit_db_unavailable"] = self.dsn.get("app_db_unavailable", "")
        self._build_all(("dr_primary", "dr_restored"), lambda: build_voucher_dbs(
            self._pg, password=self.dr_db_password or secrets.token_hex(12), faults=self.faults))

    def _build(self, name: str, build: Callable[[], dict]) -> None:
        self._build_all((name,), lambda: {name: build()})

    def _build_all(self, names: tuple[str, ...], build: Callable[[], dict]) -> None:
        """Each database has its own roles, so one failing to build does not take the
        other's checks down."""
        try:
            built = build()
        except Exception as exc:  # noqa: BLE001 - reported through the profile instead
            for name in names:
                self.dsn[f"{name}_unavailable"] = f"the sandbox's {name} failed to build ({exc})"
            return
        for name, where in built.items():
            port = _closed_port() if f"{name}_port_closed" in self.faults else where["port"]
            self.dsn[name] = (f"postgresql://{where['user']}@{where['host']}:{port}/"
                              f"{where['dbname']}")

    def _unavailable(self, reason: str) -> None:
        for name in DATABASES:
            self.dsn[f"{name}_unavailable"] = reason

    def _start_engine(self) -> tuple[Engine, Future] | None:
        if "engine_down" in self.faults:
            return None
        self._early = Engine(self.workdir / "engine")
        pool = ThreadPoolExecutor(1, thread_name_prefix="sandbox-engine")
        self._pending = pool.submit(self._early.start)
        pool.shutdown(wait=False)  # the start goes on; nothing else will be submitted
        return self._early, self._pending

    def _start_containers(self, db_port: int | None,
                          early: tuple[Engine, Future] | None) -> None:
        if early is None:
            self.urls["docker"] = f"unix://{self.workdir / 'engine-gone.sock'}"
            return
        engine, pending = early
        service = containers.AirbyteService(self.workdir / "engine", self.faults,
                                            db_port=db_port, db_password=self.airbyte_db_password,
                                            engine=engine)
        try:
            pending.result()
            self.urls[service.name] = service.start(engine_started=True)
        except EngineUnavailable as exc:
            self.urls["docker_unavailable"] = f"no container engine could be started ({exc})"
            return
        except Exception as exc:  # noqa: BLE001 - the rest of the sandbox still serves
            self.urls["docker_unavailable"] = ("the sandbox's Airbyte containers did not start "
                                               f"({str(exc).splitlines()[0][:200]})")
            return
        self._engine = service

    def stop(self) -> None:
        engine, self._engine = self._engine, None
        if engine is not None:
            engine.stop()
        early, self._early = self._early, None
        if early is not None:  # started early: let a start in progress finish, then stop it
            with contextlib.suppress(Exception):
                self._pending.result(timeout=60)
            early.stop()
        pg, self._pg = self._pg, None
        if pg is not None:
            pg.stop()


def _closed_port() -> int:
    """A loopback port nothing listens on: bound, then released."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def db_connections(world: World) -> list[dict]:
    """The rows Airbyte's own database holds: the same connections and jobs its API serves."""
    now = datetime.now(UTC)
    return [
        {
            "connection_id": c.connection_id,
            "name": c.name,
            "workspace_id": c.workspace_id,
            "jobs": [{"id": int(j.job_id), "status": job_status(j),
                      "created_at": j.started_at(now), "updated_at": j.updated_at(now)}
                     for j in airbyte_jobs(c)],
        }
        for c in world.airbyte_connections()
    ]


def db_tenants(world: World) -> list[dict]:
    """The rows the application database holds: each tenant's admin, its campaigns under
    its ad account, and the same audit trail ``/api/audit-logs/`` serves."""
    now = datetime.now(UTC)
    return [
        {
            "tenant_id": t.tenant_id, "name": t.name, "user_id": t.user_id, "email": t.email,
            "campaigns": [{"id": stable_id(t.name, "campaign", str(n)),
                           "external_id": f"{t.ad_account_id.removeprefix('act_')}{n:03d}",
                           "name": f"{t.name.title()} {label}"}
                          for n, label in enumerate(("Prospecting", "Retargeting"), 1)],
            "audit": [{"id": r.id, "user_id": r.user_id, "action": r.action,
                       "resource_type": r.resource_type, "resource_id": r.resource_id,
                       "metadata": r.metadata, "created_at": r.created_at(now)}
                      for r in world.audit.rows(t.tenant_id, now)],
        }
        for t in world.tenants
    ]

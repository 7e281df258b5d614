"""ADinsights' heavier parts, built only when a run selects checks that look at them:
Airbyte's config database, the application database (with the Meta tables and the audit
history) in the shared PostgreSQL cluster, and the Airbyte containers on the shared
container engine.

Either shared part may be impossible on a machine (no PostgreSQL server binaries, no
podman); the rest of the sandbox still runs, and the reason is handed to the profile so
the affected checks are reported as not run, saying why, instead of failing.
"""

from __future__ import annotations

import secrets
from collections.abc import Collection
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sandbox.adinsights import containers
from sandbox.adinsights.airbyte_db import build_airbyte_db
from sandbox.adinsights.airbyte_objects import airbyte_jobs, job_status
from sandbox.adinsights.app_db import build_app_db
from sandbox.adinsights.audit_history import build_audit_history
from sandbox.adinsights.meta_db import build_meta_db
from sandbox.adinsights.state import stable_id
from sandbox.adinsights.world import World
from sandbox.parts.engine import EngineUnavailable
from sandbox.parts.postgres import Databases, Postgres
from sandbox.parts.shared import Parts, Unavailable

DATABASE, CONTAINERS, DR = "database", "containers", "dr"
DATABASES = ("airbyte_db", "app_db", "meta_ops_db", "audit_db")
ENGINE_DOWN = "engine_down"


@dataclass
class Runtime:
    workdir: Path
    faults: frozenset[str]
    parts: Collection[str]
    airbyte_db_password: str
    app_db_password: str
    meta_ops_db_password: str = ""
    audit_db_password: str = ""
    urls: dict[str, str] = field(default_factory=dict)
    dsn: dict[str, str] = field(default_factory=dict)
    _containers: containers.AirbyteService | None = None

    def start(self, world: World, shared: Parts) -> None:
        """The containers need only the cluster's port, not its databases: they start
        while the databases build."""
        if CONTAINERS in self.parts and ENGINE_DOWN not in self.faults:
            shared.warm_engine()
        pg = self._cluster(shared) if DATABASE in self.parts else None
        if CONTAINERS not in self.parts:
            if pg is not None:
                self._build_databases(world, pg)
            return
        with ThreadPoolExecutor(1, thread_name_prefix="sandbox-airbyte") as pool:
            # leaving the block waits for the containers, even when the builds raise
            beside = pool.submit(self._start_containers, pg.port if pg else None, shared)
            if pg is not None:
                self._build_databases(world, pg)
            beside.result()

    def _cluster(self, shared: Parts) -> Postgres | None:
        try:
            return shared.postgres()
        except Unavailable as exc:
            self.dsn.update({f"{name}_unavailable": str(exc) for name in DATABASES})
            return None

    def _build_databases(self, world: World, pg: Postgres) -> None:
        dbs = Databases(self.faults, self.dsn)
        dbs.build("airbyte_db", lambda: build_airbyte_db(
            pg, password=self.airbyte_db_password, faults=self.faults,
            connections=db_connections(world)))
        dbs.build("app_db", lambda: build_app_db(
            pg, owner_password=secrets.token_hex(12), app_password=self.app_db_password,
            faults=self.faults, tenants=db_tenants(world)))
        # The Meta tables and the audit history live in the application database.
        if "app_db" in self.dsn:
            dbs.build("meta_ops_db", lambda: build_meta_db(
                pg, ops_password=self.meta_ops_db_password or secrets.token_hex(12),
                faults=self.faults, world=world))
        else:
            self.dsn["meta_ops_db_unavailable"] = self.dsn.get("app_db_unavailable", "")
        if DR in self.parts:
            if "app_db" in self.dsn:
                dbs.build("audit_db", lambda: build_audit_history(
                    pg, password=self.audit_db_password or secrets.token_hex(12),
                    faults=self.faults))
            else:
                self.dsn["audit_db_unavailable"] = self.dsn.get("app_db_unavailable", "")

    def _start_containers(self, db_port: int | None, shared: Parts) -> None:
        if ENGINE_DOWN in self.faults:
            self.urls["docker"] = f"unix://{self.workdir / 'engine-gone.sock'}"
            return
        try:
            engine = shared.engine()
            service = containers.AirbyteService(engine.workdir, self.faults, db_port=db_port,
                                                db_password=self.airbyte_db_password,
                                                engine=engine)
            self.urls[service.name] = service.start(engine_started=True)
        except EngineUnavailable as exc:
            self.urls["docker_unavailable"] = f"no container engine could be started ({exc})"
            return
        except Exception as exc:  # noqa: BLE001 - the rest of the sandbox still serves
            self.urls["docker_unavailable"] = ("the sandbox's Airbyte containers did not start "
                                               f"({str(exc).splitlines()[0][:200]})")
            return
        self._containers = service

    def stop(self) -> None:
        """The containers go with the shared engine; only forget them here."""
        self._containers = None


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

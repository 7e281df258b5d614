"""The Airbyte runtime: its config database in real PostgreSQL and its containers on a
real Docker-API engine, booted only when a run selects checks that look at them.

Either part may be impossible on a machine (no PostgreSQL server binaries, no podman);
the rest of the sandbox still runs, and the reason is handed to the profile so the
affected checks are reported as not run, saying why, instead of failing.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sandbox import containers, postgres
from sandbox.airbyte_db import build_airbyte_db
from sandbox.airbyte_objects import airbyte_jobs, job_status
from sandbox.engine import EngineUnavailable
from sandbox.state import World


@dataclass
class AirbyteRuntime:
    workdir: Path
    faults: frozenset[str]
    db_password: str
    urls: dict[str, str] = field(default_factory=dict)
    dsn: dict[str, str] = field(default_factory=dict)
    _pg: postgres.Postgres | None = None
    _engine: containers.AirbyteService | None = None

    def start(self, world: World) -> None:
        db_port = self._start_database(world)
        self._start_containers(db_port)

    def _start_database(self, world: World) -> int | None:
        ok, reason = postgres.available()
        if not ok:
            self.dsn["airbyte_db_unavailable"] = f"no PostgreSQL server here ({reason})"
            return None
        try:
            self._pg = postgres.Postgres(self.workdir / "postgres").start()
            where = build_airbyte_db(self._pg, password=self.db_password, faults=self.faults,
                                     connections=db_connections(world))
        except Exception as exc:  # noqa: BLE001 - the rest of the sandbox still serves
            self.dsn["airbyte_db_unavailable"] = f"the sandbox's PostgreSQL did not start ({exc})"
            return None
        published = _closed_port() if "airbyte_db_port_closed" in self.faults else where["port"]
        self.dsn["airbyte_db"] = (f"postgresql://{where['user']}@{where['host']}:"
                                  f"{published}/{where['dbname']}")
        return self._pg.port

    def _start_containers(self, db_port: int | None) -> None:
        if "engine_down" in self.faults:
            self.urls["docker"] = f"unix://{self.workdir / 'engine-gone.sock'}"
            return
        service = containers.AirbyteService(self.workdir / "engine", self.faults,
                                            db_port=db_port, db_password=self.db_password)
        try:
            self.urls[service.name] = service.start()
        except EngineUnavailable as exc:
            self.urls["docker_unavailable"] = f"no container engine could be started ({exc})"
            return
        except Exception as exc:  # noqa: BLE001 - the rest of the sandbox still serves
            self.urls["docker_unavailable"] = f"the sandbox's Airbyte containers did not start " \
                                              f"({str(exc).splitlines()[0][:200]})"
            return
        self._engine = service

    def stop(self) -> None:
        engine, self._engine = self._engine, None
        if engine is not None:
            engine.stop()
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

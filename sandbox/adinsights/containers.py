"""The Airbyte containers, in each state the runbooks describe, on a real engine.

Each container runs a shell script that prints the log lines the real service prints and
then either exits with the real exit code or stays up, so `docker ps`, `docker logs`,
`docker inspect` and `docker exec` show the evidence of a state rather than a description
of it. The order follows the runbook's compose file: server and worker start only once the
bootloader has exited 0 (compose's service_completed_successfully), judged from the
bootloader's real exit code. `airbyte-db` is the client side of the database only: psql runs
in it against the sandbox's PostgreSQL on host loopback.

Log lines use Airbyte's log4j layout without colour codes (`<time> LEVEL logger - message`)
and Python logging's for the scheduler; checks should match on the message.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Collection
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from sandbox.parts.containers import SETTLE_TIMEOUT, Line, Spec, create, remove, settle, volume
from sandbox.parts.engine import Engine
from sandbox.parts.images import ensure_image

AIRBYTE_VERSION = "0.50.22"
DB_HOST = "127.0.0.1"
DB_USER = "airbyte"
DB_NAME = "airbyte"
BOOTLOADER, SERVER, WORKER, SCHEDULER, DB = (
    "airbyte-bootloader", "airbyte-server", "airbyte-worker", "airbyte-scheduler", "airbyte-db")
NAMES = (DB, BOOTLOADER, SERVER, WORKER, SCHEDULER)
WORKSPACE_VOLUME, LOCAL_VOLUME = "airbyte-workspace", "airbyte-local"
VOLUMES = (WORKSPACE_VOLUME, LOCAL_VOLUME)
WORKSPACE_ROOT, LOCAL_ROOT = "/tmp/workspace", "/tmp/airbyte_local"
BEAT_ENTRY = "airbyte-scheduled-syncs-hourly"
BEAT_TASK = "integrations.tasks.trigger_scheduled_airbyte_syncs"

# The faults this module acts on; the sandbox passes its whole set and the rest are ignored.
FAULTS = frozenset({
    "airbyte_bootloader_failed",
    "airbyte_db_empty_schema",
    "airbyte_metadata_missing",
    "airbyte_worker_mounts",
    "airbyte_source_config_missing",
    "airbyte_scheduler_silent",
    "airbyte_beat_entry_missing",
})
_SCHEMA_MISSING = frozenset({"airbyte_db_empty_schema", "airbyte_metadata_missing"})

# The bootloader's steps in the order it logs them (external-apis 1.5); migrations log two
# sub-steps after "Running database migrations...".
_BOOT_STEPS = (
    ("load", "Initializing databases..."),
    ("load", "Checking migration compatibility..."),
    ("load", "Checking protocol version constraints..."),
    ("load", "Running database migrations..."),
    ("runFlywayMigration", "Migrating configs database..."),
    ("runFlywayMigration", "Migrating jobs database..."),
    ("load", "Creating workspace (if none exists)..."),
    ("load", "Creating deployment (if none exists)..."),
    ("load", f"Setting Airbyte version to '{AIRBYTE_VERSION}'..."),
    ("load", "Finished bootstrapping Airbyte environment."),
)
_MIGRATIONS = 4  # how many steps are logged before migrations can fail


def _java(level: str, logger: str, message: str) -> Line:
    return Line(f"{level} {logger} - {message}")


def _python(level: str, logger: str, message: str) -> Line:
    return Line(f"{level} {logger}: {message}")


@dataclass(frozen=True)
class AirbyteContainers:
    """What create_airbyte made: container ids by name, the ones it started, the volumes."""

    image: str
    containers: dict[str, str]
    started: tuple[str, ...]
    volumes: tuple[str, ...]
    seconds: float
    specs: tuple[Spec, ...] = field(repr=False, default=())


def airbyte_specs(faults: Collection[str], *, db_port: int | None,
                  db_password: str) -> tuple[Spec, ...]:
    """The five containers for a set of faults; each fault changes only what it must."""
    url = f"jdbc:postgresql://{DB_HOST}:{db_port or 5432}/{DB_NAME}"
    database = {"DATABASE_USER": DB_USER, "DATABASE_PASSWORD": db_password,
                "DATABASE_URL": url, "AIRBYTE_VERSION": AIRBYTE_VERSION}
    client = {"POSTGRES_USER": DB_USER, "POSTGRES_DB": DB_NAME,
              "POSTGRES_PASSWORD": db_password, "PGPASSWORD": db_password, "PGHOST": DB_HOST}
    if db_port is not None:
        client["PGPORT"] = str(db_port)
    return (
        Spec(DB, "db", (), client),
        _bootloader(faults, database),
        _server(faults, database),
        _worker(faults, database),
        _scheduler(faults, database),
    )


def _bootloader(faults: Collection[str], database: dict[str, str]) -> Spec:
    logs = [_java("INFO", f"i.a.b.Bootloader({method})", text) for method, text in _BOOT_STEPS]
    exit_code = 0
    if "airbyte_bootloader_failed" in faults:
        logs = logs[:_MIGRATIONS] + [
            _java("ERROR", "i.a.b.Bootloader(runFlywayMigration)", "org.flywaydb.core.api."
                  "FlywayException: Validate failed: Migrations have failed validation"),
            _java("ERROR", "i.a.b.Application(main)", "Unable to bootstrap Airbyte environment."),
        ]
        exit_code = 255  # System.exit(-1)
    env = {**database, "RUN_DATABASE_MIGRATION_ON_STARTUP": "true", "LOG_LEVEL": "INFO"}
    return Spec(BOOTLOADER, "bootloader", tuple(logs), env, exit_code)


def _server(faults: Collection[str], database: dict[str, str]) -> Spec:
    logs = [_java("INFO", "i.m.c.e.DefaultEnvironment(<init>)",
                  "Established active environments: [control-plane]")]
    exit_code = None
    if _SCHEMA_MISSING & set(faults):
        # jOOQ's wrapping of the PostgreSQL error, as the server dies reading its version.
        logs += [
            _java("ERROR", "i.m.r.Micronaut(handleStartupException)",
                  "Error starting Micronaut server: org.jooq.exception.DataAccessException: "
                  "SQL [select * from airbyte_metadata where key = ?]; "
                  'ERROR: relation "airbyte_metadata" does not exist'),
            Line("  Position: 15", stamped=False),
        ]
        exit_code = 1
    else:
        logs.append(_java("INFO", "i.m.r.Micronaut(start)",
                          "Startup completed in 6431ms. Server Running: http://localhost:8001"))
    env = {**database, "WORKSPACE_ROOT": WORKSPACE_ROOT, "CONFIG_ROOT": "/data",
           "TEMPORAL_HOST": "airbyte-temporal:7233"}
    return Spec(SERVER, "server", tuple(logs), env, exit_code, second_wave=True)


def _worker(faults: Collection[str], database: dict[str, str]) -> Spec:
    mount = "airbyte_workspace" if "airbyte_worker_mounts" in faults else WORKSPACE_VOLUME
    logs = [
        _java("INFO", "i.m.c.e.DefaultEnvironment(<init>)",
              "Established active environments: [control-plane, worker-v2]"),
        _java("INFO", "i.a.w.ApplicationInitializer(initializeCommonDependencies)",
              "Initializing common worker dependencies."),
        _java("INFO", "i.m.r.Micronaut(start)",
              "Startup completed in 5120ms. Server Running: http://localhost:9000"),
    ]
    if "airbyte_source_config_missing" in faults:
        gobbler = "i.a.c.i.LineGobbler(voidCall)"
        logs += [
            _java("INFO", "i.a.w.p.DockerProcessFactory(create)",
                  f"Preparing command: docker run --rm --init -i -w /data/1/0 "
                  f"-v {mount}:/data -v {LOCAL_VOLUME}:/local --network host "
                  "airbyte/source-facebook-marketing:1.1.0 check --config source_config.json"),
            _java("ERROR", gobbler, "source > Traceback (most recent call last):"),
            _java("ERROR", gobbler, 'source >   File "/airbyte/integration_code/main.py", '
                  "line 13, in <module>"),
            _java("ERROR", gobbler, "source > FileNotFoundError: [Errno 2] No such file or "
                  "directory: 'source_config.json'"),
        ]
    env = {**database, "WORKSPACE_ROOT": WORKSPACE_ROOT, "WORKSPACE_DOCKER_MOUNT": mount,
           "LOCAL_ROOT": LOCAL_ROOT, "LOCAL_DOCKER_MOUNT": LOCAL_VOLUME,
           "TEMPORAL_HOST": "airbyte-temporal:7233", "INTERNAL_API_HOST": "airbyte-server:8001"}
    volumes = ((WORKSPACE_VOLUME, WORKSPACE_ROOT), (LOCAL_VOLUME, LOCAL_ROOT))
    return Spec(WORKER, "worker", tuple(logs), env, second_wave=True, volumes=volumes)


def _scheduler(faults: Collection[str], database: dict[str, str]) -> Spec:
    logs = []
    if "airbyte_beat_entry_missing" not in faults:
        logs.append(_python("INFO", "scheduler", f'Registered beat entry "{BEAT_ENTRY}" -> '
                            f"{BEAT_TASK} (hourly, 06:00-22:00 America/Jamaica)"))
    if "airbyte_scheduler_silent" not in faults:
        logs.append(_python("INFO", "apscheduler.scheduler", "Scheduler started"))
    return Spec(SCHEDULER, "scheduler", tuple(logs), dict(database))


def create_airbyte(engine: Engine, *, faults: Collection[str] = frozenset(),
                   db_port: int | None = None, db_password: str,
                   compose: str | None = "airbyte") -> AirbyteContainers:
    """Create the Airbyte containers and volumes and bring each to its settled state:
    one-shot containers exited, long-running ones up with their startup lines logged.

    `db_port` is the sandbox PostgreSQL's port on 127.0.0.1 (None: psql's default, 5432).
    `db_password` is what every secret-looking variable holds, so redaction can be tested.
    `compose` is the compose project named in the containers' labels (None: no labels).
    Containers of the same names left by an earlier call are replaced.
    """
    began = time.perf_counter()
    image = ensure_image(engine)
    specs = airbyte_specs(faults, db_port=db_port, db_password=db_password)
    remove_airbyte(engine)
    client = engine.client()
    deadline = time.monotonic() + SETTLE_TIMEOUT
    with ThreadPoolExecutor(len(specs)) as pool:
        list(pool.map(functools.partial(volume, client, compose=compose), VOLUMES))
        made = list(pool.map(functools.partial(create, client, image, compose=compose), specs))
        containers = {spec.name: container for spec, container in zip(specs, made, strict=True)}
        run = functools.partial(settle, deadline=deadline)
        runs = {spec.name: pool.submit(run, containers[spec.name], spec)
                for spec in specs if not spec.second_wave}
        if runs[BOOTLOADER].result() == 0:
            runs |= {spec.name: pool.submit(run, containers[spec.name], spec)
                     for spec in specs if spec.second_wave}
        for future in runs.values():
            future.result()
    return AirbyteContainers(
        image=image,
        containers={name: container.id for name, container in containers.items()},
        started=tuple(runs),
        volumes=VOLUMES,
        seconds=time.perf_counter() - began,
        specs=specs,
    )


def remove_airbyte(engine: Engine) -> None:
    """Remove the Airbyte containers and volumes left by an earlier call."""
    remove(engine, NAMES, VOLUMES)


class AirbyteService:
    """The engine and the Airbyte containers as one sandbox service: start() returns the
    DOCKER_HOST URL, stop() removes everything. Given an engine, the service leaves its
    lifetime to the caller (the engine is shared), and stop() leaves it running."""

    name = "docker"

    def __init__(self, workdir: Path, faults: Collection[str], *, db_port: int | None,
                 db_password: str, compose: str | None = "airbyte",
                 engine: Engine | None = None) -> None:
        self.engine = engine or Engine(workdir)
        self._owns_engine = engine is None
        self.created: AirbyteContainers | None = None
        self._create = functools.partial(create_airbyte, faults=frozenset(faults),
                                         db_port=db_port, db_password=db_password,
                                         compose=compose)

    def start(self, engine_started: bool = False) -> str:
        """``engine_started``: the caller already started ``engine`` (while it did
        something else, such as booting the database the containers connect to)."""
        if not engine_started:
            self.engine.start()
        try:
            self.created = self._create(self.engine)
        except BaseException:
            self.stop()
            raise
        return self.engine.docker_host

    def stop(self) -> None:
        if self._owns_engine:
            self.engine.stop()

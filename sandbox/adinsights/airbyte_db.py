"""Airbyte's `airbyte-db` as the 0.50 bootloader leaves it, on a real PostgreSQL server.

The database checks read it with psql and SQL the way an operator would, so names follow
Airbyte exactly (databases, tables, enum labels, `jobs.scope` holding the connection UUID),
while columns are trimmed to a plausible subset: enough for the runbook's queries, not a
migration-accurate copy.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Set
from datetime import UTC, datetime
from typing import Any

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from sandbox.adinsights.state import stable_id
from sandbox.parts.postgres import Postgres

ROLE = "airbyte"
DBNAME = "airbyte"
TEMPORAL_DATABASES = ("temporal", "temporal_visibility")
AIRBYTE_VERSION = "0.50.22"
# What the 0.50 platform advertises unless AIRBYTE_PROTOCOL_VERSION_MIN/MAX override it.
PROTOCOL_VERSION_MIN = "0.0.0"
PROTOCOL_VERSION_MAX = "0.3.0"

EMPTY_SCHEMA = "airbyte_db_empty_schema"
METADATA_MISSING = "airbyte_metadata_missing"
METADATA_TABLE = "airbyte_metadata"

ENUMS: dict[str, tuple[str, ...]] = {
    "job_status": ("pending", "running", "incomplete", "failed", "succeeded", "cancelled"),
    "attempt_status": ("running", "failed", "succeeded"),
    "job_config_type": (
        "check_connection_source",
        "check_connection_destination",
        "discover_schema",
        "get_spec",
        "sync",
        "reset_connection",
    ),
    "job_stream_status_job_type": ("sync", "reset"),
    "job_stream_status_run_state": ("pending", "running", "complete", "incomplete"),
    "job_stream_status_incomplete_run_cause": ("failed", "canceled"),
    "actor_type": ("source", "destination"),
    "source_type": ("api", "file", "database", "custom"),
    "status_type": ("active", "inactive", "deprecated"),
    "namespace_definition_type": ("source", "destination", "customformat"),
    "schedule_type": ("manual", "basic_schedule", "cron"),
    "geography_type": ("AUTO", "US", "EU"),
    "state_type": ("STREAM", "GLOBAL", "LEGACY"),
}

_STAMPS = """
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()"""
# Flyway's history table; the jobs and the configs database each keep one.
_FLYWAY = """
    installed_rank int PRIMARY KEY, version varchar(50), description varchar(200) NOT NULL,
    type varchar(20) NOT NULL, script varchar(1000) NOT NULL, checksum int,
    installed_by varchar(100) NOT NULL, installed_on timestamp NOT NULL DEFAULT now(),
    execution_time int NOT NULL, success boolean NOT NULL"""

# In creation order, so every foreign key points at a table that already exists.
JOBS_TABLES: dict[str, str] = {
    "airbyte_jobs_migrations": _FLYWAY,
    METADATA_TABLE: "key varchar(255) PRIMARY KEY, value varchar(255)",
    "jobs": """
    id bigserial PRIMARY KEY, config_type job_config_type, scope varchar(255), config jsonb,
    status job_status, started_at timestamptz, created_at timestamptz,
    updated_at timestamptz""",
    "attempts": """
    id bigserial PRIMARY KEY, job_id bigint REFERENCES jobs, attempt_number int,
    log_path varchar(255), output jsonb, status attempt_status, created_at timestamptz,
    updated_at timestamptz, ended_at timestamptz, temporal_workflow_id varchar(256),
    failure_summary jsonb, processing_task_queue varchar(255), attempt_sync_config jsonb,
    UNIQUE (job_id, attempt_number)""",
    "normalization_summaries": """
    id uuid PRIMARY KEY, attempt_id bigint NOT NULL REFERENCES attempts,
    start_time timestamptz, end_time timestamptz, failures jsonb,"""
    + _STAMPS,
    "retry_states": """
    id uuid PRIMARY KEY, connection_id uuid NOT NULL, job_id bigint NOT NULL REFERENCES jobs,
    successive_complete_failures int NOT NULL, total_complete_failures int NOT NULL,
    successive_partial_failures int NOT NULL, total_partial_failures int NOT NULL,"""
    + _STAMPS,
    "stream_stats": """
    id uuid PRIMARY KEY, attempt_id bigint NOT NULL REFERENCES attempts,
    stream_namespace varchar, stream_name varchar NOT NULL, records_emitted bigint,
    bytes_emitted bigint, estimated_records bigint, estimated_bytes bigint,
    records_committed bigint, bytes_committed bigint,"""
    + _STAMPS,
    "stream_statuses": """
    id uuid PRIMARY KEY, workspace_id uuid NOT NULL, connection_id uuid NOT NULL,
    job_id bigint NOT NULL REFERENCES jobs, attempt_number int NOT NULL,
    stream_namespace varchar NOT NULL, stream_name varchar NOT NULL,
    job_type job_stream_status_job_type NOT NULL, run_state job_stream_status_run_state NOT NULL,
    incomplete_run_cause job_stream_status_incomplete_run_cause,
    transitioned_at timestamptz NOT NULL,"""
    + _STAMPS,
    "sync_stats": """
    id uuid PRIMARY KEY, attempt_id bigint NOT NULL REFERENCES attempts,
    records_emitted bigint, bytes_emitted bigint, records_committed bigint,
    bytes_committed bigint, estimated_records bigint, estimated_bytes bigint,
    source_state_messages_emitted bigint, destination_state_messages_emitted bigint,"""
    + _STAMPS,
}
CONFIG_TABLES: dict[str, str] = {
    "airbyte_configs_migrations": _FLYWAY,
    "workspace": """
    id uuid PRIMARY KEY, customer_id uuid, name varchar(256) NOT NULL,
    slug varchar(256) NOT NULL, email varchar(256), initial_setup_complete boolean NOT NULL,
    anonymous_data_collection boolean, send_newsletter boolean, send_security_updates boolean,
    display_setup_wizard boolean, tombstone boolean NOT NULL DEFAULT false, notifications jsonb,
    first_sync_complete boolean, feedback_complete boolean,
    geography geography_type NOT NULL DEFAULT 'AUTO',"""
    + _STAMPS,
    "actor_definition": """
    id uuid PRIMARY KEY, name varchar(256) NOT NULL, docker_repository varchar(256) NOT NULL,
    docker_image_tag varchar(256) NOT NULL, documentation_url varchar(256), icon text,
    actor_type actor_type NOT NULL, source_type source_type, spec jsonb NOT NULL,
    tombstone boolean NOT NULL DEFAULT false, public boolean NOT NULL DEFAULT true,
    custom boolean NOT NULL DEFAULT false, release_stage varchar(256),"""
    + _STAMPS,
    "actor": """
    id uuid PRIMARY KEY, workspace_id uuid NOT NULL REFERENCES workspace,
    actor_definition_id uuid NOT NULL REFERENCES actor_definition, name varchar(256) NOT NULL,
    configuration jsonb NOT NULL, actor_type actor_type NOT NULL,
    tombstone boolean NOT NULL DEFAULT false,"""
    + _STAMPS,
    "connection": """
    id uuid PRIMARY KEY, namespace_definition namespace_definition_type NOT NULL,
    namespace_format varchar(256), prefix varchar(256),
    source_id uuid NOT NULL REFERENCES actor, destination_id uuid NOT NULL REFERENCES actor,
    name varchar(256) NOT NULL, catalog jsonb NOT NULL, status status_type,
    schedule jsonb, manual boolean NOT NULL, schedule_type schedule_type, schedule_data jsonb,
    resource_requirements jsonb, source_catalog_id uuid,
    geography geography_type NOT NULL DEFAULT 'AUTO', notify_schema_changes boolean NOT NULL
    DEFAULT true, breaking_change boolean NOT NULL DEFAULT false,"""
    + _STAMPS,
    "state": """
    id uuid PRIMARY KEY, connection_id uuid NOT NULL REFERENCES connection, state jsonb,
    stream_name text, namespace text, type state_type NOT NULL DEFAULT 'LEGACY',"""
    + _STAMPS,
}
INDEXES = (
    ("jobs_scope_idx", "jobs", "scope"),
    ("jobs_status_idx", "jobs", "status"),
    ("jobs_config_type_idx", "jobs", "config_type"),
    ("attempts_status_idx", "attempts", "status"),
)

# The oldest migration each database must have reached for 0.50 to start (upstream .env).
MIGRATIONS = {
    "airbyte_jobs_migrations": ("0.29.15.001", "0.40.26.001"),
    "airbyte_configs_migrations": ("0.32.8.001", "0.40.23.002"),
}

# Connector definitions every sandbox connection is built from: the ADinsights Meta sync.
SOURCE_DEFINITION = {
    "id": "e7778cfc-e97c-4458-9ecb-b4f2bba8946c",
    "name": "Facebook Marketing",
    "docker_repository": "airbyte/source-facebook-marketing",
    "docker_image_tag": "1.1.0",
    "actor_type": "source",
    "source_type": "api",
}
DESTINATION_DEFINITION = {
    "id": "25c5221d-dce2-4163-ade9-739ef790f503",
    "name": "Postgres",
    "docker_repository": "airbyte/destination-postgres",
    "docker_image_tag": "0.4.0",
    "actor_type": "destination",
    "source_type": None,
}

# An attempt ends the way its job did; a pending job has not been attempted yet.
_ATTEMPT_STATUS = {
    "running": "running",
    "incomplete": "failed",
    "failed": "failed",
    "cancelled": "failed",
    "succeeded": "succeeded",
}


def build_airbyte_db(
    pg: Postgres,
    *,
    password: str,
    faults: Set[str],
    connections: list[dict[str, Any]],
    version: str = AIRBYTE_VERSION,
) -> dict[str, Any]:
    """Create the role, the three databases and, unless a fault says otherwise, the schema
    and rows. Returns where to connect; the password stays with the caller."""
    if EMPTY_SCHEMA in faults and METADATA_MISSING in faults:
        raise ValueError(f"sandbox faults {EMPTY_SCHEMA!r} and {METADATA_MISSING!r} conflict")
    pg.create_role(ROLE, password)
    for name in (DBNAME, *TEMPORAL_DATABASES):
        pg.create_database(name, owner=ROLE)
    # The empty-schema fault is a database the bootloader never migrated: nothing inside.
    if EMPTY_SCHEMA not in faults:
        with pg.superuser(DBNAME) as conn, conn.transaction():
            # Built as airbyte, so every object is owned by it as after a real bootstrap.
            conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(ROLE)))
            _create_schema(conn, with_metadata=METADATA_MISSING not in faults)
            now = datetime.now(UTC)
            _insert_migrations(conn, now)
            if METADATA_MISSING not in faults:
                _insert_metadata(conn, version, now)
            _insert_config(conn, connections, now)
            _insert_jobs(conn, connections)
    return {"host": pg.host, "port": pg.port, "dbname": DBNAME, "user": ROLE}


def _create_schema(conn: psycopg.Connection, *, with_metadata: bool) -> None:
    for name, labels in ENUMS.items():
        conn.execute(
            sql.SQL("CREATE TYPE {} AS ENUM ({})").format(
                sql.Identifier(name), sql.SQL(", ").join(map(sql.Literal, labels))
            )
        )
    for name, columns in {**JOBS_TABLES, **CONFIG_TABLES}.items():
        if name == METADATA_TABLE and not with_metadata:
            continue
        # Column text is a module constant, never caller input, so it may be spliced in.
        body = sql.SQL(columns)
        conn.execute(sql.SQL("CREATE TABLE {} ({})").format(sql.Identifier(name), body))
    for index, table, column in INDEXES:
        conn.execute(
            sql.SQL("CREATE INDEX {} ON {} ({})").format(
                sql.Identifier(index), sql.Identifier(table), sql.Identifier(column)
            )
        )


def _insert(conn: psycopg.Connection, table: str, rows: Iterable[Mapping[str, Any]]) -> None:
    """Insert dict rows that share their keys; one statement per table keeps callers short."""
    rows = list(rows)
    if not rows:
        return
    columns = list(rows[0])
    statement = sql.SQL("INSERT INTO {} ({}) VALUES ({})").format(
        sql.Identifier(table),
        sql.SQL(", ").join(map(sql.Identifier, columns)),
        sql.SQL(", ").join(sql.Placeholder(c) for c in columns),
    )
    with conn.cursor() as cur:
        cur.executemany(statement, rows)


def _insert_migrations(conn: psycopg.Connection, now: datetime) -> None:
    installed = {"installed_by": ROLE, "installed_on": now.replace(tzinfo=None)}
    for table, (baseline, minimum) in MIGRATIONS.items():
        script = f"V{minimum.replace('.', '_')}__migration"
        rows = [
            _migration_row(1, baseline, "<< Flyway Baseline >>", "BASELINE", installed),
            _migration_row(2, minimum, f"Migration {minimum}", "JDBC", installed, script),
        ]
        _insert(conn, table, rows)


def _migration_row(
    rank: int,
    version: str,
    description: str,
    kind: str,
    installed: dict[str, Any],
    script: str | None = None,
) -> dict[str, Any]:
    return {
        "installed_rank": rank,
        "version": version,
        "description": description,
        "type": kind,
        "script": script or description,
        "execution_time": 0,
        "success": True,
        **installed,
    }


def _insert_metadata(conn: psycopg.Connection, version: str, now: datetime) -> None:
    """The rows the bootloader writes: one `<timestamp>_init_db` per run, named the way Java's
    Instant prints."""
    stamp = now.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    rows = {
        "airbyte_version": version,
        f"{stamp}_init_db": version,
        "deployment_id": stable_id("airbyte", "deployment"),
        "airbyte_protocol_version_min": PROTOCOL_VERSION_MIN,
        "airbyte_protocol_version_max": PROTOCOL_VERSION_MAX,
    }
    _insert(conn, METADATA_TABLE, [{"key": k, "value": v} for k, v in rows.items()])


def _insert_config(
    conn: psycopg.Connection, connections: list[dict[str, Any]], now: datetime
) -> None:
    """Workspaces, one Meta source and one Postgres destination per workspace, then the
    connections between them."""
    stamps = {"created_at": now, "updated_at": now}
    definitions = (SOURCE_DEFINITION, DESTINATION_DEFINITION)
    workspaces = {c["workspace_id"]: c.get("workspace_name", "default") for c in connections}
    spec = Jsonb({"connectionSpecification": {"type": "object"}})
    _insert(
        conn, "workspace", [_workspace_row(ws, name, stamps) for ws, name in workspaces.items()]
    )
    _insert(conn, "actor_definition", [{**d, "spec": spec, **stamps} for d in definitions])
    _insert(conn, "actor", [_actor_row(ws, d, stamps) for ws in workspaces for d in definitions])
    _insert(conn, "connection", [_connection_row(c, stamps) for c in connections])


def _workspace_row(workspace_id: str, name: str, stamps: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": workspace_id,
        "name": name,
        "slug": name,
        "initial_setup_complete": True,
        "first_sync_complete": True,
        **stamps,
    }


def _actor_row(
    workspace_id: str, definition: dict[str, Any], stamps: dict[str, Any]
) -> dict[str, Any]:
    return {
        "id": stable_id(workspace_id, definition["actor_type"]),
        "workspace_id": workspace_id,
        "actor_definition_id": definition["id"],
        "name": definition["name"],
        "configuration": Jsonb({}),
        "actor_type": definition["actor_type"],
        **stamps,
    }


def _connection_row(connection: dict[str, Any], stamps: dict[str, Any]) -> dict[str, Any]:
    workspace_id = connection["workspace_id"]
    return {
        "id": connection["connection_id"],
        "name": connection["name"],
        "namespace_definition": "destination",
        "source_id": stable_id(workspace_id, "source"),
        "destination_id": stable_id(workspace_id, "destination"),
        "catalog": Jsonb({"streams": []}),
        "status": connection.get("status", "active"),
        "manual": False,
        "schedule_type": "basic_schedule",
        "schedule_data": Jsonb({"basicSchedule": {"timeUnit": "hours", "units": 1}}),
        **stamps,
    }


def _insert_jobs(conn: psycopg.Connection, connections: list[dict[str, Any]]) -> None:
    """Sync jobs scoped by connection UUID, each with the attempt it would have by now; the
    sequences then move past the given ids so later inserts cannot collide with them."""
    jobs = [(c["connection_id"], job) for c in connections for job in c.get("jobs", ())]
    if not jobs:
        return
    _insert(conn, "jobs", [_job_row(scope, job) for scope, job in jobs])
    attempted = [job for _, job in jobs if job["status"] in _ATTEMPT_STATUS]
    _insert(conn, "attempts", [_attempt_row(job) for job in attempted])
    for table in ("jobs", "attempts"):
        conn.execute(
            sql.SQL("SELECT setval(pg_get_serial_sequence({}, 'id'), max(id)) FROM {}").format(
                sql.Literal(table), sql.Identifier(table)
            )
        )


def _job_row(scope: str, job: dict[str, Any]) -> dict[str, Any]:
    config_type = job.get("config_type", "sync")
    pending = job["status"] == "pending"
    return {
        "id": job["id"],
        "config_type": config_type,
        "scope": scope,
        "config": Jsonb({"configType": config_type}),
        "status": job["status"],
        "started_at": None if pending else job.get("started_at", job["created_at"]),
        "created_at": job["created_at"],
        "updated_at": job["updated_at"],
    }


def _attempt_row(job: dict[str, Any]) -> dict[str, Any]:
    running = job["status"] == "running"
    return {
        "job_id": job["id"],
        "attempt_number": 0,
        "status": _ATTEMPT_STATUS[job["status"]],
        "log_path": f"/tmp/workspace/{job['id']}/0/logs.log",
        "created_at": job.get("started_at", job["created_at"]),
        "updated_at": job["updated_at"],
        "ended_at": None if running else job["updated_at"],
    }

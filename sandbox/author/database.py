"""The author database on the sandbox's PostgreSQL: the tables Prisma's migrations made,
Prisma's own ``_prisma_migrations`` history, the migration role ``author_migrator``, the
app's runtime role, and the read-only role the diagnostics use.

Grants come from the same ``grants.sql`` the profile points the checks at, applied by
the superuser, so the file and the catalog agree until a fault breaks one of them.
"""

from __future__ import annotations

from collections.abc import Set
from pathlib import Path
from typing import Any

from psycopg import sql

from sandbox.parts.postgres import Postgres

DBNAME = "author"
MIGRATOR = "author_migrator"
APP = "author_app"
READER = "author_diag"

SCHEMA = """
CREATE TABLE _prisma_migrations (
    id varchar(36) PRIMARY KEY,
    checksum varchar(64) NOT NULL,
    finished_at timestamptz,
    migration_name varchar(255) NOT NULL,
    logs text,
    rolled_back_at timestamptz,
    started_at timestamptz NOT NULL DEFAULT now(),
    applied_steps_count integer NOT NULL DEFAULT 0
);
CREATE TABLE users (id text PRIMARY KEY, email text NOT NULL UNIQUE,
                    created_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE recordings (id text PRIMARY KEY, user_id text NOT NULL REFERENCES users(id),
                         s3_key text NOT NULL, created_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE detections (id text PRIMARY KEY, recording_id text NOT NULL
                         REFERENCES recordings(id), model_version text NOT NULL,
                         score real NOT NULL, created_at timestamptz NOT NULL DEFAULT now());
"""

# The migrations the repository holds (prisma/migrations/<name>/migration.sql).
MIGRATIONS = ("20260301090000_init", "20260612140000_recordings",
              "20261020080000_detections")

GRANTS_SQL = f"""-- infrastructure/postgres/grants.sql
-- What the migration role and the API's runtime role need; apply as the database owner.
GRANT USAGE, CREATE ON SCHEMA public TO {MIGRATOR};
GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE _prisma_migrations TO {MIGRATOR};
GRANT SELECT, INSERT, UPDATE, DELETE, REFERENCES, TRIGGER
    ON TABLE users, recordings, detections TO {MIGRATOR};
GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE users, recordings, detections TO {APP};
"""


def write_repository(root: Path) -> dict[str, str]:
    """The repository files the checks read: grants.sql and the migrations folder."""
    grants = root / "infrastructure" / "postgres" / "grants.sql"
    grants.parent.mkdir(parents=True, exist_ok=True)
    grants.write_text(GRANTS_SQL, encoding="utf-8")
    migrations = root / "prisma" / "migrations"
    for name in MIGRATIONS:
        (migrations / name).mkdir(parents=True, exist_ok=True)
        (migrations / name / "migration.sql").write_text(f"-- {name}\n", encoding="utf-8")
    return {"grants_sql": str(grants), "migrations_dir": str(migrations)}


def build(pg: Postgres, faults: Set[str], passwords: dict[str, str]) -> dict[str, Any]:
    """The database and its roles; returns where the read-only role connects."""
    pg.create_role(MIGRATOR, passwords["migrator"],
                   login="authordb_migrator_nologin" not in faults)
    pg.create_role(APP, passwords["app"])
    pg.create_role(READER, passwords["reader"])
    pg.create_database(DBNAME, owner="postgres")
    with pg.superuser(DBNAME) as conn, conn.transaction():
        conn.execute(SCHEMA)
        conn.execute(GRANTS_SQL)
        _seed_history(conn, faults)
        if "authordb_grant_missing" in faults:
            conn.execute(sql.SQL("REVOKE INSERT ON TABLE _prisma_migrations FROM {}").format(
                sql.Identifier(MIGRATOR)))
        conn.execute(sql.SQL("GRANT SELECT ON ALL TABLES IN SCHEMA public TO {}").format(
            sql.Identifier(READER)))
    pg.make_read_only(READER)
    return {"host": pg.host, "port": pg.port, "user": READER, "dbname": DBNAME}


def _seed_history(conn: Any, faults: Set[str]) -> None:
    """Every migration applied, as ``prisma migrate deploy`` leaves the table; a failed
    one keeps its row with ``finished_at`` null and the error in ``logs``."""
    for n, name in enumerate(MIGRATIONS):
        failed = "authordb_migration_failed" in faults and n == len(MIGRATIONS) - 1
        conn.execute(
            "INSERT INTO _prisma_migrations (id, checksum, finished_at, migration_name, logs, "
            "started_at, applied_steps_count) VALUES (%s, %s, "
            "CASE WHEN %s THEN NULL ELSE now() - make_interval(days => %s) END, %s, %s, "
            "now() - make_interval(days => %s), %s)",
            (f"0000000{n}-aaaa-4bbb-8ccc-00000000000{n}", f"{n:064x}", failed,
             30 * (len(MIGRATIONS) - n), name,
             "ERROR: permission denied for table detections (SQLSTATE 42501)" if failed
             else None, 30 * (len(MIGRATIONS) - n), 0 if failed else 1))

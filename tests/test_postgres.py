"""The sandbox's PostgreSQL server and Airbyte database, against a real server.

Database checks are only worth something if the database they probe behaves like the real
one, so these tests go through the same doors a check does: TCP with a password, and the
host's psql.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg.conninfo import make_conninfo

from conftest import needs
from fixtures.probes.db import DbError, DbProbe, DbTarget
from fixtures.redact import Redactor
from sandbox.adinsights.airbyte_db import (
    AIRBYTE_VERSION,
    CONFIG_TABLES,
    EMPTY_SCHEMA,
    JOBS_TABLES,
    METADATA_MISSING,
    TEMPORAL_DATABASES,
    build_airbyte_db,
)
from sandbox.adinsights.state import stable_id
from sandbox.parts import postgres
from sandbox.parts.postgres import Postgres

ALL_TABLES = set(JOBS_TABLES) | set(CONFIG_TABLES)
CONNECTION_ID = stable_id("test-postgres", "connection")


def _connections() -> list[dict[str, Any]]:
    now = datetime.now(UTC)
    jobs = [
        {
            "id": 1001 + step,
            "status": status,
            "created_at": now - timedelta(hours=3 - step),
            "updated_at": now - timedelta(hours=2 - step),
        }
        for step, status in enumerate(("succeeded", "failed", "running"))
    ]
    return [
        {
            "connection_id": CONNECTION_ID,
            "name": "Meta sync",
            "workspace_id": stable_id("test-postgres", "workspace"),
            "jobs": jobs,
        }
    ]


@dataclass
class Built:
    pg: Postgres
    info: dict[str, Any]
    password: str

    def connect(self, password: str | None = None) -> psycopg.Connection:
        """As airbyte over TCP: the way a check reaches the database."""
        dsn = self.pg.dsn(self.info["dbname"], self.info["user"], password or self.password)
        return psycopg.connect(dsn)

    def tables(self) -> set[str]:
        with self.connect() as conn:
            rows = conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
            return {name for (name,) in rows}


@pytest.fixture(scope="module")
def airbyte(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str | None], Built]]:
    """One server per fault state, shared by the tests that only read it."""
    built: dict[str | None, Built] = {}

    def get(fault: str | None = None) -> Built:
        if fault not in built:
            pg = Postgres(tmp_path_factory.mktemp("pg")).start()
            password = secrets.token_urlsafe(16)
            faults = {fault} if fault else set()
            info = build_airbyte_db(
                pg, password=password, faults=faults, connections=_connections()
            )
            built[fault] = Built(pg, info, password)
        return built[fault]

    yield get
    for entry in built.values():
        entry.pg.stop()


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _alive(pid: int) -> bool:
    """Any /proc entry counts, zombies included: one would mean the server was never reaped."""
    return Path(f"/proc/{pid}").exists()


@needs("postgres")
def test_start_serves_and_stop_leaves_no_process_or_files() -> None:
    workdir = Path(tempfile.mkdtemp(prefix="pg-workdir-"))
    workdir.chmod(0o755)  # reachable by the server user, so the data dir goes inside it
    try:
        pg = Postgres(workdir, in_memory=False).start()
        root, pid = pg.root, pg.pid
        assert root is not None and root.parent == workdir.resolve()
        assert pid is not None and _alive(pid)
        with pg.superuser() as conn:
            assert conn.execute("SHOW listen_addresses").fetchone() == ("127.0.0.1",)
            assert conn.execute("SHOW fsync").fetchone() == ("off",)
        processes = [pid, *_children(pid)]
        assert len(processes) > 1, "a running postmaster has helper processes"
        pg.stop()
        pg.stop()
        assert [p for p in processes if _alive(p)] == []
        assert not root.exists()
        assert pg.pid is None and pg.port == 0
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


@needs("postgres")
def test_the_cluster_goes_in_memory_named_after_the_process_and_stop_removes_it() -> None:
    """On a VM's disk initdb and CREATE DATABASE cost ten times what they do in memory."""
    if not postgres.MEMORY.is_dir():
        pytest.skip("no /dev/shm here")
    workdir = Path(tempfile.mkdtemp(prefix="pg-workdir-"))
    try:
        pg = Postgres(workdir).start()
        root = pg.root
        assert root is not None and root.parent == postgres.MEMORY
        assert root.name.startswith(f"pg-{os.getpid()}-")
        assert list(workdir.iterdir()) == []
        pg.stop()
        assert not root.exists()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


@needs("postgres")
def test_tcp_enforces_passwords(airbyte: Callable[[str | None], Built]) -> None:
    built = airbyte(None)
    with built.connect() as conn:
        assert conn.execute("SELECT current_user").fetchone() == ("airbyte",)
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        built.connect(password="not-" + built.password)
    # The superuser is only trusted on the private socket, never over TCP.
    superuser_dsn = built.pg.dsn("postgres", "postgres", "")
    with pytest.raises(psycopg.OperationalError, match="password"):
        psycopg.connect(superuser_dsn)


@needs("postgres")
def test_healthy_database_has_airbyte_layout(airbyte: Callable[[str | None], Built]) -> None:
    built = airbyte(None)
    assert built.info == {
        "host": "127.0.0.1",
        "port": built.pg.port,
        "dbname": "airbyte",
        "user": "airbyte",
    }
    assert built.tables() == ALL_TABLES
    with built.connect() as conn:
        metadata = dict(conn.execute("SELECT key, value FROM airbyte_metadata").fetchall())
        assert metadata["airbyte_version"] == AIRBYTE_VERSION
        assert {
            "deployment_id",
            "airbyte_protocol_version_min",
            "airbyte_protocol_version_max",
        } <= set(metadata)
        assert len([k for k in metadata if k.endswith("_init_db")]) == 1
        latest = conn.execute(
            "SELECT id, status FROM jobs WHERE config_type IN ('sync', 'reset_connection') "
            "AND scope = %s ORDER BY created_at DESC LIMIT 1",
            (CONNECTION_ID,),
        ).fetchone()
        assert latest == (1003, "running")
        owners = conn.execute(
            "SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = 'public'"
        ).fetchall()
        assert owners == [("airbyte",)]
        labels = conn.execute("SELECT enum_range(NULL::job_status)::text").fetchone()
        assert labels == ("{pending,running,incomplete,failed,succeeded,cancelled}",)
        databases = {name for (name,) in conn.execute("SELECT datname FROM pg_database")}
        assert {"airbyte", *TEMPORAL_DATABASES} <= databases


@needs("postgres")
def test_metadata_missing_drops_only_that_table(airbyte: Callable[[str | None], Built]) -> None:
    built = airbyte(METADATA_MISSING)
    assert built.tables() == ALL_TABLES - {"airbyte_metadata"}
    with built.connect() as conn, pytest.raises(psycopg.errors.UndefinedTable):
        conn.execute("SELECT value FROM airbyte_metadata")


@needs("postgres")
def test_empty_schema_has_no_relations(airbyte: Callable[[str | None], Built]) -> None:
    built = airbyte(EMPTY_SCHEMA)
    with built.connect() as conn:
        count = conn.execute(
            "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') "
            "AND n.nspname NOT LIKE 'pg_toast%'"
        ).fetchone()
        assert count == (0,)


@needs("postgres", "psql")
def test_psql_dt_reports_no_relations_under_empty_schema(
    airbyte: Callable[[str | None], Built],
) -> None:
    built = airbyte(EMPTY_SCHEMA)
    command = [
        "psql",
        "-h",
        built.pg.host,
        "-p",
        str(built.pg.port),
        "-U",
        "airbyte",
        "-d",
        "airbyte",
        "-c",
        r"\dt",
    ]
    env = {**os.environ, "PGPASSWORD": built.password, "PSQLRC": os.devnull}
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    # psql 15 prints this on stderr; older clients printed it on stdout.
    assert "Did not find any relations." in done.stdout + done.stderr


def test_conflicting_faults_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="conflict"):
        build_airbyte_db(
            Postgres(tmp_path),
            password="unused",
            faults={EMPTY_SCHEMA, METADATA_MISSING},
            connections=[],
        )


@needs("postgres")
def test_query_log_shows_each_role_statement_but_never_setup(tmp_path: Path) -> None:
    """The read-only proof reads this log: a write by a role must show up in it, and the
    superuser's setup (role passwords included) must not."""
    password = f"pw-{secrets.token_hex(6)}"
    with Postgres(tmp_path) as pg:
        pg.create_role("writer", password)
        pg.create_database("logged", owner="writer")
        mark = pg.log_mark()
        dsn = pg.dsn("logged", "writer", password)
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute("CREATE TABLE t (n int)")
            conn.execute("INSERT INTO t VALUES (%s)", (1,))
            conn.execute("select n\nfrom t")
        statements = pg.statements(mark)
    assert ("writer", "CREATE TABLE t (n int)") in statements
    assert ("writer", "INSERT INTO t VALUES ($1)") in statements
    assert ("writer", "select n from t") in statements
    assert not [s for _role, s in statements if password in s or "ROLE" in s]


def _reader_probe(pg: Postgres, timeouts: dict[str, float]) -> tuple[DbProbe, DbTarget]:
    """A fresh probe and a read-only role's database, reached over TCP as a check would."""
    password = f"pw-{secrets.token_hex(6)}"
    pg.create_role("reader", password)
    pg.create_database("probed", owner="reader")
    dsn = make_conninfo(host=pg.host, port=pg.port, dbname="probed", user="reader")
    return DbProbe(timeouts, Redactor()), DbTarget("probed", dsn, password)


@needs("postgres")
def test_the_probe_keeps_a_session_that_carries_nothing_over_and_replaces_a_dropped_one(
        tmp_path: Path) -> None:
    """A kept session is only safe if a tenant set by one check cannot reach the next, a
    failed statement does not cost the session, and a session the server dropped is not
    reported as the database being down."""
    with Postgres(tmp_path) as pg:
        probe, target = _reader_probe(pg, {"connect": 2.0, "read": 5.0})
        pid = probe.query(target, "select pg_backend_pid()")[0][0]
        tenant = "select current_setting('app.tenant', true)"
        assert probe.query(target, tenant, settings={"app.tenant": "acme"}) == [("acme",)]
        assert probe.query(target, tenant)[0][0] in (None, "")
        with pytest.raises(DbError, match="missing_table"):
            probe.query(target, "select * from missing_table")
        assert probe.query(target, "select pg_backend_pid()") == [(pid,)]
        with pg.superuser() as conn:
            conn.execute("select pg_terminate_backend(%s)", (pid,))
        replaced = probe.query(target, "select pg_backend_pid()")[0][0]
        assert replaced != pid
        probe.close()
        with pg.superuser() as conn:
            left = [1]
            for _ in range(100):
                left = conn.execute("select pid from pg_stat_activity "
                                    "where usename = 'reader'").fetchall()
                if not left:
                    break
                time.sleep(0.02)
        assert left == []


@needs("postgres")
def test_a_kept_session_whose_server_stops_answering_costs_one_bounded_wait(
        tmp_path: Path) -> None:
    """psycopg waits on a silent server for ever, and a kept session is used long after
    its connect timeout applied: the probe's own bound must end the wait, once."""
    with Postgres(tmp_path) as pg:
        probe, target = _reader_probe(pg, {"connect": 1.0, "read": 1.0, "total": 2.0})
        pid = probe.query(target, "select pg_backend_pid()")[0][0]
        os.kill(pid, signal.SIGSTOP)  # the server's process for this session only
        try:
            with pytest.raises(DbError, match="no complete answer within the 2 s"):
                probe.query(target, "select 1")
            with pytest.raises(DbError, match="not sent: an earlier call overran"):
                probe.query(target, "select 1")
        finally:
            os.kill(pid, signal.SIGCONT)
        probe.close()

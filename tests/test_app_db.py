"""The application database's tenant row-level security, against a real server.

Each fault must be visible the way the tenancy check sees the database (as the application
role, over TCP, reading the catalogs) and must also really leak, or the check would be
trusting a catalog flag nobody verified; and it must change nothing else.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
from psycopg import sql

from conftest import needs
from sandbox.adinsights.app_db import (
    APP_ROLE,
    DISABLED_TABLE,
    OWNER,
    POLICY,
    RLS_BYPASS,
    RLS_DISABLED,
    RLS_OWNER_UNFORCED,
    TABLES,
    TENANT_SETTING,
    TENANT_TABLES,
    UNFORCED_TABLE,
    build_app_db,
)
from sandbox.adinsights.state import stable_id
from sandbox.parts.postgres import Postgres

pytestmark = needs("postgres")

NAMES = ("acme", "globex")


def _id(*parts: str) -> str:
    return stable_id("test-app-db", *parts)


def _tenant(name: str) -> dict[str, Any]:
    now = datetime.now(UTC)
    return {
        "tenant_id": _id(name),
        "name": name,
        "user_id": _id(name, "user"),
        "campaigns": [
            {
                "id": _id(name, "campaign", str(n)),
                "external_id": f"12{n}0{len(name)}",
                "name": f"{name.title()} campaign {n}",
            }
            for n in (1, 2)
        ],
        "audit": [
            {
                "id": _id(name, "audit", action),
                "action": action,
                "resource_type": kind,
                "created_at": now - timedelta(hours=hours),
            }
            for action, kind, hours in (("role_assigned", "user_role", 720), ("login", "user", 2))
        ],
    }


TENANTS = [_tenant(name) for name in NAMES]
TENANT_IDS = {t["tenant_id"] for t in TENANTS}

# What the tenancy check reads, as the application role: every public table with a
# tenant_id column, its RLS flags, owner and policies.
POSTURE = """
SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity, pg_get_userbyid(c.relowner),
       ARRAY(SELECT p.policyname::text FROM pg_policies p
             WHERE p.schemaname = 'public' AND p.tablename = c.relname ORDER BY 1)
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')
  AND EXISTS (SELECT 1 FROM pg_attribute a
              WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped)
"""
ROLES = "SELECT rolname, rolsuper, rolbypassrls, rolcanlogin FROM pg_roles WHERE rolname = ANY(%s)"


@dataclass
class Built:
    pg: Postgres
    info: dict[str, Any]
    password: str

    def connect(self, user: str = APP_ROLE, password: str | None = None) -> psycopg.Connection:
        """Over TCP with a password, the way a check reaches the database."""
        dsn = self.pg.dsn(self.info["dbname"], user, password or self.password)
        return psycopg.connect(dsn, autocommit=True)

    def posture(self) -> dict[str, Any]:
        with self.connect() as conn:
            tables = {row[0]: row[1:] for row in conn.execute(POSTURE)}
            roles = {row[0]: row[1:] for row in conn.execute(ROLES, ([OWNER, APP_ROLE],))}
        return {"tables": tables, "roles": roles}

    def visible(self, tenant_id: str | None) -> dict[str, set[str]]:
        """Which tenants' rows the application role sees in each tenant table."""
        with self.connect() as conn:
            if tenant_id is not None:
                conn.execute(f"SET {TENANT_SETTING} = '{tenant_id}'")
            return {table: _tenants_in(conn, table) for table in TENANT_TABLES}


def _tenants_in(conn: psycopg.Connection, table: str) -> set[str]:
    query = sql.SQL("SELECT DISTINCT tenant_id::text FROM {}").format(sql.Identifier(table))
    return {tenant for (tenant,) in conn.execute(query)}


@pytest.fixture(scope="module")
def app_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str | None], Built]]:
    """One server per fault state (roles are cluster-wide), shared by the tests that read it."""
    built: dict[str | None, Built] = {}

    def get(fault: str | None = None) -> Built:
        if fault not in built:
            pg = Postgres(tmp_path_factory.mktemp("pg")).start()
            password = secrets.token_urlsafe(16)
            info = build_app_db(
                pg,
                owner_password=secrets.token_urlsafe(16),
                app_password=password,
                faults={fault} if fault else set(),
                tenants=TENANTS,
            )
            built[fault] = Built(pg, info, password)
        return built[fault]

    yield get
    for entry in built.values():
        entry.pg.stop()


def test_healthy_layout_roles_and_policies(app_db: Callable[[str | None], Built]) -> None:
    built = app_db(None)
    assert built.info == {
        "host": "127.0.0.1",
        "port": built.pg.port,
        "dbname": "adinsights",
        "user": "adinsights_app",
    }
    posture = built.posture()
    assert set(posture["tables"]) == set(TENANT_TABLES) == set(TABLES) - {"accounts_tenant"}
    for table, (rls, forced, owner, policies) in posture["tables"].items():
        assert (rls, forced, owner, policies) == (True, False, OWNER, [POLICY]), table
    assert posture["roles"] == {OWNER: (False, False, True), APP_ROLE: (False, False, True)}
    with built.connect() as conn:
        owners = dict(
            conn.execute(
                "SELECT tablename, tableowner FROM pg_tables WHERE schemaname = 'public'"
            ).fetchall()
        )
        assert owners == dict.fromkeys(TABLES, OWNER)
        policy = conn.execute(
            "SELECT cmd, roles::text[], qual FROM pg_policies WHERE tablename = 'accounts_auditlog'"
        ).fetchone()
        assert policy[:2] == ("ALL", ["public"])
        assert f"current_setting('{TENANT_SETTING}'::text, true)" in policy[2]


def test_app_role_sees_only_the_selected_tenant(app_db: Callable[[str | None], Built]) -> None:
    built = app_db(None)
    for tenant_id in TENANT_IDS:
        assert built.visible(tenant_id) == dict.fromkeys(TENANT_TABLES, {tenant_id})
    assert built.visible(None) == dict.fromkeys(TENANT_TABLES, set())
    with built.connect() as conn:
        # Not a tenant table: every tenant is listed whatever the setting.
        tenants = {str(t) for (t,) in conn.execute("SELECT id FROM accounts_tenant")}
        assert tenants == TENANT_IDS


def test_reset_setting_sees_nothing_rather_than_failing(
    app_db: Callable[[str | None], Built],
) -> None:
    """A pooled connection after the backend's `RESET app.tenant_id` holds '' not NULL."""
    with app_db(None).connect() as conn:
        conn.execute(f"SET {TENANT_SETTING} = '{min(TENANT_IDS)}'")
        conn.execute(f"RESET {TENANT_SETTING}")
        setting = conn.execute("SELECT current_setting(%s, true)", (TENANT_SETTING,))
        assert setting.fetchone() == ("",)
        assert _tenants_in(conn, "analytics_campaign") == set()


def test_policy_blocks_writes_for_another_tenant(app_db: Callable[[str | None], Built]) -> None:
    mine, other = (t["tenant_id"] for t in TENANTS)
    with app_db(None).connect() as conn:
        conn.execute(f"SET {TENANT_SETTING} = '{mine}'")
        assert conn.execute("UPDATE analytics_campaign SET status = status").rowcount == 2
        assert (
            conn.execute("DELETE FROM accounts_auditlog WHERE tenant_id = %s", (other,)).rowcount
            == 0
        )
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
            conn.execute(
                "INSERT INTO analytics_metricssnapshot (id, tenant_id, source, payload, "
                "generated_at) VALUES (gen_random_uuid(), %s, 'x', '{}', now())",
                (other,),
            )


def test_rows_are_realistic_per_tenant(app_db: Callable[[str | None], Built]) -> None:
    tenant = TENANTS[0]
    with app_db(None).connect() as conn:
        conn.execute(f"SET {TENANT_SETTING} = '{tenant['tenant_id']}'")
        count = sql.SQL("SELECT count(*) FROM {}")
        counts = {
            t: conn.execute(count.format(sql.Identifier(t))).fetchone()[0] for t in TENANT_TABLES
        }
        assert counts == {
            "accounts_user": 1,
            "analytics_campaign": 2,
            "analytics_adset": 2,
            "analytics_ad": 2,
            "analytics_performancerecord": 14,
            "analytics_metricssnapshot": 1,
            "accounts_auditlog": 2,
        }
        audit = conn.execute(
            "SELECT action, user_id::text FROM accounts_auditlog ORDER BY created_at DESC"
        ).fetchall()
        assert audit == [("login", tenant["user_id"]), ("role_assigned", tenant["user_id"])]
        spend = conn.execute("SELECT sum(spend)::float FROM analytics_performancerecord").fetchone()
        payload = conn.execute("SELECT payload FROM analytics_metricssnapshot").fetchone()[0]
        assert payload["totals"]["spend"] == pytest.approx(spend[0])


def test_tcp_refuses_wrong_passwords(app_db: Callable[[str | None], Built]) -> None:
    built = app_db(None)
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        built.connect(OWNER, "not-the-owner-password")
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        built.connect(APP_ROLE, "not-" + built.password)


def _expected_posture(healthy: dict[str, Any], fault: str) -> dict[str, Any]:
    """The healthy catalog with only what the fault's name says changed."""
    tables = dict(healthy["tables"])
    roles = dict(healthy["roles"])
    if fault == RLS_DISABLED:
        tables[DISABLED_TABLE] = (False, *tables[DISABLED_TABLE][1:])
    elif fault == RLS_BYPASS:
        roles[APP_ROLE] = (False, True, True)
    elif fault == RLS_OWNER_UNFORCED:
        rls, forced, _, policies = tables[UNFORCED_TABLE]
        tables[UNFORCED_TABLE] = (rls, forced, APP_ROLE, policies)
    return {"tables": tables, "roles": roles}


LEAKS = {
    RLS_DISABLED: {DISABLED_TABLE},
    RLS_BYPASS: set(TENANT_TABLES),
    RLS_OWNER_UNFORCED: {UNFORCED_TABLE},
}


@pytest.mark.parametrize("fault", sorted(LEAKS))
def test_fault_changes_exactly_what_it_names(
    app_db: Callable[[str | None], Built], fault: str
) -> None:
    healthy, faulty = app_db(None), app_db(fault)
    assert faulty.posture() == _expected_posture(healthy.posture(), fault)
    for tenant_id in TENANT_IDS:
        expected = {
            table: TENANT_IDS if table in LEAKS[fault] else {tenant_id} for table in TENANT_TABLES
        }
        assert faulty.visible(tenant_id) == expected
    # Without a tenant selected the leaking tables still show every tenant's rows.
    assert faulty.visible(None) == {
        table: TENANT_IDS if table in LEAKS[fault] else set() for table in TENANT_TABLES
    }

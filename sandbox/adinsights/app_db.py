"""The ADinsights application database, with the tenant row-level security that the backend's
`enable_rls` command sets up, on the sandbox's real PostgreSQL server.

The backend filters by tenant in Python as well, but the database is the last line: a table
without RLS, a role with BYPASSRLS, or a table the application role owns (owners skip their
own policies unless FORCE is set) turns any missed filter into a cross-tenant leak. The
tenancy checks connect as the application role and look for exactly those, so the roles here
split the way production should: an owner that runs migrations, an app role that only reads
and writes. Table names follow Django's `<app>_<model>`; columns are a plausible subset.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Set
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from sandbox.adinsights.airbyte_db import _insert
from sandbox.adinsights.state import stable_id
from sandbox.parts.postgres import Postgres

OWNER = "adinsights_owner"
APP_ROLE = "adinsights_app"
DBNAME = "adinsights"
# What the backend's tenant_context() sets per request: `SET app.tenant_id = '<uuid>'`.
TENANT_SETTING = "app.tenant_id"
POLICY = "tenant_isolation"

RLS_DISABLED = "rls_disabled"
RLS_BYPASS = "rls_bypass"
RLS_OWNER_UNFORCED = "rls_owner_unforced"
RLS_POLICY_PERMISSIVE = "rls_policy_permissive"
PERMISSIVE_TABLE = "analytics_adset"
DISABLED_TABLE = "analytics_campaign"
UNFORCED_TABLE = "accounts_auditlog"

PERFORMANCE_DAYS = 7
# How long the deployment has been live: longer than the audit retention window, so the
# oldest audit rows must sit at the window's old edge.
LIVE_FOR = timedelta(days=800)

_TENANT = "tenant_id uuid NOT NULL REFERENCES accounts_tenant,"
# In creation order, so every foreign key points at a table that already exists.
TABLES: dict[str, str] = {
    "accounts_tenant": """
    id uuid PRIMARY KEY, name varchar(255) NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now()""",
    "accounts_user": f"""
    id uuid PRIMARY KEY, {_TENANT} email varchar(254) NOT NULL UNIQUE,
    is_active boolean NOT NULL DEFAULT true""",
    "analytics_campaign": f"""
    id uuid PRIMARY KEY, {_TENANT} external_id varchar(128) NOT NULL,
    name varchar(255) NOT NULL, platform varchar(32) NOT NULL, status varchar(32) NOT NULL,
    UNIQUE (tenant_id, external_id)""",
    "analytics_adset": f"""
    id uuid PRIMARY KEY, {_TENANT} campaign_id uuid NOT NULL REFERENCES analytics_campaign,
    external_id varchar(128) NOT NULL, name varchar(255) NOT NULL,
    daily_budget numeric(12, 2) NOT NULL""",
    "analytics_ad": f"""
    id uuid PRIMARY KEY, {_TENANT} adset_id uuid NOT NULL REFERENCES analytics_adset,
    external_id varchar(128) NOT NULL, name varchar(255) NOT NULL""",
    "analytics_performancerecord": f"""
    id uuid PRIMARY KEY, {_TENANT} ad_id uuid NOT NULL REFERENCES analytics_ad,
    date date NOT NULL, impressions bigint NOT NULL, clicks bigint NOT NULL,
    spend numeric(12, 2) NOT NULL, conversions int NOT NULL, UNIQUE (ad_id, date)""",
    "analytics_metricssnapshot": f"""
    id uuid PRIMARY KEY, {_TENANT} source varchar(32) NOT NULL, payload jsonb NOT NULL,
    generated_at timestamptz NOT NULL""",
    "accounts_auditlog": f"""
    id uuid PRIMARY KEY, {_TENANT} user_id uuid REFERENCES accounts_user,
    action varchar(64) NOT NULL, resource_type varchar(64) NOT NULL,
    resource_id varchar(128) NOT NULL DEFAULT '', metadata jsonb NOT NULL DEFAULT '{{}}',
    created_at timestamptz NOT NULL""",
}
TENANT_TABLES = tuple(name for name, columns in TABLES.items() if _TENANT in columns)

# NULLIF because a custom setting, once SET in a session, RESETs to '' rather than to unset,
# and ''::uuid raises: a pooled connection the backend had reset would error on every query
# instead of seeing nothing. Unset and reset both mean "no tenant", so no rows.
_POLICY_USING = sql.SQL("tenant_id = NULLIF(current_setting({}, true), '')::uuid").format(
    sql.Literal(TENANT_SETTING)
)


def build_app_db(
    pg: Postgres,
    *,
    owner_password: str,
    app_password: str,
    faults: Set[str],
    tenants: list[dict[str, Any]],
) -> dict[str, Any]:
    """Create both roles and the database, then schema, rows, policies, grants and the faults'
    drift in one transaction, so a failure leaves no half-secured tables behind. Returns where
    the application role connects; the passwords stay with the caller."""
    pg.create_role(OWNER, owner_password)
    pg.create_role(APP_ROLE, app_password, bypassrls=RLS_BYPASS in faults)
    pg.create_database(DBNAME, owner=OWNER)
    with pg.superuser(DBNAME) as conn, conn.transaction():
        # Built as the owner, the way migrations leave it; only drift needs the superuser.
        conn.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(OWNER)))
        for name, columns in TABLES.items():
            # Column text is a module constant, never caller input, so it may be spliced in.
            statement = sql.SQL("CREATE TABLE {} ({})")
            conn.execute(statement.format(sql.Identifier(name), sql.SQL(columns)))
        _insert_rows(conn, tenants, datetime.now(UTC))
        _secure(conn)
        conn.execute("RESET ROLE")
        _apply_faults(conn, faults)
    return {"host": pg.host, "port": pg.port, "dbname": DBNAME, "user": APP_ROLE}


def _secure(conn: psycopg.Connection) -> None:
    """RLS and the policy on every tenant table, then the app role's DML grants."""
    for table in map(sql.Identifier, TENANT_TABLES):
        conn.execute(sql.SQL("ALTER TABLE {} ENABLE ROW LEVEL SECURITY").format(table))
        conn.execute(
            sql.SQL("CREATE POLICY {} ON {} USING ({})").format(
                sql.Identifier(POLICY), table, _POLICY_USING
            )
        )
    conn.execute(
        sql.SQL("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {}").format(
            sql.Identifier(APP_ROLE)
        )
    )


def _apply_faults(conn: psycopg.Connection, faults: Set[str]) -> None:
    """Drift as an admin leaves it: a hotfix that switched RLS off, or a table handed to the
    app role (a migration run with the app's credentials) whose owner now skips the policy."""
    if RLS_DISABLED in faults:
        conn.execute(
            sql.SQL("ALTER TABLE {} DISABLE ROW LEVEL SECURITY").format(
                sql.Identifier(DISABLED_TABLE)
            )
        )
    if RLS_POLICY_PERMISSIVE in faults:
        conn.execute(sql.SQL("ALTER POLICY {} ON {} USING (true)").format(
            sql.Identifier(POLICY), sql.Identifier(PERMISSIVE_TABLE)))
    if RLS_OWNER_UNFORCED in faults:
        conn.execute(
            sql.SQL("ALTER TABLE {} OWNER TO {}").format(
                sql.Identifier(UNFORCED_TABLE), sql.Identifier(APP_ROLE)
            )
        )


def _insert_rows(conn: psycopg.Connection, tenants: list[dict[str, Any]], now: datetime) -> None:
    rows: dict[str, list[dict[str, Any]]] = {name: [] for name in TABLES}
    for tenant in tenants:
        for table, row in _tenant_rows(tenant, now):
            rows[table].append(row)
    for table, table_rows in rows.items():
        _insert(conn, table, table_rows)


def _tenant_rows(tenant: dict[str, Any], now: datetime) -> Iterator[tuple[str, dict[str, Any]]]:
    """Everything one tenant owns, parents before children: an account with one admin, its
    Meta campaigns each with an ad set and an ad, a week of delivery per ad, the warehouse
    snapshot built from it, and its audit trail."""
    tenant_id, user_id = tenant["tenant_id"], tenant["user_id"]
    scoped = {"tenant_id": tenant_id}
    yield "accounts_tenant", {"id": tenant_id, "name": tenant["name"],
                              "created_at": now - LIVE_FOR}
    email = tenant.get("email") or f"admin@{tenant['name']}.test"
    yield "accounts_user", {"id": user_id, **scoped, "email": email}
    totals = {"impressions": 0, "clicks": 0, "spend": 0.0, "conversions": 0}
    for campaign in tenant["campaigns"]:
        external = campaign["external_id"]
        adset_id, ad_id = stable_id(campaign["id"], "adset"), stable_id(campaign["id"], "ad")
        yield "analytics_campaign", {**campaign, **scoped, "platform": "META", "status": "ACTIVE"}
        yield (
            "analytics_adset",
            {
                "id": adset_id,
                **scoped,
                "campaign_id": campaign["id"],
                "external_id": f"{external}01",
                "name": f"{campaign['name']} - Prospecting",
                "daily_budget": 50,
            },
        )
        yield (
            "analytics_ad",
            {
                "id": ad_id,
                **scoped,
                "adset_id": adset_id,
                "external_id": f"{external}0101",
                "name": f"{campaign['name']} - Carousel",
            },
        )
        for record in _delivery(ad_id, now):
            for key in totals:
                totals[key] += record[key]
            yield "analytics_performancerecord", {**record, **scoped, "ad_id": ad_id}
    totals["spend"] = round(totals["spend"], 2)
    yield (
        "analytics_metricssnapshot",
        {
            "id": stable_id(tenant_id, "metrics-snapshot"),
            **scoped,
            "source": "warehouse",
            "payload": Jsonb({"totals": totals, "campaigns": len(tenant["campaigns"])}),
            "generated_at": now - timedelta(minutes=20),
        },
    )
    for entry in tenant["audit"]:
        yield (
            "accounts_auditlog",
            {
                "user_id": user_id,
                "resource_id": "",
                **entry,
                **scoped,
                "metadata": Jsonb(entry.get("metadata", {})),
            },
        )


def _delivery(ad_id: str, now: datetime) -> Iterator[dict[str, Any]]:
    """A week of daily numbers, seeded by the ad so reruns store the same figures."""
    rng = random.Random(ad_id)
    for days_ago in range(1, PERFORMANCE_DAYS + 1):
        impressions = rng.randint(2_000, 20_000)
        clicks = impressions * rng.randint(8, 30) // 1000
        yield {
            "id": stable_id(ad_id, "day", str(days_ago)),
            "date": (now - timedelta(days=days_ago)).date(),
            "impressions": impressions,
            "clicks": clicks,
            "spend": round(impressions * rng.uniform(4.0, 12.0) / 1000, 2),
            "conversions": clicks // rng.randint(10, 25),
        }

"""The Meta integration tables of the application database: stored platform credentials,
the API error log and the ad-account sync state, plus a read-only operations role.

The tables are tenant tables like every other, so they get the same row-level security
and the application role's grants. The runbook's signals (a failed account sync, a
storm of retryable errors) are fleet-wide, though, and the application role sees one
tenant at a time. So operations read through their own role: it may only SELECT, only
these tables (and the tenants' names), through a SELECT-only policy, and never the
credential's encrypted token column, which it is not granted. It has no BYPASSRLS and
its sessions default to read-only.
"""

from __future__ import annotations

import secrets
import socket
from collections.abc import Iterator, Set
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from psycopg import sql

from sandbox.adinsights.airbyte_db import _insert
from sandbox.adinsights.app_db import _POLICY_USING, APP_ROLE, DBNAME, OWNER, POLICY
from sandbox.adinsights.state import stable_id
from sandbox.parts.postgres import Postgres

if TYPE_CHECKING:
    from sandbox.adinsights.world import World

OPS_ROLE = "adinsights_ops"
OPS_POLICY = "ops_read"
ACCOUNT_FORBIDDEN = "meta_account_forbidden"
STORED_EXPIRING = "meta_stored_token_expiring"
RATE_LIMIT_STORM = "meta_rate_limit_storm"
PORT_CLOSED = "app_db_port_closed"  # the ops role connects to the same server

_TENANT = "tenant_id uuid NOT NULL REFERENCES accounts_tenant,"
TABLES: dict[str, str] = {
    "integrations_platformcredential": f"""
    id uuid PRIMARY KEY, {_TENANT} provider varchar(32) NOT NULL,
    account_id varchar(64) NOT NULL, token_status varchar(32) NOT NULL,
    token_status_reason text NOT NULL DEFAULT '', token_expires_at timestamptz,
    access_token_enc bytea NOT NULL, created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL, UNIQUE (tenant_id, provider, account_id)""",
    "integrations_apierrorlog": f"""
    id uuid PRIMARY KEY, {_TENANT} provider varchar(32) NOT NULL,
    endpoint varchar(255) NOT NULL, status_code int NOT NULL, error_code int,
    error_subcode int, message text NOT NULL DEFAULT '', is_retryable boolean NOT NULL,
    created_at timestamptz NOT NULL""",
    "integrations_metaaccountsyncstate": f"""
    id uuid PRIMARY KEY, {_TENANT} account_id varchar(64) NOT NULL,
    last_job_status varchar(32) NOT NULL, last_job_error text NOT NULL DEFAULT '',
    last_synced_at timestamptz, updated_at timestamptz NOT NULL,
    UNIQUE (tenant_id, account_id)""",
}
# Every column but the token: the ops role may see a credential's state, never its secret.
CREDENTIAL_COLUMNS = ("id", "tenant_id", "provider", "account_id", "token_status",
                      "token_status_reason", "token_expires_at", "created_at", "updated_at")

FORBIDDEN = "(#200) Ad account owner has NOT grant ads_management or ads_read permission"
THROTTLED = {17: "(#17) User request limit reached",
             80004: "(#80004) There have been too many calls to this ad-account. Wait a bit "
                    "and try again.",
             613: "(#613) Calls to this api have exceeded the rate limit."}


def build_meta_db(pg: Postgres, *, ops_password: str, faults: Set[str],
                  world: World) -> dict[str, Any]:
    """Add the tables to the built application database, as its owner, in one transaction;
    returns where the ops role connects."""
    pg.create_role(OPS_ROLE, ops_password)
    now = datetime.now(UTC)
    with pg.superuser(DBNAME) as conn, conn.transaction():
        conn.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(OWNER)))
        for name, columns in TABLES.items():
            conn.execute(sql.SQL("CREATE TABLE {} ({})").format(sql.Identifier(name),
                                                                 sql.SQL(columns)))
        for table, rows in _rows(world, faults, now).items():
            _insert(conn, table, rows)
        for name in map(sql.Identifier, TABLES):
            conn.execute(sql.SQL("ALTER TABLE {} ENABLE ROW LEVEL SECURITY").format(name))
            conn.execute(sql.SQL("CREATE POLICY {} ON {} USING ({})").format(
                sql.Identifier(POLICY), name, _POLICY_USING))
            conn.execute(sql.SQL("GRANT SELECT, INSERT, UPDATE, DELETE ON {} TO {}").format(
                name, sql.Identifier(APP_ROLE)))
            conn.execute(sql.SQL("CREATE POLICY {} ON {} FOR SELECT TO {} USING (true)").format(
                sql.Identifier(OPS_POLICY), name, sql.Identifier(OPS_ROLE)))
        ops = sql.Identifier(OPS_ROLE)
        for table in ("integrations_apierrorlog", "integrations_metaaccountsyncstate"):
            conn.execute(sql.SQL("GRANT SELECT ON {} TO {}").format(sql.Identifier(table), ops))
        conn.execute(sql.SQL("GRANT SELECT ({}) ON integrations_platformcredential TO {}").format(
            sql.SQL(", ").join(map(sql.Identifier, CREDENTIAL_COLUMNS)), ops))
        conn.execute(sql.SQL("GRANT SELECT (id, name) ON accounts_tenant TO {}").format(ops))
    pg.make_read_only(OPS_ROLE)
    port = _closed_port() if PORT_CLOSED in faults else pg.port
    return {"host": pg.host, "port": port, "dbname": DBNAME, "user": OPS_ROLE}


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _rows(world: World, faults: Set[str], now: datetime) -> dict[str, list[dict[str, Any]]]:
    rows: dict[str, list[dict[str, Any]]] = {name: [] for name in TABLES}
    for index, tenant in enumerate(world.tenants):
        first = index == 0
        for table, row in _tenant_rows(tenant, first, faults, now):
            rows[table].append(row)
    return rows


def _tenant_rows(tenant, first: bool, faults: Set[str],
                 now: datetime) -> Iterator[tuple[str, dict[str, Any]]]:
    """A credential (unless the tenant never connected), the account's sync state, and a
    few errors of an ordinary day: one bad parameter and one throttle inside the hour,
    plus a burst of throttles three hours ago that has since passed."""
    tenant_id, act = tenant.tenant_id, tenant.ad_account_id
    scoped = {"tenant_id": tenant_id}
    if tenant.social != "not_connected":
        reauth = tenant.social == "reauth_required"
        yield "integrations_platformcredential", {
            "id": stable_id(tenant.name, "meta-credential"), **scoped, "provider": "META",
            "account_id": act,
            "token_status": "reauth_required" if reauth else "valid",
            "token_status_reason": "Error validating access token: Session has expired."
            if reauth else "",
            # the hourly refresh task stopped renewing the first tenant's token
            "token_expires_at": now + timedelta(
                days=2 if first and STORED_EXPIRING in faults else 45),
            "access_token_enc": b"gAAAAA" + secrets.token_bytes(48),  # Fernet-shaped blob
            "created_at": now - timedelta(days=30), "updated_at": now - timedelta(hours=1)}
    forbidden = first and ACCOUNT_FORBIDDEN in faults
    yield "integrations_metaaccountsyncstate", {
        "id": stable_id(tenant.name, "meta-sync-state"), **scoped, "account_id": act,
        "last_job_status": "failed" if forbidden else "succeeded",
        "last_job_error": FORBIDDEN if forbidden else "",
        "last_synced_at": now - timedelta(minutes=40), "updated_at": now - timedelta(minutes=40)}
    errors = [(f"/{act}/insights", 400, 100, "(#100) Invalid parameter", False, 20),
              (f"/{act}/insights", 400, 17, THROTTLED[17], True, 35)]
    if first:
        errors += [(f"/{act}/ads", 400, 80004, THROTTLED[80004], True, 180 + n)
                   for n in range(12)]
    if forbidden:
        errors += [(f"/{act}{path}", 403, 200, FORBIDDEN, False, 10 + n)
                   for n, path in enumerate(("", "/campaigns", "/adsets", "/ads"))]
    if first and RATE_LIMIT_STORM in faults:
        errors += [(f"/{act}/insights", 400, code, THROTTLED[code], True, 2 + n)
                   for n, code in zip(range(30), [80004, 17, 613] * 10, strict=True)]
    for n, (endpoint, status, code, message, retryable, minutes) in enumerate(errors):
        yield "integrations_apierrorlog", {
            "id": stable_id(tenant.name, "meta-error", str(n)), **scoped, "provider": "META",
            "endpoint": endpoint, "status_code": status, "error_code": code,
            "error_subcode": None, "message": message, "is_retryable": retryable,
            "created_at": now - timedelta(minutes=minutes)}

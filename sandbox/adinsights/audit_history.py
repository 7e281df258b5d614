"""The audit history in the application database's ``accounts_auditlog``: a year of
sign-ins per tenant reaching back to the retention window's old edge, too far back when
the nightly deletion stopped, or only a month when it ran with the wrong interval. A
read-only DR role may read it, and the tenants' creation dates, across every tenant.
"""

from __future__ import annotations

from collections.abc import Set
from typing import Any

from psycopg import sql

from sandbox.adinsights.app_db import DBNAME as APP_DBNAME
from sandbox.parts.http import refused_port
from sandbox.parts.postgres import Postgres

AUDIT_ROLE = "adinsights_dr"
OVER_RETENTION, UNDER_RETENTION = "dr_audit_over_retention", "dr_audit_under_retention"
# Days back each tenant's audit rows reach: weekly sign-ins for a year, the oldest just
# inside the 365-day window.
HEALTHY_AGES = [*(float(day) for day in range(1, 358, 7)), 364.5]


def audit_ages(faults: Set[str]) -> list[float]:
    if UNDER_RETENTION in faults:  # the deletion ran with INTERVAL '30 days'
        return [age for age in HEALTHY_AGES if age < 30]
    if OVER_RETENTION in faults:  # the deletion job stopped months ago
        return [*HEALTHY_AGES, 400.0, 450.0, 500.0]
    return HEALTHY_AGES


def build_audit_history(pg: Postgres, *, password: str, faults: Set[str]) -> dict[str, Any]:
    """Add the audit history to the built application database and a role that reads it
    (and the tenants' creation dates) for every tenant, read-only."""
    pg.create_role(AUDIT_ROLE, password)
    role = sql.Identifier(AUDIT_ROLE)
    with pg.superuser(APP_DBNAME) as conn, conn.transaction():
        conn.execute(
            "INSERT INTO accounts_auditlog (id, tenant_id, action, resource_type, created_at) "
            "SELECT gen_random_uuid(), t.id, 'user.login', 'session', "
            "now() - make_interval(secs => a * 86400) "
            "FROM accounts_tenant t, unnest(%s::float8[]) a", (audit_ages(faults),))
        if UNDER_RETENTION in faults:
            conn.execute("DELETE FROM accounts_auditlog WHERE created_at < now() - "
                         "interval '30 days'")
        conn.execute(sql.SQL("GRANT SELECT ON accounts_auditlog TO {}").format(role))
        conn.execute(sql.SQL("GRANT SELECT (id, created_at) ON accounts_tenant TO {}").format(
            role))
        conn.execute(sql.SQL("CREATE POLICY dr_retention_read ON accounts_auditlog FOR SELECT "
                             "TO {} USING (true)").format(role))
    pg.make_read_only(AUDIT_ROLE)
    port = refused_port() if "app_db_port_closed" in faults else pg.port
    return {"host": pg.host, "port": port, "dbname": APP_DBNAME, "user": AUDIT_ROLE}

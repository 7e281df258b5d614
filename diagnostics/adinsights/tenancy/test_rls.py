"""Row-level security, read from the catalog as the application's own database role."""

import pytest

from fixtures.catalog import check, upstream_check
from fixtures.expect import expect

TENANT_TABLES = """
select c.relname, c.relrowsecurity, c.relforcerowsecurity,
       pg_get_userbyid(c.relowner),
       (select count(*) from pg_policies p where p.schemaname = n.nspname
                                            and p.tablename = c.relname)
from pg_class c
join pg_namespace n on n.oid = c.relnamespace
where n.nspname = 'public' and c.relkind in ('r', 'p')
  and exists (select 1 from pg_attribute a where a.attrelid = c.oid
              and a.attname = 'tenant_id' and not a.attisdropped)
order by 1
"""
ROLE = "select current_user, rolsuper, rolbypassrls from pg_roles where rolname = current_user"


test_app_db_reachable = upstream_check(
    "adinsights.tenancy.db.reachable", "app_db", "[CONNECTED]", severity="high",
    runbook="tenancy.md#tenant-database-reachable")


@check("adinsights.tenancy.rls.enabled",
       severity="critical", runbook="tenancy.md#row-level-security",
       needs=("app_db",))
def test_rls_on_tenant_tables(app_db_rows):
    tables = app_db_rows(TENANT_TABLES)
    expect("tables with a tenant_id column", len(tables), ">", 0)
    unprotected = [f"{name}: {'no policy' if rls else 'RLS disabled'}"
                   for name, rls, _force, _owner, policies in tables
                   if not rls or not policies]
    expect("tenant tables without row-level security", unprotected, "is empty")


@check("adinsights.tenancy.rls.role", severity="critical", runbook="tenancy.md#application-role",
       needs=("app_db",))
def test_app_role_cannot_bypass(app_db_rows):
    (role, superuser, bypass), = app_db_rows(ROLE)
    expect(f"role {role} is superuser", superuser, "==", False)
    expect(f"role {role} has BYPASSRLS", bypass, "==", False)
    owned = [name for name, _rls, force, owner, _p in app_db_rows(TENANT_TABLES)
             if owner == role and not force]
    expect(f"tenant tables owned by {role} without FORCE ROW LEVEL SECURITY", owned, "is empty")


@check("adinsights.tenancy.rls.context", severity="critical",
       runbook="tenancy.md#tenant-context", needs=("api", "tenant", "app_db"))
def test_session_tenant_sees_own_rows_only(diag, app_db_rows, tenant, tenant_ids):
    """Support playbook 1: the tenant /api/me/ names for the session is the one the
    application's role reads as, and under it the policies leave that tenant's rows alone
    (the catalog checks above cannot see a policy whose expression lets every row through)."""
    setting = str(diag.profile.area("tenancy").get("tenant_setting", ""))
    if not setting:
        pytest.skip(f"not run: the target profile names no "
                    f"{diag.profile.table('tenancy')} tenant_setting (the setting the "
                    "application's policies read the tenant from)")
    own = tenant_ids.get(tenant, "")
    expect(f"{tenant}'s tenant id in /api/me/", own, "!=", "")
    # The catalog is the same for every tenant: read once per process, not per tenant.
    names = diag.once("tenancy.tenant_tables",
                      lambda: [name for name, *_ in app_db_rows(TENANT_TABLES)])
    expect("tables with a tenant_id column", len(names), ">", 0)
    # One statement over every table: one session, one connection, for the whole check.
    quoted = ['"' + name.replace('"', '""') + '"' for name in names]
    counts = " union all ".join(
        f"select %s::text, tenant_id::text, count(*) from {table} group by 2" for table in quoted)
    seen: dict[str, list[str]] = {}
    for name, tenant_id, count in app_db_rows(counts, tuple(names), settings={setting: own}):
        seen.setdefault(name, []).append(f"{tenant_id}: {count}")
    foreign = [f"{name} ({', '.join(rows)})" for name, rows in seen.items()
               if any(not row.startswith(f"{own}:") for row in rows)]
    expect(f"tables that show {tenant} another tenant's rows with {setting} = its id",
           foreign, "is empty")
    expect(f"tables with {tenant}'s own rows with {setting} = its id", len(seen), ">", 0)

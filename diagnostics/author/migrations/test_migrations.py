"""Database migrations: the migration role in the connection string, the API container
seeing the env file, the role's login and grants against grants.sql, and Prisma's
migration history."""

from pathlib import Path
from urllib.parse import unquote, urlsplit

from fixtures import evidence
from fixtures.catalog import check, upstream_check
from fixtures.expect import expect
from fixtures.probes import files
from fixtures.redact import digest
from fixtures.shared import profile_path

from ..conftest import settings
from .grants import parse_grants

test_db_reachable = upstream_check(
    "author.migrations.db.reachable", "author_db",
    "the author database accepts the read-only diagnostics role",
    severity="high", runbook="migrations.md#database-reachable")

@check("author.migrations.env.role", severity="high",
       runbook="migrations.md#migration-role-in-the-connection-string")
def test_connection_string_role(diag, api_env):
    wanted = settings(diag, "migrations")
    url = api_env.values.get(wanted["url_var"], "")
    user = unquote(urlsplit(url).username or "") if url else ""
    expect(f"the user of {wanted['url_var']} in {api_env.where}", user or "(unset)", "==",
           wanted["migrator_role"])


@check("author.migrations.env.container", severity="high", needs=("engine",),
       runbook="migrations.md#the-api-container-sees-the-env-file",
       category="misconfiguration")
def test_container_sees_env_file(diag, api_env, container):
    name = str(settings(diag, "migrations")["api_container"])
    seen = container(name)
    table, differ = [], []
    for key, value in sorted(api_env.values.items()):
        inside = seen.digests.get(key)
        same = inside == digest(value)
        table.append((key, "set" if value else "empty",
                      "missing" if inside is None else "set" if inside else "empty",
                      "yes" if same else "no"))
        if not same:
            differ.append(key)
    evidence.record_table(f"{api_env.where} against container {name}'s environment "
                          "(values compared by SHA-256, none shown)",
                          ("variable", "in the file", "in the container", "same"), table)
    expect(f"variables of {api_env.where} that container {name} sees otherwise",
           differ, "==", [])


@check("author.migrations.role.login", severity="high", needs=("author_db",),
       runbook="migrations.md#migration-role-can-log-in", category="credentials")
def test_migrator_can_log_in(diag, rows):
    role = settings(diag, "migrations")["migrator_role"]
    found = rows("select rolcanlogin, rolvaliduntil is null or rolvaliduntil > now() "
                 "from pg_roles where rolname = %s", (role,))
    expect(f"role {role} in pg_roles", "exists" if found else "missing", "==", "exists")
    can_login, valid = found[0]
    expect(f"{role} can log in (rolcanlogin, not past rolvaliduntil)",
           bool(can_login and valid), "==", True,
           note=f"rolcanlogin={can_login}, password still valid={valid}")


@check("author.migrations.role.grants", severity="high", needs=("author_db",),
       runbook="migrations.md#grants-match-grantssql", category="misconfiguration")
def test_grants_match_file(diag, rows):
    read = files.read_text(profile_path(diag, "grants_sql"), diag.redactor)
    expect("grants.sql", read.state, "==", "ok")
    declared = parse_grants(read.data)
    expect("table grants declared in grants.sql", len(declared), ">", 0)
    held = rows(
        "select d.role, d.tbl, d.priv, case when r.oid is null then 'no such role' "
        "when to_regclass(d.tbl) is null then 'no such table' "
        "when has_table_privilege(d.role, d.tbl, d.priv) then 'held' else 'missing' end "
        "from unnest(%s::text[], %s::text[], %s::text[]) as d(role, tbl, priv) "
        "left join pg_roles r on r.rolname = d.role",
        ([g[0] for g in declared], [g[1] for g in declared], [g[2] for g in declared]))
    missing = [row for row in held if row[3] != "held"]
    evidence.record_table("grants declared in grants.sql and not held",
                          ("role", "table", "privilege", "state"), missing)
    expect("grants of grants.sql missing from the catalog",
           [f"{r} {p} on {t}" for r, t, p, _ in missing], "is empty",
           note=f"{len(held)} declared grants compared")


@check("author.migrations.applied", severity="critical", needs=("author_db",),
       runbook="migrations.md#no-failed-or-unapplied-migration", category="failed job")
def test_migrations_applied(diag, rows):
    table = settings(diag, "migrations")["migrations_table"]
    history = rows(f'select migration_name, started_at::text, finished_at::text, '  # noqa: S608
                   f'rolled_back_at::text, coalesce(left(logs, 200), \'\') from "{table}" '
                   "order by started_at")
    bad = [r for r in history if r[2] is None or r[3] is not None]
    evidence.record_table(f"{table} rows not finished or rolled back",
                          ("migration", "started", "finished", "rolled back", "logs"), bad)
    expect(f"failed or rolled-back rows in {table}", [r[0] for r in bad], "is empty",
           note=bad[0][4] if bad else None)
    folder = diag.profile.paths.get("migrations_dir", "")
    if folder and Path(folder).is_dir():
        applied = {r[0] for r in history if r[2] is not None and r[3] is None}
        pending = sorted(p.name for p in Path(folder).iterdir()
                         if p.is_dir() and p.name not in applied)
        expect(f"migrations in {folder} not applied", pending, "is empty")

"""Fixtures every area shares: the run context, tenants and upstream gate verdicts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fixtures.context import Context, gate_entry
from fixtures.gates import Verdict
from fixtures.plugin import run_state
from fixtures.probes import files
from fixtures.probes.files import FileRead


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Checks that take ``tenant`` run once per test tenant named in the profile."""
    if "tenant" in metafunc.fixturenames:
        profile = run_state(metafunc.config).profile
        names = [t.name for t in profile.tenants]
        sample = getattr(metafunc.function, "tenant_sample", None)
        if sample is not None:
            names = names[:int(profile.area(sample[0]).get(sample[1], sample[2]))]
        metafunc.parametrize("tenant", names)


def sampled(area: str, key: str, default: int):
    """A fleet-wide property measured on the first N tenants (``[area] key``), not on
    every tenant: a latency sample of 40 calls per tenant would dominate a 1,000-tenant run."""

    def mark(fn):
        fn.tenant_sample = (area, key, default)
        return fn

    return mark


@pytest.fixture
def diag(request: pytest.FixtureRequest) -> Context:
    context = run_state(request.config).context
    if context is None:
        pytest.skip("not run: the run context was not built (listing mode)")
    return context


@pytest.fixture
def gate(diag: Context):
    """A gate's cached verdict, with its evidence attached to the asking check."""

    def verdict(need: str) -> Verdict:
        result = diag.gates.verdict(need)
        gate_entry(result)
        if result.unavailable:
            pytest.skip(f"not run: {result.reason}")
        return result

    return verdict


@pytest.fixture
def artifact(diag: Context):
    """Read a JSON artifact under a directory the profile names in ``[paths]``."""

    def read(path_key: str, name: str) -> FileRead:
        return files.read_json(profile_path(diag, path_key) / name, diag.redactor)

    return read


def _all_signed_in(diag: Context) -> None:
    """Skip unless every tenant signed in (judged once per process, not once per check)."""
    reason = diag.once("all_signed_in", lambda: next(
        (r for t in diag.profile.tenants
         if (r := diag.gates.blocker((f"tenant:{t.name}",), ""))), None))
    if reason:
        pytest.skip(reason)


@pytest.fixture
def tenant_ids(diag: Context) -> dict[str, str]:
    """Each test tenant's own id, from its own ``/api/me/`` (asked once per process)."""
    _all_signed_in(diag)
    return diag.once("tenant_ids", lambda: _tenant_ids(diag))


def _tenant_ids(diag: Context) -> dict[str, str]:
    ids = {}
    for tenant in diag.profile.tenants:
        me = diag.http.get("api", "/api/me/", headers=diag.auth(tenant.name))
        ids[tenant.name] = str(me.body("tenant_id") or me.body("user.tenant") or "")
    return ids


def rows_from(diag: Context, database: str):
    """A query function on one ``[dsn]`` database that fails the check with the
    database's one-line error, never a traceback."""
    from fixtures.probes.db import DbError

    def query(sql: str, params: tuple = ()) -> list[tuple]:
        try:
            return diag.db.query(diag.database(database), sql, params)
        except DbError as exc:
            pytest.fail(str(exc), pytrace=False)

    return query


def profile_path(diag: Context, key: str) -> Path:
    path = diag.profile.paths.get(key, "")
    if not path:
        pytest.skip(f"not run: the target profile names no [paths] {key}")
    return Path(path)


@pytest.fixture
def task_log_lines(diag: Context) -> list[dict]:
    """Structured ``celery.tasks`` lines, from the profile's log file or container."""
    if diag.profile.paths.get("task_log"):
        read = files.read_text(Path(diag.profile.paths["task_log"]), diag.redactor)
        raw = read.data.splitlines() if read.exists else []
    elif diag.profile.area("tenancy").get("task_container"):
        raw = diag.engine.container(diag.profile.area("tenancy")["task_container"]).logs
    else:
        pytest.skip("not run: the target profile names no [paths] task_log and no "
                    "[tenancy] task_container")
    lines = []
    for line in raw:
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict) and record.get("logger") == "celery.tasks":
            lines.append(record)
    return lines

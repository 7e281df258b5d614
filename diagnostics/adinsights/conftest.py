"""Fixtures ADinsights' areas share: the tenants' own ids and the Celery task log."""

from __future__ import annotations

import functools
import json
from pathlib import Path

import pytest

from fixtures.context import Context
from fixtures.probes import files


def _all_signed_in(diag: Context) -> None:
    """Skip unless every tenant signed in (judged once per process, not once per check)."""
    reason = diag.once("all_signed_in", lambda: next(
        (r for t in diag.profile.tenants
         if (r := diag.gates.blocker((f"tenant:{t.name}",), ""))), None))
    if reason:
        pytest.skip(reason)


def deployment_file(diag: Context, key: str) -> files.FileRead:
    """A deployment file the profile names (``[adinsights.paths] <key>``); not run when it
    names none."""
    path = diag.profile.paths.get(key, "")
    if not path:
        pytest.skip(f"not run: the target profile names no [adinsights.paths] {key}")
    return files.read_text(Path(path), diag.redactor)


@pytest.fixture
def backend_env(diag: Context) -> dict[str, str]:
    """The backend's env file; empty when the file is missing, so unset means default."""
    read = deployment_file(diag, "env_file")
    return files.parse_env(read.data) if read.exists else {}


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


@pytest.fixture
def task_log_lines(diag: Context) -> list[dict]:
    """Structured ``celery.tasks`` lines, from the profile's log file or container."""
    return worker_log(diag, "celery.tasks")


@pytest.fixture
def graph_retry_lines(diag: Context) -> list[dict]:
    """The Meta client's ``meta.graph.retry`` lines, from the same worker log."""
    return worker_log(diag, "meta.graph.retry")


@pytest.fixture
def backend_log(diag: Context):
    """One logger's structured lines from the API's own log (``[adinsights.paths] api_log``)."""
    path = diag.profile.paths.get("api_log", "")
    if not path:
        pytest.skip("not run: the target profile names no [adinsights.paths] api_log")
    read = files.read_text(Path(path), diag.redactor)
    raw = read.data if read.exists else ""
    return lambda logger: _records(raw, logger)


def _records(text: str, logger: str) -> list[dict]:
    return list(_parsed(text).get(logger, ()))


@functools.lru_cache(maxsize=8)
def _parsed(text: str) -> dict[str, list[dict]]:
    """The structured lines, grouped by their ``logger``, once per log version: every
    tenant's check reads the same log, and it grows with the fleet, so parsing it in each
    check cost the square of the fleet (1,400 lines a read at 100 tenants, read 100
    times)."""
    grouped: dict[str, list[dict]] = {}
    for line in text.splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict):
            grouped.setdefault(str(record.get("logger")), []).append(record)
    return grouped


def worker_log(diag: Context, logger: str) -> list[dict]:
    """One logger's structured lines from the Celery workers' log (file or container)."""
    if diag.profile.paths.get("task_log"):
        read = files.read_text(Path(diag.profile.paths["task_log"]), diag.redactor)
        raw = read.data if read.exists else ""
    elif diag.profile.area("tenancy").get("task_container"):
        raw = "\n".join(
            diag.engine.container(diag.profile.area("tenancy")["task_container"]).logs)
    else:
        pytest.skip("not run: the target profile names no [adinsights.paths] task_log and no "
                    "[adinsights.tenancy] task_container")
    return _records(raw, logger)

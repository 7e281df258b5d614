"""The Celery workers' structured log (`celery.tasks`, one JSON object a line).

The lines are derived from the state the services serve: a persisted-snapshot line for
each time a tenant's stored snapshot was written, failures on the beat's cadence since
then when it has gone stale, and a sync-trigger line for each Airbyte job a tenant's
connections ran. So the log and the API agree unless a fault makes the log alone wrong.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

from sandbox.adinsights.metrics_cache import BEAT_CADENCE, STALE_TTL_SECONDS, Snapshot, stamp
from sandbox.adinsights.state import Tenant, stable_id
from sandbox.adinsights.world import World

LOGGER = "celery.tasks"
SNAPSHOT_TASK = "analytics.sync_metrics_snapshots"
SYNC_TASK = "integrations.tasks.trigger_scheduled_airbyte_syncs"
MISSING_TENANT_FAULT = "task_logs_missing_tenant"
SILENT_FAULT = "snapshot_task_silent"
BARE_FAULT = "snapshot_telemetry_bare"
RATE_LIMIT_STORM = "meta_rate_limit_storm"
BEAT_MISSING_FAULT = "airbyte_beat_entry_missing"
PERSISTED_RUNS = 3  # how many successful snapshot runs per tenant the log still holds
SNAPSHOT_ERROR = "OperationalError: canceling statement due to statement timeout"


def _line(tenant: Tenant, task: str, key: str, at: datetime, event: str, fields: dict) -> dict:
    """One task line; ids derive from the tenant, task and run so reruns log the same ids."""
    failed = fields.get("status") == "failure"
    return {
        "timestamp": stamp(at),
        "level": "ERROR" if failed else "INFO",
        "logger": LOGGER,
        "event": event,
        "task_name": task,
        "task_id": stable_id(tenant.name, "task", task, key),
        "correlation_id": stable_id(tenant.name, "correlation", task, key).replace("-", ""),
        "tenant_id": tenant.tenant_id,
        **fields,
    }


def _row_totals(snapshot: Snapshot) -> dict[str, int]:
    payload = snapshot.payload
    return {
        "campaign": len(payload["campaign"]["rows"]),
        "creative": len(payload["creative"]),
        "budget": len(payload["budget"]),
        "parish": len(payload["parish"]),
        "trend": len(payload["campaign"]["trend"]),
    }


def _snapshot_runs(tenant: Tenant, snapshot: Snapshot | None, now: datetime,
                   faults: frozenset[str] = frozenset()) -> Iterator[dict]:
    """Persisted runs up to the stored snapshot; failed runs on every beat after it while it
    is stale (or on the last few beats when there is none)."""
    generated = snapshot.generated(now) if snapshot else None
    if snapshot is not None:
        totals = _row_totals(snapshot)
        for step in range(PERSISTED_RUNS):
            at = generated - step * BEAT_CADENCE
            fields = {
                "duration_ms": 840 + step * 37,
                "status": "success",
                "source": "warehouse",
                "snapshot_generated_at": stamp(at),
                "row_totals": totals,
            }
            line = _line(tenant, SNAPSHOT_TASK, stamp(at), at, "metrics.snapshot.persisted", fields)
            if BARE_FAULT in faults:  # logged with a plain message, not the task's extras
                line = {k: v for k, v in line.items() if k not in ("row_totals", "correlation_id")}
            yield line
    stale = generated is None or (now - generated).total_seconds() > STALE_TTL_SECONDS
    failed_at = [now - timedelta(minutes=10) - step * BEAT_CADENCE for step in range(3)]
    if generated is not None:
        beats = (now - generated) // BEAT_CADENCE
        failed_at = [generated + step * BEAT_CADENCE for step in range(1, beats + 1)]
    for at in failed_at if stale else ():
        fields = {"duration_ms": 30_012, "status": "failure", "error": SNAPSHOT_ERROR}
        yield _line(tenant, SNAPSHOT_TASK, stamp(at), at, "metrics.snapshot.failed", fields)


def _sync_runs(tenant: Tenant, now: datetime) -> Iterator[dict]:
    for connection in tenant.connections:
        for job in connection.jobs:
            at = job.started_at(now)
            fields = {
                "duration_ms": 212,
                "status": "success",
                "connection_id": connection.connection_id,
                "job_id": job.job_id,
            }
            yield _line(tenant, SYNC_TASK, job.job_id, at, "airbyte.sync.triggered", fields)


def _graph_retries(tenant: Tenant, storm: bool, now: datetime) -> Iterator[dict]:
    """The Meta client's retry lines: an ordinary hour has a throttle or two that the
    second attempt gets past; a storm runs retry chains to the fifth attempt."""
    chains = [(35, 1)] if not storm else [(2 + n, 5) for n in range(6)]
    for start, attempts in chains:
        for attempt in range(1, attempts + 1):
            at = now - timedelta(minutes=start) + timedelta(seconds=2 ** attempt)
            yield {"timestamp": stamp(at), "level": "WARNING", "logger": "meta.graph.retry",
                   "event": "meta.graph.retry", "tenant_id": tenant.tenant_id,
                   "endpoint": f"/{tenant.ad_account_id}/insights", "status_code": 400,
                   "error_code": 17, "attempt": attempt, "max_attempts": 5,
                   "wait_seconds": 2 ** attempt}


def lines(world: World, now: datetime) -> list[dict]:
    """Every line, oldest first, with the faults applied."""
    faults = world.faults
    found = []
    for index, tenant in enumerate(world.tenants):
        if tenant.social != "not_connected":
            found += _graph_retries(tenant, index == 0 and RATE_LIMIT_STORM in faults, now)
        if not (index == 0 and SILENT_FAULT in faults):
            found += _snapshot_runs(tenant, world.snapshots.get(tenant.tenant_id), now, faults)
        if BEAT_MISSING_FAULT in faults:
            continue
        syncs = list(_sync_runs(tenant, now))
        if index == 0 and MISSING_TENANT_FAULT in faults:
            # The trigger ran outside tenant_context(), so the log filter found no tenant.
            syncs = [{k: v for k, v in line.items() if k != "tenant_id"} for line in syncs]
        found += syncs
    return sorted(found, key=lambda line: datetime.fromisoformat(line["timestamp"]))


def write(path: Path, world: World, now: datetime) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "".join(json.dumps(line, separators=(",", ":")) + "\n" for line in lines(world, now))
    path.write_text(text, encoding="utf-8")

"""Health rules of the backend: each function returns (HTTP status, body).

The endpoints and the health overview both call these functions, so an overview card can
never disagree with the endpoint it summarises.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta

from sandbox.adinsights.state import (
    FAILED_STATUSES,
    RUNNING_STATUSES,
    SUCCESS_STATUSES,
    Connection,
    Job,
    Tenant,
    iso,
)
from sandbox.adinsights.world import World

Check = tuple[int, dict]
Stamp = Callable[[datetime | None], str | None]

AIRBYTE_FRESHNESS = timedelta(hours=1)
AIRBYTE_RUNNING_STALE = timedelta(hours=2)
DBT_STALE_AFTER = timedelta(hours=24)
SYNC_HEALTH_STALE_MINUTES = 60
TIMEZONE = "America/Jamaica"
RUNNING_STALE_DETAIL = (
    "Latest Airbyte sync has remained in a running state beyond the stale threshold."
)
SERVER_ERROR = "An unexpected error occurred. Please try again later."
# dbt rebuilds the warehouse snapshot this long after a successful sync lands.
SNAPSHOT_LAG = timedelta(minutes=2)


def error_envelope(code: str, message: str, path: str) -> dict:
    return {"error": {"code": code, "message": message, "path": path}}


def api_health(world: World) -> Check:
    if "api_error" in world.faults:
        return 500, error_envelope("server_error", SERVER_ERROR, "/api/health/")
    return 200, {"status": "ok"}


def timezone(world: World) -> Check:
    return 200, {"timezone": TIMEZONE}


def sync_status(tenant: Tenant, connection: Connection, now: datetime, stamp: Stamp = iso) -> dict:
    """The stored status row; `stamp` renders times (health views UTC, DRF views local)."""
    job = connection.latest_job
    return {
        "tenant_id": tenant.tenant_id,
        "last_synced_at": stamp(connection.last_synced_at(now)),
        "last_job_status": job.status if job else None,
        "last_job_id": job.job_id if job else None,
        "last_job_updated_at": stamp(job.updated_at(now)) if job else None,
        "last_job_completed_at": stamp(job.completed_at(now)) if job else None,
        "last_job_error": job.error if job else None,
    }


def latest_synced(tenants: Iterable[Tenant], now: datetime) -> tuple[Tenant, Connection] | None:
    """The status row synced most recently: over all tenants for the global endpoint, over
    one tenant for its telemetry and connection summary."""
    synced = [
        (connection.last_synced_at(now), tenant, connection)
        for tenant in tenants
        for connection in tenant.connections
        if connection.last_synced_at(now) is not None
    ]
    if not synced:
        return None
    _, tenant, connection = max(synced, key=lambda row: row[0])
    return tenant, connection


def snapshot_generated_at(connections: Iterable[Connection], now: datetime) -> datetime | None:
    """The warehouse snapshot follows the last successful sync; none without one."""
    done = [c.last_succeeded_at(now) for c in connections]
    latest = max((moment for moment in done if moment is not None), default=None)
    return None if latest is None else latest + SNAPSHOT_LAG


def job_row(job: Job, now: datetime, stamp: Stamp = iso) -> dict:
    """One telemetry row, as health's recent_jobs and the telemetry endpoint list it."""
    return {
        "job_id": job.job_id,
        "status": job.status,
        "started_at": stamp(job.started_at(now)),
        "duration_seconds": job.duration_seconds,
        "records_synced": job.records_synced,
        "bytes_synced": job.bytes_synced,
        "api_cost": None,
    }


def _job_summary(jobs: list[dict]) -> dict | None:
    if not jobs:
        return None
    return {
        "latest_job": jobs[0],
        "average_duration_seconds": round(sum(j["duration_seconds"] for j in jobs) / len(jobs), 2),
        "average_records_synced": round(sum(j["records_synced"] for j in jobs) / len(jobs), 2),
        "job_count": len(jobs),
    }


STATUS_ROW_LAG_FAULT = "airbyte_status_row_lagging"
STATUS_ROW_LAG = timedelta(minutes=25)


def airbyte_health(world: World, now: datetime) -> Check:
    """States are checked in the backend's order; the first match decides."""
    base = {"component": "airbyte", "configured": True}
    if "airbyte_status_store_unavailable" in world.faults:
        detail = "Airbyte sync status tables are unavailable."
        return 503, {**base, "status": "status_store_unavailable", "detail": detail}
    if "airbyte_misconfigured" in world.faults:
        detail = "Airbyte API credentials are not fully configured."
        return 503, {**base, "configured": False, "status": "misconfigured", "detail": detail}
    latest = latest_synced(world.tenants, now)
    if latest is None:
        detail = "No Airbyte sync has completed yet."
        return 503, {**base, "last_sync": None, "status": "no_recent_sync", "detail": detail}
    tenant, connection = latest
    body = {**base, "last_sync": sync_status(tenant, connection, now)}
    if STATUS_ROW_LAG_FAULT in world.faults:  # the status row missed the latest sync
        body["last_sync"]["last_synced_at"] = iso(connection.last_synced_at(now) - STATUS_ROW_LAG)
    job = connection.latest_job
    status = job.status if job else ""
    age = now - connection.last_synced_at(now)
    if age > AIRBYTE_FRESHNESS and connection.is_due(now):
        detail = "Latest Airbyte sync is older than the freshness threshold."
        return 503, {**body, "stale": True, "status": "stale", "detail": detail}
    body["stale"] = False
    if status in FAILED_STATUSES:
        detail = f"Latest Airbyte sync finished with status '{status}'."
        return 502, {**body, "status": "sync_failed", "detail": detail, "error": job.error}
    if status not in SUCCESS_STATUSES:
        running_age = int((now - job.updated_at(now)).total_seconds()) if job else 0
        body["running_age_seconds"] = running_age
        if status in RUNNING_STATUSES and running_age > AIRBYTE_RUNNING_STALE.total_seconds():
            detail = RUNNING_STALE_DETAIL
            return 503, {**body, "status": "running_stale", "detail": detail}
        detail = f"Latest Airbyte sync is in status '{status}'."
        return 200, {**body, "status": "pending", "detail": detail}
    jobs = [job_row(job, now) for job in connection.jobs[:5]]
    return 200, {
        **body,
        "recent_jobs": jobs,
        "job_summary": _job_summary(jobs),
        "status": "ok",
        "latest_snapshot_generated_at": iso(snapshot_generated_at((connection,), now)),
    }


def dbt_health(world: World, now: datetime) -> Check:
    """Reads run_results.json on every call, so a check that rewrites it sees the change."""
    path = world.dbt_target / "run_results.json"
    base = {"component": "dbt", "run_results_path": str(path.resolve())}
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        detail = "dbt run_results.json not found."
        return 503, {**base, "status": "missing_run_results", "detail": detail}
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        return 500, {**base, "status": "invalid_run_results", "detail": str(exc)}
    generated_raw = (document.get("metadata") or {}).get("generated_at")
    failing = [
        r for r in document.get("results") or [] if r.get("status") not in ("success", "skipped")
    ]
    body = {
        **base,
        "generated_at": generated_raw,
        "failing_models": [r.get("unique_id") for r in failing],
        "failing_models_detail": [
            {key: r.get(key) for key in ("unique_id", "status", "message", "adapter_response")}
            for r in failing
        ],
    }
    if failing:
        return 502, {**body, "status": "failing"}
    if generated_raw is None:
        return 200, {**body, "status": "ok"}
    generated = datetime.fromisoformat(generated_raw)
    if generated.tzinfo is None:
        generated = generated.replace(tzinfo=UTC)
    if now - generated > DBT_STALE_AFTER:
        detail = "Latest dbt run is older than 24 hours."
        return 503, {**body, "stale": True, "status": "stale", "detail": detail}
    return 200, {**body, "stale": False, "status": "ok"}


def sync_state(connection: Connection, now: datetime) -> str:
    """sync-health's per-connection rule: first match wins, then a failed job overrides."""
    last = connection.last_synced_at(now)
    if not connection.is_active:
        state = "inactive"
    elif last is None:
        state = "missing"
    elif now - last > timedelta(minutes=SYNC_HEALTH_STALE_MINUTES):
        state = "stale"
    else:
        state = "fresh"
    job = connection.latest_job
    return "failed" if job and job.status in FAILED_STATUSES else state


def _card(key: str, check: Check) -> dict:
    """Status and detail come from the wrapped body; bodies without a status (timezone,
    the error envelope) get one derived from the HTTP code so every card has a verdict."""
    code, body = check
    envelope = body.get("error") if isinstance(body.get("error"), dict) else {}
    return {
        "key": key,
        "http_status": code,
        "status": body.get("status") or ("ok" if code < 400 else "error"),
        "detail": body.get("detail") or envelope.get("message"),
        "payload": body,
    }


def overview(world: World, now: datetime) -> dict:
    cards = [
        _card("api", api_health(world)),
        _card("airbyte", airbyte_health(world, now)),
        _card("dbt", dbt_health(world, now)),
        _card("timezone", timezone(world)),
    ]
    codes = [card["http_status"] for card in cards]
    overall = "error" if max(codes) >= 500 else "degraded" if max(codes) >= 400 else "ok"
    return {"generated_at": iso(now), "overall_status": overall, "cards": cards}

"""The backend's Airbyte views and its audit trail: telemetry, connections, audit logs.

These are DRF model views, so they render local time and paginate the DRF way (see
`drf`); the numbers come from the same jobs the health endpoints read, so telemetry and
`/api/health/airbyte/` can never tell different stories about one fault.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING
from urllib.parse import parse_qs

from sandbox.adinsights import audit, health
from sandbox.adinsights.drf import drf_time, paginate
from sandbox.adinsights.state import Connection, Tenant
from sandbox.parts.http import Response, json_response

if TYPE_CHECKING:
    from sandbox.adinsights.call import Call

TELEMETRY_PAGE_SIZE = 5
AUDIT_PAGE_SIZE = 50
NO_CONNECTION = {"detail": "No AirbyteConnection matches the given query."}
AUDIT_LEAK_FAULT = "audit_leak"
AUDIT_FILTER_FAULT = "audit_filter_ignored"


def _brief(connection: Connection) -> dict:
    return {
        "id": connection.id,
        "name": connection.name,
        "connection_id": connection.connection_id,
        "workspace_id": connection.workspace_id,
        "provider": connection.provider,
    }


def _sync_status(tenant: Tenant, now: datetime) -> tuple[dict | None, datetime | None]:
    """The tenant's status row with its connection, and when that connection last synced."""
    latest = health.latest_synced((tenant,), now)
    if latest is None:
        return None, None
    _, connection = latest
    row = health.sync_status(tenant, connection, now, drf_time)
    return {**row, "connection": _brief(connection)}, connection.last_synced_at(now)


def telemetry(call: Call) -> Response:
    tenant, now = call.tenant, call.now
    jobs = [(job, c) for c in tenant.connections for job in c.jobs]
    jobs.sort(key=lambda pair: (pair[0].started_at(now), int(pair[0].job_id)), reverse=True)
    rows = [{**health.job_row(job, now, drf_time), "connection": _brief(c)} for job, c in jobs]
    code, body = paginate(call.request, rows, TELEMETRY_PAGE_SIZE)
    if code != 200:
        return json_response(code, body)
    status, synced_at = _sync_status(tenant, now)
    body["sync_status"] = status
    if synced_at is None:
        body["sync_status_state"] = "missing"
    else:
        age = now - synced_at
        body["sync_status_state"] = "stale" if age > health.AIRBYTE_FRESHNESS else "fresh"
        body["sync_status_age_minutes"] = int(age.total_seconds() // 60)
    snapshot = health.snapshot_generated_at(tenant.connections, now)
    if snapshot is not None:
        body["snapshot_generated_at"] = drf_time(snapshot)
    metadata = {"page_results": len(body["results"]), "count": body["count"]}
    resource = ("airbyte_telemetry", tenant.tenant_id)
    audit.record(call.world.audit, tenant, "airbyte_telemetry_viewed", resource, metadata, now)
    return json_response(200, body)


def _connection_row(connection: Connection, now: datetime) -> dict:
    job = connection.latest_job
    return {
        **_brief(connection),
        "schedule_type": connection.schedule_type,
        "interval_minutes": connection.interval_minutes,
        "cron_expression": None,
        "is_active": connection.is_active,
        "last_synced_at": drf_time(connection.last_synced_at(now)),
        "last_job_id": job.job_id if job else None,
        "last_job_status": job.status if job else None,
        "last_job_created_at": drf_time(job.started_at(now)) if job else None,
        "last_job_updated_at": drf_time(job.updated_at(now)) if job else None,
        "last_job_completed_at": drf_time(job.completed_at(now)) if job else None,
        "last_job_error": job.error if job else None,
    }


def connections(call: Call) -> Response:
    ordered = sorted(call.tenant.connections, key=lambda c: c.name)
    return json_response(200, [_connection_row(c, call.now) for c in ordered])


def connection_detail(call: Call) -> Response:
    """Another tenant's id is as unknown as a made-up one: the queryset is tenant-scoped."""
    wanted = call.params["id"]
    found = next((c for c in call.tenant.connections if c.id == wanted), None)
    if found is None:
        return json_response(404, NO_CONNECTION)
    return json_response(200, _connection_row(found, call.now))


def connection_summary(call: Call) -> Response:
    owned = call.tenant.connections
    by_provider: dict[str, int] = {}
    for connection in owned:
        by_provider[connection.provider] = by_provider.get(connection.provider, 0) + 1
    active = sum(c.is_active for c in owned)
    status, _ = _sync_status(call.tenant, call.now)
    return json_response(
        200,
        {
            "total": len(owned),
            "active": active,
            "inactive": len(owned) - active,
            "due": sum(c.is_due(call.now) for c in owned),
            "by_provider": by_provider,
            "latest_sync": status,
        },
    )


def _audit_row(row: audit.AuditRow, owner: Tenant, now: datetime) -> dict:
    user = {"id": owner.user_id, "email": owner.email} if row.user_id else None
    return {
        "id": row.id,
        "tenant": row.tenant_id,
        "user": user,
        "action": row.action,
        "resource_type": row.resource_type,
        "resource_id": row.resource_id,
        "metadata": row.metadata,
        "created_at": drf_time(row.created_at(now)),
    }


def audit_logs(call: Call) -> Response:
    """`?action=` and `?resource_type=` match exactly; an empty value filters nothing."""
    world, now = call.world, call.now
    query = parse_qs(call.request.query)
    wanted = {key: query[key][-1] for key in ("action", "resource_type") if key in query}
    busy = audit.BUSY_FAULT in world.faults and call.tenant == world.tenants[0]
    if AUDIT_FILTER_FAULT in world.faults or busy:
        wanted = {}
    owners = [call.tenant]
    neighbour = world.neighbour(call.tenant)
    if neighbour and AUDIT_LEAK_FAULT in world.faults:
        owners.append(neighbour)
    found = [(row, owner) for owner in owners for row in world.audit.rows(owner.tenant_id, now)]
    found.sort(key=lambda pair: pair[0].created_at(now), reverse=True)
    rows = [
        _audit_row(row, owner, now)
        for row, owner in found
        if all(getattr(row, key) == value for key, value in wanted.items())
    ]
    return json_response(*paginate(call.request, rows, AUDIT_PAGE_SIZE))

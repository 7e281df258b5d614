"""The backend's audit trail, as `/api/audit-logs/` serves it.

Seeded rows are stored as ages, like jobs, so a demo left running keeps the same trail;
a row written by a request (a login, a telemetry view, a webhook) carries its instant.
The seed gives each tenant the history a checker expects to find: who was made admin,
when its connections were created, a recent login, and a webhook row per finished job.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from sandbox.adinsights.state import RUNNING_STATUSES, Connection, Job, Tenant, stable_id

WEBHOOK = "airbyte_job_webhook"
SILENT_FAULT = "airbyte_webhook_silent"
# Airbyte 0.50 notifies in plain text only, so job webhooks come from a relay that polls
# the API every few minutes: a row lands this long after its job ended.
RELAY_LAG = timedelta(minutes=5)
# Under the silent fault the relay stopped this long ago; its last rows are for earlier jobs.
SILENT_FOR = timedelta(hours=3)
# A monitor that signs in every minute fills more than a page with sign-ins.
BUSY_FAULT = "audit_filter_ignored_busy"
BUSY_LOGINS = 60


@dataclass(frozen=True)
class AuditRow:
    id: str
    tenant_id: str
    user_id: str | None  # None: written by the system (webhooks), not by a person
    action: str
    resource_type: str
    resource_id: str
    metadata: dict = field(default_factory=dict)
    ago: timedelta = timedelta(0)
    as_of: datetime | None = None

    def created_at(self, now: datetime) -> datetime:
        return (self.as_of or now) - self.ago


class AuditLog:
    """Rows of every tenant; readers always ask for one tenant's rows."""

    def __init__(self, rows: Iterable[AuditRow] = ()) -> None:
        self._rows = list(rows)
        self._lock = threading.Lock()

    def add(self, row: AuditRow) -> None:
        with self._lock:
            self._rows.append(row)

    def rows(self, tenant_id: str, now: datetime) -> list[AuditRow]:
        """Newest first, as the backend orders them."""
        with self._lock:
            own = [row for row in self._rows if row.tenant_id == tenant_id]
        return sorted(own, key=lambda row: row.created_at(now), reverse=True)


def record(
    log: AuditLog,
    tenant: Tenant,
    action: str,
    resource: tuple[str, str],
    metadata: dict,
    now: datetime,
    *,
    by_user: bool = True,
) -> AuditRow:
    """Write a row at `now` for something a request just did."""
    resource_type, resource_id = resource
    row = AuditRow(
        id=str(uuid.uuid4()),
        tenant_id=tenant.tenant_id,
        user_id=tenant.user_id if by_user else None,
        action=action,
        resource_type=resource_type,
        resource_id=resource_id,
        metadata=metadata,
        as_of=now,
    )
    log.add(row)
    return row


def webhook_metadata(connection: Connection, job: Job) -> dict:
    """The fields the backend keeps for each processed job webhook."""
    return {
        "connection_id": connection.connection_id,
        "job_id": job.job_id,
        "status": job.status,
        "records_synced": job.records_synced,
        "duration_seconds": job.duration_seconds,
        "error": job.error,
    }


def _seeded(
    tenant: Tenant,
    key: str,
    action: str,
    resource: tuple[str, str],
    metadata: dict,
    ago: timedelta,
    *,
    by_user: bool = True,
) -> AuditRow:
    """A history row; its id is stable so reruns list the same trail."""
    return AuditRow(
        id=stable_id(tenant.name, "audit", action, key),
        tenant_id=tenant.tenant_id,
        user_id=tenant.user_id if by_user else None,
        action=action,
        resource_type=resource[0],
        resource_id=resource[1],
        metadata=metadata,
        ago=ago,
    )


def _reported_jobs(connection: Connection, silent: bool) -> list[tuple[Job, timedelta]]:
    """(job, age of its webhook row). Silent: the relay's last three rows, for the hourly
    jobs before the oldest one Airbyte still lists, the newest exactly SILENT_FOR old."""
    if not silent:
        finished = [job for job in connection.jobs if job.status not in RUNNING_STATUSES]
        return [(job, job.ended_ago - RELAY_LAG) for job in finished]
    if not connection.jobs:
        return []
    oldest = connection.jobs[-1]
    return [
        (
            replace(oldest, job_id=str(int(oldest.job_id) - step), status="succeeded", error=None),
            SILENT_FOR + timedelta(hours=step - 1),
        )
        for step in (1, 2, 3)
    ]


def _history(tenant: Tenant, silent: bool) -> list[AuditRow]:
    grant = {"role": "ADMIN", "user_id": tenant.user_id}
    role = ("user_role", stable_id(tenant.name, "user-role"))
    rows = [_seeded(tenant, "admin", "role_assigned", role, grant, timedelta(days=30))]
    for connection in tenant.connections:
        resource = ("airbyte_connection", connection.id)
        created = {
            "connection_id": connection.connection_id,
            "name": connection.name,
            "provider": connection.provider,
        }
        action = "airbyte_connection_created"
        rows.append(_seeded(tenant, connection.id, action, resource, created, timedelta(days=29)))
        for job, age in _reported_jobs(connection, silent):
            report = webhook_metadata(connection, job)
            rows.append(_seeded(tenant, job.job_id, WEBHOOK, resource, report, age, by_user=False))
    method = {"method": "password" if tenant.account.username else "token"}
    user = ("user", tenant.user_id)
    rows.append(_seeded(tenant, "recent", "login", user, method, timedelta(hours=2)))
    return rows


def _sign_ins(tenant: Tenant) -> list[AuditRow]:
    user = ("user", tenant.user_id)
    return [_seeded(tenant, f"monitor-{n}", "login", user, {"method": "token"},
                    timedelta(minutes=n)) for n in range(1, BUSY_LOGINS + 1)]


def seed(tenants: Iterable[Tenant], faults: frozenset[str]) -> list[AuditRow]:
    tenants = list(tenants)
    rows = [row for tenant in tenants for row in _history(tenant, SILENT_FAULT in faults)]
    if BUSY_FAULT in faults and tenants:
        rows += _sign_ins(tenants[0])
    return rows

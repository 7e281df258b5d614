"""Airbyte 0.50's API objects (WorkspaceRead, ConnectionRead, JobRead, AttemptRead and the
web backend's list item) built from the shared World.

Airbyte sees the same connections and jobs as the backend, in its own words: epoch
seconds, integer job ids, its status enum. Anything that shows Airbyte's side (the API
here, a database filled with its rows) should build from these functions, so the two
cannot drift apart.
"""

from __future__ import annotations

from datetime import datetime

from sandbox.adinsights.state import Connection, Job, Tenant, stable_id

JOB_STATUSES = ("pending", "running", "incomplete", "failed", "succeeded", "cancelled")
TERMINAL = frozenset({"failed", "succeeded", "cancelled"})
# Backend spellings that Airbyte's enum has under another name.
_SPELLING = {
    "success": "succeeded",
    "error": "failed",
    "errored": "failed",
    "canceled": "cancelled",
}
_STREAMS = {"META": ("ads_insights", "campaigns"), "GOOGLE": ("campaigns", "ad_group_ad_report")}

Body = dict


def epoch(moment: datetime) -> int:
    return int(moment.timestamp())


def job_status(job: Job) -> str:
    """Airbyte's JobStatus for a job; a status Airbyte has no word for has not started."""
    status = _SPELLING.get(job.status, job.status)
    return status if status in JOB_STATUSES else "pending"


def airbyte_jobs(connection: Connection) -> list[Job]:
    """Jobs Airbyte itself holds: its ids are integers, so a report under any other id
    (accepted by the backend's webhook) was never an Airbyte job."""
    return [job for job in connection.jobs if job.job_id.isascii() and job.job_id.isdigit()]


def _streams(connection: Connection) -> tuple[str, ...]:
    return _STREAMS.get(connection.provider, ("records",))


def job_read(job: Job, connection: Connection, now: datetime) -> Body:
    status = job_status(job)
    created = epoch(job.started_at(now))
    read: Body = {
        "id": int(job.job_id),
        "configType": "sync",
        "configId": connection.connection_id,
        "enabledStreams": [{"name": name} for name in _streams(connection)],
        "createdAt": created,
        "updatedAt": epoch(job.updated_at(now)),
        "status": status,
    }
    if status != "pending":
        read["startedAt"] = created
    if status in TERMINAL:
        read["aggregatedStats"] = _stats(job)
    return read


def _stats(job: Job) -> Body:
    records, size = job.records_synced, job.bytes_synced
    return {
        "recordsEmitted": records,
        "bytesEmitted": size,
        "recordsCommitted": records,
        "bytesCommitted": size,
    }


def attempt_read(job: Job, now: datetime) -> Body | None:
    """The job's single attempt; a pending job has none yet."""
    status = job_status(job)
    if status == "pending":
        return None
    attempt_status = {"succeeded": "succeeded", "running": "running"}.get(status, "failed")
    updated = epoch(job.updated_at(now))
    read: Body = {
        "id": 0,
        "status": attempt_status,
        "createdAt": epoch(job.started_at(now)),
        "updatedAt": updated,
        "bytesSynced": job.bytes_synced,
        "recordsSynced": job.records_synced,
        "totalStats": _stats(job),
        "streamStats": [],
    }
    if attempt_status != "running":
        read["endedAt"] = updated
    if attempt_status == "failed":
        cancelled = status == "cancelled"
        failure = {
            "failureOrigin": "airbyte_platform" if cancelled else "source",
            "failureType": "manual_cancellation" if cancelled else "system_error",
            "externalMessage": job.error or "Something went wrong during replication",
            "retryable": not cancelled,
            "timestamp": updated * 1000,
        }
        read["failureSummary"] = {"failures": [failure], "partialSuccess": False}
    return read


def log_lines(job: Job, attempt: Body, now: datetime) -> list[str]:
    """A few lines of the attempt's log, enough to show how it ended."""

    def line(moment: datetime, level: str, text: str) -> str:
        return f"{moment.strftime('%Y-%m-%d %H:%M:%S')} {level} {text}"

    started, updated = job.started_at(now), job.updated_at(now)
    lines = [
        line(
            started, "INFO", f"Docker volume job log path: /tmp/workspace/{job.job_id}/0/logs.log"
        ),
        line(started, "INFO", "----- START REPLICATION -----"),
    ]
    if attempt["status"] == "succeeded":
        lines.append(line(updated, "INFO", "----- END REPLICATION -----"))
        lines.append(line(updated, "INFO", f"Records committed: {job.records_synced}"))
    elif attempt["status"] == "failed":
        message = attempt["failureSummary"]["failures"][0]["externalMessage"]
        lines.append(line(updated, "ERROR", message))
    return lines


def workspace_read(tenant: Tenant) -> Body:
    """One workspace per tenant, as ADinsights provisions them."""
    return {
        "workspaceId": tenant.connections[0].workspace_id,
        "customerId": stable_id(tenant.name, "airbyte-customer"),
        "email": tenant.email,
        "name": tenant.name,
        "slug": tenant.name,
        "initialSetupComplete": True,
        "displaySetupWizard": False,
        "anonymousDataCollection": False,
        "news": False,
        "securityUpdates": False,
        "notifications": [],
        "defaultGeography": "auto",
        "webhookConfigs": [],
    }


def _schedule(connection: Connection) -> Body:
    if connection.schedule_type != "interval":
        return {"scheduleType": connection.schedule_type}
    hours, minutes = divmod(connection.interval_minutes, 60)
    unit, units = ("hours", hours) if not minutes else ("minutes", connection.interval_minutes)
    return {
        "scheduleType": "basic",
        "scheduleData": {"basicSchedule": {"timeUnit": unit, "units": units}},
        "schedule": {"timeUnit": unit, "units": units},
    }


def _source_id(connection: Connection) -> str:
    return stable_id(connection.workspace_id, "source", connection.provider.lower())


def connection_read(connection: Connection) -> Body:
    streams = [
        {
            "stream": {"name": name, "supportedSyncModes": ["full_refresh", "incremental"]},
            "config": {
                "syncMode": "incremental",
                "destinationSyncMode": "append_dedup",
                "selected": True,
            },
        }
        for name in _streams(connection)
    ]
    return {
        "connectionId": connection.connection_id,
        "name": connection.name,
        "namespaceDefinition": "destination",
        "prefix": "",
        "sourceId": _source_id(connection),
        "destinationId": stable_id(connection.workspace_id, "destination"),
        "operationIds": [],
        "syncCatalog": {"streams": streams},
        **_schedule(connection),
        "status": "active" if connection.is_active else "inactive",
        "geography": "auto",
        "breakingChange": False,
        "notifySchemaChanges": True,
        "nonBreakingChangesPreference": "ignore",
        "workspaceId": connection.workspace_id,
    }


def web_backend_item(connection: Connection, now: datetime) -> Body:
    """The UI's connection list row: the connection plus how its latest sync went."""
    latest = next(iter(airbyte_jobs(connection)), None)
    status = job_status(latest) if latest else None
    read = connection_read(connection)
    keys = ("connectionId", "name", "status", "scheduleType", "scheduleData")
    return {key: read[key] for key in keys if key in read} | {
        "source": {"sourceId": read["sourceId"], "sourceName": connection.provider},
        "destination": {"destinationId": read["destinationId"], "name": "Postgres"},
        "isSyncing": status in ("pending", "running", "incomplete"),
        "latestSyncJobStatus": status,
        "latestSyncJobCreatedAt": epoch(latest.started_at(now)) if latest else None,
        "schemaChange": "no_change",
    }

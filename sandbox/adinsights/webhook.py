"""`POST /api/airbyte/webhook/`: job reports from Airbyte, authenticated by a shared secret.

The order of decisions is the backend's: the secret first, so that a caller without it
learns nothing about connections; then the payload; then the connection lookup.
"""

from __future__ import annotations

import hmac
import json
import logging
import uuid
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from sandbox.adinsights import audit
from sandbox.adinsights.state import SUCCESS_STATUSES, Job
from sandbox.parts.http import Response, json_response

if TYPE_CHECKING:
    from sandbox.adinsights.call import Call

SECRET_HEADER = "X-Airbyte-Webhook-Secret"
SERVER_ERROR_FAULT = "airbyte_webhook_500"

logger = logging.getLogger("sandbox.webhook")


class UnknownConnection(LookupError):
    """What the backend's lookup raises when nothing catches it (the 500 fault)."""


PREVIOUS_ACCEPTED_FAULT = "airbyte_webhook_previous_accepted"


def _refusal(world_secret: str, required: bool, presented: str | None) -> Response | None:
    if not world_secret:
        if not required:
            return None
        logger.error("Airbyte webhook secret required but not configured")
        return json_response(503, {"detail": "webhook secret not configured"})
    if presented is None or not hmac.compare_digest(presented.encode(), world_secret.encode()):
        return json_response(403, {"detail": "invalid webhook secret"})
    return None


def _first(fields: dict, *names: str) -> object:
    return next((fields[name] for name in names if fields.get(name) not in (None, "")), None)


def _epoch(value: object) -> datetime | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        return datetime.fromtimestamp(float(value), UTC)
    except (ValueError, OverflowError, OSError):
        return None


def _count(value: object) -> int | None:
    """A metric as a whole number; anything unreadable counts as not reported."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        return max(int(float(value)), 0)
    except (ValueError, OverflowError):
        return None


def _dict(value: object) -> dict:
    return value if isinstance(value, dict) else {}


def _job(fields: dict, attempts: list, job_id: str, now: datetime) -> Job:
    """Metrics come from the last attempt, as Airbyte reports the final one last."""
    last = _dict(attempts[-1]) if attempts else {}
    metrics = _dict(last.get("metrics"))
    failures = _dict(last.get("failureSummary")).get("failures")
    failure = _dict(failures[0]) if isinstance(failures, list) and failures else {}
    created = _epoch(fields.get("createdAt"))
    updated = _epoch(fields.get("updatedAt")) or now
    millis = _count(metrics.get("timeInMillis"))
    if millis is not None:
        duration = millis // 1000
    else:
        duration = max(int((updated - created).total_seconds()), 0) if created else 0
    status = str(fields.get("status") or "unknown").lower()
    error = _first(fields, "error", "errorMessage") or failure.get("externalMessage")
    return Job(
        job_id=job_id,
        status=status,
        ended_ago=timedelta(0),
        duration_seconds=duration,
        records_synced=_count(
            _first(metrics, "recordsSynced", "recordsEmitted", "recordsCommitted")
        )
        or 0,
        bytes_synced=_count(_first(metrics, "bytesSynced", "bytesEmitted")) or 0,
        error=None if status in SUCCESS_STATUSES else (str(error) if error else None),
        as_of=updated,
    )


def receive(call: Call) -> Response:
    world, now = call.world, call.now
    presented = call.request.headers.get(SECRET_HEADER)
    refused = _refusal(world.webhook_secret, world.webhook_secret_required, presented)
    if refused is not None and presented and world.webhook_previous_secret and \
            PREVIOUS_ACCEPTED_FAULT in world.faults and \
            hmac.compare_digest(presented.encode(), world.webhook_previous_secret.encode()):
        refused = None  # a replica that was not redeployed still holds the old secret
    if refused is not None:
        return refused
    try:
        payload = json.loads(call.request.body or b"{}")
    except (ValueError, UnicodeDecodeError) as exc:
        return json_response(400, {"detail": f"JSON parse error - {exc}"})
    payload = payload if isinstance(payload, dict) else {}
    fields = payload["job"] if isinstance(payload.get("job"), dict) else payload
    raw = _first(payload, "connectionId", "connection_id") or _first(
        fields, "connectionId", "connection_id"
    )
    if raw is None:
        return json_response(400, {"detail": "connection_id missing"})
    try:
        connection_id = str(uuid.UUID(str(raw)))
    except ValueError:
        return json_response(400, {"detail": "invalid connection_id"})
    found = world.backend_connection(connection_id)
    if found is None:
        if SERVER_ERROR_FAULT in world.faults:
            raise UnknownConnection(f"AirbyteConnection matching query does not exist: {raw}")
        return json_response(404, {"detail": "connection not found"})
    job_id = _first(fields, "id", "jobId")
    if job_id is None:
        return json_response(400, {"detail": "job_id missing"})
    attempts = fields.get("attempts") or payload.get("attempts") or []
    job = _job(fields, attempts if isinstance(attempts, list) else [], str(job_id), now)
    tenant, _ = found
    connection = world.record_job(connection_id, job, now)
    resource = ("airbyte_connection", connection.id)
    metadata = audit.webhook_metadata(connection, job)
    audit.record(world.audit, tenant, audit.WEBHOOK, resource, metadata, now, by_user=False)
    logger.info("Airbyte webhook processed")
    body = {
        "connection_id": connection_id,
        "job_id": job.job_id,
        "status": job.status,
        "received_at": now.isoformat(),
    }
    return json_response(200 if job.status in SUCCESS_STATUSES else 202, body)

"""The API's own structured log (`api.access`, one JSON object a line, plus the webhook
receiver's `Airbyte webhook processed` lines).

Written at boot from the state the services serve: an access line for each request a
tenant's dashboard made in the last hour, and a processed line for each job webhook the
audit trail holds, with the same job id. The log and the API agree unless a fault makes
the log alone wrong.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

from sandbox.adinsights.audit import WEBHOOK
from sandbox.adinsights.metrics_cache import stamp
from sandbox.adinsights.state import Tenant, stable_id
from sandbox.adinsights.world import World

NO_DURATION_FAULT = "api_access_log_no_duration"
NO_CORRELATION_FAULT = "webhook_log_no_correlation"
DASHBOARD_PATHS = ("/api/metrics/combined/", "/api/integrations/social/status/",
                   "/api/ops/sync-health/")


def _correlation(*parts: str) -> str:
    return stable_id(*parts).replace("-", "")


def _access(tenant: Tenant, now: datetime, faults: frozenset[str]) -> Iterator[dict]:
    for minutes in range(55, 0, -5):
        path = DASHBOARD_PATHS[minutes % len(DASHBOARD_PATHS)]
        at = now - timedelta(minutes=minutes)
        line = {"timestamp": stamp(at), "level": "INFO", "logger": "api.access",
                "method": "GET", "path": path, "status_code": 200,
                "duration_ms": 40 + minutes, "tenant_id": tenant.tenant_id,
                "correlation_id": _correlation(tenant.name, "access", path, str(minutes))}
        if NO_DURATION_FAULT in faults:
            del line["duration_ms"]
        yield line


def _webhooks(world: World, tenant: Tenant, now: datetime) -> Iterator[dict]:
    for row in world.audit.rows(tenant.tenant_id, now):
        if row.action != WEBHOOK:
            continue
        line = {"timestamp": stamp(row.created_at(now)), "level": "INFO",
                "logger": "integrations.airbyte.webhook", "message": "Airbyte webhook processed",
                "tenant_id": tenant.tenant_id,
                "connection_id": row.metadata.get("connection_id"),
                "job_id": row.metadata.get("job_id"),
                "correlation_id": _correlation(tenant.name, "webhook",
                                               str(row.metadata.get("job_id")))}
        if NO_CORRELATION_FAULT in world.faults:
            del line["correlation_id"]
        yield line


def lines(world: World, now: datetime) -> list[dict]:
    found: list[dict] = []
    for tenant in world.tenants:
        found += _access(tenant, now, world.faults)
        found += _webhooks(world, tenant, now)
    return sorted(found, key=lambda line: datetime.fromisoformat(line["timestamp"]))


def write(path: Path, world: World, now: datetime) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "".join(json.dumps(line, separators=(",", ":")) + "\n" for line in lines(world, now))
    path.write_text(text, encoding="utf-8")

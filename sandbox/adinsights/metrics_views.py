"""``/api/metrics/combined/`` and ``/api/datasets/status/``: the views that read and
rewrite the stored snapshots of ``metrics_cache``, with the cache faults."""

from __future__ import annotations

import re
import time
from datetime import date, datetime
from urllib.parse import parse_qs

from sandbox.adinsights.call import Call
from sandbox.adinsights.metrics_cache import (
    BYPASS_STALE_FAULT,
    DETAILS,
    FILTER_OVERWRITES_FAULT,
    FILTERS,
    MISSING,
    NEVER_HITS_FAULT,
    SOURCE,
    WAREHOUSE_LEAK_FAULT,
    WAREHOUSE_QUERY_DELAY,
    Filters,
    Snapshot,
    build_payload,
    render,
    stamp,
)
from sandbox.adinsights.state import Tenant
from sandbox.adinsights.world import World
from sandbox.parts.http import Response, json_response

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
NO_FILTERS = Filters()
BAD_DATE = ["Date has wrong format. Use one of these formats instead: YYYY-MM-DD."]


def _owner(world: World, tenant: Tenant) -> Tenant:
    """Whose snapshot the warehouse adapter reads for `tenant`: its own, unless the leak
    fault makes it resolve the first tenant to its neighbour."""
    neighbour = world.neighbour(tenant)
    return neighbour if neighbour and WAREHOUSE_LEAK_FAULT in world.faults else tenant


def _reason(snapshot: Snapshot | None, now: datetime) -> str:
    return MISSING if snapshot is None else snapshot.state(now)


def unavailable(reason: str) -> Response:
    body = {"detail": DETAILS[reason], "code": "warehouse_snapshot_unavailable", "reason": reason}
    return json_response(503, body)


def _filters(query: dict[str, list[str]]) -> Filters | dict:
    """The request's filters, or DRF-style field errors for a malformed date."""
    values = {key: (query.get(key) or [""])[-1].strip() for key in FILTERS}
    errors = {
        key: BAD_DATE
        for key in ("start_date", "end_date")
        if values[key] and not _DATE.fullmatch(values[key])
    }
    if errors:
        return errors
    try:
        start, end = (date.fromisoformat(values[k]) if values[k] else None
                      for k in ("start_date", "end_date"))
    except ValueError:
        return {"start_date": BAD_DATE}
    return Filters(start, end, values["parish"] or None)


def _build(tenant: Tenant, now: datetime, filters: Filters = NO_FILTERS) -> dict:
    time.sleep(WAREHOUSE_QUERY_DELAY)
    return build_payload(tenant, now, filters)


def combined(call: Call) -> Response:
    """Shared by /api/metrics/combined/ and /api/metrics/, which have one shape."""
    query = parse_qs(call.request.query, keep_blank_values=True)
    source = (query.get("source") or [SOURCE])[-1]
    if source != SOURCE:
        return json_response(400, {"detail": f"Unknown adapter '{source}'."})
    filters = _filters(query)
    if isinstance(filters, dict):
        return json_response(400, filters)
    world, now = call.world, call.now
    owner = _owner(world, call.tenant)
    snapshot = world.snapshots.get(owner.tenant_id)
    reason = _reason(snapshot, now)
    if reason != "ready":
        return unavailable(reason)
    faults = world.faults
    bypass = (query.get("cache") or ["true"])[-1].lower() in ("false", "0", "no")
    began = time.perf_counter()
    outcome = "disabled" if bypass else "miss"
    if filters.active:
        payload = _build(owner, now, filters)
        if FILTER_OVERWRITES_FAULT in faults:
            snapshot = world.snapshots.put(owner.tenant_id, payload, now)
    elif NEVER_HITS_FAULT in faults or (bypass and BYPASS_STALE_FAULT not in faults):
        snapshot = world.snapshots.put(owner.tenant_id, _build(owner, now), now)
        payload = snapshot.payload
    else:
        payload = snapshot.payload
        outcome = "disabled" if bypass else "hit"
    answer = render(payload, snapshot.generated(now))
    world.latency.observe(source, outcome, time.perf_counter() - began)
    return json_response(200, answer)


def _dataset(enabled: bool, reason: str, generated_at: datetime | None) -> dict:
    return {
        "enabled": enabled,
        "reason": reason,
        "snapshot_generated_at": stamp(generated_at) if generated_at else None,
        "detail": DETAILS.get(reason),
    }


def datasets_status(call: Call) -> Response:
    owner = _owner(call.world, call.tenant)
    snapshot = call.world.snapshots.get(owner.tenant_id)
    reason = _reason(snapshot, call.now)
    generated = snapshot.generated(call.now) if snapshot else None
    return json_response(
        200,
        {
            "live": _dataset(True, reason, generated),
            "demo": _dataset(False, "adapter_disabled", None),
            "warehouse_adapter_enabled": True,
        },
    )

"""Observations for the snapshot cache: repeated, bypassed and filtered calls to
``/api/metrics/combined/``, and each tenant's snapshot age."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from fixtures.context import Context
from fixtures.probes.http import Response

COMBINED = "/api/metrics/combined/"
DEFAULTS = {"samples": 20, "latency_ratio": 1.5, "warn_minutes": 60, "critical_minutes": 120,
            "grace_minutes": 15, "stale_share": 0.2, "filter_parish": "Kingston",
            "source": "warehouse"}


@pytest.fixture
def cache_settings(diag: Context) -> dict:
    return diag.settings("cache", DEFAULTS)


@pytest.fixture
def combined(diag: Context, tenant: str):
    """A fresh (never memoised) call, since these checks compare successive answers."""

    def call(**params: str) -> Response:
        return diag.http.get("api", COMBINED, headers=diag.auth(tenant), fresh=True,
                             params={"source": "warehouse", **params})

    return call


def stamp(response: Response) -> str | None:
    return response.body("snapshot_generated_at") if response.status == 200 else None


def age_minutes(moment: str | None) -> float | None:
    if not moment:
        return None
    parsed = datetime.fromisoformat(moment.replace("Z", "+00:00"))
    return (datetime.now(UTC) - parsed).total_seconds() / 60


@dataclass
class Freshness:
    tenant: str
    generated_at: str | None
    age: float | None
    source: str
    dbt_minutes_ago: float | None

    def describe(self) -> str:
        age = "missing" if self.age is None else f"{self.age:.0f} min"
        return f"{self.tenant}: snapshot {age} ({self.source})"


def freshness_of(diag: Context, tenant: str) -> Freshness:
    """The snapshot timestamp from the metrics endpoint, or, when that refuses a stale
    snapshot, from ``/api/datasets/status/``, which still reports it."""
    headers = diag.auth(tenant)
    answer = diag.http.get("api", COMBINED, headers=headers, params={"source": "warehouse"})
    moment, source = stamp(answer), f"{COMBINED} {answer.outcome}"
    if not moment:
        status = diag.http.get("api", "/api/datasets/status/", headers=headers)
        moment = status.body("live.snapshot_generated_at") if status.status == 200 else None
        source += f", /api/datasets/status/ reason {status.body('live.reason')}" \
            if status.status == 200 else ""
    dbt = diag.http.get("api", "/api/health/dbt/")
    dbt_at = dbt.body("generated_at") if dbt.ok and dbt.status in (200, 502, 503) else None
    return Freshness(tenant, moment, age_minutes(moment), source, age_minutes(dbt_at))


@pytest.fixture
def freshness(diag: Context, tenant: str) -> Freshness:
    return freshness_of(diag, tenant)


@pytest.fixture
def fleet_freshness(diag: Context) -> list[Freshness]:
    for t in diag.profile.tenants:
        reason = diag.gates.blocker((f"tenant:{t.name}",), "")
        if reason:
            pytest.skip(reason)
    return [freshness_of(diag, t.name) for t in diag.profile.tenants]


def timed(call) -> tuple[float, Response]:
    started = time.perf_counter()
    response = call()
    return (time.perf_counter() - started) * 1000, response

"""Observations for the health checks: one fixture per runbook Health Checks row.

Each fixture returns what a probe saw; the checks only assert on it. GETs are memoised
per run, so two checks reading one payload judge the same observation.
"""

from __future__ import annotations

import pytest

from fixtures.context import Context
from fixtures.probes.files import FileRead
from fixtures.probes.http import Response


@pytest.fixture
def api_health(diag: Context) -> Response:
    return diag.http.get("api", "/api/health/")


@pytest.fixture
def api_version(diag: Context) -> Response:
    return diag.http.get("api", "/api/health/version/")


@pytest.fixture
def airbyte_health(diag: Context) -> Response:
    return diag.http.get("api", "/api/health/airbyte/")


@pytest.fixture
def dbt_health(diag: Context) -> Response:
    return diag.http.get("api", "/api/health/dbt/")


@pytest.fixture
def sync_health(diag: Context, tenant: str) -> Response:
    return diag.http.get("api", "/api/ops/sync-health/", headers=diag.auth(tenant))


@pytest.fixture
def health_overview(diag: Context) -> Response:
    first = diag.profile.tenants[0].name
    return diag.http.get("api", "/api/ops/health-overview/", headers=diag.auth(first))


@pytest.fixture
def social_status(diag: Context, tenant: str) -> Response:
    return diag.http.get("api", "/api/integrations/social/status/", headers=diag.auth(tenant))


@pytest.fixture
def web_analytics(diag: Context, tenant: str, source: str) -> Response:
    return diag.http.get("api", f"/api/analytics/web/{source}/", headers=diag.auth(tenant))


@pytest.fixture
def superset_health(diag: Context) -> Response:
    return diag.http.get("superset", "/health")


@pytest.fixture
def app_metrics(diag: Context) -> Response:
    return diag.http.get("api", "/metrics/app/")


@pytest.fixture
def run_results(artifact) -> FileRead:
    return artifact("dbt_target", "run_results.json")


@pytest.fixture
def source_freshness(artifact) -> FileRead:
    return artifact("dbt_target", "sources.json")

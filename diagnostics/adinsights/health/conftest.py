"""Observations for the health checks: one fixture per runbook Health Checks row.

Each fixture returns what a probe saw; the checks only assert on it. GETs are memoised
per run, so two checks reading one payload judge the same observation.
"""

from __future__ import annotations

import pytest

from fixtures.context import Context
from fixtures.probes.files import FileRead
from fixtures.probes.http import Response


def endpoint(name: str, upstream: str, path: str, *, auth: str = ""):
    """A fixture that GETs one endpoint. ``auth="tenant"`` makes the check run once per
    test tenant, signed in as it; ``auth="first"`` signs in as the first tenant only."""

    def get(diag: Context, request: pytest.FixtureRequest, tenant: str | None) -> Response:
        callspec = getattr(request.node, "callspec", None)
        url_path = path.format(**(callspec.params if callspec else {}))
        return diag.http.get(upstream, url_path, headers=diag.auth(tenant) if tenant else {})

    if auth == "tenant":

        @pytest.fixture(name=name)
        def per_tenant(diag: Context, request: pytest.FixtureRequest, tenant: str) -> Response:
            return get(diag, request, tenant)

        return per_tenant

    @pytest.fixture(name=name)
    def shared(diag: Context, request: pytest.FixtureRequest) -> Response:
        return get(diag, request, diag.profile.tenants[0].name if auth == "first" else None)

    return shared


api_health = endpoint("api_health", "api", "/api/health/")
api_version = endpoint("api_version", "api", "/api/health/version/")
airbyte_health = endpoint("airbyte_health", "api", "/api/health/airbyte/")
dbt_health = endpoint("dbt_health", "api", "/api/health/dbt/")
app_metrics = endpoint("app_metrics", "api", "/metrics/app/")
superset_health = endpoint("superset_health", "superset", "/health")
sync_health = endpoint("sync_health", "api", "/api/ops/sync-health/", auth="tenant")
health_overview = endpoint("health_overview", "api", "/api/ops/health-overview/", auth="first")
social_status = endpoint("social_status", "api", "/api/integrations/social/status/",
                         auth="tenant")
web_analytics = endpoint("web_analytics", "api", "/api/analytics/web/{source}/", auth="tenant")


@pytest.fixture
def run_results(artifact) -> FileRead:
    return artifact("dbt_target", "run_results.json")


@pytest.fixture
def source_freshness(artifact) -> FileRead:
    return artifact("dbt_target", "sources.json")


@pytest.fixture
def web_connected(diag: Context, tenant: str, source: str) -> bool:
    """Whether the tenant has this web source connected, so that an empty result means
    lost data rather than a pilot nobody joined. The profile lists the tenants per source
    under ``[adinsights.health] web_connected``; without that table every test tenant is
    taken as connected, so an empty list never passes unexamined."""
    declared = diag.profile.health.get("web_connected")
    if declared is None:
        return True
    return tenant in declared.get(source, [])


@pytest.fixture
def beat_schedule(diag: Context):
    """CELERY_BEAT_SCHEDULE and CELERY_TIMEZONE from the settings file, with the env file
    deciding `env(...)` values (once per process)."""
    from pathlib import Path

    from diagnostics.adinsights.health import beat
    from fixtures.probes import files
    from fixtures.shared import profile_path

    source = files.read_text(profile_path(diag, "settings_file"), diag.redactor)
    if not source.exists:
        pytest.fail(f"settings file {source.path} is missing", pytrace=False)
    env_path = diag.profile.paths.get("env_file", "")
    env_read = files.read_text(Path(env_path), diag.redactor) if env_path else None
    env = files.parse_env(env_read.data) if env_read and env_read.exists else {}
    try:
        return diag.once("beat_schedule", lambda: beat.read(source.data, env))
    except SyntaxError as exc:
        pytest.fail(f"settings file {source.path} does not parse: {exc.msg} (line {exc.lineno})",
                    pytrace=False)

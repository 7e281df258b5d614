"""Observations for the tenant-safety checklist: every endpoint as every test tenant,
the settings and manifests, the task logs and the application database."""

from __future__ import annotations

import pytest

from fixtures.context import Context
from fixtures.probes import files
from fixtures.shared import profile_path, rows_from

from .leaks import Traversal

# Endpoints a tenant user can reach, and those served without authentication.
SIGNED_IN = (
    "/api/me/",
    "/api/analytics/campaigns/", "/api/analytics/adsets/", "/api/analytics/ads/",
    "/api/analytics/performance-records/",
    "/api/airbyte/telemetry/", "/api/audit-logs/",
    "/api/metrics/combined/", "/api/metrics/", "/api/datasets/status/",
    "/api/airbyte/connections/", "/api/airbyte/connections/summary/",
    "/api/ops/sync-health/", "/api/ops/health-overview/",
    "/api/integrations/social/status/",
)
ANONYMOUS = ("/api/health/", "/api/health/airbyte/", "/api/health/dbt/")
EXPOSITION = "/metrics/app/"


@pytest.fixture
def tenancy_settings(diag: Context) -> dict:
    return diag.profile.area("tenancy")


@pytest.fixture
def traversal(diag: Context, tenant_ids: dict[str, str]) -> Traversal:
    """Every endpoint, called as every tenant, once per process for every tenant's check."""
    return diag.once("tenancy.traversal", lambda: _traverse(diag, tenant_ids))


def _traverse(diag: Context, tenant_ids: dict[str, str]) -> Traversal:
    seen = Traversal(tenant_ids)
    for tenant in diag.profile.tenants:
        for path in SIGNED_IN + ANONYMOUS:
            headers = diag.auth(tenant.name) if path in SIGNED_IN else {}
            response = diag.http.get("api", path, headers=headers)
            seen.entries.setdefault(tenant.name, []).append(response.entry)
            try:
                seen.add_json(tenant.name, path, response.json)
            except Exception:  # noqa: BLE001 - non-JSON pages are searched as text
                seen.add_text(tenant.name, path, response.text)
        seen.add_text(tenant.name, EXPOSITION, diag.http.get("api", EXPOSITION).text)
    return seen


@pytest.fixture
def own_list(diag: Context):
    def get(tenant: str, path: str) -> list[dict]:
        response = diag.http.get("api", path, headers=diag.auth(tenant))
        body = response.json
        return body if isinstance(body, list) else body.get("results", [])

    return get


@pytest.fixture
def campaign_owners(diag: Context, own_list, tenant_ids: dict[str, str]) -> dict[str, str]:
    """Each campaign id and external id a tenant lists as its own, and the tenant: read
    once per process. Each tenant's check once read every other tenant's list, which
    made a 1,000-tenant run's evidence grow with the square of the fleet."""
    path = "/api/analytics/campaigns/"

    def build() -> dict[str, str]:
        owners: dict[str, str] = {}
        for name in tenant_ids:
            for row in own_list(name, path):
                for key in (row.get("id"), row.get("external_id")):
                    owners.setdefault(key, name)
        return owners

    return diag.once("tenancy.campaign_owners", build)


@pytest.fixture
def metrics(diag: Context, tenant: str):
    return diag.http.get("api", "/api/metrics/combined/", headers=diag.auth(tenant),
                         params={"source": "warehouse"})


@pytest.fixture
def audit(diag: Context, tenant: str):
    def get(**filters: str):
        return diag.http.get("api", "/api/audit-logs/", headers=diag.auth(tenant),
                             params=filters or None)

    return get


# Enough pages to get past a first page full of one kind of row, few enough to stay fast.
AUDIT_PAGES = 5


@pytest.fixture
def audit_pages(audit):
    """Rows of the trail, page after page, so a check sees past a first page that may all
    share one value. Returns (rows, pages read, whether more remained unread); a row
    that slides onto the next page while reading is counted once."""

    def read(**filters: str) -> tuple[list[dict], int, bool]:
        rows: dict[str, dict] = {}
        for page in range(1, AUDIT_PAGES + 1):
            answer = audit(**filters, **({"page": str(page)} if page > 1 else {}))
            for row in answer.body("results", []) or []:
                rows.setdefault(str(row.get("id")), row)
            if not answer.body("next"):
                return list(rows.values()), page, False
        return list(rows.values()), AUDIT_PAGES, True

    return read


@pytest.fixture
def settings_source(diag: Context) -> files.FileRead:
    return files.read_text(profile_path(diag, "settings_file"), diag.redactor)


@pytest.fixture
def manifests(diag: Context) -> list[files.FileRead]:
    root = profile_path(diag, "manifests")
    paths = sorted(p for p in (root.rglob("*") if root.is_dir() else [root])
                   if p.suffix in (".yaml", ".yml", ".env") or p.name.endswith(".env"))
    return [files.read_text(p, diag.redactor) for p in paths]


@pytest.fixture
def app_db_rows(diag: Context):
    return rows_from(diag, "app_db")

"""The Post-MVP operations pages: per-tenant sync health and the health overview."""

from datetime import datetime, timedelta

import pytest

from fixtures.catalog import check
from fixtures.expect import expect

SYNC_STATES = {
    "failed": ("sync-health-failed-connection", "failed job"),
    "stale": ("sync-health-stale-connection", "stale data"),
    "missing": ("sync-health-missing-sync", "missing data"),
}
WORST_FIRST = ("failed", "stale", "missing")


@check("adinsights.health.sync.state", severity="high", runbook="health.md#sync-health-aggregate",
       needs=("api", "tenant"), states=SYNC_STATES)
def test_sync_health(sync_health):
    expect("[STATUS]", sync_health.outcome, "==", "200")
    rows = sync_health.body("rows") or []
    bad = [r for r in rows if r.get("state") not in ("fresh", "inactive")]
    worst = next((s for s in WORST_FIRST if any(r.get("state") == s for r in bad)), None)
    shown = [f"{r.get('name')}: {r.get('state')} (last {r.get('last_synced_at')}, "
             f"job {r.get('last_job_status')})" for r in bad]
    expect("connections not fresh", shown, "is empty", state=worst)


@check("adinsights.health.overview.status", severity="high", runbook="health.md#health-overview",
       needs=("api", "tenant"), category="service unhealthy")
def test_health_overview(health_overview):
    expect("[STATUS]", health_overview.outcome, "==", "200")
    cards = health_overview.body("cards") or []
    bad = [f"{c.get('key')}: {c.get('status')} ({c.get('http_status')})" for c in cards
           if c.get("status") not in ("ok", "pending")]
    expect("[BODY].overall_status", health_overview.body("overall_status"), "==", "ok",
           note="; ".join(bad) or None)


# The two pages are read moments apart and round their times to the second.
SAME_SYNC = timedelta(minutes=1)


def _moment(stamp: str | None) -> datetime | None:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")) if stamp else None


def _same_moment(a: str | None, b: str | None) -> bool:
    first, second = _moment(a), _moment(b)
    return first is not None and second is not None and abs(first - second) <= SAME_SYNC


@check("adinsights.health.ops.agree", severity="medium", runbook="health.md#ops-pages-disagree",
       needs=("api",), category="service unhealthy")
def test_ops_pages_agree(diag, health_overview, tenant_ids):
    """The runbook reads both pages in one incident window so that the frontend and the
    backend tell the same story; two pages that each look plausible can still contradict
    each other about the one connection both describe. The overview names the latest sync
    of any tenant: the comparison runs as that tenant, when it is a test tenant."""
    cards = [c for c in health_overview.body("cards") or [] if c.get("key") == "airbyte"]
    last = ((cards[0].get("payload") or {}).get("last_sync") or {}) if cards else {}
    owner = next((name for name, tid in tenant_ids.items()
                  if tid and tid == last.get("tenant_id")), None)
    if owner is None:
        pytest.skip("not run: the overview's latest sync belongs to no test tenant")
    sync_health = diag.http.get("api", "/api/ops/sync-health/", headers=diag.auth(owner))
    expect(f"[STATUS] /api/ops/sync-health/ as {owner}", sync_health.outcome, "==", "200")
    rows = [r for r in sync_health.body("rows") or [] if r.get("last_synced_at")]
    expect("sync-health rows with a sync", len(rows), ">", 0)
    newest = max(rows, key=lambda r: _moment(r["last_synced_at"]))
    differences = [
        f"{field}: overview {last.get(field)}, sync-health {newest.get(field)} "
        f"({owner}: {newest.get('name')})"
        for field, same in (
            ("last_synced_at", _same_moment(last.get("last_synced_at"),
                                            newest.get("last_synced_at"))),
            ("last_job_status", last.get("last_job_status") == newest.get("last_job_status")),
        ) if not same]
    expect("disagreements about the latest sync", differences, "is empty")

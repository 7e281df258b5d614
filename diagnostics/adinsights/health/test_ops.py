"""The Post-MVP operations pages: per-tenant sync health and the health overview."""

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

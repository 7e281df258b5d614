"""Airbyte orchestration health, as the backend reports it, and its freshness baseline."""

from datetime import UTC, datetime

from fixtures.catalog import check
from fixtures.evidence import observed_time
from fixtures.expect import expect

AIRBYTE_STATES = {
    "misconfigured": "airbyte-misconfigured",
    "no_recent_sync": ("airbyte-no-recent-sync", "missing data"),
    "stale": ("airbyte-stale", "stale data"),
    "sync_failed": ("airbyte-sync-failed", "failed job"),
    "running_stale": ("airbyte-stuck-running", "failed job"),
    "status_store_unavailable": "airbyte-status-store-unavailable",
}


@check("adinsights.health.airbyte.status", severity="critical",
       runbook="health.md#airbyte-orchestration-health", needs=("api",), states=AIRBYTE_STATES)
def test_airbyte_health(airbyte_health):
    status = airbyte_health.body("status")
    expect("[BODY].status", status, "in", ("ok", "pending"), state=status,
           note=airbyte_health.body("detail"))


@check("adinsights.health.baseline.airbyte",
       severity="high", runbook="health.md#baseline-airbyte-freshness",
       needs=("api",), category="stale data")
def test_airbyte_freshness_baseline(airbyte_health, diag):
    last = airbyte_health.body("last_sync") or {}
    observed_time("last Airbyte sync", last.get("last_synced_at"))
    limit = diag.profile.thresholds["airbyte_max_age_minutes"]
    expect("[BODY].last_sync.last_synced_at", last.get("last_synced_at"), "not in", (None, ""))
    age = minutes_since(last["last_synced_at"])
    expect("freshest sync age (min)", round(age), "<", limit)
    expect("[BODY].last_sync.last_job_status", last.get("last_job_status"), "==", "succeeded",
           note=last.get("last_job_error"))


def minutes_since(stamp: str) -> float:
    moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    return (datetime.now(UTC) - moment).total_seconds() / 60

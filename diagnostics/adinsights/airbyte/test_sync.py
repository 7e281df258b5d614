"""Last sync per connection (Airbyte's view) and per tenant (the backend's telemetry)."""

import time

from fixtures.catalog import check
from fixtures.evidence import observed_time
from fixtures.expect import expect

SYNC_STATES = {
    "missing": ("sync-never-ran", "missing data"),
    "stale": ("sync-stale", "stale data"),
    "failed": ("sync-failed", "failed job"),
    "running_stale": ("sync-stuck-running", "failed job"),
}
WORST_FIRST = ("failed", "running_stale", "stale", "missing")


def job_state(job: dict | None, settings: dict, now: float) -> str:
    """Classify a last replication job the way the runbook's thresholds do."""
    if not job:
        return "missing"
    status = job.get("status")
    age_min = (now - float(job.get("updatedAt") or job.get("createdAt") or 0)) / 60
    if status in ("failed", "cancelled", "incomplete"):
        return "failed"
    if status in ("running", "pending"):
        return "running_stale" if age_min > settings["running_stale_minutes"] else "fresh"
    if age_min > settings["max_sync_age_minutes"]:
        return "stale"
    return "fresh"


@check("adinsights.airbyte.sync.last_job",
       severity="critical", runbook="airbyte.md#last-sync-per-connection",
       needs=("api", "tenant", "airbyte_server"), states=SYNC_STATES)
def test_last_job_per_connection(last_jobs, settings):
    now = time.time()
    for row, job in last_jobs:
        observed_time(f"last job of connection {row.get('name')}",
                      (job or {}).get("updatedAt") or (job or {}).get("createdAt"))
    states = {row.get("name"): job_state(job, settings, now) for row, job in last_jobs}
    bad = {name: state for name, state in states.items() if state != "fresh"}
    worst = next((s for s in WORST_FIRST if s in bad.values()), None)
    shown = [f"{name}: {state}" for name, state in bad.items()]
    expect("connections whose last job is not fresh and succeeded", shown, "is empty",
           state=worst)


TELEMETRY_STATES = {
    "missing": ("telemetry-missing", "missing data"),
    "stale": ("telemetry-stale", "stale data"),
}


@check("adinsights.airbyte.telemetry.state", severity="high", runbook="airbyte.md#tenant-telemetry",
       needs=("api", "tenant"), states=TELEMETRY_STATES, category="stale data")
def test_tenant_telemetry(telemetry):
    expect("[STATUS]", telemetry.outcome, "==", "200")
    state = telemetry.body("sync_status_state")
    expect("[BODY].sync_status_state", state, "==", "fresh", state=state,
           note=f"age {telemetry.body('sync_status_age_minutes')} min")
    expect("[BODY].sync_status.last_job_status", telemetry.body("sync_status.last_job_status"),
           "==", "succeeded", state="stale")

"""Celery beat: the runbook's scheduled jobs, each with its task, cadence, timezone and
enabled flag, not just a name that happens to be present."""

import pytest

from fixtures.catalog import check
from fixtures.expect import expect

# entry (the runbook's name where it gives one, else the task's) -> (task, cadence)
ENTRIES = {
    "airbyte-scheduled-syncs-hourly": ("integrations.tasks.trigger_scheduled_airbyte_syncs",
                                       "hourly 6-22"),
    "metrics-snapshot-sync": ("analytics.sync_metrics_snapshots", "every 30 min"),
    "rotate_deks": ("core.tasks.rotate_deks", "weekly"),
    "refresh_meta_tokens": ("integrations.tasks.refresh_meta_tokens", "hourly 6-22"),
    "sync_meta_accounts": ("integrations.tasks.sync_meta_accounts", "hourly 6-22"),
    "sync_meta_insights_incremental": ("integrations.tasks.sync_meta_insights_incremental",
                                       "hourly 6-22"),
    "sync_meta_hierarchy": ("integrations.tasks.sync_meta_hierarchy", "daily 02:15"),
}


@pytest.mark.parametrize("entry", list(ENTRIES))
@check("adinsights.health.beat.schedule", severity="high", runbook="health.md#beat-schedule",
       category="stale data")
def test_beat_entry(beat_schedule, entry, diag):
    entries, timezone = beat_schedule
    task, cadence = ENTRIES[entry]
    found = entries.get(entry) or next((e for e in entries.values() if e.task == task), None)
    expect(f"CELERY_BEAT_SCHEDULE has an entry for {task}", found is not None, "==", True,
           note=f"entries: {', '.join(sorted(entries)) or 'none'}")
    expect(f"[{found.name}].task", found.task, "==", task)
    expect(f"[{found.name}].schedule", found.cadence, "==", cadence)
    expect(f"[{found.name}].enabled", found.enabled, "==", True)
    wanted = diag.profile.health.get("beat_timezone", "America/Jamaica")
    expect("CELERY_TIMEZONE", timezone, "==", wanted)

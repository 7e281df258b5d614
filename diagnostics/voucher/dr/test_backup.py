"""The backup itself: recent enough, logged as complete within its budgets, and its
snapshot manifest readable with the script's token."""

import re

from fixtures.catalog import check, upstream_check
from fixtures.evidence import observed_time
from fixtures.expect import expect

from .conftest import now

COMPLETED = re.compile(r"backup completed in (\d+) s; destination (\S+)")
SYNC = re.compile(r"storage sync: .*?took (\d+) s")
FAILED = re.compile(r"backup FAILED.*|ERROR .*")

test_storage_reachable = upstream_check(
    "voucher.dr.storage.reachable", "s3", "S3 answers for the backup bucket", severity="high",
    runbook="dr.md#backup-storage-reachable")


@check("voucher.dr.backup.fresh", severity="critical", runbook="dr.md#backup-freshness",
       category="stale data")
def test_backup_fresh(backups, dr_settings):
    expect(f"backup artifacts in {backups.where}", len(backups.found), ">", 0,
           note=backups.error or None)
    newest = backups.found[0]
    observed_time(f"newest backup {newest.name}", newest.modified)
    age_hours = round((now() - newest.modified).total_seconds() / 3600, 1)
    expect(f"age in hours of the newest backup {newest.name}", age_hours, "<=",
           float(dr_settings["rpo_hours"]),
           note="the recovery point objective ([voucher.dr] rpo_hours)")


@check("voucher.dr.backup.log", severity="critical", runbook="dr.md#backup-log",
       category="failed job", states={"failed": ("backup-failed", "failed job"),
                                      "slow": ("backup-too-slow", "misconfiguration")})
def test_backup_log(diag, dr_settings):
    from fixtures.probes import files
    from fixtures.shared import profile_path

    read = files.read_text(profile_path(diag, "backup_log"), diag.redactor)
    text = read.data if read.exists else ""
    done = COMPLETED.search(text)
    errors = [m.group(0).strip() for m in FAILED.finditer(text)]
    seen = "found" if done else ("no such file" if not read.exists else "absent")
    expect(f"completion line (runtime and destination) in {read.path}", seen, "==", "found",
           state="failed",
           note="; ".join(errors[-2:]) or None)
    runtime, destination = int(done.group(1)), done.group(2)
    budget = float(dr_settings["backup_runtime_budget_minutes"])
    expect(f"backup runtime in minutes (to {destination})", round(runtime / 60, 1), "<=",
           budget, state="slow")
    sync = SYNC.search(text)
    if sync:
        expect("storage sync in minutes", round(int(sync.group(1)) / 60, 1), "<=",
               float(dr_settings["storage_sync_budget_minutes"]), state="slow")


@check("voucher.dr.backup.manifest", severity="high", runbook="dr.md#snapshot-manifest",
       category="credentials", states={"unauthorised": ("snapshot-manifest-unauthorised",
                                                        "credentials")})
def test_manifest_authorised(diag, dr_settings):
    token = diag.profile.secret(dr_settings.get("manifest_token_env", ""))
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = diag.http.get("dr_manifest", str(dr_settings["manifest_path"]), headers=headers)
    state = "unauthorised" if response.status in (401, 403) else None
    expect("[STATUS] of the snapshot manifest", response.outcome, "==", "200", state=state)
    snapshots = response.body("snapshots")
    expect("snapshots listed in the manifest", len(snapshots) if isinstance(snapshots, list)
           else snapshots, ">", 0)

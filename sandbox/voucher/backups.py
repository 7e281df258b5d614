"""What the voucher app's backup-and-restore rehearsal leaves behind, each in the state a
fault names.

The rehearsal's artifacts (``backup.log``, ``rowcount.csv``, the tabletop report and the
incident templates) are files; the backups themselves are S3 objects in moto (and a copy
on local disk); the snapshot manifest is served over HTTP behind a bearer token. The two
voucher databases live in PostgreSQL (``databases``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from sandbox.parts.aws import AwsServer
from sandbox.parts.http import HttpService, Request, RequestLog, Response, json_response
from sandbox.voucher.databases import ROWS, TABLES, restored_counts

STALE, FAILED, SLOW = "dr_backup_stale", "dr_backup_failed", "dr_backup_slow"
MANIFEST_401 = "dr_manifest_401"
OVERDUE, NO_TEMPLATES = "dr_tabletop_overdue", "dr_templates_missing"
INCOMPLETE, UNLINKED = "dr_tabletop_incomplete", "dr_templates_unlinked"
TEMPLATES = ("status-page-update.md", "escalation-email.md")

PROJECT_REF = "voucher-staging"
BACKUP_BUCKET, BACKUP_PREFIX = "voucher-backups", f"supabase/{PROJECT_REF}/"
MANIFEST_PATH = "/v1/projects/voucher-staging/snapshots/manifest.json"
BACKUPS_KEPT = 3


@dataclass(frozen=True)
class BackupState:
    """When the newest backup finished, how long its storage sync took, and the token the
    manifest accepts; every other piece follows from the faults."""

    faults: frozenset[str]
    now: datetime
    manifest_token: str

    @classmethod
    def build(cls, faults: frozenset[str], manifest_token: str, now: datetime) -> BackupState:
        return cls(faults, now, manifest_token)

    @property
    def backup_finished(self) -> datetime:
        return self.now - (timedelta(hours=50) if STALE in self.faults else timedelta(hours=3))

    @property
    def backups(self) -> list[tuple[str, datetime]]:
        """Newest first: one a night."""
        return [(f"{BACKUP_PREFIX}voucher-{at:%Y%m%dT%H%M%SZ}.tar.gz", at)
                for at in (self.backup_finished - timedelta(days=n)
                           for n in range(BACKUPS_KEPT))]

    @property
    def tabletop_day(self) -> date:
        return (self.now - timedelta(days=200)).date() if OVERDUE in self.faults \
            else self.now.date()


def write_files(root: Path, state: BackupState) -> dict[str, str]:
    """The rehearsal's files; returns them as placeholder entries."""
    run = root / "dr" / "backup-run"
    run.mkdir(parents=True, exist_ok=True)
    (run / "backup.log").write_text(backup_log(state), encoding="utf-8")
    (run / "rowcount.csv").write_text(rowcount_csv(state.faults), encoding="utf-8")
    docs = root / "dr" / "docs" / "incidents"
    tabletops = docs / "tabletop"
    tabletops.mkdir(parents=True, exist_ok=True)
    day = state.tabletop_day
    (tabletops / f"{day:%Y-%m-%d}-dr-tabletop.md").write_text(tabletop_report(state),
                                                            encoding="utf-8")
    templates = docs / "templates"
    if NO_TEMPLATES not in state.faults:
        templates.mkdir(parents=True, exist_ok=True)
        for name in TEMPLATES:
            (templates / name).write_text(f"# {name[:-3].replace('-', ' ')}\n", encoding="utf-8")
    backups = root / "dr" / "backups"  # the same backups, for a local backup_location
    backups.mkdir(parents=True, exist_ok=True)
    for key, at in state.backups:
        copy = backups / key.rsplit("/", 1)[-1]
        copy.write_bytes(b"voucher backup\n")
        os.utime(copy, (at.timestamp(), at.timestamp()))
    return {"backup_dir": str(backups),
            "backup_log": str(run / "backup.log"), "rowcount_csv": str(run / "rowcount.csv"),
            "tabletop_reports": str(tabletops), "incident_templates": str(templates)}


def tabletop_report(state: BackupState) -> str:
    """The tabletop notes: date, participants, the templates' links and the findings with
    owners and due dates (a fault leaves a role and a finding's owner out, or the links)."""
    day = state.tabletop_day
    roles = ["Incident Commander: on-call engineer", "Data Platform Lead",
             "Support Manager", "Stakeholder Communications: Customer Success lead"]
    if INCOMPLETE in state.faults:
        roles.remove("Support Manager")
    due = day + timedelta(days=30)
    findings = [f"- Storage sync took 11 minutes: enable multipart uploads for the voucher "
                f"PNG bucket. Owner: Data Platform Lead. Due: {due:%Y-%m-%d}",
                "- Rollback owner for the DNS cutover confirmed. Owner: Incident Commander. "
                f"Due: {due:%Y-%m-%d}"]
    if INCOMPLETE in state.faults:
        findings[1] = "- Rollback owner for the DNS cutover to be confirmed."
    links = [] if UNLINKED in state.faults else [
        f"- [{name[:-3].replace('-', ' ')}](../templates/{name})" for name in TEMPLATES]
    return "\n".join([
        "# DR tabletop: backup/restore cutover", "", f"Date: {day:%Y-%m-%d} 14:00 UTC", "",
        "## Participants", "", *[f"- {role}" for role in roles], "",
        "## Smoke tests", "", "Voucher issue and redeem, campaign send and station redeem "
        "answered on the restore; see backup.log and rowcount.csv.", "",
        "## Templates", "", *links, "", "## Findings", "", *findings]) + "\n"


def backup_log(state: BackupState) -> str:
    """What ``scripts/supabase-backup-restore.sh`` writes: each step, the storage sync
    time and, on success, the runtime and destination."""
    sync = 660 if SLOW in state.faults else 94
    runtime = 318 + sync
    key, finished = state.backups[0]
    began = finished - timedelta(seconds=runtime)

    def at(seconds: int) -> str:
        return f"{began + timedelta(seconds=seconds):%Y-%m-%dT%H:%M:%SZ}"

    lines = [f"{at(0)} INFO backup started: project_ref={PROJECT_REF}",
             f"{at(4)} INFO dump roles: ok",
             f"{at(19)} INFO dump schema: ok"]
    if FAILED in state.faults:
        return "\n".join(lines + [
            f"{at(41)} ERROR dump data: pg_dump: error: query failed: SSL SYSCALL error: EOF "
            "detected",
            f"{at(41)} ERROR backup FAILED after 41 s (exit 1)"]) + "\n"
    lines += [f"{at(212)} INFO dump data (--use-copy --data-only): ok, {len(TABLES)} tables",
              f"{at(224)} INFO upload: s3://{BACKUP_BUCKET}/{key}",
              f"{at(224 + sync)} INFO storage sync: bucket voucher-png, 1204 objects, "
              f"took {sync} s",
              f"{at(runtime - 4)} INFO row-count parity written to rowcount.csv",
              f"{at(runtime)} INFO backup completed in {runtime} s; destination "
              f"s3://{BACKUP_BUCKET}/{key}"]
    return "\n".join(lines) + "\n"


def rowcount_csv(faults: frozenset[str]) -> str:
    restored = restored_counts(faults)
    rows = ["table,source_rows,restored_rows"]
    rows += [f"public.{table},{ROWS[table]},{restored.get(table, 0)}" for table in TABLES]
    return "\n".join(rows) + "\n"


def manifest_service(state: BackupState, log: RequestLog) -> HttpService:
    """The snapshot manifest the backup script fetches first (HTTP 401 when its access
    token has expired, as in the 2024-10-01 tabletop)."""

    def serve(request: Request) -> Response:
        if request.path != MANIFEST_PATH:
            return json_response(404, {"message": "Not Found"})
        accepted = "expired-" + state.manifest_token if MANIFEST_401 in state.faults \
            else state.manifest_token
        if request.headers.get("Authorization", "") != f"Bearer {accepted}":
            return json_response(401, {"message": "Invalid or expired access token"})
        return json_response(200, {
            "project_ref": PROJECT_REF,
            "snapshots": [{"key": key, "created_at": f"{at:%Y-%m-%dT%H:%M:%SZ}",
                           "tables": len(TABLES)} for key, at in state.backups],
        })

    return HttpService("dr_manifest", serve, log)


def seed(aws: AwsServer, state: BackupState) -> None:
    """The backups bucket and its objects, over HTTP, then the backups' timestamps moved
    to when they were taken (S3 stamps an object when it is written)."""
    s3 = aws.client("s3")
    s3.create_bucket(Bucket=BACKUP_BUCKET)
    for key, _at in state.backups:
        s3.put_object(Bucket=BACKUP_BUCKET, Key=key, Body=b"voucher backup\n")
    bucket = _bucket(BACKUP_BUCKET)
    for key, at in state.backups:
        bucket.keys[key].last_modified = at.replace(tzinfo=None)


def _bucket(name: str) -> Any:
    from moto.backends import get_backend

    for partitions in get_backend("s3").values():
        for backend in partitions.values():
            if name in backend.buckets:
                return backend.buckets[name]
    raise LookupError(f"moto holds no S3 bucket {name}")

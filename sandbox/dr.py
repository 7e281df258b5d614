"""Disaster recovery for the sandbox: what the voucher stack's backup-and-restore rehearsal
leaves behind, and where the audit trail is archived, each in the state a fault names.

The rehearsal's artifacts (``backup.log``, ``rowcount.csv``, the tabletop report and the
incident templates) are files; the backups themselves and the daily audit exports are S3
objects in moto, the archive bucket with its encryption, policy and public access block;
the snapshot manifest is served over HTTP behind a bearer token. The two voucher databases
and the audit history live in PostgreSQL (``dr_db``).
"""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sandbox.aws import SEED_KEY, AwsServer, Call, Override, Reply
from sandbox.dr_db import ROWS, TABLES, restored_counts
from sandbox.http import DownService, HttpService, Request, RequestLog, Response, json_response

if TYPE_CHECKING:
    from sandbox.state import World

STALE, FAILED, SLOW = "dr_backup_stale", "dr_backup_failed", "dr_backup_slow"
MANIFEST_401 = "dr_manifest_401"
OVERDUE, NO_TEMPLATES = "dr_tabletop_overdue", "dr_templates_missing"
EXPORT_MISSING, UNENCRYPTED, PUBLIC = "dr_export_missing", "dr_bucket_unencrypted", \
    "dr_bucket_public"
S3_DOWN = "dr_s3_down"

PROJECT_REF = "voucher-staging"
BACKUP_BUCKET, BACKUP_PREFIX = "voucher-backups", f"supabase/{PROJECT_REF}/"
ARCHIVE_BUCKET, ARCHIVE_PREFIX = "adinsights-audit-archive", "accounts_auditlog/"
EXPORT_DAYS = 10  # more than the 7 the profile checks, so the window has a past
MISSING_EXPORT_DAYS_AGO = 3
MANIFEST_PATH = "/v1/projects/voucher-staging/snapshots/manifest.json"
BACKUPS_KEPT = 3


@dataclass(frozen=True)
class DrState:
    """When the newest backup finished, how long its storage sync took, and the token the
    manifest accepts; every other piece follows from the faults."""

    faults: frozenset[str]
    now: datetime
    manifest_token: str

    @classmethod
    def build(cls, faults: frozenset[str], manifest_token: str, now: datetime) -> DrState:
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
    def export_days(self) -> list[date]:
        today = self.now.date()
        days = [today - timedelta(days=n) for n in range(1, EXPORT_DAYS + 1)]
        if EXPORT_MISSING in self.faults:
            days.remove(today - timedelta(days=MISSING_EXPORT_DAYS_AGO))
        return days

    @property
    def tabletop_day(self) -> date:
        return (self.now - timedelta(days=200)).date() if OVERDUE in self.faults \
            else self.now.date()


def write_files(root: Path, state: DrState) -> dict[str, str]:
    """The rehearsal's files; returns them as ``Sandbox.paths`` entries."""
    run = root / "dr" / "backup-run"
    run.mkdir(parents=True, exist_ok=True)
    (run / "backup.log").write_text(backup_log(state), encoding="utf-8")
    (run / "rowcount.csv").write_text(rowcount_csv(state.faults), encoding="utf-8")
    docs = root / "dr" / "docs" / "incidents"
    tabletops = docs / "tabletop"
    tabletops.mkdir(parents=True, exist_ok=True)
    day = state.tabletop_day
    (tabletops / f"{day:%Y-%m-%d}-dr-tabletop.md").write_text(
        f"# DR tabletop: backup/restore cutover\n\nDate: {day:%Y-%m-%d} 14:00 UTC\n\n"
        "Backup, restore and smoke tests rehearsed on staging; see backup.log and "
        "rowcount.csv.\n", encoding="utf-8")
    templates = docs / "templates"
    if NO_TEMPLATES not in state.faults:
        templates.mkdir(parents=True, exist_ok=True)
        for name in ("status-page-update.md", "escalation-email.md"):
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


def backup_log(state: DrState) -> str:
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


def manifest_service(world: World, log: RequestLog) -> HttpService | DownService:
    """The snapshot manifest the backup script fetches first (HTTP 401 when its access
    token has expired, as in the 2024-10-01 tabletop)."""
    state = world.dr

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


def seed(aws: AwsServer, world: World) -> None:
    """The backups bucket and the audit archive, over HTTP, then the backups' timestamps
    moved to when they were taken (S3 stamps an object when it is written)."""
    state = world.dr
    s3 = aws.client("s3")
    s3.create_bucket(Bucket=BACKUP_BUCKET)
    for key, _at in state.backups:
        s3.put_object(Bucket=BACKUP_BUCKET, Key=key, Body=b"voucher backup\n")
    s3.create_bucket(Bucket=ARCHIVE_BUCKET)
    for day in state.export_days:
        s3.put_object(Bucket=ARCHIVE_BUCKET, Key=f"{ARCHIVE_PREFIX}{day:%Y-%m-%d}.jsonl.gz",
                      Body=b'{"action":"user.login"}\n', ServerSideEncryption="aws:kms")
    if UNENCRYPTED not in state.faults:
        s3.put_bucket_encryption(Bucket=ARCHIVE_BUCKET, ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"}}]})
    s3.put_bucket_policy(Bucket=ARCHIVE_BUCKET, Policy=json.dumps(archive_policy(state.faults)))
    if PUBLIC not in state.faults:
        s3.put_public_access_block(Bucket=ARCHIVE_BUCKET, PublicAccessBlockConfiguration={
            name: True for name in ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy",
                                    "RestrictPublicBuckets")})
    bucket = _bucket(BACKUP_BUCKET)
    for key, at in state.backups:
        bucket.keys[key].last_modified = at.replace(tzinfo=None)


def archive_policy(faults: frozenset[str]) -> dict[str, Any]:
    """TLS only and, unless the bucket is meant to be unencrypted, no upload without SSE;
    the public fault adds the anonymous read someone granted "just for a day"."""
    arn = f"arn:aws:s3:::{ARCHIVE_BUCKET}"
    statements: list[dict[str, Any]] = [
        {"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
         "Resource": [arn, f"{arn}/*"], "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
    ]
    if UNENCRYPTED not in faults:
        statements.append(
            {"Sid": "DenyUnencryptedUploads", "Effect": "Deny", "Principal": "*",
             "Action": "s3:PutObject", "Resource": f"{arn}/*",
             "Condition": {"Null": {"s3:x-amz-server-side-encryption": "true"}}})
    if PUBLIC in faults:
        statements.append({"Sid": "PublicRead", "Effect": "Allow", "Principal": "*",
                           "Action": "s3:GetObject", "Resource": f"{arn}/*"})
    return {"Version": "2012-10-17", "Statement": statements}


def override(world: World) -> Override:
    """S3 unavailable: every call but the seeding answers 503 SlowDown-style errors."""

    def answer(call: Call) -> Reply | None:
        auth = call.headers.get("authorization", "")
        if S3_DOWN not in world.faults or "/s3/aws4_request" not in auth \
                or f"Credential={SEED_KEY[0]}/" in auth:
            return None
        body = ("<?xml version='1.0' encoding='UTF-8'?><Error><Code>ServiceUnavailable</Code>"
                "<Message>Please reduce your request rate.</Message>"
                f"<RequestId>{uuid.uuid4().hex[:16]}</RequestId></Error>")
        return Reply(503, body.encode(), "application/xml")

    return answer


def _bucket(name: str) -> Any:
    from moto.backends import get_backend

    for partitions in get_backend("s3").values():
        for backend in partitions.values():
            if name in backend.buckets:
                return backend.buckets[name]
    raise LookupError(f"moto holds no S3 bucket {name}")

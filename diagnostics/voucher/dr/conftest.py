"""Observations for the voucher app's disaster recovery: the backups and what the backup
run logged, the primary and its restore side by side, and the tabletop's paper trail.

Databases are read through the PostgreSQL probe (read-only sessions), S3 through the AWS
probe and files through the file probe. A failed call becomes part of the observation, so
a check fails with its one-line error instead of erroring out.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from fixtures import evidence
from fixtures.context import Context
from fixtures.plugin import run_state
from fixtures.probes.aws import AwsError
from fixtures.probes.db import DbError
from fixtures.shared import profile_path

DEFAULTS: dict[str, Any] = {
    "backup_location": "",
    "rpo_hours": 24,
    "backup_runtime_budget_minutes": 30,
    "storage_sync_budget_minutes": 5,
    "manifest_path": "/manifest.json",
    "schemas": ["public"],
    "exclude_tables": [],
    "count_timeout_seconds": 30,
    "smoke_queries": [],
}


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """The restore smoke runs once per flow the profile lists: the queries sharing a
    ``flow`` (the reads one smoke flow makes), or a query without one on its own."""
    if "smoke" in metafunc.fixturenames:
        section = run_state(metafunc.config).section("voucher")
        queries = section.area("dr").get("smoke_queries", []) if section else []
        flows: dict[str, list[dict]] = {}
        for n, query in enumerate(q for q in queries if isinstance(q, dict)):
            flows.setdefault(str(query.get("flow") or query.get("name", n)), []).append(query)
        metafunc.parametrize("smoke", list(flows.values()), ids=list(flows))


@pytest.fixture
def dr_settings(diag: Context) -> dict:
    return diag.settings("dr", DEFAULTS)


def now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Backup:
    name: str
    modified: datetime


@dataclass
class Backups:
    where: str
    found: list[Backup] = field(default_factory=list)
    error: str = ""


@pytest.fixture
def backups(diag: Context, dr_settings: dict) -> Backups:
    """Every artifact under the backup location, newest first: a local directory, or an
    ``s3://bucket/prefix`` read through the AWS probe."""
    where = str(dr_settings["backup_location"])
    if not where:
        pytest.skip("not run: the target profile names no [voucher.dr] backup_location")
    if where.startswith("s3://"):
        reason = diag.gates.blocker(("s3",), "")
        if reason:
            pytest.skip(reason)
        return _s3_backups(diag, where)
    root = Path(where)
    if not root.is_dir():
        return Backups(where, error=f"{where} is not a directory")
    found = [Backup(p.name, datetime.fromtimestamp(p.stat().st_mtime, UTC))
             for p in root.iterdir() if p.is_file()]
    evidence.record(evidence.Entry("file", where, f"{where}: {len(found)} files",
                                   {"files": [f"{b.name} {b.modified:%Y-%m-%dT%H:%M:%SZ}"
                                              for b in found][:50]}))
    return Backups(where, sorted(found, key=lambda b: b.modified, reverse=True))


def _s3_backups(diag: Context, where: str) -> Backups:
    bucket, _, prefix = where.removeprefix("s3://").partition("/")
    found: list[Backup] = []
    token: dict[str, str] = {}
    try:
        for _page in range(20):  # at most 20,000 keys: a backup prefix, not a data lake
            page = diag.aws.call("s3", "list_objects_v2", Bucket=bucket, Prefix=prefix,
                                 **token)
            found += [Backup(o["Key"], o["LastModified"]) for o in page.get("Contents", [])]
            if not page.get("IsTruncated"):
                break
            token = {"ContinuationToken": page["NextContinuationToken"]}
    except AwsError as exc:
        return Backups(where, error=str(exc))
    return Backups(where, sorted(found, key=lambda b: b.modified, reverse=True))


@dataclass
class Side:
    """What one database holds: exact row counts and column types per table."""

    name: str
    counts: dict[str, int] = field(default_factory=dict)
    columns: dict[str, dict[str, str]] = field(default_factory=dict)
    error: str = ""


def _side(diag: Context, name: str, settings: dict) -> Side:
    reason = diag.gates.blocker((name,), "")
    if reason:
        pytest.skip(reason)
    excluded = set(settings["exclude_tables"])
    try:
        found = diag.db.tables(diag.database(name), list(settings["schemas"]),
                               float(settings["count_timeout_seconds"]))
    except DbError as exc:
        return Side(name, error=str(exc))
    return Side(name, {t: n for t, n in found.counts.items() if t not in excluded},
                {t: c for t, c in found.columns.items() if t not in excluded})


@pytest.fixture
def primary(diag: Context, dr_settings: dict) -> Side:
    return _side(diag, "dr_primary", dr_settings)


@pytest.fixture
def restored(diag: Context, dr_settings: dict) -> Side:
    return _side(diag, "dr_restored", dr_settings)


def differences(primary: Side, restored: Side) -> list[str]:
    """Each table whose exact counts differ, with both counts; absent tables say so."""
    rows = []
    for table in sorted(set(primary.counts) | set(restored.counts)):
        source, copy = primary.counts.get(table), restored.counts.get(table)
        if source != copy:
            rows.append(f"{table}: primary {_count(source)}, restored {_count(copy)}")
    return rows


def _count(value: int | None) -> str:
    return "table missing" if value is None else str(value)


@dataclass
class RowCountReport:
    path: str
    rows: list[tuple[str, str, str]] = field(default_factory=list)
    error: str = ""


@pytest.fixture
def rowcount_report(diag: Context) -> RowCountReport:
    """``rowcount.csv`` as the backup script writes it: table, source rows, restored rows."""
    from fixtures.probes import files

    path = profile_path(diag, "rowcount_csv")
    read = files.read_text(path, diag.redactor)
    if not read.exists:
        return RowCountReport(str(path), error="not found")
    try:
        rows = list(csv.reader(io.StringIO(read.data)))
    except csv.Error as exc:
        return RowCountReport(str(path), error=f"not CSV ({exc})")
    body = [tuple(r[:3]) for r in rows[1:] if len(r) >= 3]
    if not body:
        return RowCountReport(str(path), error="no table rows under the header")
    return RowCountReport(str(path), body)

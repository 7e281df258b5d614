"""The dr area beyond the fault matrix: the tabletop calendar, a backup location on local
disk, and a retention window below the runbook's minimum."""

from __future__ import annotations

import importlib.util
from datetime import UTC, date, datetime

import pytest

from conftest import ROOT, needs


def _load_drill():
    """The calendar lives with its checks, outside the installed packages."""
    spec = importlib.util.spec_from_file_location("drill", ROOT / "diagnostics/voucher/dr/drill.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_drill = _load_drill()
last_drill, next_drill, quarter = _drill.last_drill, _drill.next_drill, _drill.quarter

SANDBOX = (ROOT / "targets" / "sandbox.toml").read_text()


def test_drills_fall_on_the_first_tuesday_of_each_quarter_at_14_utc():
    # the runbook's own example: the drill after the 2024-10-01 tabletop was 2025-01-07
    assert next_drill(datetime(2024, 10, 2, tzinfo=UTC)) == datetime(2025, 1, 7, 14, tzinfo=UTC)
    assert last_drill(datetime(2024, 10, 2, tzinfo=UTC)) == datetime(2024, 10, 1, 14, tzinfo=UTC)
    # before this quarter's drill is due, last quarter's is the one that counts
    assert last_drill(datetime(2025, 1, 7, 13, tzinfo=UTC)) == datetime(2024, 10, 1, 14,
                                                                        tzinfo=UTC)
    assert next_drill(datetime(2025, 1, 7, 13, tzinfo=UTC)) == datetime(2025, 1, 7, 14,
                                                                        tzinfo=UTC)
    assert next_drill(datetime(2026, 12, 3, tzinfo=UTC)) == datetime(2027, 1, 5, 14, tzinfo=UTC)
    assert quarter(date(2026, 12, 31)) == "2026-Q4" > quarter(date(2026, 9, 30)) == "2026-Q3"


def _profile(profile_file, **dr: str):
    text = SANDBOX
    for key, value in dr.items():
        start = text.index(f"\n{key} = ")  # each dr key is one system's, named once
        end = text.index("\n", start + 1)
        text = text[:start] + f"\n{key} = {value}" + text[end:]
    return profile_file(text, name="dr.toml")


@pytest.mark.parametrize("fault, failed", [(None, set()), ("dr_backup_stale",
                                                          {"voucher.dr.backup.fresh"})])
def test_backups_in_a_local_directory(diag_run, profile_file, fault, failed):
    target = _profile(profile_file, backup_location='"{sandbox.backup_dir}"')
    run = diag_run(f"--target-file={target}", "-m", "dr",
                   *(["--sandbox-fault", fault] if fault else []))
    assert run.ids("failed", "error") == failed
    fresh = next(c for c in run.summary["checks"] if c["id"] == "voucher.dr.backup.fresh")
    assert "backups" in str(fresh["evidence"])  # the directory, not the S3 prefix, was read
    if fault:
        assert "voucher-" in fresh["condition"] and "(50.0) <= 24.0" in fresh["condition"]


@needs("postgres")
def test_a_retention_window_below_365_days_fails(diag_run, profile_file):
    run = diag_run(f"--target-file={_profile(profile_file, audit_retention_days='90')}",
                   "-m", "dr")
    by_id = {c["id"]: c for c in run.summary["checks"]}
    assert run.ids("failed", "error") == {"adinsights.dr.audit.retention"}
    assert "(90) >= 365" in by_id["adinsights.dr.audit.retention"]["condition"]

"""The quarterly DR tabletop: held this quarter, with the incident templates in place."""

import re

from fixtures import evidence
from fixtures.catalog import check
from fixtures.expect import expect
from fixtures.shared import profile_path

from .conftest import now
from .drill import last_drill, next_drill, quarter

DATED = re.compile(r"(\d{4})-(\d{2})-(\d{2})")


@check("voucher.dr.tabletop.cadence", severity="medium", runbook="dr.md#tabletop-cadence",
       category="stale data")
def test_tabletop_this_quarter(diag):
    from datetime import date

    folder = profile_path(diag, "tabletop_reports")
    dated = []
    for path in (folder.iterdir() if folder.is_dir() else []):
        match = DATED.search(path.name)
        if path.is_file() and match:
            try:
                dated.append((date(*map(int, match.groups())), path.name))
            except ValueError:
                continue
    today = now()
    due, coming = last_drill(today), next_drill(today)
    evidence.record(evidence.Entry("file", str(folder), f"{len(dated)} dated tabletop reports; "
                                   f"next drill {coming:%Y-%m-%d %H:%M} UTC",
                                   {"reports": sorted(n for _, n in dated)[-20:],
                                    "last_scheduled": f"{due:%Y-%m-%d %H:%M} UTC",
                                    "next_drill": f"{coming:%Y-%m-%d %H:%M} UTC"}))
    newest = max(dated)[0] if dated else None
    # Until this quarter's drill is due, last quarter's report still counts.
    expected = quarter(due.date())
    expect(f"quarter of the newest tabletop report in {folder}",
           quarter(newest) if newest else None, ">=", expected,
           note=f"newest report {newest or 'none'}; the last scheduled drill was "
                f"{due:%Y-%m-%d} and the next is {coming:%Y-%m-%d %H:%M} UTC "
                "(first Tuesday of the quarter)")


@check("voucher.dr.tabletop.templates", severity="low", runbook="dr.md#incident-templates",
       category="missing data")
def test_templates(diag):
    folder = profile_path(diag, "incident_templates")
    found = sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []
    evidence.record(evidence.Entry("file", str(folder), f"{folder}: "
                                   f"{'exists' if folder.is_dir() else 'not found'}",
                                   {"files": found[:50]}))
    expect(f"{folder}", "exists" if folder.is_dir() else "missing", "==", "exists")

"""The quarterly DR tabletop: held this quarter, its report complete, with the incident
templates in place and linked from it."""

from fixtures import evidence
from fixtures.catalog import check
from fixtures.expect import expect
from fixtures.shared import profile_path

from .conftest import now
from .drill import last_drill, next_drill, quarter
from .report import dated_reports, parse, unowned

ROLES = ["Incident Commander", "Data Platform Lead", "Support Manager",
         "Stakeholder Communications"]
TEMPLATES = ["status-page-update", "escalation-email"]


@check("voucher.dr.tabletop.cadence", severity="medium", runbook="dr.md#tabletop-cadence",
       category="stale data")
def test_tabletop_this_quarter(diag):
    folder = profile_path(diag, "tabletop_reports")
    dated = [(day, path.name) for day, path in dated_reports(folder)]
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


@check("voucher.dr.tabletop.report", severity="medium", runbook="dr.md#tabletop-report",
       category="missing data")
def test_tabletop_report(diag, dr_settings):
    from fixtures.probes import files

    reports = dated_reports(profile_path(diag, "tabletop_reports"))
    expect("dated tabletop reports", len(reports), ">", 0)
    path = reports[-1][1]
    report = parse(path.name, files.read_text(path, diag.redactor).data)
    expect(f"'Date: YYYY-MM-DD' line in {path.name}", report.date or None, "!=", None)
    participants = " ".join(report.items("Participants"))
    roles = list(dr_settings.get("tabletop_roles", ROLES))
    expect(f"roles missing from the participants of {path.name}",
           [role for role in roles if role.lower() not in participants.lower()], "is empty")
    expect(f"findings in {path.name} without an owner or a due date",
           unowned(report.items("Findings")), "is empty")


@check("voucher.dr.tabletop.templates", severity="low", runbook="dr.md#incident-templates",
       category="missing data")
def test_templates(diag, dr_settings):
    from fixtures.probes import files

    folder = profile_path(diag, "incident_templates")
    found = sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []
    evidence.record(evidence.Entry("file", str(folder), f"{folder}: "
                                   f"{'exists' if folder.is_dir() else 'not found'}",
                                   {"files": found[:50]}))
    expect(f"{folder}", "exists" if folder.is_dir() else "missing", "==", "exists")
    wanted = list(dr_settings.get("required_templates", TEMPLATES))
    expect(f"templates missing from {folder}",
           [name for name in wanted if not any(f.startswith(name) for f in found)], "is empty")
    reports = dated_reports(profile_path(diag, "tabletop_reports"))
    notes = files.read_text(reports[-1][1], diag.redactor).data if reports else ""
    expect("templates the newest tabletop notes do not link",
           [name for name in wanted if f"templates/{name}" not in notes], "is empty",
           note=f"in {reports[-1][1].name}" if reports else "no tabletop report")

"""``meta-validation.md``: written by the controller when Meta checks ran, in the layout
the operations runbook asks for, and not written by a run without Meta checks."""

from __future__ import annotations

import re


def test_validation_evidence_written_under_xdist(diag_run):
    run = diag_run("-m", "meta", "-n", "2", "--sandbox-fault", "meta_token_expiring")
    text = (run.run_dir / "meta-validation.md").read_text()
    assert re.search(r"^- Timestamp: \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", text, re.M)
    assert "- Environment: `sandbox`" in text
    assert f"- Run: `{run.run_dir.resolve().name}`" in text
    rows = dict(re.findall(r"^\| `([^`]+)` \| (\w+) \|", text, re.M))
    assert rows["adinsights.meta.token.expiry"] == "failed"
    assert rows["adinsights.meta.token.valid"] == "passed"
    assert rows["adinsights.meta.oauth.start"] == "skipped"  # intrusive, not allowed in this run
    assert set(rows) == {c["id"] for c in run.summary["checks"]
                         if c["id"].startswith("adinsights.meta.")}
    assert "days until the token expires" in text
    assert "[report.html](report.html)" in text
    assert "adinsights/meta.md#token-expiry" in text
    assert not any(name.startswith("meta-validation") for name in
                   (p.name for p in run.reports.rglob("*") if p.parent != run.run_dir.resolve()))


def test_no_validation_evidence_without_meta_checks(diag_run):
    run = diag_run("-m", "health")
    assert (run.run_dir / "summary.json").is_file()
    assert not (run.run_dir / "meta-validation.md").exists()

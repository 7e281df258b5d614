"""A failed check shows expected vs observed, evidence, fix steps and the runbook link
in every report format."""

from __future__ import annotations

import base64
import json
import re
import xml.etree.ElementTree as ET


def test_reports_for_a_failing_run(diag_run):
    run = diag_run("-m", "health", "--sandbox-fault", "dbt_failing")
    run_dir = run.run_dir
    assert run_dir.is_symlink()
    for name in ("report.html", "junit.xml", "summary.md", "summary.json", "allure-results"):
        assert (run_dir / name).exists(), name

    # terminal: one line per failed check with id, observation and runbook link
    lines = [line for line in run.output.splitlines()
             if line.startswith("FAILED adinsights.health.dbt")]
    assert any("failing models: model.adinsights.stg_meta_ads" in line
               and "adinsights/health.md#dbt-failing-models" in line for line in lines), run.output

    # HTML: fix steps inline, the link, and the evidence that was evaluated
    page = (run_dir / "report.html").read_text()
    assert "adinsights/health.md#dbt-failing-models" in page
    assert "make run-dbt" in page  # a fix step from runbooks/health.md
    assert "stg_meta_ads" in page and "/api/health/dbt/" in page
    blobs = re.findall(r"data:application/json;charset=utf-8;base64,([A-Za-z0-9+/=]+)", page)
    decoded = [json.loads(base64.b64decode(b)) for b in blobs]
    assert any(any(e.get("target", "").endswith("/api/health/dbt/") for e in d)
               for d in decoded if isinstance(d, list))

    # Allure: link, labels, attachment, environment and categories
    results = run_dir / "allure-results"
    cases = [json.loads(p.read_text()) for p in results.glob("*-result.json")]
    dbt = next(c for c in cases if c["name"] == "adinsights.health.dbt.status")
    assert dbt["status"] == "failed"
    assert any("adinsights/health.md#dbt-failing-models" in link["url"] for link in dbt["links"])
    labels = {(label["name"], label["value"]) for label in dbt["labels"]}
    assert ("severity", "critical") in labels and ("tag", "health") in labels
    attached = {a["name"]: a["source"] for a in dbt["attachments"]}
    assert "stg_meta_ads" in (results / attached["evidence"]).read_text()
    assert "make run-dbt" in (results / attached["fix steps"]).read_text()
    assert "target=sandbox" in (results / "environment.properties").read_text()
    categories = json.loads((results / "categories.json").read_text())
    assert {"Stale data", "Upstream down", "Failed job"} <= {c["name"] for c in categories}
    assert "category: failed job" in dbt["statusDetails"]["trace"] + dbt["statusDetails"].get(
        "message", "")

    # JUnit: the failure and the verdict as a property
    tree = ET.parse(run_dir / "junit.xml")
    failures = [tc for tc in tree.iter("testcase") if tc.find("failure") is not None]
    assert len(failures) == 3

    # Markdown summary: grouped by area, with fix steps
    summary = (run_dir / "summary.md").read_text()
    assert "## health: failed" in summary
    assert "`adinsights.health.dbt.status`" in summary and "make run-dbt" in summary
    assert run.summary["counts"]["failed"] == 3


def test_blocked_checks_are_grouped_in_the_summary(diag_run):
    run = diag_run("-m", "health", "--sandbox-fault", "api_down")
    summary = (run.run_dir / "summary.md").read_text()
    assert "## Blocked" in summary
    assert re.search(r"blocked by adinsights\.health\.api\.reachable: "
                     r".*connection refused: \d+ checks", summary)

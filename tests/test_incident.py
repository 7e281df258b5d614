"""Mid-incident outputs: what changed since the last run, the root cause first, the rerun
command, verdicts as metrics, one report from many shards, the timeline, a readable page."""

from __future__ import annotations

import html
import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT, DiagRun, fault_matrix, leaks
from fixtures import reporting
from sandbox.parts.pushgateway import Pushgateway

STALE = "dbt_stale"  # fails three health checks, blocks none, and dates the dbt run


def beside(diag_run, first: DiagRun, *args: str) -> DiagRun:
    """Another run written next to ``first``, so it finds ``first`` as its baseline."""
    run = diag_run(*args, "--reports-dir", str(first.reports))
    return DiagRun(run.result, first.reports)


def diagnostics_lines(run: DiagRun) -> list[str]:
    lines = run.output.splitlines()
    start = next(i for i, line in enumerate(lines) if "runbook diagnostics" in line
                 and line.startswith("="))
    return lines[start + 1:]


def test_a_new_fault_is_newly_failing_and_nothing_else(diag_run, canaries):
    healthy = diag_run("-m", "health")
    assert healthy.summary["diff"] == {"baseline": None}
    assert "no earlier run against this profile" in (healthy.run_dir / "summary.md").read_text()
    base = healthy.summary["run_id"]  # ``latest`` moves on with the next run
    faulted = beside(diag_run, healthy, "-m", "health", "--sandbox-fault", STALE)
    diff = faulted.summary["diff"]
    expected = set(fault_matrix()[STALE])
    assert diff["baseline"] == base
    assert set(diff["newly failing"]) == expected == faulted.ids("failed", "error")
    assert (diff["recovered"], diff["newly blocked"], diff["still failing"]) == ([], [], {})
    assert len(diff["unchanged"]) == len(faulted.summary["checks"]) - len(expected)

    # newly failing first: terminal, summary.md and the page
    lines = diagnostics_lines(faulted)
    newly = [i for i, line in enumerate(lines) if line.startswith("NEWLY FAILING ")]
    failed = [i for i, line in enumerate(lines) if line.startswith("FAILED adinsights.")]
    assert len(newly) == len(expected) and max(newly) < min(failed), lines
    summary = (faulted.run_dir / "summary.md").read_text()
    assert summary.index("## Since the last run") < summary.index("## health: failed")
    assert all(f"NEWLY FAILING {check}" in summary for check in expected)
    page = (faulted.run_dir / "report.html").read_text()
    assert page.index("Since the last run") < page.index("NEWLY FAILING")
    assert leaks(faulted, canaries) == []


def test_a_cleared_fault_is_recovered_and_a_lasting_one_still_failing(diag_run):
    first = diag_run("-m", "health", "--sandbox-fault", STALE)
    base = first.summary["run_id"]
    again = beside(diag_run, first, "-m", "health", "--sandbox-fault", STALE)
    expected = set(fault_matrix()[STALE])
    assert again.summary["diff"]["still failing"] == dict.fromkeys(
        sorted(expected), base)
    assert again.summary["diff"]["newly failing"] == []
    # another selection is not comparable; --compare-to picks the baseline anyway
    healthy = diag_run("-m", "health", "--compare-to", str(again.run_dir.resolve()))
    diff = healthy.summary["diff"]
    assert diff["baseline"] == again.summary["run_id"]
    assert set(diff["recovered"]) == expected
    assert diff["newly failing"] == [] and diff["still failing"] == {}
    assert any(line == f"RECOVERED {check}" for check in expected
               for line in diagnostics_lines(healthy))


def test_the_api_gate_is_the_top_root_cause(diag_run):
    run = diag_run("--sandbox-fault", "api_down")
    gate = "adinsights.health.api.reachable"
    blocked = [c for c in run.summary["checks"] if c["status"] == "blocked"
               and c["reason"].startswith(f"blocked by {gate}:")]
    areas = {c["area"] for c in blocked}
    assert len(blocked) > 20 and len(areas) > 1
    phrase = f"blocks {len(blocked)} checks in {len(areas)} areas"
    tail = run.result.stdout.lines[-4:]
    top = next(line for line in tail if line.startswith("ROOT CAUSE 1: "))
    assert f"`{gate}` failed (" in top and "connection refused" in top and phrase in top, tail
    summary = (run.run_dir / "summary.md").read_text()
    roots = summary.split("## Root causes\n\n", 1)[1].splitlines()
    assert roots[0].startswith(f"1. `{gate}` failed (") and roots[0].endswith(phrase)


def test_the_rerun_command_runs_exactly_the_failed_and_blocked_cases(diag_run, tmp_path):
    """A per-tenant failure (parametrized ids) and the checks it blocks, rerun under xdist."""
    run = diag_run("-m", "health", "--sandbox-fault", "login_rejected",
                   "--sandbox-fault", "dbt_stale")
    wanted = run.ids("failed", "error", "blocked")
    assert any("[" in check for check in wanted) and run.ids("blocked")
    command = next(line for line in run.result.stdout.lines
                   if line.startswith("rerun failed and blocked: "))
    argv = shlex.split(command.split(": ", 1)[1])
    assert argv[0] == "pytest" and argv[1].startswith("@")
    before = run.summary["run_id"]
    rerun = subprocess.run([sys.executable, "-m", *argv, "-n", "2", "-p", "no:randomly"],
                           cwd=tmp_path, capture_output=True, text=True, timeout=180)
    again = DiagRun(run.result, run.reports)
    assert again.summary["run_id"] != before, rerun.stdout[-2000:]
    assert {c["id"] for c in again.summary["checks"]} == wanted
    assert again.ids("failed", "error", "blocked") == wanted


def test_metrics_file_and_push_have_one_series_per_case(diag_run, canaries, tmp_path):
    from prometheus_client.parser import text_string_to_metric_families

    out = tmp_path / "textfile" / "diagnostics.prom"
    with Pushgateway() as gateway:
        run = diag_run("-m", "health", "--sandbox-fault", "api_down",
                       "--metrics-out", str(out), "--metrics-push", gateway.url)
        pushed = dict(gateway.groups)
    assert list(pushed) == ["/metrics/job/runbook_diagnostics/profile/sandbox"]
    checks = run.summary["checks"]
    for text in (out.read_text(), *pushed.values()):
        families = {f.name: f for f in text_string_to_metric_families(text)}
        cases = families["runbook_check_passed"].samples
        assert len(cases) == len(checks)
        assert {s.labels["check_id"] for s in cases} == {c["id"] for c in checks}
        by_id = {s.labels["check_id"]: s for s in cases}
        for check in checks:
            sample = by_id[check["id"]]
            assert sample.labels["status"] == check["status"]
            assert sample.value == (1 if check["status"] == "passed" else 0)
            assert {"system", "area", "severity", "tenant", "blocked_by",
                    "profile"} <= set(sample.labels)
        gated = [s for s in cases if s.labels["status"] == "blocked"]
        assert gated and {s.labels["blocked_by"] for s in gated} == {
            "adinsights.health.api.reachable"}
        counts = {s.labels["status"]: s.value for s in families["runbook_run_checks"].samples}
        assert counts["blocked"] == len(gated) and counts["failed"] == 1
        assert families["runbook_run_duration_seconds"].samples[0].value > 0
        assert not [n for n, value in canaries.items() if value in text]
    assert leaks(run, canaries) == []


def test_a_bad_metrics_push_url_is_a_one_line_error(diag_run):
    run = diag_run("-m", "health", "--metrics-push", "pushgateway:9091")
    assert run.result.ret == 4 and "--metrics-push" in run.output
    assert "Traceback" not in run.output


def test_three_shards_merged_equal_the_unsharded_run(diag_run, canaries, tmp_path):
    args = ("-m", "health", "--sandbox-fault", "login_rejected")
    whole = diag_run(*args)
    shards = [diag_run(*args, "--shard", f"{i}/3") for i in (1, 2, 3)]
    assert all(0 < len(s.summary["checks"]) < len(whole.summary["checks"]) for s in shards)
    out = tmp_path / "merged"
    done = subprocess.run([sys.executable, "-m", "fixtures.merge",
                           *[str(s.reports) for s in shards], "--out", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    merged = json.loads((out / "summary.json").read_text())
    statuses = {c["id"]: c["status"] for c in merged["checks"]}
    assert statuses == {c["id"]: c["status"] for c in whole.summary["checks"]}
    assert merged["counts"] == whole.summary["counts"]
    junit = (out / "junit.xml").read_text()
    assert f'tests="{len(statuses)}"' in junit
    results = list((out / "allure-results").glob("*-result.json"))
    assert len(results) == len(statuses)
    page = (out / "report.html").read_text()
    assert all(html.escape(check) in page for check in statuses)
    assert "Root causes" in page and "## Root causes" in (out / "summary.md").read_text()
    merged_run = DiagRun(whole.result, out)
    assert leaks(merged_run, canaries) == []


def test_the_timeline_lists_the_faulted_timestamp_first(diag_run):
    run = diag_run("-m", "health", "--sandbox-fault", STALE)
    summary = (run.run_dir / "summary.md").read_text()
    events = summary.split("## Timeline (oldest first)\n\n", 1)[1].split("\n\n", 1)[0]
    rows = events.splitlines()
    assert len(rows) >= 2 and "`adinsights.health.baseline.dbt` last dbt run" in rows[0]
    stamps = [row.split(" ", 2)[1] for row in rows]
    assert stamps == sorted(stamps)
    page = (run.run_dir / "report.html").read_text()
    table = re.search(r"<table class='timeline'>(.*?)</table>", page).group(1)
    assert table.index("adinsights.health.baseline.dbt") < table.index(
        "adinsights.health.baseline.airbyte")
    stale = next(c for c in run.summary["checks"] if c["id"] == "adinsights.health.baseline.dbt")
    moment = stale["observed_at"][0]["at"]
    assert f"last dbt run (run_results generated_at):</b> {moment}" in run.html_results()


def test_the_page_renders_fix_steps_and_shows_the_targets(diag_run):
    run = diag_run("-m", "health", "--sandbox-fault", STALE)
    rows = run.html_results()
    assert "<code>make run-dbt</code>" in rows and "<ol>" in rows
    assert "`make run-dbt`" not in rows
    page = (run.run_dir / "report.html").read_text()
    blob = json.loads(html.unescape(re.search(r'data-jsonblob="([^"]*)"', page).group(1)))
    environment = blob["environment"]
    assert environment["Profile"] == "sandbox"
    assert environment["Marker selection"] == "health"
    assert re.fullmatch(r"\S+ \(commit \w+\)", environment["Suite"])
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", environment["adinsights url api"])
    assert not {"Packages", "Plugins", "Python"} & set(environment)


def test_markdown_is_sanitised():
    rendered = reporting.render_markdown(
        "1. run `x`\n\n<script>alert(1)</script>\n\n[a](javascript:alert(1))")
    assert "<code>x</code>" in rendered
    assert "<script>" not in rendered and "&lt;script&gt;" in rendered
    assert "href" not in rendered  # the javascript: link stays text


def test_a_shard_dir_without_a_summary_is_a_one_line_error(tmp_path: Path):
    done = subprocess.run([sys.executable, "-m", "fixtures.merge", str(tmp_path),
                           "--out", str(tmp_path / "out")],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and len(done.stderr.splitlines()) == 1
    assert "no readable summary.json" in done.stderr


def test_a_waived_failure_stays_waived_in_the_diff(diag_run, tmp_path):
    waived = "adinsights.health.dbt.status"
    waivers = tmp_path / "waivers.toml"
    waivers.write_text(f'[[waiver]]\ncheck = "{waived}"\njustification = "dbt is being '
                       'migrated this week"\nexpires = 2099-12-31\n')
    healthy = diag_run("-m", "health", f"--waivers={waivers}")
    faulted = beside(diag_run, healthy, "-m", "health", "--sandbox-fault", STALE,
                     f"--waivers={waivers}")
    diff = faulted.summary["diff"]
    assert diff["waived"] == [waived]
    assert set(diff["newly failing"]) == set(fault_matrix()[STALE]) - {waived}
    rerun = (faulted.run_dir / "rerun.txt").read_text()
    assert "test_dbt_health" not in rerun and "test_dbt_run_baseline" in rerun


def test_a_push_reaches_the_real_pushgateway(diag_run):
    """Debian's Pushgateway, where installed: it accepts the push and serves one series
    per case."""
    from prometheus_client.parser import text_string_to_metric_families

    from conftest import in_ci
    from sandbox.parts.pushgateway import RealPushgateway

    why = RealPushgateway.available()
    if why is not None:
        if in_ci():
            pytest.fail(f"CI=true, where the Pushgateway is installed, but {why}")
        pytest.skip(why)
    with RealPushgateway() as gateway:
        run = diag_run("-m", "health", "--sandbox-fault", "api_down",
                       f"--metrics-push={gateway.url}")
        served = gateway.metrics()
    assert "WARNING" not in run.output, run.output
    families = {f.name: f for f in text_string_to_metric_families(served)}
    cases = families["runbook_check_passed"].samples
    assert len(cases) == len(run.summary["checks"])
    assert {s.labels["job"] for s in cases} == {"runbook_diagnostics"}

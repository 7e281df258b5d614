"""Every check is proven able to fail: each fault fails exactly its listed checks."""

from __future__ import annotations

import html
import json
import re

import pytest

from conftest import fault_matrix, leaks
from fixtures import runbooks
from sandbox import FAULTS

MATRIX = fault_matrix()


@pytest.mark.parametrize("fault", sorted(MATRIX))
def test_fault_fails_exactly_its_checks(diag_run, canaries, fault):
    """Also the canary sweep: every credential holds a planted value, and no run of the
    matrix may show one anywhere (terminal, HTML, JUnit, Allure, summaries, logs)."""
    args = ["--allow-intrusive"] + ([] if fault == "healthy" else ["--sandbox-fault", fault])
    run = diag_run(*args)
    assert leaks(run, canaries) == []
    failed = run.ids("failed", "error")
    expected = set(MATRIX[fault])
    assert failed == expected, (
        f"missing: {sorted(expected - failed)}; unexpected: {sorted(failed - expected)}"
    )
    assert run.result.ret == (0 if fault == "healthy" else 1)
    rows = run.html_results()
    for verdict in run.summary["checks"]:
        if verdict["status"] == "failed":
            steps = runbooks.sections()[verdict["anchor"]].body
            assert json.dumps(html.escape(steps), ensure_ascii=False)[1:-1] in rows, (
                f"{verdict['id']}: fix steps not in the HTML")
            assert html.escape(verdict["link"]) in rows
    if fault == "healthy":
        assert run.ids("blocked", "skipped") == set()
        assert len(run.ids("passed")) == len(run.summary["checks"]) > 20


def test_every_sandbox_fault_is_in_the_matrix():
    assert set(FAULTS) - set(MATRIX) == set()
    assert set(MATRIX) - set(FAULTS) == {"healthy"}


def test_every_check_can_fail(diag_run):
    """A check that no fault can fail is a defect."""
    run = diag_run("--list-checks")
    listed = set(re.findall(r"^([a-z]+\.\S+)\s+[a-z]+\s+(?:critical|high|medium|low)\s",
                            run.output, re.MULTILINE))
    failing = {re.sub(r"\[.*\]$", "", check) for checks in MATRIX.values() for check in checks}
    assert len(listed) >= 35
    assert listed - failing == set()


def test_failing_state_links_its_own_fix_steps(diag_run):
    run = diag_run("-m", "health", "--sandbox-fault", "airbyte_stale")
    by_id = {c["id"]: c for c in run.summary["checks"]}
    assert by_id["health.airbyte.status"]["anchor"] == "health.md#airbyte-stale"
    assert by_id["health.airbyte.status"]["category"] == "stale data"
    assert by_id["health.sync.state[acme]"]["anchor"] == "health.md#sync-health-stale-connection"

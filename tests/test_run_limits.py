"""Waivers, the whole-run time budget and sharding, as an operator would use them."""

from __future__ import annotations

import re

import pytest

WAIVED_VERSION = """
[[waiver]]
check = "adinsights.health.api.version"
justification = "staging runs a dev build until the release branch is cut"
expires = 2999-12-31
"""
EXPIRED = """
[[waiver]]
check = "adinsights.health.sync.state"
tenant = "acme"
justification = "acme is migrating warehouses"
expires = 2020-01-31
"""


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["serial", "xdist"])
def test_waived_failure_is_reported_as_waived_not_passed(diag_run, tmp_path, workers):
    waivers = tmp_path / "waivers.toml"
    waivers.write_text(WAIVED_VERSION)
    run = diag_run("-m", "health", "--sandbox-fault", "version_unset",
                   f"--waivers={waivers}", *workers)
    verdict = {c["id"]: c for c in run.summary["checks"]}["adinsights.health.api.version"]
    assert verdict["status"] == "waived"
    assert "waived until 2999-12-31: staging runs a dev build" in verdict["reason"]
    assert run.result.ret == 0
    assert "WAIVED adinsights.health.api.version" in run.output
    assert "Waived failures" in (run.run_dir / "summary.md").read_text()
    assert run.ids("failed", "error") == set()


def test_expired_waiver_waives_nothing_and_fails_the_run(diag_run, tmp_path):
    waivers = tmp_path / "waivers.toml"
    waivers.write_text(EXPIRED)
    run = diag_run("-m", "health", "--sandbox-fault", "tenant_sync_stale",
                   f"--waivers={waivers}")
    assert "adinsights.health.sync.state[acme]" in run.ids("failed")
    assert run.result.ret == 1
    assert re.search(r"EXPIRED WAIVER adinsights\.health\.sync\.state\[acme\] "
                     r"\(expired 2020-01-31", run.output)


def test_expired_waiver_fails_even_a_green_run(diag_run, tmp_path):
    waivers = tmp_path / "waivers.toml"
    waivers.write_text(EXPIRED)
    run = diag_run("-m", "health", f"--waivers={waivers}")
    assert run.ids("failed", "error") == set()
    assert run.result.ret == 1
    assert "EXPIRED WAIVER adinsights.health.sync.state[acme]" in run.output


@pytest.mark.parametrize("text, message", [
    ('[[waiver]]\ncheck = "adinsights.health.api.version"\nexpires = 2999-01-01\n',
     "'justification' is required"),
    ('[[waiver]]\ncheck = "x"\njustification = "y"\nexpires = "soon"\n',
     "'expires' must be a TOML date"),
    ("[[waiver]\n", "is not valid TOML"),
])
def test_bad_waivers_file_is_one_clear_line(diag_run, tmp_path, text, message):
    waivers = tmp_path / "waivers.toml"
    waivers.write_text(text)
    run = diag_run("-m", "health", f"--waivers={waivers}")
    assert run.result.ret == 4
    assert message in run.output
    assert "Traceback" not in run.output and "INTERNALERROR" not in run.output


def test_budget_reports_unstarted_checks_as_not_run(diag_run):
    run = diag_run("-m", "health", "--diag-budget", "0.01")
    not_run = [c for c in run.summary["checks"] if c["category"] == "not run"]
    assert not_run and all("time budget ran out" in c["reason"] for c in not_run)
    assert run.result.ret == 1
    assert f"NOT RUN {len(not_run)} checks" in run.output


def test_budget_that_is_not_spent_changes_nothing(diag_run):
    run = diag_run("-m", "health", "--diag-budget", "120")
    assert run.result.ret == 0
    assert run.ids("skipped", "blocked") == set()


def _cases(diag_run, *args: str) -> list[str]:
    run = diag_run("--co", "-q", *args)
    assert run.result.ret == 0, run.output
    return [line for line in run.result.stdout.lines if "::" in line]


def test_shards_partition_the_cases_and_pin_aggregates_to_shard_one(diag_run):
    everything = _cases(diag_run, "-m", "not intrusive")
    shards = [_cases(diag_run, "-m", "not intrusive", "--shard", f"{i}/3") for i in (1, 2, 3)]
    union = [case for cases in shards for case in cases]
    assert sorted(union) == sorted(everything)  # each case exactly once
    assert all(cases for cases in shards)
    unparametrized = {case for case in everything if not case.endswith("]")}
    assert unparametrized <= set(shards[0])
    assert shards[1] == _cases(diag_run, "-m", "not intrusive", "--shard", "2/3")


@pytest.mark.parametrize("option, message", [
    (["--shard", "0/2"], "write it as i/n with 1 <= i <= n"),
    (["--diag-budget", "0"], "give a number of seconds above 0"),
])
def test_bad_limits_are_one_clear_line(diag_run, option, message):
    run = diag_run(*option)
    assert run.result.ret == 4
    assert message in run.output and "Traceback" not in run.output

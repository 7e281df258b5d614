"""Nothing checked is not a pass; a dead upstream fails once and blocks its dependants."""

from __future__ import annotations

import socket


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_empty_selection_does_not_exit_zero(diag_run):
    run = diag_run("-m", "health", "-k", "no_such_check")
    assert run.result.ret == 5


def test_all_blocked_run_does_not_exit_zero(diag_run):
    run = diag_run("-m", "health", "-k", "sync_health or overview or social",
                   "--sandbox-fault", "api_down")
    assert run.result.ret == 1
    assert run.ids("blocked") and not run.ids("passed", "failed", "error")
    assert "NO VERDICT" in run.output


def test_closed_api_port_fails_once_and_blocks_the_rest(diag_run, profile_file, monkeypatch):
    monkeypatch.setenv("DIAG_T_TOKEN", "t0ken-value")
    api, superset = closed_port(), closed_port()
    path = profile_file(
        f'name = "closed"\n[adinsights.urls]\napi = "http://127.0.0.1:{api}"\n'
        f'superset = "http://127.0.0.1:{superset}"\n'
        '[[adinsights.tenants]]\nname = "a"\ntoken_env = "DIAG_T_TOKEN"\n'
    )
    run = diag_run(f"--target-file={path}", "-m", "health")
    assert run.result.ret == 1
    assert run.ids("failed", "error") == {"adinsights.health.api.reachable",
                                          "adinsights.health.superset.reachable"}
    blocked = [c for c in run.summary["checks"] if c["status"] == "blocked"]
    # one tenant: 14 API-backed cases and Superset's health check
    assert len(blocked) == 15
    assert {c["reason"].split(":")[0] for c in blocked} == {
        "blocked by adinsights.health.api.reachable",
        "blocked by adinsights.health.superset.reachable"}
    not_run = run.ids("skipped")
    # the checks of files the profile does not name: dbt's, the settings', the API log's
    assert not_run and all(any(part in check for part in ("dbt", "beat", "logs"))
                           for check in not_run)
    assert "BLOCKED" in run.output and "connection refused" in run.output

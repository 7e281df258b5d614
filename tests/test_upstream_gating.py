"""Upstream first: a dead dependency fails once and blocks what depends on it; a
dependency that cannot exist on this machine is reported as not run, saying why."""

from __future__ import annotations

from conftest import ROOT, needs

CONTAINER_CHECKS = {
    "adinsights.airbyte.containers.bootloader", "adinsights.airbyte.containers.server_logs",
    "adinsights.airbyte.containers.worker_mounts", "adinsights.airbyte.containers.worker_logs",
    "adinsights.airbyte.containers.scheduler", "adinsights.airbyte.containers.beat_schedule",
}


@needs("postgres")
def test_missing_engine_socket_fails_once_and_blocks_container_checks(diag_run):
    run = diag_run("-m", "airbyte", "--sandbox-fault", "engine_down")
    assert run.ids("failed", "error") == {"adinsights.airbyte.engine.reachable"}
    blocked = {c["id"]: c["reason"] for c in run.summary["checks"] if c["status"] == "blocked"}
    assert set(blocked) == CONTAINER_CHECKS
    assert all("container engine unreachable" in reason for reason in blocked.values())
    # the config database is still read over psycopg, so its checks still decide
    assert {"adinsights.airbyte.db.relations",
            "adinsights.airbyte.db.metadata"} <= run.ids("passed")


def test_no_engine_on_this_machine_is_not_run_not_failed(diag_run, profile_file):
    """What a machine without podman sees: the checks skip and say why."""
    text = (ROOT / "targets" / "sandbox.toml").read_text().replace(
        'docker_unavailable = "{sandbox.docker_unavailable}"',
        'docker_unavailable = "no container engine could be started (podman not installed)"')
    run = diag_run(f"--target-file={profile_file(text)}", "-m", "airbyte")
    skipped = {c["id"]: c["reason"] for c in run.summary["checks"] if c["status"] == "skipped"}
    assert CONTAINER_CHECKS | {"adinsights.airbyte.engine.reachable"} <= set(skipped)
    assert all("podman not installed" in skipped[c] for c in CONTAINER_CHECKS)
    assert run.ids("failed", "error") == set()
    assert run.result.ret == 0

"""A hostile target: every HTTP check, against every bad way of answering, ends with a
one-line reason inside its bound, with capped evidence and no INTERNALERROR."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from sandbox.parts.aimed import aimed_profile
from sandbox.parts.hostile import MODES, HostileServer

TOTAL_TIMEOUT = 2.0


@pytest.mark.parametrize("mode", sorted(MODES))
def test_every_check_survives_a_hostile_target(diag_run, profile_file, canaries, mode):
    with HostileServer(mode) as server:
        url = server.url.replace("http://", "https://") if mode == "plain_http" else server.url
        port = int(server.url.rsplit(":", 1)[1])
        target = profile_file(aimed_profile(url, port, name="hostile",
                                            timeouts=(1.0, 1.0, TOTAL_TIMEOUT)))
        run = diag_run(f"--target-file={target}", "-m", "not intrusive")
    output = run.output
    assert "INTERNALERROR" not in output and "Traceback" not in output
    assert run.result.ret == 1
    checks = run.summary["checks"]
    assert len(checks) > 50
    # A reachability check only claims that something answers HTTP there, which is true
    # of every mode that answers at all; every check that reads an answer must not pass.
    passed = sorted(c["id"] for c in checks
                    if c["status"] == "passed" and not c["id"].endswith(".reachable"))
    assert passed == [], f"passed against a hostile target ({mode}): {passed}"
    for check in (c for c in checks if c["status"] != "passed"):
        reason = check["condition"] or check["reason"]
        assert reason and "\n" not in reason, f"{check['id']}: no one-line reason: {reason!r}"
        for entry in check["evidence"]:
            assert len(repr(entry)) < 20_000, f"{check['id']}: evidence not capped"
    slowest = max(_durations(run.run_dir / "junit.xml").items(), key=lambda kv: kv[1])
    assert slowest[1] <= TOTAL_TIMEOUT + 2.0, f"{slowest[0]} took {slowest[1]:.1f} s"
    assert sum(p.stat().st_size for p in run.reports.rglob("*") if p.is_file()) < 20_000_000


def _durations(junit: Path) -> dict[str, float]:
    tree = ET.parse(junit)
    return {f"{case.get('classname')}.{case.get('name')}": float(case.get("time", 0))
            for case in tree.iter("testcase")}

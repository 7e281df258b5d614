"""The quick start's first command on a machine that has only Python: the diagnostics
against the embedded sandbox end green, and every case that needs a piece the machine
lacks is reported as not run, naming the piece, rather than failed."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

import pytest

from conftest import ROOT

PIECE_REASONS = ("no PostgreSQL server here", "no container engine could be started",
                 "no Redis server here", "intrusive check")


def test_diagnostics_pass_where_no_optional_piece_is_installed(tmp_path) -> None:
    if os.geteuid() != 0 or not shutil.which("unshare"):
        pytest.skip("hiding the pieces needs root and unshare (tests/without.sh)")
    env = {key: value for key, value in os.environ.items() if key != "CI"}
    run = subprocess.run(
        ["sh", "tests/without.sh", "all", sys.executable, "-m", "pytest", "-q", "-rs",
         "-p", "no:randomly", "--reports-dir", str(tmp_path / "reports")],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    output = run.stdout + run.stderr
    assert run.returncode == 0, output
    assert "Traceback" not in output and "INTERNALERROR" not in output, output
    reasons = re.findall(r"^SKIPPED \[\d+\] [^:]+:\d+: (.*)$", output, re.MULTILINE)
    assert any("no PostgreSQL server here" in r for r in reasons), output
    assert any("no container engine could be started" in r for r in reasons), output
    assert any("no Redis server here" in r for r in reasons), output
    unexplained = [r for r in reasons if not any(p in r for p in PIECE_REASONS)]
    assert unexplained == [], output

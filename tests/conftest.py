"""Run the diagnostics suite as a user would, in a subprocess, and read what it wrote.

pytest also imports this file when the diagnostics run from the project root (it loads
``test*/conftest.py`` beside the invocation directory), so importing it must stay cheap
and side-effect free; its fixtures only apply to this directory.
"""

from __future__ import annotations

import html
import json
import os
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MATRIX_FILE = Path(__file__).parent / "fault_matrix.toml"


def fault_matrix() -> dict[str, list[str]]:
    return tomllib.loads(MATRIX_FILE.read_text())["faults"]


@dataclass
class DiagRun:
    result: pytest.RunResult
    reports: Path

    @property
    def run_dir(self) -> Path:
        return self.reports / "latest"

    @property
    def output(self) -> str:
        return self.result.stdout.str() + "\n" + self.result.stderr.str()

    @property
    def summary(self) -> dict:
        return json.loads((self.run_dir / "summary.json").read_text())

    def ids(self, *statuses: str) -> set[str]:
        return {c["id"] for c in self.summary["checks"] if c["status"] in statuses}

    def html_results(self) -> str:
        """The result rows of the HTML page: pytest-html keeps them as an escaped JSON
        blob that its script renders, so decode it the way a browser would."""
        page = (self.run_dir / "report.html").read_text()
        blob = re.search(r'data-jsonblob="([^"]*)"', page).group(1)
        return json.dumps(json.loads(html.unescape(blob)), ensure_ascii=False)

    def artifacts(self) -> dict[Path, str]:
        """Every file the run wrote, as text, for searching."""
        found = {}
        for path in self.reports.rglob("*"):
            if path.is_file():
                found[path] = path.read_bytes().decode("utf-8", errors="replace")
        return found


@pytest.fixture
def diag_run(pytester: pytest.Pytester, tmp_path: Path):
    counter = iter(range(100))

    def run(*args: str) -> DiagRun:
        reports = tmp_path / f"reports{next(counter)}"
        result = pytester.runpytest_subprocess(
            str(ROOT / "diagnostics"),
            "--rootdir", str(ROOT),
            "-c", str(ROOT / "pyproject.toml"),
            "--reports-dir", str(reports),
            "-p", "no:randomly",
            *args,
            timeout=180,
        )
        return DiagRun(result, reports)

    return run


@pytest.fixture
def profile_file(tmp_path: Path):
    """Write a target profile for a config-error or gating test."""

    def write(text: str, name: str = "target.toml") -> Path:
        path = tmp_path / name
        path.write_text(text)
        return path

    return write


@pytest.fixture(autouse=True)
def _clean_secret_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("DIAG_"):
            monkeypatch.delenv(name)

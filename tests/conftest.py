"""Run the diagnostics suite as a user would, in a subprocess, and read what it wrote.

pytest also imports this file when the diagnostics run from the project root (it loads
``test*/conftest.py`` beside the invocation directory), so importing it must stay cheap
and side-effect free; its fixtures only apply to this directory.
"""

from __future__ import annotations

import base64
import html
import json
import os
import re
import secrets
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MATRIX_FILE = Path(__file__).parent / "fault_matrix.toml"
JWT = re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.")
DATA_URI = re.compile(r"base64,([A-Za-z0-9+/=]+)")


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


def assert_usage_error(run, *phrases: str) -> None:
    assert run.result.ret == 4, run.output
    errors = [line for line in run.output.splitlines() if line.startswith("ERROR:")]
    assert len(errors) == 1, run.output
    for phrase in phrases:
        assert phrase in errors[0]
    assert "Traceback" not in run.output
    assert "INTERNALERROR" not in run.output


def sandbox_secret_envs() -> list[str]:
    """Every credential the sandbox profile can hold: tokens, passwords, DSN passwords,
    the webhook secret, API keys, whatever a new area adds under a ``*_env`` key."""
    from fixtures import profile

    return profile.load("sandbox", None).secret_envs


@pytest.fixture
def canaries(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """A distinct, recognisable value planted in every credential of the profile."""
    planted = {name: f"cnry{secrets.token_hex(8)}" for name in sandbox_secret_envs()}
    for name, value in planted.items():
        monkeypatch.setenv(name, value)
    return planted


def outputs(run: DiagRun) -> dict[str, str]:
    """The terminal and every artifact, with the HTML page's base64 extras decoded."""
    texts = {"terminal": run.output, **{str(p): t for p, t in run.artifacts().items()}}
    return texts | embedded(texts)


def embedded(texts: dict[str, str]) -> dict[str, str]:
    """The self-contained HTML page base64-encodes its JSON extras: search those too."""
    found = {}
    for where, text in texts.items():
        for n, blob in enumerate(DATA_URI.findall(text)):
            found[f"{where} (data URI {n})"] = base64.b64decode(blob).decode("utf-8", "replace")
    return found


def leaks(run: DiagRun, values: dict[str, str]) -> list[str]:
    """Where a planted secret or a JWT shows up; empty when nothing leaked."""
    found = []
    for where, text in outputs(run).items():
        found += [f"{name} in {where}" for name, value in values.items() if value in text]
        if JWT.search(text):
            found.append(f"a JWT in {where}")
    return found

"""Run the diagnostics suite as a user would, in a subprocess, and read what it wrote.

pytest also imports this file when the diagnostics run from the project root (it loads
``test*/conftest.py`` beside the invocation directory), so importing it must stay cheap
and side-effect free; its fixtures only apply to this directory.
"""

from __future__ import annotations

import base64
import functools
import html
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tomllib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MATRIX_FILE = Path(__file__).parent / "fault_matrix.toml"
JWT = re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.")
DATA_URI = re.compile(r"base64,([A-Za-z0-9+/=]+)")


def fault_matrix() -> dict[str, list[str]]:
    return tomllib.loads(MATRIX_FILE.read_text())["faults"]


# --- optional system pieces -------------------------------------------------------------
#
# The sandbox runs without a container engine or a PostgreSQL server, reporting the checks
# that need one as not run. A self-test that needs a piece is marked ``@needs("engine")``
# (or calls ``require``): where the piece is missing it skips naming it, and under CI=true,
# where .ci/run installs every piece, the skip is a failure, so CI still proves that path.


def _engine_upstreams() -> frozenset[str]:
    """The engine gate is the one that reads the sandbox's ``docker_unavailable``."""
    return frozenset({"engine"})


def _database_upstreams() -> frozenset[str]:
    """The databases the sandbox marks ``*_unavailable`` when it has no server."""
    from sandbox.adinsights import runtime
    from sandbox.author import stand_in as author
    from sandbox.chatwoot import stand_in as chatwoot
    from sandbox.voucher import stand_in

    return frozenset(runtime.DATABASES + stand_in.DATABASES + chatwoot.DATABASES
                     + author.DATABASES)


def _engine_available() -> tuple[bool, str]:
    """podman and runc, as the sandbox's engine asks, and what its image is built from:
    without those the sandbox reports the engine unavailable just the same."""
    from sandbox.parts import engine, images

    ok, reason = engine.available()
    if ok and not images.BUSYBOX.is_file():
        return False, f"{images.BUSYBOX} not found: apt-get install busybox-static"
    if ok and images.psql_binary() is None:
        return False, "psql not found: apt-get install postgresql-client"
    return ok, reason


def _postgres_available() -> tuple[bool, str]:
    from sandbox.parts import postgres

    return postgres.available()


def _redis_available() -> tuple[bool, str]:
    from sandbox.parts import redis

    return redis.available()


def _psql_available() -> tuple[bool, str]:
    found = shutil.which("psql")
    return (True, f"psql at {found}") if found else (
        False, "psql not on PATH: apt-get install postgresql-client")


@dataclass(frozen=True)
class Piece:
    """A system piece the sandbox can do without: how the sandbox itself finds out
    whether it is here, and the upstreams (gate names) that cannot exist without it."""

    label: str
    available: Callable[[], tuple[bool, str]]
    upstreams: Callable[[], frozenset[str]]


PIECES = {
    "engine": Piece("podman and runc (the container engine)", _engine_available,
                    _engine_upstreams),
    "postgres": Piece("PostgreSQL's server binaries (initdb, pg_ctl, postgres)",
                      _postgres_available, _database_upstreams),
    "psql": Piece("PostgreSQL's client (psql)", _psql_available, frozenset),
    "redis": Piece("redis-server (Redis)", _redis_available, lambda: frozenset({"redis"})),
}
NEEDS_PROPERTY = "missing_piece"


@functools.cache
def missing(name: str) -> str | None:
    """Why the piece is missing here, asked of the sandbox once per process; None if it
    is here. The sandbox's own answer is used, so the tests never disagree with it."""
    ok, reason = PIECES[name].available()
    return None if ok else reason


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"true", "1", "yes"}


def needs(*names: str) -> pytest.MarkDecorator:
    """Mark a test (or a ``pytest.param``) as needing these pieces; see ``require``."""
    unknown = set(names) - set(PIECES)
    if unknown:
        raise ValueError(f"unknown system piece(s) {sorted(unknown)}; known: {sorted(PIECES)}")
    return pytest.mark.needs(*names)


def require(item: pytest.Item, *names: str) -> None:
    """Skip the test when pieces it needs are missing, naming each and why; fail instead
    under CI=true. Each missing piece is recorded on the report for the summary line."""
    absent = [name for name in names if missing(name) is not None]
    if not absent:
        return
    item.user_properties += [(NEEDS_PROPERTY, name) for name in absent]
    message = "needs " + "; and ".join(f"{PIECES[n].label}: {missing(n)}" for n in absent)
    if in_ci():
        pytest.fail(f"CI=true, where every system piece is installed, but this test {message}",
                    pytrace=False)
    pytest.skip(message)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Before any fixture starts a server: a module fixture would otherwise fail first."""
    for mark in item.iter_markers("needs"):
        require(item, *mark.args)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """One line per missing piece, so a partial run says plainly what it did not prove."""
    counts = Counter(value for report in terminalreporter.stats.get("skipped", [])
                     for key, value in getattr(report, "user_properties", ())
                     if key == NEEDS_PROPERTY)
    for name, count in sorted(counts.items()):
        terminalreporter.write_line(
            f"{count} case{'s' if count != 1 else ''} skipped for want of "
            f"{PIECES[name].label}: {missing(name) or 'missing where they ran'}")


# --- which checks need which piece, from the catalog -----------------------------------

CATALOG_LINE = re.compile(r"^(\S+)\s+\S+\s+(?:critical|high|medium|low)\s+\d+\s+\S+"
                          r"(?:\s+\(needs ([^)]*)\))?\s*$", re.MULTILINE)


@functools.cache
def catalog_needs() -> dict[str, tuple[str, ...]]:
    """Each check id -> its upstreams, as ``pytest --list-checks`` prints them: the
    catalog is the one place a check declares what it needs."""
    listed = subprocess.run(
        [sys.executable, "-m", "pytest", str(ROOT / "diagnostics"), "--rootdir", str(ROOT),
         "-c", str(ROOT / "pyproject.toml"), "-p", "no:randomly", "-p", "no:xdist",
         "--list-checks"],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=True)
    found = {m[1]: tuple(n.strip() for n in m[2].split(",")) if m[2] else ()
             for m in CATALOG_LINE.finditer(listed.stdout)}
    if not found:
        raise RuntimeError(f"pytest --list-checks listed no check:\n{listed.stdout[-2000:]}")
    return found


def _gate_parents() -> dict[tuple[str, str], tuple[str, ...]]:
    """(system, gate) -> the gates it waits on; each pack registers its own."""
    from fixtures.gates import GATES
    from fixtures.packs import packs

    packs()  # importing the packs registers their gates
    return {(system, name): tuple(p.partition(":")[0] for p in gate.needs)
            for system, gates in GATES.items() for name, gate in gates.items()}


def _backing(system: str, upstream: str, parents: dict[tuple[str, str], tuple[str, ...]]
             ) -> set[str]:
    """The pieces behind an upstream: its own, and those of the gates it waits on."""
    name = upstream.partition(":")[0]
    own = {piece for piece, p in PIECES.items() if name in p.upstreams()}
    return own.union(*(_backing(system, parent, parents)
                       for parent in parents.get((system, name), ())))


def pieces_for(check_id: str) -> set[str]:
    """The pieces without which a check is reported as not run. A need ``a|b`` reaches
    the upstream ``a`` by another route, so it needs what ``a`` needs (a database cannot
    be read through the engine where there is no database)."""
    parents = _gate_parents()
    base = check_id.split("[", 1)[0]
    system = base.split(".", 1)[0]
    return set().union(*(_backing(system, need.split("|")[0], parents)
                         for need in catalog_needs().get(base, ())))


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

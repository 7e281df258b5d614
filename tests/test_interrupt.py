"""A run stopped from outside (a CI job's timeout sends SIGTERM, a closed terminal SIGHUP,
an engineer Ctrl-C) must take the sandbox down with it: a PostgreSQL cluster or a podman
service left behind holds ports and disk until someone notices, and the next run on a
shared runner inherits them."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

from conftest import ROOT, needs
from fixtures.stopping import Stopping
from sandbox.parts import postgres

PROGRESS = frozenset(".sFExX")


def _checks_running(output: bytes) -> bool:
    """pytest -q has begun its line of progress marks: the sandbox is up."""
    lines = output.decode(errors="replace").splitlines()
    return any(line.strip() and set(line.strip()) <= PROGRESS for line in lines)


def _processes() -> dict[int, tuple[int, int, str]]:
    """pid -> (parent, session id, command line) of every live process. A zombie is not
    live: it holds nothing but its exit status until its new parent reads it."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(
                errors="replace")
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if fields[0] in ("Z", "X"):
            continue
        found[int(entry.name)] = (int(fields[1]), int(fields[3]), cmdline)
    return found


def _left_by(session: int, tmp: Path) -> dict[int, str]:
    """The run's processes still alive: its session, whatever names its private temporary
    directory (podman's conmon leaves the session), and their descendants (containers)."""
    table = _processes()
    left = {pid for pid, (_, sid, cmd) in table.items() if sid == session or str(tmp) in cmd}
    grown = True
    while grown:
        more = {pid for pid, (parent, _, _) in table.items() if parent in left} - left
        left |= more
        grown = bool(more)
    return {pid: table[pid][2] for pid in sorted(left)}


@pytest.fixture
def private_tmp():
    """A temporary directory for the run alone, reachable by the database's own user, so
    whatever the sandbox left in it is the run's and nobody else's. When the test fails,
    what the run left is ended here, by PID."""
    path = Path(tempfile.mkdtemp(prefix="diag-interrupt-"))
    path.chmod(0o755)
    sessions: list[int] = []
    before = set(_orphaned_in_memory())  # an earlier crash's are not this run's
    yield path, sessions, before
    for session in sessions:
        for pid in _left_by(session, path):
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
    for left in set(_orphaned_in_memory()) - before:
        shutil.rmtree(left, ignore_errors=True)
    shutil.rmtree(path, ignore_errors=True)


def _orphaned_in_memory() -> list[str]:
    """Database clusters in memory (outside TMPDIR) whose process is gone: each is named
    after the process that started it, and removes it before that process ends."""
    found = []
    for entry in postgres.MEMORY.glob("pg-*-*"):
        pid = entry.name.split("-")[1]
        if pid.isdigit() and not Path(f"/proc/{pid}").exists():
            found.append(str(entry))
    return sorted(found)


@needs("postgres", "engine")
@pytest.mark.parametrize(("signum", "options"), [
    (signal.SIGTERM, ()), (signal.SIGINT, ()), (signal.SIGTERM, ("--sandbox-process",))],
    ids=["SIGTERM", "SIGINT", "SIGTERM-sandbox-process"])
def test_a_signal_mid_run_leaves_nothing_behind(tmp_path, private_tmp, signum, options):
    private_tmp, sessions, before = private_tmp
    run = _start_run(tmp_path, private_tmp, sessions, options)
    seen = _until_checks_run(run)
    run.send_signal(signum)
    _ended_as_interrupt(run, seen)
    _assert_nothing_left(run.pid, private_tmp, before)


@needs("postgres", "engine")
def test_a_signal_while_the_sandbox_boots_leaves_nothing_behind(tmp_path, private_tmp):
    """A CI job's timeout can land while the sandbox boots, with its parts half started
    in several threads: what they started must go, and what they still start too."""
    private_tmp, sessions, before = private_tmp
    run = _start_run(tmp_path, private_tmp, sessions, ())
    deadline = time.monotonic() + 60
    while len(_left_by(run.pid, private_tmp)) < 2 and run.poll() is None:
        if time.monotonic() > deadline:
            os.killpg(run.pid, signal.SIGKILL)
            run.wait()
            pytest.fail("the sandbox started no process within 60 s")
        time.sleep(0.01)
    run.send_signal(signal.SIGTERM)
    text = _ended_as_interrupt(run)
    assert not _checks_running(text.encode()), f"the signal came after the boot:\n{text}"
    _assert_nothing_left(run.pid, private_tmp, before)


@needs("postgres", "engine")
def test_a_killed_run_leaves_its_own_process_sandbox_to_stop_itself(tmp_path, private_tmp):
    """SIGKILL gives the run no teardown at all; a sandbox in its own process sees the
    run's end of its pipe close, and stops what it started."""
    private_tmp, sessions, before = private_tmp
    run = _start_run(tmp_path, private_tmp, sessions, ("--sandbox-process",))
    _until_checks_run(run)
    run.kill()
    run.communicate(timeout=60)
    deadline = time.monotonic() + 60
    while _left_by(run.pid, private_tmp) and time.monotonic() < deadline:
        time.sleep(0.2)
    _assert_nothing_left(run.pid, private_tmp, before)


# Raises SIGTERM inside Allure's bookkeeping for a fixture, after it has noted the
# fixture's group and before it has made it: an interrupt raised there was once replaced by
# Allure's own error (the group is missing), so the run carried on and ended with exit 1.
SIGNAL_INSIDE_ALLURE = """
import signal
import sys

from allure_commons.reporter import AllureReporter

_start_group = AllureReporter.start_group
_sent = []


def start_group(self, uuid, group):
    if not _sent and sys._getframe(1).f_code.co_name == "pytest_fixture_setup":
        _sent.append(True)
        signal.raise_signal(signal.SIGTERM)
    return _start_group(self, uuid, group)


AllureReporter.start_group = start_group
"""


@needs("postgres", "engine")
def test_a_signal_inside_a_report_plugin_still_stops_the_run(tmp_path, private_tmp):
    """Once checks run, a signal stops the run after the check in progress instead of
    interrupting whatever code it lands in."""
    text = _stopped_from_inside(tmp_path, private_tmp, SIGNAL_INSIDE_ALLURE)
    assert " error" not in text.splitlines()[-1], text  # the check it landed in still ran


# Raises SIGTERM in the controller of a parallel run as the first result arrives from a
# worker. Its workers once went on to run every check already handed to them.
SIGNAL_ON_FIRST_RESULT = """
import signal

_run = {"controller": False, "sent": False}


def pytest_configure(config):
    _run["controller"] = not hasattr(config, "workerinput")


def pytest_runtest_logreport(report):
    if _run["controller"] and report.when == "call" and not _run["sent"]:
        _run["sent"] = True
        signal.raise_signal(signal.SIGTERM)
"""


@needs("postgres", "engine")
def test_a_signal_to_a_parallel_run_stops_its_workers_after_their_check(tmp_path,
                                                                       private_tmp):
    text = _stopped_from_inside(tmp_path, private_tmp, SIGNAL_ON_FIRST_RESULT, "-n", "2")
    ran = sum(int(n) for n in re.findall(r"(\d+) (?:passed|failed|skipped|error)",
                                         text.splitlines()[-1]))
    # the first result, each worker's check in progress, and results already on their way
    assert 0 < ran <= 10, text


def _stopped_from_inside(tmp_path: Path, private_tmp, plugin: str, *options: str) -> str:
    """A run whose ``plugin`` (module source) raises SIGTERM inside it, which must end as
    an interrupt, leaving nothing behind. Returns its output."""
    private_tmp, sessions, before = private_tmp
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "signal_from_inside.py").write_text(plugin)
    run = _start_run(tmp_path, private_tmp, sessions, (*options, "-p", "signal_from_inside"),
                     env={"PYTHONPATH": str(plugins)})
    text = _ended_as_interrupt(run)
    assert "Interrupted: stopped by SIGTERM" in text, text
    _assert_nothing_left(run.pid, private_tmp, before)
    return text


def test_a_signal_interrupts_a_boot_and_asks_a_session_to_stop():
    """Before checks run, a signal interrupts at once (the boot undoes what it started);
    after, it asks, once. Again, Ctrl-C interrupts at once and SIGTERM or SIGHUP is
    ignored, so the teardown is not cut short."""
    if threading.current_thread() is not threading.main_thread():
        pytest.fail("signal handlers can only be set from the main thread")
    original = _handlers()
    booting = Stopping().install()
    try:
        with pytest.raises(KeyboardInterrupt, match="stopped by SIGTERM"):
            signal.raise_signal(signal.SIGTERM)
        _quietly(signal.SIGHUP)  # ignored: the teardown is under way
        with pytest.raises(KeyboardInterrupt, match="stopped by SIGINT"):
            signal.raise_signal(signal.SIGINT)
    finally:
        booting.restore()
    assert _handlers() == original
    asked: list[str] = []
    running = Stopping().install()
    try:
        running.defer(asked.append)
        _quietly(signal.SIGHUP)
        _quietly(signal.SIGTERM)
        assert asked == ["stopped by SIGHUP"] and running.asked == "stopped by SIGHUP"
        with pytest.raises(KeyboardInterrupt, match="stopped by SIGINT"):
            signal.raise_signal(signal.SIGINT)
    finally:
        running.restore()
    assert _handlers() == original


def _handlers() -> dict[int, object]:
    return {signum: signal.getsignal(signum)
            for signum in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)}


def _quietly(signum: int) -> None:
    """Raise a signal that must not interrupt: if it does, this test fails, rather than
    the interrupt ending the whole self-test session."""
    try:
        signal.raise_signal(signum)
    except KeyboardInterrupt as exc:
        pytest.fail(f"{signal.Signals(signum).name} interrupted: {exc}")


def _start_run(tmp_path: Path, private_tmp: Path, sessions: list[int],
               options: tuple[str, ...], env: dict[str, str] | None = None,
               ) -> subprocess.Popen[bytes]:
    env = {**os.environ, **(env or {}), "TMPDIR": str(private_tmp)}
    run = subprocess.Popen(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly",
         f"--reports-dir={tmp_path / 'reports'}", *options],
        cwd=ROOT, env=env, start_new_session=True,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    sessions.append(run.pid)
    return run


def _ended_as_interrupt(run: subprocess.Popen[bytes], seen: bytes = b"") -> str:
    """The run's whole output once it has ended, which must be as an interrupt: exit 2,
    no traceback. A run still going after 120 s is killed, with all it started."""
    try:
        rest, _ = run.communicate(timeout=120)
    finally:
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGKILL)
            run.wait()
    text = (seen + rest).decode(errors="replace")
    assert run.returncode == pytest.ExitCode.INTERRUPTED, text
    assert "Traceback" not in text and "INTERNALERROR" not in text, text
    return text


def _until_checks_run(run: subprocess.Popen[bytes]) -> bytes:
    seen = b""
    try:
        while not _checks_running(seen):
            chunk = run.stdout.read1(256)
            assert chunk, f"the run ended before any check ran:\n{seen.decode()}"
            seen += chunk
    except BaseException:
        os.killpg(run.pid, signal.SIGKILL)
        run.wait()
        raise
    return seen


def _assert_nothing_left(session: int, private_tmp: Path, before: set[str]) -> None:
    left = _left_by(session, private_tmp)
    assert left == {}, f"processes of the run still alive: {left}"
    # pytest's own base temporary directory (xdist makes one) is kept by design, for
    # the latest three runs: pytest's, not the sandbox's.
    left_files = sorted(str(p.relative_to(private_tmp)) for p in private_tmp.rglob("*")
                        if not p.relative_to(private_tmp).parts[0].startswith("pytest-of-"))
    assert left_files == [], f"files of the run still there: {left_files[:40]}"
    assert sorted(set(_orphaned_in_memory()) - before) == []

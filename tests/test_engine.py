"""The sandbox's container engine, against a real podman service and a real PostgreSQL.

The container checks trust what the engine shows them, so these tests look at the same
evidence the checks will: exit codes, log lines, environment and mounts read back through
the docker SDK, and a real psql run inside a container.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import docker.errors
import psycopg
import pytest
import requests

from conftest import needs
from sandbox.adinsights import containers
from sandbox.adinsights.containers import BOOTLOADER, DB, NAMES, SCHEDULER, SERVER, WORKER
from sandbox.parts import engine
from sandbox.parts import postgres as pg_server
from sandbox.parts.containers import Spec, settle
from sandbox.parts.engine import Engine, EngineUnavailable

SECRET = "engine-test-canary-7f3a"
_STAMP = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d ")
# podman adds these to a container's environment only when it first starts it.
_ADDED_AT_START = ("HOSTNAME=", "HOME=")


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """One engine for the module: containers are replaced per test, the image is kept."""
    started = Engine(tmp_path_factory.mktemp("engine")).start()
    yield started
    started.stop()


# --- a throwaway PostgreSQL for the psql test -------------------------------------------

def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def postgres() -> Iterator[int]:
    """A server on 127.0.0.1 with an `airbyte` database holding one table and an empty
    `airbyte_empty` one. The server refuses to run as root, hence runuser; its directory
    sits in /tmp because pytest's own temp directories are closed to other users. The
    binaries are found as the sandbox finds them; its test is marked as needing them."""
    bindir = pg_server._bindir()
    assert bindir is not None, "marked needs('postgres'), yet no server binaries"
    as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    root = Path(tempfile.mkdtemp(prefix="engine-pg-"))
    root.chmod(0o755)
    if as_postgres:
        shutil.chown(root, "postgres")
    port = _free_port()

    def pg(*args: str) -> None:
        subprocess.run([*as_postgres, *args], check=True, capture_output=True, timeout=60)

    pg(str(bindir / "initdb"), "-D", str(root / "data"), "-U", "postgres", "-A", "trust",
       "--no-sync")
    options = f"-c fsync=off -c listen_addresses=127.0.0.1 -p {port} -k {root}"
    pg(str(bindir / "pg_ctl"), "-D", str(root / "data"), "-l", str(root / "log"), "-w",
       "-o", options, "start")
    try:
        with psycopg.connect(host=str(root), port=port, user="postgres", dbname="postgres",
                             autocommit=True) as admin:
            admin.execute("CREATE ROLE airbyte LOGIN")
            admin.execute("CREATE DATABASE airbyte OWNER airbyte")
            admin.execute("CREATE DATABASE airbyte_empty OWNER airbyte")
        with psycopg.connect(host="127.0.0.1", port=port, user="airbyte", dbname="airbyte",
                             autocommit=True) as conn:
            conn.execute("CREATE TABLE airbyte_metadata (key varchar PRIMARY KEY, value text)")
        yield port
    finally:
        pg(str(bindir / "pg_ctl"), "-D", str(root / "data"), "stop", "-m", "immediate")
        shutil.rmtree(root, ignore_errors=True)


# --- what a container shows, read back through the Docker API ---------------------------

def _observe(started: Engine) -> dict[tuple[str, str], object]:
    """Every attribute a check might read, per container, with log timestamps dropped."""
    client = started.client()
    seen: dict[tuple[str, str], object] = {}
    for name in NAMES:
        found = client.containers.get(name)
        state = found.attrs["State"]
        seen[name, "status"] = state["Status"]
        seen[name, "exit_code"] = state["ExitCode"]
        seen[name, "env"] = sorted(item for item in found.attrs["Config"]["Env"]
                                   if not item.startswith(_ADDED_AT_START))
        seen[name, "mounts"] = sorted((m["Type"], m.get("Name"), m["Destination"])
                                      for m in found.attrs["Mounts"] or [])
        logs = found.logs().decode().splitlines()
        seen[name, "logs"] = [_STAMP.sub("", line) for line in logs]
    return seen


@pytest.fixture(scope="module")
def healthy(running: Engine) -> dict[tuple[str, str], object]:
    containers.create_airbyte(running, db_port=5432, db_password=SECRET)
    return _observe(running)


def _logs(seen: dict[tuple[str, str], object], name: str) -> str:
    return "\n".join(seen[name, "logs"])  # type: ignore[arg-type]


def _env(seen: dict[tuple[str, str], object], name: str) -> dict[str, str]:
    return dict(item.split("=", 1) for item in seen[name, "env"])  # type: ignore[union-attr]


# --- tests ----------------------------------------------------------------------------

@needs("engine")
def test_engine_answers_the_docker_api(running: Engine) -> None:
    client = running.client()
    assert running.docker_host == f"unix://{running.socket_path}"
    assert client.ping() is True
    assert client.version()["ApiVersion"] == engine.API_VERSION


def test_unavailable_engine_says_what_to_install(monkeypatch: pytest.MonkeyPatch,
                                                 tmp_path: Path) -> None:
    monkeypatch.setattr(engine, "_which", lambda name: None)
    assert engine.available() == (
        False, "podman and runc not installed: apt-get install podman runc")
    with pytest.raises(EngineUnavailable, match="^podman and runc not installed"):
        Engine(tmp_path / "engine").start()
    assert not (tmp_path / "engine").exists()


@needs("engine")
def test_healthy_bootloader_exits_0_after_bootstrapping(
        healthy: dict[tuple[str, str], object]) -> None:
    logs = healthy[BOOTLOADER, "logs"]
    assert healthy[BOOTLOADER, "status"] == "exited"
    assert healthy[BOOTLOADER, "exit_code"] == 0
    assert logs[-1].endswith("Finished bootstrapping Airbyte environment.")
    steps = [step for _, step in containers._BOOT_STEPS]
    assert [line.split(" - ", 1)[1] for line in logs] == steps
    for name in (SERVER, WORKER, SCHEDULER, DB):
        assert healthy[name, "status"] == "running", name
    assert _env(healthy, SERVER)["DATABASE_PASSWORD"] == SECRET
    assert ("volume", "airbyte-workspace", "/tmp/workspace") in healthy[WORKER, "mounts"]
    assert "Scheduler started" in _logs(healthy, SCHEDULER)


FAULTED = {
    "airbyte_bootloader_failed": {
        (BOOTLOADER, "exit_code"), (BOOTLOADER, "logs"),
        (SERVER, "status"), (SERVER, "logs"), (WORKER, "status"), (WORKER, "logs"),
    },
    "airbyte_db_empty_schema": {(SERVER, "status"), (SERVER, "exit_code"), (SERVER, "logs")},
    "airbyte_metadata_missing": {(SERVER, "status"), (SERVER, "exit_code"), (SERVER, "logs")},
    "airbyte_worker_mounts": {(WORKER, "env")},
    "airbyte_source_config_missing": {(WORKER, "logs")},
    "airbyte_scheduler_silent": {(SCHEDULER, "logs")},
    "airbyte_beat_entry_missing": {(SCHEDULER, "logs")},
}

# What each fault's evidence must say, beyond which attributes changed.
EVIDENCE = {
    "airbyte_bootloader_failed": lambda seen: (
        seen[BOOTLOADER, "exit_code"] == 255
        and seen[BOOTLOADER, "logs"][-1].endswith("Unable to bootstrap Airbyte environment.")
        and seen[SERVER, "status"] == seen[WORKER, "status"] == "created"),
    "airbyte_db_empty_schema": lambda seen: (
        seen[SERVER, "status"] == "exited" and seen[SERVER, "exit_code"] != 0
        and 'ERROR: relation "airbyte_metadata" does not exist' in _logs(seen, SERVER)),
    "airbyte_metadata_missing": lambda seen: EVIDENCE["airbyte_db_empty_schema"](seen),
    "airbyte_worker_mounts": lambda seen: (
        _env(seen, WORKER)["WORKSPACE_DOCKER_MOUNT"] == "airbyte_workspace"
        and ("volume", "airbyte-workspace", "/tmp/workspace") in seen[WORKER, "mounts"]),
    "airbyte_source_config_missing": lambda seen: (
        "FileNotFoundError: [Errno 2] No such file or directory: 'source_config.json'"
        in "\n".join(seen[WORKER, "logs"][-5:])),
    "airbyte_scheduler_silent": lambda seen: (
        "Scheduler started" not in _logs(seen, SCHEDULER)
        and seen[SCHEDULER, "status"] == "running"),
    "airbyte_beat_entry_missing": lambda seen: (
        "airbyte-scheduled-syncs-hourly" not in _logs(seen, SCHEDULER)
        and "Scheduler started" in _logs(seen, SCHEDULER)),
}


@needs("engine")
@pytest.mark.parametrize("fault", sorted(FAULTED))
def test_fault_changes_only_its_evidence(running: Engine, healthy: dict, fault: str) -> None:
    made = containers.create_airbyte(running, faults={fault}, db_port=5432, db_password=SECRET)
    seen = _observe(running)
    changed = {key for key in healthy if seen[key] != healthy[key]}
    assert changed == FAULTED[fault]
    assert EVIDENCE[fault](seen)
    assert set(made.started) == {name for name in NAMES if seen[name, "status"] != "created"}


@needs("engine", "postgres")
def test_psql_in_airbyte_db_reaches_the_real_server(running: Engine, postgres: int) -> None:
    containers.create_airbyte(running, db_port=postgres, db_password=SECRET)
    db = running.client().containers.get(DB)
    listed = db.exec_run("psql -U airbyte -d airbyte -c '\\dt'")
    assert listed.exit_code == 0, listed.output
    assert re.search(rb"public \| airbyte_metadata \| table \| airbyte", listed.output)
    empty = db.exec_run("psql -U airbyte -d airbyte_empty -c '\\dt'")
    assert (empty.exit_code, empty.output.strip()) == (0, b"Did not find any relations.")


def _live(pid: int) -> bool:
    """Alive and not a zombie (this machine's init does not reap orphans)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def _naming(path: Path) -> list[int]:
    """Live processes whose command line mentions `path`, by any name."""
    hits = []
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            if str(path).encode() in (entry / "cmdline").read_bytes():
                hits.append(int(entry.name))
        except OSError:
            continue
    return [pid for pid in hits if pid != os.getpid() and _live(pid)]


def _mounts_below(path: Path) -> list[str]:
    lines = Path("/proc/self/mountinfo").read_text().splitlines()
    return [line.split()[4] for line in lines if line.split()[4].startswith(str(path))]


@pytest.mark.parametrize("how", ["stop", "after_service_killed"])
@needs("engine")
def test_stop_leaves_no_process_or_storage(tmp_path: Path, how: str) -> None:
    service = containers.AirbyteService(tmp_path / "engine", set(), db_port=5432,
                                        db_password=SECRET)
    docker_host = service.start()
    started = service.engine
    workdir, socket_dir, pid = started.workdir, started.socket_path.parent, started.pid
    assert docker_host == started.docker_host and set(service.created.containers) == set(NAMES)
    client = started.client()
    inside = [client.containers.get(name).attrs["State"]["Pid"] for name in (DB, WORKER)]
    client.containers.get(DB).exec_run("true")  # an exec session's monitor outlives it
    assert _naming(workdir) and all(_live(each) for each in inside)
    if how == "after_service_killed":
        os.kill(pid, signal.SIGKILL)  # leaves its mounts behind
    service.stop()
    service.stop()
    assert _naming(workdir) == []
    assert not any(_live(each) for each in [pid, *inside])
    assert not workdir.exists() and not socket_dir.exists()
    assert _mounts_below(workdir) == []


@needs("engine")
def test_start_that_times_out_cleans_up(tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine, "READY_TIMEOUT", 0.0)
    workdir = tmp_path / "engine"
    with pytest.raises(EngineUnavailable, match="^podman service did not answer within 0 s$"):
        Engine(workdir).start()
    assert _naming(workdir) == []
    assert not workdir.exists()


class _ExitingContainer:
    """Answers its first inspect with podman's error, then as exited: the engine's own race
    (an inspect while the container's process exits) cannot be produced on demand."""

    name = "one-shot"

    def __init__(self, explanation: str) -> None:
        self.explanation = explanation
        self.asks = 0
        self.attrs: dict = {}

    def start(self) -> None:
        pass

    def reload(self) -> None:
        self.asks += 1
        if self.asks == 1:
            answer = requests.Response()
            answer.status_code, answer.reason = 500, "Internal Server Error"
            raise docker.errors.APIError("500 Server Error", response=answer,
                                         explanation=self.explanation)
        self.attrs = {"State": {"Status": "exited", "ExitCode": 0}}

    def logs(self, tail: int) -> bytes:
        return b""


def test_settle_asks_again_when_the_engine_answers_while_the_process_exits() -> None:
    one_shot = Spec("one-shot", "init", logs=(), env={}, exit_code=0)
    container = _ExitingContainer("read /proc/9229/cgroup: no such process")
    assert settle(container, one_shot, deadline=time.monotonic() + 5) == 0  # type: ignore[arg-type]
    assert container.asks == 2
    other = _ExitingContainer("no space left on device")
    with pytest.raises(docker.errors.APIError, match="no space left"):
        settle(other, one_shot, deadline=time.monotonic() + 5)  # type: ignore[arg-type]
    assert other.asks == 1

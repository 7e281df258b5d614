"""A throwaway PostgreSQL server on loopback, run from the host's own server binaries.

A real server rather than a fake: the database checks run psql and psycopg against it, and
only a real server answers catalog queries, password failures and `\\dt` the way the runbook
shows them. Everything it writes lives in one directory that `stop()` removes.

That directory goes in memory (/dev/shm) when there is room: the data is disposable, and on
a VM's disk initdb and each CREATE DATABASE cost ten times as much (1.35 s against 0.47 s,
and 0.23 s against 0.025 s, measured on this project's machine).
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
import time
import weakref
from collections.abc import Callable, Set
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo

from sandbox.parts.http import refused_port
from sandbox.parts.lifecycle import Managed

SERVER_USER = "postgres"
SUPERUSER = "postgres"
INSTALL_HINT = "apt-get install postgresql"
READY_TIMEOUT = 15.0
STOP_TIMEOUT = 10.0
PORT_ATTEMPTS = 5
# A unix socket path must fit sun_path (108 bytes with the NUL); the server appends
# "/.s.PGSQL.<port>" to the socket directory, and the directory is "<workdir>/pg-XXXXXXXX/run".
_SOCKET_PATH_MAX = 107
_SOCKET_SUFFIX_LEN = len("/pg-4194304-XXXXXXXX/run/.s.PGSQL.65535")
MEMORY = Path("/dev/shm")
# A fleet-sized sandbox holds a few hundred MB; below this much free memory, use the disk.
MEMORY_NEEDED = 1 << 30

# Socket connections stay trust so the sandbox can administer the server without a secret;
# TCP from loopback demands scram so role passwords (and wrong ones) mean what they say.
PG_HBA = """\
# TYPE  DATABASE  USER  ADDRESS       METHOD
local   all       all                 trust
host    all       all   127.0.0.1/32  scram-sha-256
"""

# fsync and friends off: the data is disposable and durability costs most of a start.
# log_min_error_statement=panic keeps a failed CREATE ROLE ... PASSWORD out of the log.
SERVER_SETTINGS = {
    "listen_addresses": "127.0.0.1",
    "fsync": "off",
    "full_page_writes": "off",
    "synchronous_commit": "off",
    "log_min_error_statement": "panic",
    # Who ran each logged statement: the query log shows what the diagnostics' roles sent.
    "log_line_prefix": "%m [%u] ",
}
_LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d \S+ \S+ \[([^\]]*)\] (\w+):  (.*)$")
# Simple queries log as "statement: ...", extended-protocol ones as "execute <name>: ...".
_STATEMENT = re.compile(r"^(?:statement|execute [^:]*): ")


def _bindir() -> Path | None:
    """PATH first, then Debian's versioned directory: `apt-get install postgresql` does not
    put initdb or postgres on PATH, so a fresh CI machine would otherwise look empty."""
    found = shutil.which("initdb")
    candidates = [Path(found).resolve().parent] if found else []
    versions = [p for p in Path("/usr/lib/postgresql").glob("*/bin") if p.parent.name.isdigit()]
    candidates += sorted(versions, key=lambda p: int(p.parent.name), reverse=True)
    for bindir in candidates:
        if all((bindir / tool).is_file() for tool in ("initdb", "pg_ctl", "postgres")):
            return bindir
    return None


def _run_as() -> dict[str, Any]:
    """The server refuses to run as root, so root drops to the postgres OS user in the child;
    anyone else simply runs it as themselves."""
    if os.geteuid() != 0:
        return {}
    return {"user": SERVER_USER, "group": pwd.getpwnam(SERVER_USER).pw_gid, "extra_groups": []}


def available() -> tuple[bool, str]:
    """Whether a server can be started here, and if not, the one thing to fix."""
    bindir = _bindir()
    if bindir is None:
        return False, f"PostgreSQL server binaries not found: {INSTALL_HINT}"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam(SERVER_USER)
        except KeyError:
            return False, f"OS user {SERVER_USER!r} not found (running as root): {INSTALL_HINT}"
    return True, f"PostgreSQL server binaries in {bindir}"


def _memory_dir(run_as: dict[str, Any]) -> Path | None:
    """/dev/shm when it is a writable tmpfs with room and the server user can reach it."""
    try:
        free = os.statvfs(MEMORY)
    except OSError:
        return None
    if (free.f_bavail * free.f_frsize < MEMORY_NEEDED or not os.access(MEMORY, os.W_OK)
            or not _traversable(MEMORY, run_as)):
        return None
    return MEMORY


def _traversable(path: Path, run_as: dict[str, Any]) -> bool:
    """Whether the server user can reach `path`: mode bits only, checked the way the kernel
    picks the owner, group or other class (ACLs are ignored)."""
    if not run_as:
        return True
    entry = pwd.getpwnam(run_as["user"])
    groups = set(os.getgrouplist(entry.pw_name, entry.pw_gid))
    for part in (path, *path.parents):
        info = part.stat()
        if info.st_uid == entry.pw_uid:
            bit = stat.S_IXUSR
        elif info.st_gid in groups:
            bit = stat.S_IXGRP
        else:
            bit = stat.S_IXOTH
        if not info.st_mode & bit:
            return False
    return True


def _free_port() -> int:
    """A port that was free a moment ago; the start retries if someone takes it meanwhile."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class _Instance:
    """What a running server owns, kept apart from `Postgres` so a finalizer can release it
    even when the caller forgets to stop (it must not hold a reference to the Postgres)."""

    root: Path
    run_as: dict[str, Any]
    pg_ctl: Path
    proc: subprocess.Popen[bytes] | None = None
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def data(self) -> Path:
        return self.root / "data"

    def close(self) -> None:
        started = time.perf_counter()
        proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            self._stop_server(proc)
        shutil.rmtree(self.root, ignore_errors=True)
        self.timings["stop"] = time.perf_counter() - started

    def _stop_server(self, proc: subprocess.Popen[bytes]) -> None:
        """pg_ctl's immediate mode first; if it cannot (say the pid file never appeared), the
        same SIGQUIT straight to the postmaster we started, and SIGKILL only as a last resort.
        pg_ctl does not wait (-W) because its wait polls at 100 ms steps; waiting on the Popen
        instead returns the moment the postmaster exits and reaps it, so no zombie is left."""
        stop = [str(self.pg_ctl), "stop", "-D", str(self.data), "-m", "immediate", "-W", "-s"]
        try:
            subprocess.run(
                stop,
                **self.run_as,
                cwd=self.root,
                capture_output=True,
                timeout=STOP_TIMEOUT,
                check=True,
            )
        except (subprocess.SubprocessError, OSError):
            if proc.poll() is None:
                proc.send_signal(signal.SIGQUIT)
        try:
            proc.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class Postgres(Managed):
    """One disposable server: trust over its private unix socket, scram over 127.0.0.1."""

    host = "127.0.0.1"

    def __init__(self, workdir: Path, in_memory: bool = True) -> None:
        self.workdir = Path(workdir)
        self.in_memory = in_memory
        self.port = 0
        self._instance: _Instance | None = None
        self._finalizer: weakref.finalize | None = None
        self.timings: dict[str, float] = {}

    @property
    def pid(self) -> int | None:
        """The postmaster's pid, for callers that must prove it is gone after stop()."""
        instance = self._instance
        return instance.proc.pid if instance and instance.proc else None

    @property
    def root(self) -> Path | None:
        return self._instance.root if self._instance else None

    @property
    def socket_dir(self) -> Path:
        if self._instance is None:
            raise RuntimeError("postgres is not started")
        return self._instance.root / "run"

    def start(self) -> Postgres:
        if self._instance is not None:
            raise RuntimeError("postgres already started")
        ok, reason = available()
        if not ok:
            raise RuntimeError(reason)
        bindir = _bindir()
        assert bindir is not None
        run_as = _run_as()
        began = time.perf_counter()
        instance = _Instance(self._make_root(run_as), run_as, bindir / "pg_ctl")
        instance.timings = self.timings
        self._instance = instance
        self._finalizer = weakref.finalize(self, instance.close)
        try:
            self._initdb(bindir / "initdb")
            instance.timings["initdb"] = time.perf_counter() - began
            self._launch(bindir / "postgres")
            with self.superuser("postgres") as conn:
                conn.execute("SELECT 1")
        except BaseException:
            self.stop()
            raise
        self.timings["start"] = time.perf_counter() - began
        return self

    def _make_root(self, run_as: dict[str, Any]) -> Path:
        """A fresh 0755 directory for data, socket and log, named after this process so a
        run's own can be told apart. It goes in memory when allowed and there is room;
        else under the workdir when the server user can reach it there and the socket path
        fits; pytest's and mkdtemp's 0700 directories fail the first test, so then it goes
        under the system temp directory, rather than loosening permissions on directories
        this class does not own."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        parent = _memory_dir(run_as) if self.in_memory else None
        if parent is None:
            parent = self.workdir.resolve()
            if (
                not _traversable(parent, run_as)
                or len(str(parent)) + _SOCKET_SUFFIX_LEN > _SOCKET_PATH_MAX
            ):
                parent = Path(tempfile.gettempdir()).resolve()
        root = Path(tempfile.mkdtemp(prefix=f"pg-{os.getpid()}-", dir=parent))
        root.chmod(0o755)
        for name, mode in (("data", 0o700), ("run", 0o755)):
            (root / name).mkdir(mode=mode)
            if run_as:
                shutil.chown(root / name, user=run_as["user"], group=run_as["group"])
        return root

    def _initdb(self, initdb: Path) -> None:
        instance = self._require()
        command = [
            str(initdb),
            "-D",
            str(instance.data),
            "-U",
            SUPERUSER,
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
            "--no-instructions",
        ]
        done = subprocess.run(
            command,
            **instance.run_as,
            cwd=instance.root,
            capture_output=True,
            text=True,
            env={**os.environ, "TZ": "UTC"},
            timeout=120,
        )
        if done.returncode != 0:
            raise RuntimeError(f"initdb failed ({done.returncode}): {done.stderr.strip()[-2000:]}")
        (instance.data / "pg_hba.conf").write_text(PG_HBA)

    def _launch(self, postgres: Path) -> None:
        """Start the postmaster directly (not via pg_ctl) so its pid is ours to wait on; a port
        taken between probing and binding just means another try with a new one."""
        instance = self._require()
        log_path = instance.root / "server.log"
        for _ in range(PORT_ATTEMPTS):
            self.port = _free_port()
            settings = {**SERVER_SETTINGS, "unix_socket_directories": str(self.socket_dir)}
            command = [str(postgres), "-D", str(instance.data), "-p", str(self.port)]
            for key, value in settings.items():
                command += ["-c", f"{key}={value}"]
            with log_path.open("ab") as log:
                log_start = log.tell()
                # Its own process group: a Ctrl-C in the terminal goes to the run's group,
                # and the run stops the server itself, after the check in progress.
                instance.proc = subprocess.Popen(
                    command,
                    **instance.run_as,
                    cwd=instance.root,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=log,
                    process_group=0,
                )
            if self._wait_ready(instance.proc, log_path, log_start):
                return
            instance.proc = None
        raise RuntimeError(f"postgres found no free port in {PORT_ATTEMPTS} attempts")

    def _wait_ready(self, proc: subprocess.Popen[bytes], log_path: Path, log_start: int) -> bool:
        """True once the postmaster reports ready in its pid file (what pg_ctl -w watches);
        False if it exited because the port was taken; any other failure raises with the log."""
        pid_file = self._require().data / "postmaster.pid"
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                log = log_path.read_bytes()[log_start:].decode(errors="replace")
                if "could not bind" in log or "could not create any TCP/IP sockets" in log:
                    return False
                raise RuntimeError(f"postgres exited with {proc.returncode}: {log[-2000:]}")
            try:
                lines = pid_file.read_text().splitlines()
            except FileNotFoundError:
                lines = []
            if len(lines) >= 8 and lines[7].strip() == "ready":
                return True
            time.sleep(0.005)
        raise RuntimeError(f"postgres not ready within {READY_TIMEOUT:.0f} s")

    def _require(self) -> _Instance:
        if self._instance is None:
            raise RuntimeError("postgres is not started")
        return self._instance

    def dsn(self, dbname: str, user: str, password: str) -> str:
        """A libpq keyword DSN over TCP, the path real clients take and the one that checks
        passwords."""
        self._require()
        return make_conninfo(
            host=self.host, port=self.port, dbname=dbname, user=user, password=password
        )

    def superuser(self, dbname: str = "postgres") -> psycopg.Connection:
        """Autocommit, because CREATE DATABASE and most setup refuse a transaction block."""
        return psycopg.connect(
            host=str(self.socket_dir),
            port=self.port,
            user=SUPERUSER,
            dbname=dbname,
            autocommit=True,
        )

    def create_role(
        self,
        name: str,
        password: str,
        *,
        superuser: bool = False,
        bypassrls: bool = False,
        login: bool = True,
    ) -> None:
        options = [
            "SUPERUSER" if superuser else "NOSUPERUSER",
            "BYPASSRLS" if bypassrls else "NOBYPASSRLS",
            "LOGIN" if login else "NOLOGIN",
        ]
        # Utility statements take no bind parameters, so the password is quoted client-side.
        statement = sql.SQL("CREATE ROLE {} WITH {} PASSWORD {}").format(
            sql.Identifier(name), sql.SQL(" ".join(options)), sql.Literal(password)
        )
        with self.superuser() as conn:
            conn.execute(statement)
        if login:
            self.log_statements(name)

    def make_read_only(self, role: str) -> None:
        """Every session of the role starts read-only: a diagnostics role that tried to
        write would fail loudly, as it would against a replica."""
        with self.superuser() as conn:
            conn.execute(sql.SQL("ALTER ROLE {} SET default_transaction_read_only = on").format(
                sql.Identifier(role)))

    def log_statements(self, role: str) -> None:
        """Log every statement ``role`` sends (its own sessions only: the superuser's setup,
        passwords included, is never logged)."""
        with self.superuser() as conn:
            conn.execute(sql.SQL("ALTER ROLE {} SET log_statement = 'all'").format(
                sql.Identifier(role)))

    def log_mark(self) -> int:
        """Where the server log ends now: ``statements(since=...)`` reads after it."""
        instance = self._require()
        path = instance.root / "server.log"
        return path.stat().st_size if path.exists() else 0

    def statements(self, since: int = 0) -> list[tuple[str, str]]:
        """(role, statement) for each statement logged after ``since``, one line each."""
        instance = self._instance
        if instance is None:
            return []
        path = instance.root / "server.log"
        try:
            with path.open("rb") as log:
                log.seek(since)
                text = log.read().decode("utf-8", "replace")
        except OSError:
            return []
        found: list[list[str]] = []
        current: list[str] | None = None
        for line in text.splitlines():
            match = _LOG_LINE.match(line)
            if match is None:  # a statement's next line has no prefix
                if current is not None and line.strip():
                    current[1] = f"{current[1]} {line.strip()}".strip()
                continue
            current = None
            role, level, message = match.groups()
            head = _STATEMENT.match(message) if level == "LOG" else None
            if head:
                current = [role, message[head.end():].strip()]
                found.append(current)
        return [(role, statement) for role, statement in found]

    def create_database(self, name: str, owner: str) -> None:
        statement = sql.SQL("CREATE DATABASE {} OWNER {}").format(
            sql.Identifier(name), sql.Identifier(owner)
        )
        with self.superuser() as conn:
            conn.execute(statement)

    def stop(self) -> None:
        """Safe to call twice, after a failed start, or never (the finalizer then runs at exit)."""
        finalizer, self._finalizer = self._finalizer, None
        if finalizer is not None:
            finalizer()
        self._instance = None
        self.port = 0



class Databases:
    """Builds databases and publishes where each is reached: ``dsn[name]`` (a DSN without
    the password, which the profile holds), or ``dsn[name + "_unavailable"]`` saying why
    it failed to build. A fault named ``<name>_port_closed`` points the DSN at a port
    nothing listens on."""

    def __init__(self, faults: Set[str], dsn: dict[str, str]) -> None:
        self._faults = faults
        self.dsn = dsn

    def build(self, name: str, build: Callable[[], dict[str, Any]]) -> None:
        self.build_all((name,), lambda: {name: build()})

    def build_all(self, names: tuple[str, ...],
                  build: Callable[[], dict[str, dict[str, Any]]]) -> None:
        """Each database has its own roles, so one failing to build does not take the
        other's checks down."""
        try:
            built = build()
        except Exception as exc:  # noqa: BLE001 - reported through the profile instead
            for name in names:
                self.dsn[f"{name}_unavailable"] = f"the sandbox's {name} failed to build ({exc})"
            return
        for name, where in built.items():
            port = refused_port() if f"{name}_port_closed" in self._faults else where["port"]
            self.dsn[name] = (f"postgresql://{where['user']}@{where['host']}:{port}/"
                              f"{where['dbname']}")

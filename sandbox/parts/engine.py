"""A private Docker-API container engine: podman's compatible service on a unix socket.

The container checks inspect containers through the docker SDK, exactly as they would on a
real Docker host, so the sandbox needs a real engine rather than a fake API. podman serves
the Docker API without a daemon of its own, and every Engine gets its own storage, lock
files, events log and network config under its workdir: parallel runs, and other podman
users on the machine, never see each other's containers.

The settings below are the ones this kind of machine needs (see the tooling notes): the
default ulimits are above what a process may raise, crun fails on this cgroup setup, and
host networking avoids touching iptables. Containers only ever use loopback.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import weakref
from dataclasses import dataclass, field
from pathlib import Path

import docker

from sandbox.parts.lifecycle import Managed

INSTALL_HINT = "apt-get install podman runc"
API_VERSION = "1.41"
READY_TIMEOUT = 10.0
STOP_GRACE = 5.0
CLIENT_TIMEOUT = 30.0
# podman refuses a longer runroot: conmon's attach sockets under it must fit sun_path.
_RUNROOT_MAX = 50
# Extra places to look for runc: it lives in /usr/sbin, which a non-login PATH may lack.
_SBIN = "/usr/local/sbin:/usr/sbin:/sbin"

CONTAINERS_CONF = """\
# Written by sandbox.engine for one Engine; everything podman keeps lives beside this file.
[containers]
# podman's defaults (1048576 files) exceed the hard limits a process gets here.
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]
# The host's network namespace: no bridge, no iptables rules; containers reach loopback.
netns = "host"
log_driver = "k8s-file"

[engine]
# crun fails on this machine's cgroup setup; there is no systemd to manage cgroups.
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
# The defaults (/run/libpod and shm locks in /dev/shm) are shared by every podman on the
# host, and a fresh tmp_dir makes podman free all locks it can see: keep both private.
tmp_dir = "{tmp}"
lock_type = "file"
# An exec session's monitor otherwise lingers 300 s, then runs a cleanup against storage
# that stop() has already removed.
exit_command_delay = 10

[network]
network_backend = "netavark"
network_config_dir = "{networks}"
"""


class EngineUnavailable(RuntimeError):
    """No engine can be had here; the message is one line saying what to fix."""


def available() -> tuple[bool, str]:
    """Whether an engine could be started here, without starting one."""
    missing = [name for name in ("podman", "runc") if _which(name) is None]
    if missing:
        return False, f"{' and '.join(missing)} not installed: {INSTALL_HINT}"
    return True, "podman and runc installed"


def _which(name: str) -> str | None:
    return shutil.which(name) or shutil.which(name, path=_SBIN)


def engine_pids(storage: Path) -> list[int]:
    """Live podman and conmon processes working on `storage` (an engine's graph root).

    The service, each container's monitor (conmon) and the cleanup commands the monitors
    run all name the storage on their command line, and the monitors are detached from the
    service, so this is how to find every process an engine started, and no other.
    """
    marker = str(storage).encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            name = (entry / "comm").read_text().strip()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if name in ("podman", "conmon") and marker in cmdline.split(b"\0"):
            found.append(int(entry.name))
    return found


def _ping(path: str, timeout: float = 1.0) -> bool:
    """A raw `/_ping`: cheaper than building an SDK client for every poll."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
            conn.settimeout(timeout)
            conn.connect(path)
            conn.sendall(b"GET /_ping HTTP/1.0\r\nHost: d\r\n\r\n")
            status_line = conn.recv(64).split(b"\r\n", 1)[0]
    except OSError:
        return False
    return status_line.split()[1:2] == [b"200"]


@dataclass
class _Service:
    """What a started engine owns, apart from the Engine so that a finalizer can release it
    when the caller never calls stop() (a finalizer must not reference the Engine)."""

    workdir: Path
    short: Path  # the runroot and the API socket, whose paths must stay short
    proc: subprocess.Popen[bytes] | None = None
    owned: list[Path] = field(default_factory=list)

    @property
    def storage(self) -> tuple[Path, Path]:
        return self.workdir / "root", self.short / "run"

    def podman(self, *args: str, timeout: float = 60.0) -> subprocess.CompletedProcess[str]:
        """The podman CLI on this engine's storage: it works with or without the service."""
        return subprocess.run(
            [_which("podman") or "podman", *self.flags(), *args],
            env=self.env(), capture_output=True, text=True, timeout=timeout,
            stdin=subprocess.DEVNULL,
        )

    def flags(self) -> list[str]:
        root, runroot = self.storage
        return ["--root", str(root), "--runroot", str(runroot)]

    def env(self) -> dict[str, str]:
        path = os.environ.get("PATH", "/usr/bin:/bin")
        # TMPDIR: the API's image load spools each archive to a temp file it never removes;
        # under the engine's own tmp it goes with the engine instead of piling up in /var/tmp.
        return {**os.environ, "CONTAINERS_CONF": str(self.workdir / "containers.conf"),
                "PATH": f"{path}:{_SBIN}", "TMPDIR": str(self.workdir / "tmp")}

    def close(self) -> None:
        """Each step only undoes what exists, so a second call is a no-op. A step that fails
        does not stop the later ones; the failures are raised together at the end."""
        problems = []
        if self.storage[0].exists():
            # -t 0: kill at once; the sandbox's containers hold nothing worth a clean stop.
            try:
                removed = self.podman("rm", "--all", "--force", "--time", "0")
            except subprocess.TimeoutExpired:
                problems.append("podman rm --all did not finish")
            else:
                if removed.returncode != 0:
                    problems.append(f"podman rm failed: {removed.stderr.strip()[-300:]}")
        self._terminate()
        self._kill_stragglers()
        for path in reversed(self.owned):
            try:
                self._remove(path)
            except (OSError, subprocess.SubprocessError) as exc:
                problems.append(f"could not remove {path}: {exc}")
        self.owned = []
        if problems:
            raise RuntimeError("; ".join(problems))

    def _terminate(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()  # SIGTERM lets the service unmount its storage on the way out
        try:
            proc.wait(STOP_GRACE)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def _kill_stragglers(self) -> None:
        """Exec-session monitors outlive both their container and the service; killing
        them is safe once the containers are gone, and stops their delayed cleanup from
        writing into storage that is about to be removed."""
        deadline = time.monotonic() + STOP_GRACE
        while (pids := engine_pids(self.storage[0])) and time.monotonic() < deadline:
            for pid in pids:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.02)

    def _remove(self, path: Path) -> None:
        """A service that was killed can leave its overlay mount behind, and rootless
        storage holds files owned by sub-uids that only podman's user namespace may delete:
        both get a second attempt."""
        if path.is_symlink() or path.is_file() or path.is_socket():
            path.unlink()
            return
        if not path.exists():
            return
        try:
            shutil.rmtree(path)
            return
        except OSError:
            if os.geteuid() != 0:
                self.podman("unshare", "rm", "-rf", str(path))
            else:
                _unmount_below(path)
        if path.exists():
            shutil.rmtree(path)


def _unmount_below(path: Path) -> None:
    prefix = str(path.resolve())
    points = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        point = line.split()[4].replace("\\040", " ")
        if point == prefix or point.startswith(prefix + "/"):
            points.append(point)
    for point in sorted(points, key=len, reverse=True):
        subprocess.run(["umount", "-l", point], capture_output=True, check=False)


class Engine(Managed):
    """One podman API service with private storage under `workdir`.

    `stop()` removes everything the engine wrote there (and `workdir` itself if it created
    it), so the same workdir can host the next engine. When `workdir` is deep (pytest's
    temp directories are), the runroot and the socket go to a short temp directory instead,
    which stop() removes too.
    """

    def __init__(self, workdir: Path) -> None:
        self.workdir = Path(workdir).resolve()
        self.timings: dict[str, float] = {}
        self._service: _Service | None = None
        self._client: docker.DockerClient | None = None
        self._finalizer: weakref.finalize | None = None

    @property
    def socket_path(self) -> Path:
        service = self._require()
        return service.short / "podman.sock"

    @property
    def docker_host(self) -> str:
        return f"unix://{self.socket_path}"

    @property
    def pid(self) -> int | None:
        """The service's pid, for callers that must prove it is gone after stop()."""
        service = self._service
        return service.proc.pid if service and service.proc else None

    def start(self) -> Engine:
        if self._service is not None:
            raise RuntimeError("engine already started")
        ok, reason = available()
        if not ok:
            raise EngineUnavailable(reason)
        began = time.perf_counter()
        service = self._service = self._prepare()
        self._finalizer = weakref.finalize(self, service.close)
        try:
            self._launch(service)
        except BaseException:
            self.stop()
            raise
        self.timings["start"] = time.perf_counter() - began
        return self

    def _prepare(self) -> _Service:
        owned = [] if self.workdir.exists() else [self.workdir]
        self.workdir.mkdir(parents=True, exist_ok=True)
        short = self.workdir
        if len(str(short / "run")) > _RUNROOT_MAX:
            short = Path(tempfile.mkdtemp(prefix="podman-"))
            owned.append(short)
        service = _Service(self.workdir, short, owned=owned)
        names = ("containers.conf", "root", "tmp", "networks", "service.log")
        service.owned += [self.workdir / name for name in names]
        service.owned += [short / "run", short / "podman.sock"]
        (self.workdir / "tmp").mkdir(exist_ok=True)
        (self.workdir / "containers.conf").write_text(CONTAINERS_CONF.format(
            tmp=self.workdir / "tmp", networks=self.workdir / "networks"))
        return service

    def _launch(self, service: _Service) -> None:
        """Own session: a Ctrl-C in the terminal must not kill the service before stop()
        has removed the containers, or their monitors would be orphaned."""
        sock = self.socket_path
        with (self.workdir / "service.log").open("ab") as log:
            service.proc = subprocess.Popen(
                [_which("podman") or "podman", *service.flags(), "system", "service",
                 "--time=0", f"unix://{sock}"],
                env=service.env(), stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                start_new_session=True,
            )
        deadline = time.monotonic() + READY_TIMEOUT
        while not _ping(str(sock)):
            if service.proc.poll() is not None:
                raise EngineUnavailable(
                    f"podman service exited with {service.proc.returncode}: {self._log_tail()}")
            if time.monotonic() > deadline:
                raise EngineUnavailable(
                    f"podman service did not answer within {READY_TIMEOUT:g} s")
            time.sleep(0.02)

    def _log_tail(self) -> str:
        lines = (self.workdir / "service.log").read_text(errors="replace").strip().splitlines()
        return lines[-1][:300] if lines else "(no output)"

    def _require(self) -> _Service:
        if self._service is None:
            raise RuntimeError("engine is not started")
        return self._service

    def client(self) -> docker.DockerClient:
        """One shared client: the SDK's connection pool is safe across threads, and a pinned
        API version saves the negotiation round trip."""
        if self._client is None:
            self._client = docker.DockerClient(
                base_url=self.docker_host, version=API_VERSION, timeout=CLIENT_TIMEOUT)
        return self._client

    def podman(self, *args: str, timeout: float = 60.0) -> subprocess.CompletedProcess[str]:
        """The podman CLI against this engine's storage, for what the Docker API lacks."""
        return self._require().podman(*args, timeout=timeout)

    def stop(self) -> None:
        """Removes the containers and volumes, ends the service and every monitor process it
        started, and deletes the storage. Safe to call twice or after a failed start."""
        client, self._client = self._client, None
        finalizer, self._finalizer = self._finalizer, None
        self._service = None
        if client is not None:
            client.close()
        if finalizer is not None:
            finalizer()  # runs _Service.close, at most once even if it raises


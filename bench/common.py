"""What the benchmarks share: run the suite as a user would and time it."""

from __future__ import annotations

import os
import re
import resource
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024


@dataclass
class Timed:
    wall: float
    session: float  # pytest's own "in N s": the run without interpreter start and boot
    last_line: str
    peak_mb: float  # the whole process tree's resident memory, summed, at its highest
    controller_mb: float  # the pytest process itself (with the in-process sandbox)
    # RSS counts a shared page once per process that maps it (PostgreSQL's shared buffers,
    # libraries); PSS divides it among them, so the tree's PSS is what the run really holds.
    peak_pss_mb: float = 0.0
    by_kind: dict[str, float] | None = None  # PSS by process kind, at the PSS peak
    shm_mb: float = 0.0  # memory-backed files (the database cluster in /dev/shm), at peak
    cpu_by_kind: dict[str, float] | None = None  # CPU seconds, by process kind
    # CPU seconds of pytest and of every process it waited for, as /usr/bin/time counts
    # them: beside the wall time, whether the run waited or worked.
    cpu: float = 0.0


def worker_id(config) -> str:
    """The xdist worker a pytest process is ('gw0', ...), or '' for the controller."""
    return getattr(config, "workerinput", {}).get("workerid", "")


def cpu_line(run: Timed) -> str:
    """CPU seconds by process kind, largest first."""
    return ", ".join(f"{kind} {s:.1f}" for kind, s in
                     sorted((run.cpu_by_kind or {}).items(), key=lambda kv: -kv[1]) if s >= 0.1)


def run_suite(*args: str, env: dict[str, str] | None = None) -> Timed:
    """One whole pytest process, with its wall time and peak memory (children included)."""
    started, cpu_before = time.perf_counter(), _reaped_cpu()
    proc = subprocess.Popen([sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", *args],
                            cwd=ROOT, env=dict(os.environ, **(env or {})),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    sampler = TreeSampler(proc.pid)
    sampler.start()
    out, _ = proc.communicate()
    wall = time.perf_counter() - started
    sampler.stop()
    lines = [line for line in out.strip().splitlines() if line.strip()]
    last = lines[-1] if lines else "(no output)"
    match = re.search(r" in ([\d.]+)s", last)
    return Timed(wall, float(match.group(1)) if match else float("nan"), last,
                 sampler.peak_kb / 1024, sampler.root_kb / 1024, sampler.peak_pss_kb / 1024,
                 {kind: kb / 1024 for kind, kb in sampler.by_kind.items()},
                 sampler.shm_kb / 1024, sampler.cpu_by_kind(), _reaped_cpu() - cpu_before)


def _reaped_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


class TreeSampler(threading.Thread):
    """Sums the resident memory of the run's process tree a few times a second: pytest,
    its xdist workers, and what the sandbox starts (PostgreSQL, the engine), counted by
    descent from pytest or by its session, since a daemon leaves its parent. getrusage
    only knows the largest single child, and only once it has been waited for."""

    def __init__(self, root: int, every: float = 0.2) -> None:
        super().__init__(daemon=True)
        self.root, self.every = root, every
        self.peak_kb = 0
        self.root_kb = 0
        self.peak_pss_kb = 0
        self.by_kind: dict[str, int] = {}
        self.shm_kb = 0
        self._shm_base = _shm_used_kb()
        self._cpu: dict[int, tuple[str, float]] = {}  # pid: (kind, CPU seconds last seen)
        self._done = threading.Event()

    def run(self) -> None:
        while not self._done.wait(self.every):
            self.sample()

    def stop(self) -> None:
        self._done.set()
        self.join()

    def sample(self) -> None:
        parents, sessions = {}, {}
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                fields = _stat(int(entry))
                if fields is not None:
                    parents[int(entry)], sessions[int(entry)] = fields
        tree = {pid for pid, sid in sessions.items() if sid == self.root}
        tree.add(self.root)
        grew = True
        while grew:
            found = {pid for pid, ppid in parents.items() if ppid in tree} - tree
            tree |= found
            grew = bool(found)
        sizes = {pid: _rss_kb(pid) for pid in tree}
        self.peak_kb = max(self.peak_kb, sum(sizes.values()))
        self.root_kb = max(self.root_kb, sizes.get(self.root, 0))
        self.shm_kb = max(self.shm_kb, _shm_used_kb() - self._shm_base)
        for pid in tree:
            spent = _cpu_seconds(pid)
            if spent is not None:
                known = self._cpu.get(pid)
                kind = known[0] if known else ("controller" if pid == self.root else _kind(pid))
                self._cpu[pid] = (kind, spent)
        pss = {pid: _pss_kb(pid) for pid in tree}
        if sum(pss.values()) > self.peak_pss_kb:
            self.peak_pss_kb = sum(pss.values())
            kinds: dict[str, int] = {}
            for pid, kb in pss.items():
                kind = "controller" if pid == self.root else _kind(pid)
                kinds[kind] = kinds.get(kind, 0) + kb
            self.by_kind = kinds

    def cpu_by_kind(self) -> dict[str, float]:
        """CPU seconds each kind of process spent, as last sampled (a process that lived
        less than one interval is missed)."""
        kinds: dict[str, float] = {}
        for kind, spent in self._cpu.values():
            kinds[kind] = kinds.get(kind, 0.0) + spent
        return kinds


def _stat(pid: int) -> tuple[int, int] | None:
    """(parent pid, session id) from /proc/PID/stat; the name may hold spaces, so read
    after its closing parenthesis."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text.rsplit(")", 1)[1].split()
    return int(fields[1]), int(fields[3])


def _rss_kb(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE_KB
    except (OSError, IndexError, ValueError):
        return 0


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _cpu_seconds(pid: int) -> float | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    except (OSError, IndexError, ValueError):
        return None


def _pss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except (OSError, IndexError, ValueError):
        pass
    return 0


def _kind(pid: int) -> str:
    """An xdist worker, or the program's name (postgres, podman, conmon, ...)."""
    try:
        comm = Path(f"/proc/{pid}/comm").read_text().strip()
        if comm.startswith("python"):
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            if b"fixtures.sandbox_process" in argv:
                return "sandbox process"
            return "xdist workers" if b"-c" in argv else comm
        return comm
    except OSError:
        return "?"


def _shm_used_kb() -> int:
    try:
        info = os.statvfs("/dev/shm")
    except OSError:
        return 0
    return (info.f_blocks - info.f_bfree) * info.f_frsize // 1024

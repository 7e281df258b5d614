"""What the benchmarks share: run the suite as a user would and time it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Timed:
    wall: float
    session: float  # pytest's own "in N s": the run without interpreter start and boot
    last_line: str
    peak_mb: float


def run_suite(*args: str, env: dict[str, str] | None = None) -> Timed:
    """One whole pytest process, with its wall time and peak memory (children included)."""
    before = os.wait4 if hasattr(os, "wait4") else None
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", *args],
                            cwd=ROOT, env=dict(os.environ, **(env or {})),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    out, _ = proc.communicate()
    wall = time.perf_counter() - started
    peak = 0.0
    if before is not None:
        import resource

        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    lines = [line for line in out.strip().splitlines() if line.strip()]
    last = lines[-1] if lines else "(no output)"
    match = re.search(r" in ([\d.]+)s", last)
    return Timed(wall, float(match.group(1)) if match else float("nan"), last, peak)

"""Where the memory goes: a pytest plugin that traces allocations with ``tracemalloc``
in the controller (or, with MEMPROFILE_WORKER=gw0, in that xdist worker instead) and
writes the largest holders, by source line and by call stack, once all checks have
reported and again at the end, after the reports were written.

    PYTHONPATH=$PWD/bench python -m pytest -p memprofile --sandbox-tenants=200 -n 2
    (the tables go to $MEMPROFILE_OUT, default /tmp/memprofile.txt)

Tracing slows the controller two to three times; use it to find holders, not to time.
"""

from __future__ import annotations

import os
import time
import tracemalloc
from pathlib import Path

import pytest

OUT = Path(os.environ.get("MEMPROFILE_OUT", "/tmp/memprofile.txt"))
FRAMES = 12


def _controller(config: pytest.Config) -> bool:
    """True in the one process this run profiles."""
    worker = getattr(config, "workerinput", {}).get("workerid", "")
    return worker == os.environ.get("MEMPROFILE_WORKER", "")


def pytest_configure(config: pytest.Config) -> None:
    if _controller(config):
        tracemalloc.start(FRAMES)
        OUT.write_text(f"memprofile of pid {os.getpid()}\n")


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    if _controller(session.config):
        _dump("after the last check, before the reports")


def pytest_unconfigure(config: pytest.Config) -> None:
    if _controller(config) and tracemalloc.is_tracing():
        _dump("at the end, reports written")
        tracemalloc.stop()


def _dump(moment: str) -> None:
    current, peak = tracemalloc.get_traced_memory()
    snapshot = tracemalloc.take_snapshot().filter_traces([
        tracemalloc.Filter(False, tracemalloc.__file__)])
    lines = [f"\n== {moment} ({time.strftime('%H:%M:%S')}): traced {current / 2**20:.1f} MB,"
             f" peak {peak / 2**20:.1f} MB"]
    lines.append("-- top 25 source lines")
    for stat in snapshot.statistics("lineno")[:25]:
        frame = stat.traceback[0]
        lines.append(f"{stat.size / 2**20:9.1f} MB {stat.count:9d} blocks  "
                     f"{frame.filename}:{frame.lineno}")
    lines.append("-- top 12 call stacks")
    for stat in snapshot.statistics("traceback")[:12]:
        lines.append(f"{stat.size / 2**20:9.1f} MB {stat.count:9d} blocks")
        lines += [f"      {f.filename}:{f.lineno}" for f in list(stat.traceback)[-FRAMES:]]
    with OUT.open("a") as handle:
        handle.write("\n".join(lines) + "\n")

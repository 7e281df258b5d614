"""Where the memory goes: a pytest plugin that traces allocations with ``tracemalloc``
in the controller (or, with MEMPROFILE_WORKER=gw0, in that xdist worker instead) and
writes the largest holders, by source line and by call stack, once all checks have
reported and again at the end, after the reports were written.

    PYTHONPATH=$PWD/bench python -m pytest -p memprofile --sandbox-tenants=200 -n 2
    (the tables go to $MEMPROFILE_OUT, default /tmp/memprofile.txt)

Tracing slows the controller two to three times; use it to find holders, not to time.
A traced xdist worker also runs fewer checks than the others (the scheduler feeds the
faster worker), so its traced total understates a worker's share.

MEMPROFILE_MODE=census traces nothing: every process (controller and workers) writes, as
its checks end, its resident memory (``smaps_rollup``), the bytes live in Python's small
object allocator (``sys._debugmallocstats``: live objects, not fragmentation) and the
largest object types, strings and bytes included, found by walking every object the
collector knows, and what the suite's own memos hold: each probe memo (``Memo``: HTTP
answers, AWS calls, table counts, file reads) and each fleet-wide observation a context
keeps (``Context.once``: the tenancy traversal). It costs a few seconds at the end,
nothing during the run.
"""

from __future__ import annotations

import os
import time
import tracemalloc
from pathlib import Path

import pytest
from common import worker_id

OUT = Path(os.environ.get("MEMPROFILE_OUT", "/tmp/memprofile.txt"))
FRAMES = 12


CENSUS = os.environ.get("MEMPROFILE_MODE", "") == "census"


def _controller(config: pytest.Config) -> bool:
    """True in the one process this run profiles."""
    return worker_id(config) == os.environ.get("MEMPROFILE_WORKER", "")


def pytest_configure(config: pytest.Config) -> None:
    if CENSUS:
        if not worker_id(config):
            OUT.write_text("")
        return
    if _controller(config):
        tracemalloc.start(FRAMES)
        OUT.write_text(f"memprofile of pid {os.getpid()}\n")


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    if CENSUS:
        _census(worker_id(session.config) or "controller", len(session.items))
        return
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


def _census(who: str, items: int) -> None:
    import gc
    import sys

    rollup = {line.split(":")[0]: int(line.split()[1]) // 1024
              for line in Path("/proc/self/smaps_rollup").read_text().splitlines()[1:]
              if line.split()[1].isdigit()}
    allocated = _pymalloc_bytes()
    sizes: dict[str, list[int]] = {}
    seen: set[int] = set()
    for holder in gc.get_objects():
        for obj in [holder, *gc.get_referents(holder)]:
            if id(obj) in seen or (obj is not holder and gc.is_tracked(obj)):
                continue
            seen.add(id(obj))
            kind = type(obj).__qualname__
            entry = sizes.setdefault(kind, [0, 0])
            entry[0] += sys.getsizeof(obj)
            entry[1] += 1
    lines = [f"\n== {who} ({items} cases collected here): Rss {rollup.get('Rss', 0)} MB, "
             f"Anonymous {rollup.get('Anonymous', 0)} MB; Python's allocator holds "
             f"{allocated / 2**20:.1f} MB of live small objects",
             f"-- largest object types ({sum(v[0] for v in sizes.values()) / 2**20:.1f} MB "
             "counted; a container's own size, not what it refers to)"]
    for kind, (size, count) in sorted(sizes.items(), key=lambda kv: -kv[1][0])[:15]:
        lines.append(f"{size / 2**20:9.1f} MB {count:9d}  {kind}")
    lines.append("-- the suite's memos (each counted once, in this order)")
    lines += _memos()
    with OUT.open("a") as handle:
        handle.write("\n".join(lines) + "\n")


def _pymalloc_bytes() -> int:
    """'# bytes in allocated blocks' from ``sys._debugmallocstats``, which only prints to
    the C stderr."""
    import sys
    import tempfile

    with tempfile.TemporaryFile("w+") as sink:
        saved = os.dup(2)
        os.dup2(sink.fileno(), 2)
        try:
            sys._debugmallocstats()
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        sink.seek(0)
        for line in sink:
            if line.startswith("# bytes in allocated blocks"):
                return int(line.split("=")[1].replace(",", ""))
    return 0


def _memos() -> list[str]:
    import gc

    from fixtures.context import Context
    from fixtures.probes.bound import Memo

    seen: set[int] = set()
    lines = []
    for obj in gc.get_objects():
        if isinstance(obj, Context):
            for key, value in obj._memo.items():
                size = _deep(value, seen)
                if size >= 2**20:
                    lines.append(f"{size / 2**20:9.1f} MB  {obj.profile.system}: once({key!r})")
    for obj in gc.get_objects():
        if isinstance(obj, Memo) and obj._values:
            size = _deep(obj._values, seen)
            if size >= 2**20:
                lines.append(f"{size / 2**20:9.1f} MB  a probe memo of {len(obj._values)} answers")
    return lines


def _deep(obj: object, seen: set[int]) -> int:
    """Bytes reachable from ``obj`` through containers and instances' attributes, each
    object once; modules, classes and functions are not followed."""
    import sys
    import types

    total, stack = 0, [obj]
    while stack:
        node = stack.pop()
        if id(node) in seen or isinstance(node, types.ModuleType | type | types.FunctionType
                                          | types.MethodType):
            continue
        seen.add(id(node))
        total += sys.getsizeof(node)
        if isinstance(node, dict):
            stack += [*node.keys(), *node.values()]
        elif isinstance(node, list | tuple | set | frozenset):
            stack += list(node)
        elif hasattr(node, "__dict__"):
            stack.append(vars(node))
    return total

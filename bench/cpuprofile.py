"""Where the CPU goes: a pytest plugin that runs ``cProfile`` in one xdist worker (gw0 by
default, CPUPROFILE_WORKER names another; empty means the controller) from configure to
unconfigure, and writes its statistics to $CPUPROFILE_OUT (default /tmp/cpuprofile.prof),
with the time by component (each function's own time, by the package it lives in) and the
top functions by own and cumulative time beside it as text. ``python bench/cpuprofile.py
FILE.prof`` prints the components of a saved profile again.

    PYTHONPATH=$PWD/bench python -m pytest -p cpuprofile --sandbox-tenants=100 -n 2 \\
        --sandbox-process

Profiling slows the worker about two times; use it to share out the time, not to time.
"""

from __future__ import annotations

import cProfile
import io
import os
import pstats
from pathlib import Path

import pytest
from common import worker_id

OUT = Path(os.environ.get("CPUPROFILE_OUT", "/tmp/cpuprofile.prof"))
_profiler: cProfile.Profile | None = None


def _profiled(config: pytest.Config) -> bool:
    return worker_id(config) == os.environ.get("CPUPROFILE_WORKER", "gw0")


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    global _profiler
    if _profiled(config):
        _profiler = cProfile.Profile()
        _profiler.enable()


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    if _profiler is None:
        return
    _profiler.disable()
    _profiler.dump_stats(OUT)
    text = io.StringIO(components(OUT) + "\n")
    text.seek(0, io.SEEK_END)
    stats = pstats.Stats(str(OUT), stream=text)
    stats.sort_stats("tottime").print_stats(40)
    stats.sort_stats("cumulative").print_stats(80)
    OUT.with_suffix(".txt").write_text(text.getvalue())


# The first pattern found in a function's file (or name) names its component; the order
# matters: a thread waiting on a lock is waiting, wherever it waits.
COMPONENTS = (
    ("waiting (locks, sockets, sleeps)", ("'acquire' of '_thread.lock", "select.", "poll",
                                          "time.sleep", "recv", "'read' of '_ssl")),
    ("allure results", ("allure_commons", "allure_pytest", "attr/")),
    ("pytest-html", ("pytest_html",)),
    ("xdist transport", ("xdist/", "execnet/")),
    ("pytest and pluggy", ("_pytest/", "pluggy/")),
    ("httpx and httpcore", ("httpx/", "httpcore/", "h11/", "anyio/")),
    ("psycopg", ("psycopg",)),
    ("docker SDK and requests", ("docker/", "requests/", "urllib3/")),
    ("the checks (diagnostics/)", ("/diagnostics/",)),
    ("the framework's probes", ("/fixtures/probes/",)),
    ("the framework (verdicts, evidence, redaction)", ("/fixtures/",)),
    ("json", ("json/", "_json")),
    ("file writes", ("io.open", "'write' of", "'flush' of", "posix.replace", "'__exit__' of")),
    ("threads", ("threading.py", "start_new_thread", "queue.py", "SimpleQueue")),
    ("regular expressions", ("re.Pattern", "re/", "sre_")),
)


def components(path: Path) -> str:
    """Own time by component, largest first, as lines of text. A built-in function
    (``isinstance``, ``dict.get``) that names no component of its own is charged to its
    callers, in proportion to what each spent in it."""
    stats = pstats.Stats(str(path))
    spent: dict[str, float] = {}
    total = 0.0
    for (filename, _line, name), (_cc, _nc, tottime, _ct, callers) in stats.stats.items():
        total += tottime
        kind = _component(f"{filename}:{name}")
        if kind == "other" and filename == "~" and callers:
            for (c_file, _c_line, c_name), edge in callers.items():
                share = _component(f"{c_file}:{c_name}")
                spent[share] = spent.get(share, 0.0) + edge[2]
            continue
        spent[kind] = spent.get(kind, 0.0) + tottime
    lines = [f"own time by component, {total:.1f} s in all"]
    lines += [f"{seconds:8.2f} s {seconds / total:6.1%}  {kind}"
              for kind, seconds in sorted(spent.items(), key=lambda kv: -kv[1])]
    return "\n".join(lines)


def _component(where: str) -> str:
    return next((label for label, marks in COMPONENTS if any(mark in where for mark in marks)),
                "other")


if __name__ == "__main__":
    import sys

    for name in sys.argv[1:]:
        print(name)
        print(components(Path(name)))

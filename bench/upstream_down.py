"""Time to verdict when the API and Superset are down: refusing, and blackholed.

A refusing port fails at once; a blackholed one (it accepts the connection, then never
answers) costs one read timeout per process, after which every dependent check is
blocked instantly. Prints medians of whole-process wall time next to the profile's
timeouts, so the "probe timeout plus 2 s" budget can be read off directly.

    python bench/upstream_down.py [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROFILE = """name = "{name}"
[urls]
api = "http://127.0.0.1:{api}"
superset = "http://127.0.0.1:{superset}"
[timeouts]
connect = 1.0
read = 2.0
total = 3.0
[[tenants]]
name = "a"
token_env = "DIAG_BENCH_TOKEN"
"""


def refusing_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def blackhole() -> socket.socket:
    """A listener that never accepts: the kernel completes the handshake, nobody answers."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    return sock


def run(profile: Path) -> tuple[float, str]:
    env = dict(os.environ, DIAG_BENCH_TOKEN="bench-token")
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-m", "health", "--no-reports",
         f"--target-file={profile}"],
        cwd=ROOT, env=env, capture_output=True, text=True, check=False,
    )
    return time.perf_counter() - started, done.stdout.strip().splitlines()[-1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp())
    holes = [blackhole(), blackhole()]
    cases = {
        "refusing": (refusing_port(), refusing_port()),
        "blackholed": tuple(h.getsockname()[1] for h in holes),
    }
    print(f"health suite with API and Superset down; timeouts connect 1 s, read 2 s, "
          f"total 3 s; medians over {args.runs} runs")
    for name, (api, superset) in cases.items():
        profile = workdir / f"{name}.toml"
        profile.write_text(PROFILE.format(name=name, api=api, superset=superset))
        walls, last = [], ""
        for _ in range(args.runs):
            wall, last = run(profile)
            walls.append(wall)
        print(f"  {name:10}: {statistics.median(walls):.2f} s wall  ({last})")
    for hole in holes:
        hole.close()


if __name__ == "__main__":
    main()

"""(b) Time to verdict when every upstream is down, refusing and blackholed.

Every URL, DSN, container socket, AWS endpoint and nameserver of the sandbox profile is
aimed at one dead loopback port. A refusing port fails at once; a blackholed one (a
listener that never accepts, a UDP socket that never answers) costs one bounded wait per
upstream gate, after which every dependent check is blocked instantly. Run with the
profile's 2 and with 200 extra tenants, to show the wait does not grow with the number
of checks.

    python bench/upstream_down.py [--runs 3]
"""

from __future__ import annotations

import argparse
import re
import socket
import statistics
import sys
import tempfile
from pathlib import Path

from common import ROOT, run_suite

sys.path.insert(0, str(ROOT))
from sandbox.parts.aimed import aimed_profile  # noqa: E402

TIMEOUTS = (1.0, 2.0, 3.0)


def refusing_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def blackhole() -> tuple[int, list[socket.socket]]:
    """TCP that never accepts and UDP that never reads, on the same port number."""
    tcp = socket.socket()
    tcp.bind(("127.0.0.1", 0))
    tcp.listen(0)
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", tcp.getsockname()[1]))
    return tcp.getsockname()[1], [tcp, udp]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp())
    port, held = blackhole()
    cases = {"refusing": refusing_port(), "blackholed": port}
    print(f"whole suite with every upstream down; timeouts connect {TIMEOUTS[0]:g} s, read "
          f"{TIMEOUTS[1]:g} s, total {TIMEOUTS[2]:g} s; medians over {args.runs} runs")
    for name, dead in cases.items():
        for extra in (0, 200):
            text = aimed_profile(f"http://127.0.0.1:{dead}", dead, name=name,
                                 timeouts=TIMEOUTS, extra_tenants=extra)
            profile = workdir / f"{name}-{extra}.toml"
            profile.write_text(text)
            env = {n: "bench-secret" for n in re.findall(r'_env = "(\w+)"', text)}
            runs = [run_suite("--no-reports", f"--target-file={profile}", env=env)
                    for _ in range(args.runs)]
            wall = statistics.median(r.wall for r in runs)
            session = statistics.median(r.session for r in runs)
            print(f"  {name:10} {2 + extra:4} tenants: {wall:.2f} s wall, {session:.2f} s in "
                  f"session  ({runs[-1].last_line})")
    for sock in held:
        sock.close()


if __name__ == "__main__":
    main()

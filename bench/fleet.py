"""(d) A fleet-sized run: the embedded sandbox seeded with N tenants (--sandbox-tenants),
every per-tenant check parallel over xdist workers. Prints the median wall time and peak
memory (the pytest processes and the sandbox, which runs inside the controller), and the
time spent on reports: the same run with and without them.

    python bench/fleet.py [--tenants 1000] [--runs 3] [--workers auto] [-m EXPR]
"""

from __future__ import annotations

import argparse
import statistics

from common import run_suite


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tenants", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", default="auto")
    parser.add_argument("-m", dest="markexpr", default="")
    args = parser.parse_args()
    common = [f"--sandbox-tenants={args.tenants}", "-n", args.workers]
    common += ["-m", args.markexpr] if args.markexpr else []
    quiet = [run_suite("--no-reports", *common) for _ in range(args.runs)]
    full = [run_suite(*common) for _ in range(args.runs)]
    wall_quiet = statistics.median(r.wall for r in quiet)
    wall_full = statistics.median(r.wall for r in full)
    peak = max(r.peak_mb for r in quiet + full)
    print(f"{args.tenants} tenants, -n {args.workers}"
          f"{' -m ' + repr(args.markexpr) if args.markexpr else ''}; medians over {args.runs} "
          f"runs ({full[-1].last_line})")
    print(f"  wall with reports {wall_full:.1f} s, without {wall_quiet:.1f} s: reports "
          f"{wall_full - wall_quiet:.1f} s ({(wall_full - wall_quiet) / wall_full:.0%} of the "
          f"wall time); peak memory of one process {peak:.0f} MB")


if __name__ == "__main__":
    main()

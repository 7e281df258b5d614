"""(d) A fleet-sized run: the embedded sandbox seeded with N tenants (--sandbox-tenants),
every per-tenant check parallel over xdist workers. Prints the median wall time and peak
resident memory of the whole process tree (pytest, its workers, the sandbox inside the
controller and what the sandbox starts), with reports and without, and the time spent on
reports. The run directories go to a temporary directory, removed afterwards.

    python bench/fleet.py [--tenants 1000] [--runs 3] [--workers auto] [-m EXPR]
                          [--only reports|quiet]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
from pathlib import Path

from common import Timed, run_suite


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tenants", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", default="auto")
    parser.add_argument("-m", dest="markexpr", default="")
    parser.add_argument("--only", choices=("reports", "quiet"), default=None,
                        help="run only with reports, or only without (a large fleet)")
    args = parser.parse_args()
    common = [f"--sandbox-tenants={args.tenants}", "-n", args.workers]
    common += ["-m", args.markexpr] if args.markexpr else []
    reports = Path(tempfile.mkdtemp(prefix="fleet-reports-"))
    try:
        quiet = [] if args.only == "reports" else [
            run_suite("--no-reports", *common) for _ in range(args.runs)]
        full = [] if args.only == "quiet" else [
            run_suite(f"--reports-dir={reports}", *common) for _ in range(args.runs)]
        written = _size_mb(reports) / max(1, len(full))
    finally:
        shutil.rmtree(reports, ignore_errors=True)
    last = (full or quiet)[-1].last_line
    print(f"{args.tenants} tenants, -n {args.workers}"
          f"{' -m ' + repr(args.markexpr) if args.markexpr else ''}; medians over {args.runs} "
          f"runs ({last})")
    for label, sample in (("with reports", full), ("without reports", quiet)):
        if sample:
            print(f"  {label:15}: {_line(sample)}")
    if full:
        print(f"  reports written: {written:.0f} MB per run")
    if full and quiet:
        wall_full = statistics.median(r.wall for r in full)
        wall_quiet = statistics.median(r.wall for r in quiet)
        print(f"  reports cost {wall_full - wall_quiet:.1f} s "
              f"({(wall_full - wall_quiet) / wall_full:.0%} of the wall time)")


def _line(sample: list[Timed]) -> str:
    return (f"{statistics.median(r.wall for r in sample):.1f} s wall "
            f"({statistics.median(r.session for r in sample):.1f} s in session); peak RSS "
            f"{max(r.peak_mb for r in sample):.0f} MB for the process tree, "
            f"{max(r.controller_mb for r in sample):.0f} MB in the controller")


def _size_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 2**20


if __name__ == "__main__":
    main()

"""(d) A fleet-sized run: the embedded sandbox seeded with N tenants (--sandbox-tenants),
every per-tenant check parallel over xdist workers. Prints the median wall time and peak
resident memory of the whole process tree (pytest, its workers, the sandbox inside the
controller and what the sandbox starts), with reports and without, and the time spent on
reports. The run directories go to a temporary directory, removed afterwards unless
--keep names a directory for them (to read a failed check's evidence).

    python bench/fleet.py [--tenants 1000] [--runs 3] [--workers auto] [-m EXPR]
                          [--only reports|quiet] [--keep DIR] [-- extra pytest args]

``-- --sandbox-process`` runs the sandbox in its own process, which tells the suite's own
CPU time from the simulated target's.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
from pathlib import Path

from common import Timed, cpu_line, run_suite


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tenants", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", default="auto")
    parser.add_argument("-m", dest="markexpr", default="")
    parser.add_argument("--only", choices=("reports", "quiet"), default=None,
                        help="run only with reports, or only without (a large fleet)")
    parser.add_argument("--keep", type=Path, default=None,
                        help="write the runs' reports here and keep them")
    parser.add_argument("extra", nargs="*")
    args = parser.parse_args()
    common = [f"--sandbox-tenants={args.tenants}", "-n", args.workers, *args.extra]
    common += ["-m", args.markexpr] if args.markexpr else []
    reports = args.keep or Path(tempfile.mkdtemp(prefix="fleet-reports-"))
    try:
        quiet = [] if args.only == "reports" else [
            run_suite("--no-reports", *common) for _ in range(args.runs)]
        full = [] if args.only == "quiet" else [
            run_suite(f"--reports-dir={reports}", *common) for _ in range(args.runs)]
        written = _size_mb(reports) / max(1, len(full))
    finally:
        if args.keep is None:
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
    for label, sample in (("with reports", full), ("without reports", quiet)):
        if sample:
            worst = max(sample, key=lambda r: r.peak_pss_mb)
            kinds = ", ".join(f"{kind} {mb:.0f}" for kind, mb in
                              sorted(worst.by_kind.items(), key=lambda kv: -kv[1]) if mb >= 1)
            print(f"  {label}: peak PSS {worst.peak_pss_mb:.0f} MB ({kinds}); "
                  f"/dev/shm {worst.shm_mb:.0f} MB")
            print(f"  {label}: CPU seconds by process: {cpu_line(worst)}")
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

"""(a) The whole suite, every area, against a healthy embedded sandbox: wall seconds,
sandbox boot included, as an operator would type it. The CPU-seconds beside it say whether
the run waited or worked: close to the wall time, one interpreter's work bounds it. Both
move with the host's speed at the hour, so compare runs made back to back.

    python bench/suite.py [--runs 5] [-- extra pytest args]
"""

from __future__ import annotations

import argparse
import statistics

from common import run_suite


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("extra", nargs="*")
    args = parser.parse_args()
    runs = [run_suite("--no-reports", *args.extra) for _ in range(args.runs)]
    runs += [run_suite(*args.extra) for _ in range(args.runs)]
    quiet, full = runs[:args.runs], runs[args.runs:]
    print(f"whole suite, healthy sandbox, medians over {args.runs} runs ({quiet[-1].last_line})")
    for label, sample in (("without reports", quiet), ("with all reports", full)):
        wall = statistics.median(r.wall for r in sample)
        session = statistics.median(r.session for r in sample)
        cpu = statistics.median(r.cpu for r in sample)
        print(f"  {label:17}: {wall:.2f} s wall; {session:.2f} s in session, "
              f"{wall - session:.2f} s interpreter start, sandbox boot and teardown; "
              f"{cpu:.2f} CPU-seconds (pytest and what it reaped)")


if __name__ == "__main__":
    main()

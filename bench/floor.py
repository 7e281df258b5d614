"""The floor under a fleet run: the same number of pytest cases, each doing nothing,
with the same parallelism and the same report plugins (pytest-html, JUnit, Allure), and
none of this suite's fixtures, probes or sandbox. What a fleet run costs above this is
the suite's; this much is pytest and xdist carrying and reporting that many cases.

    python bench/floor.py [--cases 34218] [--runs 1] [--workers auto]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

from common import cpu_line, run_suite

CASES = '''
import pytest


@pytest.mark.parametrize("case", range({cases}))
def test_nothing(case):
    assert case >= 0
'''


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=34218)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--workers", default="auto")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="floor-") as tmp:
        root = Path(tmp)
        (root / "test_floor.py").write_text(CASES.format(cases=args.cases))
        (root / "pytest.ini").write_text("[pytest]\naddopts = -p no:cacheprovider\n")
        common = ["-n", args.workers, "--rootdir", str(root), "-c", str(root / "pytest.ini"),
                  str(root)]
        reports = ["--html", str(root / "r.html"), "--self-contained-html",
                   "--junitxml", str(root / "junit.xml"), "--alluredir", str(root / "allure")]
        quiet = [run_suite(*common) for _ in range(args.runs)]
        full = [run_suite(*common, *reports) for _ in range(args.runs)]
    print(f"{args.cases} empty cases, -n {args.workers}; medians over {args.runs} runs "
          f"({full[-1].last_line})")
    for label, sample in (("no reports", quiet), ("html+junit+allure", full)):
        wall = statistics.median(r.wall for r in sample)
        worst = max(sample, key=lambda r: r.peak_pss_mb)
        print(f"  {label:17}: {wall:.1f} s wall, peak PSS {worst.peak_pss_mb:.0f} MB; "
              f"CPU seconds: {cpu_line(worst)}")


if __name__ == "__main__":
    main()

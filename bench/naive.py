"""(e) The suite against a naive sequential probe script on the same endpoints.

The baseline is ``naive_probe.sh``: curl, one URL after another, 20 s timeout, 5 attempts
with 1, 2, 4 and 8 s of backoff, as CI health probes are often written. Both are timed as
whole processes on the health area's HTTP endpoints (the suite also reads dbt's files and
runs every other health row), against a healthy sandbox and with the API refusing and
blackholed. A blackholed endpoint costs the script 5 x 20 s plus 15 s of backoff, so that
case is measured on --blackhole-urls endpoints and reported per endpoint.

    python bench/naive.py [--runs 3] [--blackhole-urls 1]
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import ROOT, run_suite

sys.path.insert(0, str(ROOT))
from sandbox.adinsights import Account, StandIn  # noqa: E402
from sandbox.parts.aimed import aimed_profile  # noqa: E402
from sandbox.stack import Stack  # noqa: E402

SCRIPT = Path(__file__).with_name("naive_probe.sh")
GLOBAL = ["/api/health/", "/api/health/version/", "/api/health/airbyte/", "/api/health/dbt/",
          "/metrics/app/"]
PER_TENANT = ["/api/ops/sync-health/", "/api/integrations/social/status/",
              "/api/analytics/web/ga4/", "/api/analytics/web/search-console/",
              "/api/ops/health-overview/"]
TOKEN = "bench-token"


def naive(urls: list[str]) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(["bash", str(SCRIPT), *urls], capture_output=True, text=True,
                          env={"HEADER": f"Authorization: Bearer {TOKEN}", "PATH": "/usr/bin:/bin"},
                          check=False)
    lines = done.stdout.splitlines()
    return time.perf_counter() - started, f"{sum(1 for x in lines if x.startswith('ok'))}/" \
                                          f"{len(lines)} ok"


def urls(api: str, superset: str) -> list[str]:
    return [api + p for p in GLOBAL] + [api + p for p in PER_TENANT] + [superset + "/health"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--blackhole-urls", type=int, default=1)
    args = parser.parse_args()
    print(f"health endpoints: suite (-m health, 2 tenants) vs naive_probe.sh; medians over "
          f"{args.runs} runs")
    sb = StandIn([Account("acme", token=TOKEN)])
    with Stack([sb]):
        listed = urls(sb.urls["api"], sb.urls["superset"])
        walls = [naive(listed)[0] for _ in range(args.runs)]
        _, said = naive(listed)
    suite = [run_suite("-m", "health", "--no-reports") for _ in range(args.runs)]
    healthy_naive, healthy_suite = statistics.median(walls), statistics.median(
        r.wall for r in suite)
    print(f"  healthy   : naive {healthy_naive:.2f} s ({len(listed)} URLs, {said}); suite "
          f"{healthy_suite:.2f} s wall incl. sandbox boot ({suite[-1].last_line}); "
          f"naive/suite {healthy_naive / healthy_suite:.2f}")
    work = Path(tempfile.mkdtemp())
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        dead = probe.getsockname()[1]
    hole = socket.socket()
    hole.bind(("127.0.0.1", 0))
    hole.listen(0)
    for name, port, count in (("refusing", dead, len(listed)),
                              ("blackholed", hole.getsockname()[1], args.blackhole_urls)):
        base = f"http://127.0.0.1:{port}"
        targets = urls(base, base)[:count]
        naive_wall, said = naive(targets)
        text = aimed_profile(base, port, name=name, timeouts=(1.0, 2.0, 3.0))
        profile = work / f"{name}.toml"
        profile.write_text(text)
        env = {n: "bench-secret" for n in re.findall(r'_env = "(\w+)"', text)}
        runs = [run_suite("-m", "health", "--no-reports", f"--target-file={profile}", env=env)
                for _ in range(args.runs)]
        wall = statistics.median(r.wall for r in runs)
        per_url = naive_wall / len(targets)
        print(f"  {name:10}: naive {naive_wall:.1f} s for {len(targets)} URLs ({said}), "
              f"{per_url:.1f} s per URL, so {per_url * len(listed):.0f} s for all "
              f"{len(listed)}; suite {wall:.2f} s wall for the whole health area; "
              f"ratio {per_url * len(listed) / wall:.0f}x")
    hole.close()


if __name__ == "__main__":
    main()

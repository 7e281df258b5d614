"""(c) What the suite adds per check, against raw httpx requests doing the same HTTP work.

Both sides are run at two fleet sizes (the health area with 2 and with --large tenants) and
compared by their growth, so fixed costs (interpreter start-up, sandbox boot, imports)
cancel out: overhead per check = (suite growth - raw growth) / checks added. The suite's
side is pytest's own session time (collection, gating, the checks, evidence, redaction);
the raw side is one httpx client requesting the same endpoints for every tenant.

    python bench/overhead.py [--runs 3] [--large 50]
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import time
from pathlib import Path

from common import ROOT, run_suite

GLOBAL_PATHS = ["/api/health/", "/api/health/version/", "/api/health/airbyte/",
                "/api/health/dbt/", "/metrics/app/"]
TENANT_PATHS = ["/api/me/", "/api/ops/sync-health/", "/api/integrations/social/status/",
                "/api/analytics/web/ga4/", "/api/analytics/web/search-console/",
                "/api/ops/health-overview/"]


def raw(tenants: int) -> float:
    """Seconds the same HTTP work takes with one httpx client and no framework."""
    import httpx

    sys.path.insert(0, str(ROOT))
    from sandbox.adinsights import Account, StandIn
    from sandbox.stack import Stack

    accounts = [Account(f"t{n:04d}", token=f"bench-token-{n:04d}") for n in range(tenants)]
    sb = StandIn(accounts)
    with Stack([sb]), httpx.Client() as client:
        started = time.perf_counter()
        api = sb.urls["api"]
        for path in GLOBAL_PATHS:
            client.get(api + path).raise_for_status()
        for account in accounts:
            for path in TENANT_PATHS:
                client.get(api + path, headers={"Authorization": f"Bearer {account.token}"})
        client.get(sb.urls["superset"] + "/health")
        target = Path(sb.paths["dbt_target"])
        for name in ("run_results.json", "sources.json"):
            json.loads((target / name).read_text())
        return time.perf_counter() - started


def cases(last_line: str) -> int:
    return sum(int(n) for n in re.findall(r"(\d+) (?:passed|failed|skipped|errors?)",
                                          last_line))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--large", type=int, default=50)
    args = parser.parse_args()
    sizes = (2, args.large)
    suite = {n: [run_suite("-m", "health", "--no-reports", f"--sandbox-tenants={n}")
                 for _ in range(args.runs)] for n in sizes}
    loops = {n: statistics.median(raw(n) for _ in range(args.runs)) for n in sizes}
    session = {n: statistics.median(r.session for r in suite[n]) for n in sizes}
    count = {n: cases(suite[n][-1].last_line) for n in sizes}
    added = count[sizes[1]] - count[sizes[0]]
    grown = session[sizes[1]] - session[sizes[0]]
    raw_grown = loops[sizes[1]] - loops[sizes[0]]
    print(f"health area at {sizes[0]} and {sizes[1]} tenants; medians over {args.runs} runs")
    for n in sizes:
        print(f"  {n:4} tenants: {count[n]:5} checks, suite session {session[n]:.2f} s, "
              f"raw httpx loop {loops[n]:.2f} s")
    per = {"suite": grown / added * 1000, "raw": raw_grown / added * 1000}
    print(f"  per added check: suite {per['suite']:.2f} ms, raw {per['raw']:.2f} ms; "
          f"overhead per check {per['suite'] - per['raw']:.2f} ms")


if __name__ == "__main__":
    main()

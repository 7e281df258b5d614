"""Per-check overhead of the suite against raw httpx requests to the same sandbox.

Both sides are timed as whole processes, so interpreter start-up, sandbox boot and
sign-in are paid on both: the difference is what the framework adds (collection, gating,
evidence, redaction and reports). Prints medians over several runs.

    python bench/overhead.py [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The requests the health checks make, one tenant-scoped set per tenant.
GLOBAL_PATHS = ["/api/health/", "/api/health/version/", "/api/health/airbyte/",
                "/api/health/dbt/", "/metrics/app/"]
TENANT_PATHS = ["/api/ops/sync-health/", "/api/integrations/social/status/",
                "/api/analytics/web/ga4/", "/api/analytics/web/search-console/",
                "/api/ops/health-overview/"]


def raw() -> int:
    """The same HTTP work with one httpx client and no framework; returns requests made."""
    import httpx

    from sandbox import Account, Sandbox

    accounts = [Account("acme", username="ops@acme.test", password="pw-a"),
                Account("globex", token="tok-b")]
    count = 0
    with Sandbox(accounts) as sb, httpx.Client() as client:
        started = time.perf_counter()
        api = sb.urls["api"]
        access = client.post(f"{api}/api/auth/login/",
                             json={"username": "ops@acme.test", "password": "pw-a"}).json()
        client.get(f"{api}/api/me/", headers={"Authorization": "Bearer tok-b"})
        tokens = {"acme": access["access"], "globex": "tok-b"}
        count += 2
        for path in GLOBAL_PATHS:
            client.get(api + path).raise_for_status()
            count += 1
        for token in tokens.values():
            for path in TENANT_PATHS:
                client.get(api + path, headers={"Authorization": f"Bearer {token}"})
                count += 1
        client.get(sb.urls["superset"] + "/health")
        target = Path(sb.paths["dbt_target"])
        for name in ("run_results.json", "sources.json"):
            json.loads((target / name).read_text())
        count += 3
        loop = time.perf_counter() - started
    return count, loop


def timed(cmd: list[str]) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(cmd, cwd=ROOT, check=False, capture_output=True, text=True)
    return time.perf_counter() - started, done.stdout


def session_seconds(reports: Path) -> float:
    """pytest's own session time (after start-up and sandbox boot), from the JUnit file."""
    suite = ET.parse(reports / "latest" / "junit.xml").getroot().find("testsuite")
    return float(suite.get("time"))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--raw", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.raw:
        count, loop = raw()
        print(count, loop)
        return
    reports = Path(tempfile.mkdtemp())
    suite = [sys.executable, "-m", "pytest", "-q", "-m", "health", f"--reports-dir={reports}"]
    bare = suite[:-1] + ["--no-reports"]
    raw_cmd = [sys.executable, __file__, "--raw"]
    timed(suite)
    cases = len(json.loads((reports / "latest" / "summary.json").read_text())["checks"])
    runs: dict[str, list[float]] = {k: [] for k in ("suite", "bare", "raw", "session", "loop")}
    for _ in range(args.runs):
        runs["suite"].append(timed(suite)[0])
        runs["session"].append(session_seconds(reports))
        runs["bare"].append(timed(bare)[0])
        wall, out = timed(raw_cmd)
        runs["raw"].append(wall)
        runs["loop"].append(float(out.split()[1]))
    med = {k: statistics.median(v) for k, v in runs.items()}
    per_check = (med["session"] - med["loop"]) / cases * 1000
    print(f"health suite: {cases} check cases; medians over {args.runs} runs")
    print(f"  process wall, suite with all reports : {med['suite']:.3f} s")
    print(f"  process wall, suite --no-reports     : {med['bare']:.3f} s")
    print(f"  process wall, raw httpx, same work   : {med['raw']:.3f} s")
    print(f"  in-session, suite (junit time)       : {med['session'] * 1000:.1f} ms")
    print(f"  in-session, raw httpx request loop   : {med['loop'] * 1000:.1f} ms")
    print(f"  overhead per check (in-session)      : {per_check:.2f} ms")
    print(f"  fixed start-up cost of the suite     : {med['bare'] - med['raw']:.3f} s "
          "(pytest and plugin imports, collection)")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()

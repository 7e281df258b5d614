"""What the backend's `combined_metrics_request_duration_seconds` histogram has seen:
the durations of `/api/metrics/combined/` by cache outcome, as prometheus_client keeps
them in the server process.

A backend that has been up a while has served traffic before the diagnostics arrive, so
the store starts with that earlier traffic (a fixed spread per outcome, not random, so a
run sees the same figures every time) and then records every request the sandbox
serves, with its real duration. The earlier traffic outweighs a run's own requests, as it
would on a live backend, so the p95 a check reads describes the service, not the check.
"""

from __future__ import annotations

import threading
from collections.abc import Collection

from sandbox.adinsights.metrics_cache import NEVER_HITS_FAULT

# prometheus_client's buckets for this histogram, as the backend declares them.
BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0)
SLOW_HITS_FAULT = "cache_hits_slow"


def _spread(low: float, high: float, count: int) -> list[float]:
    return [low + (high - low) * n / (count - 1) for n in range(count)]


def earlier_traffic(faults: Collection[str]) -> dict[tuple[str, str], list[float]]:
    """(source, cache_outcome) -> durations. Hits are read from the stored snapshot
    (milliseconds); misses and `cache=false` rebuild it in the warehouse (most of a
    second). A slow cache backend makes hits as slow as misses; a cache that never hits
    has no hit series at all."""
    misses = _spread(0.3, 1.6, 60)
    traffic = {("warehouse", "miss"): misses[:40], ("warehouse", "disabled"): misses[40:]}
    if NEVER_HITS_FAULT in faults:
        traffic[("warehouse", "miss")] = misses + _spread(0.3, 1.6, 300)
    elif SLOW_HITS_FAULT in faults:
        traffic[("warehouse", "hit")] = _spread(0.4, 1.8, 300)
    else:
        traffic[("warehouse", "hit")] = _spread(0.004, 0.04, 300)
    return traffic


class LatencyStore:
    """Thread-safe: the sandbox serves requests from several threads."""

    def __init__(self, faults: Collection[str]) -> None:
        self._seen = earlier_traffic(faults)
        self._lock = threading.Lock()

    def observe(self, source: str, outcome: str, seconds: float) -> None:
        with self._lock:
            self._seen.setdefault((source, outcome), []).append(seconds)

    def series(self) -> list[tuple[str, str, list[float]]]:
        with self._lock:
            return [(source, outcome, list(values))
                    for (source, outcome), values in sorted(self._seen.items())]

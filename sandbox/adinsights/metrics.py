"""Prometheus exposition of /metrics/app/, derived from the simulated state.

Samples come from the same jobs and dbt run the API reports, so a metrics check and an
API check looking at one fault tell the same story. As in prometheus_client, a labelled
family prints only its HELP and TYPE lines until something has been observed.
"""

from __future__ import annotations

import gc
import os
import platform
import resource
from collections.abc import Iterable, Sequence
from pathlib import Path

from sandbox.adinsights import latency
from sandbox.adinsights.state import FAILED_STATUSES, SUCCESS_STATUSES
from sandbox.adinsights.world import World

CONTENT_TYPE = "text/plain; version=1.0.0; charset=utf-8"
DURATION_BUCKETS = (0.5, 1.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0)

# name, type, help
FAMILIES: tuple[tuple[str, str, str], ...] = (
    ("celery_task_executions_total", "counter", "Celery task executions by outcome"),
    ("celery_task_duration_seconds", "histogram", "Celery task runtime"),
    ("celery_task_retries_total", "counter", "Celery task retries by reason"),
    ("celery_task_queue_starts_total", "counter", "Celery tasks started from a queue"),
    ("celery_task_queue_wait_seconds", "histogram", "Time Celery tasks waited in a queue"),
    ("airbyte_sync_latency_seconds", "histogram", "Airbyte sync job duration"),
    ("airbyte_sync_rows_total", "counter", "Rows synced by Airbyte connections"),
    ("airbyte_sync_errors_total", "counter", "Failed Airbyte sync jobs"),
    ("dbt_run_duration_seconds", "histogram", "dbt run duration by outcome"),
    ("combined_metrics_requests_total", "counter", "Combined metrics requests"),
    ("combined_metrics_request_duration_seconds", "histogram", "Combined metrics latency"),
    ("combined_metrics_query_count", "histogram", "Warehouse queries per combined request"),
    ("combined_metrics_snapshot_writes_total", "counter", "Metrics snapshot writes"),
    ("meta_token_validations_total", "counter", "Meta token validations by outcome"),
    ("meta_token_refresh_attempts_total", "counter", "Meta token refresh attempts"),
    ("meta_graph_retry_total", "counter", "Meta Graph API retries by reason"),
    ("meta_graph_throttle_events_total", "counter", "Meta Graph throttling headers seen"),
)

Labels = dict[str, str]


def _value(number: float) -> str:
    return repr(float(number))


def _sample(name: str, labels: Labels, number: float) -> str:
    if not labels:
        return f"{name} {_value(number)}"
    pairs = ",".join(f'{key}="{value}"' for key, value in labels.items())
    return f"{name}{{{pairs}}} {_value(number)}"


def _histogram(name: str, labels: Labels, observations: Sequence[float],
               buckets: Sequence[float] = DURATION_BUCKETS) -> list[str]:
    lines = []
    for bound in buckets:
        count = sum(o <= bound for o in observations)
        lines.append(_sample(f"{name}_bucket", {**labels, "le": _value(bound)}, count))
    lines.append(_sample(f"{name}_bucket", {**labels, "le": "+Inf"}, len(observations)))
    lines.append(_sample(f"{name}_count", labels, len(observations)))
    lines.append(_sample(f"{name}_sum", labels, sum(observations)))
    return lines


def _header(name: str, kind: str, help_text: str) -> list[str]:
    return [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}"]


def _runtime() -> list[str]:
    """The python_* and process_* families prometheus_client registers by default."""
    lines = []
    stats = gc.get_stats()
    for field, help_text in (
        ("collected", "Objects collected during gc"),
        ("uncollectable", "Uncollectable objects found during GC"),
        ("collections", "Number of times this generation was collected"),
    ):
        suffix = "collections_total" if field == "collections" else f"objects_{field}_total"
        name = f"python_gc_{suffix}"
        lines += _header(name, "counter", help_text)
        lines += [_sample(name, {"generation": str(i)}, s[field]) for i, s in enumerate(stats)]
    version = platform.python_version_tuple()
    lines += _header("python_info", "gauge", "Python platform information")
    info = {
        "implementation": platform.python_implementation(),
        "major": version[0],
        "minor": version[1],
        "patchlevel": version[2],
        "version": platform.python_version(),
    }
    lines.append(_sample("python_info", info, 1))
    for name, kind, help_text, number in _process():
        lines += _header(name, kind, help_text)
        lines.append(_sample(name, {}, number))
    return lines


def _process() -> Iterable[tuple[str, str, str, float]]:
    times = os.times()
    yield (
        "process_cpu_seconds_total",
        "counter",
        "Total user and system CPU time spent in seconds",
        times.user + times.system,
    )
    proc = Path("/proc/self")
    if proc.is_dir():
        page = resource.getpagesize()
        vms, rss = (int(x) * page for x in (proc / "statm").read_text().split()[:2])
        yield ("process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.", vms)
        yield ("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.", rss)
        ticks = os.sysconf("SC_CLK_TCK")
        started = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[19]) / ticks
        boot = next(
            float(line.split()[1])
            for line in Path("/proc/stat").read_text().splitlines()
            if line.startswith("btime")
        )
        yield (
            "process_start_time_seconds",
            "gauge",
            "Start time of the process since unix epoch in seconds.",
            boot + started,
        )
        yield (
            "process_open_fds",
            "gauge",
            "Number of open file descriptors.",
            len(os.listdir(proc / "fd")),
        )
    yield (
        "process_max_fds",
        "gauge",
        "Maximum number of open file descriptors.",
        resource.getrlimit(resource.RLIMIT_NOFILE)[0],
    )


def _observed(world: World) -> dict[str, list[str]]:
    """Samples of the application families, keyed by family name."""
    airbyte: dict[str, list[str]] = {
        "airbyte_sync_latency_seconds": [],
        "airbyte_sync_rows_total": [],
        "airbyte_sync_errors_total": [],
    }
    finished = 0
    for tenant in world.tenants:
        for connection in tenant.connections:
            if not connection.jobs:
                continue
            base = {"tenant_id": tenant.tenant_id, "provider": connection.provider}
            done = [j for j in connection.jobs if j.status in SUCCESS_STATUSES | FAILED_STATUSES]
            finished += len(done)
            airbyte["airbyte_sync_latency_seconds"] += _histogram(
                "airbyte_sync_latency_seconds", base, [j.duration_seconds for j in done]
            )
            rows = sum(j.records_synced for j in done)
            labels = {**base, "connection_id": connection.connection_id}
            airbyte["airbyte_sync_rows_total"].append(
                _sample("airbyte_sync_rows_total", labels, rows)
            )
            errors = sum(j.status in FAILED_STATUSES for j in done)
            if errors:
                airbyte["airbyte_sync_errors_total"].append(
                    _sample("airbyte_sync_errors_total", base, errors)
                )
    task = {"task_name": "integrations.tasks.sync_airbyte_connections"}
    queued = {**task, "queue_name": "default"}
    dbt_status = "error" if "dbt_failing" in world.faults else "success"
    return {
        **airbyte,
        "celery_task_executions_total": [
            _sample("celery_task_executions_total", {**task, "status": "success"}, finished)
        ],
        "celery_task_duration_seconds": _histogram(
            "celery_task_duration_seconds", task, [1.2, 0.9]
        ),
        "celery_task_queue_starts_total": [_sample("celery_task_queue_starts_total", queued, 2)],
        "celery_task_queue_wait_seconds": _histogram(
            "celery_task_queue_wait_seconds", queued, [0.4, 0.7]
        ),
        "dbt_run_duration_seconds": _histogram(
            "dbt_run_duration_seconds", {"status": dbt_status}, [42.5]
        ),
        "combined_metrics_request_duration_seconds": [
            line for source, outcome, seen in world.latency.series()
            for line in _histogram("combined_metrics_request_duration_seconds",
                                   {"source": source, "cache_outcome": outcome}, seen,
                                   latency.BUCKETS)],
        "meta_token_validations_total": [
            _sample("meta_token_validations_total", {"status": "valid"}, len(world.tenants))
        ],
    }


def exposition(world: World) -> str:
    skipped = {"dbt_run_duration_seconds"} if "metrics_missing_series" in world.faults else set()
    observed = _observed(world)
    lines = _runtime()
    for name, kind, help_text in FAMILIES:
        if name in skipped:
            continue
        lines += _header(name, kind, help_text)
        lines += observed.get(name, [])
    return "\n".join(lines) + "\n"

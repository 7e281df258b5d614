"""dbt artifacts as `dbt run` and `dbt source freshness` leave them in `target/`.

They are real files on disk, not served content, because the health endpoint and the
freshness checks both read the target directory the way they would on a real host.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta
from pathlib import Path

DBT_VERSION = "1.8.7"
RUN_RESULTS_SCHEMA = "https://schemas.getdbt.com/dbt/run-results/v6.json"
SOURCES_SCHEMA = "https://schemas.getdbt.com/dbt/sources/v3.json"
THREAD = "Thread-1 (worker)"

# (model, rows); the last one is skipped in a healthy run because it is disabled for dev.
MODELS = (
    ("stg_meta_ads", 1240),
    ("stg_google_ads", 860),
    ("fct_campaign_performance", 2100),
    ("agg_search_console_daily", 0),
)
FAILING_MODEL = "stg_meta_ads"
FAILURE_MESSAGE = (
    "Database Error in model stg_meta_ads (models/staging/stg_meta_ads.sql)\n"
    '  relation "raw.meta_ads_insights" does not exist\n'
    "  LINE 14:     from raw.meta_ads_insights"
)
SOURCES = ("meta_ads_insights", "google_ads_metrics")
SOURCE_RUNTIME_ERROR = (
    "Database Error in source meta_ads_insights (models/sources.yml)\n"
    '  column "_airbyte_extracted_at" does not exist'
)


def dbt_time(moment: datetime) -> str:
    """dbt writes naive UTC with microseconds and a trailing Z."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _metadata(schema: str, generated_at: datetime) -> dict[str, object]:
    return {
        "dbt_schema_version": schema,
        "dbt_version": DBT_VERSION,
        "generated_at": dbt_time(generated_at),
        "invocation_id": str(uuid.uuid4()),
        "env": {},
    }


def _timing(start: datetime, seconds: float) -> list[dict[str, str]]:
    compiled = start + timedelta(seconds=0.05)
    return [
        {"name": "compile", "started_at": dbt_time(start), "completed_at": dbt_time(compiled)},
        {
            "name": "execute",
            "started_at": dbt_time(compiled),
            "completed_at": dbt_time(compiled + timedelta(seconds=seconds)),
        },
    ]


def _model_result(model: str, rows: int, status: str, start: datetime) -> dict[str, object]:
    seconds = 0.0 if status == "skipped" else round(0.4 + rows / 1000, 3)
    result: dict[str, object] = {
        "status": status,
        "timing": [] if status == "skipped" else _timing(start, seconds),
        "thread_id": THREAD,
        "execution_time": seconds,
        "adapter_response": {},
        "message": None,
        "failures": None,
        "unique_id": f"model.adinsights.{model}",
        "compiled": status != "skipped",
        "compiled_code": f"select * from {{{{ ref('{model}') }}}}",
        "relation_name": f'"adinsights"."analytics"."{model}"',
    }
    if status == "success":
        message = f"SELECT {rows}"
        result["adapter_response"] = {"_message": message, "code": "SELECT", "rows_affected": rows}
        result["message"] = message
    elif status == "error":
        result["adapter_response"] = {"_message": "ERROR", "code": "ERROR", "rows_affected": -1}
        result["message"] = FAILURE_MESSAGE
    return result


def run_results(faults: frozenset[str], now: datetime) -> dict[str, object]:
    """A `dbt run` (models only): a passing data test would count as failing on the
    health endpoint, which flags every status other than success and skipped."""
    generated = now - (timedelta(hours=30) if "dbt_stale" in faults else timedelta(hours=1))
    failing = "dbt_failing" in faults
    start = generated - timedelta(seconds=30)
    results = []
    for model, rows in MODELS:
        if model == "agg_search_console_daily":
            status = "skipped"
        elif failing and model == FAILING_MODEL:
            status = "error"
        elif failing and model.startswith("fct_"):
            status = "skipped"  # downstream of the failed staging model
        else:
            status = "success"
        results.append(_model_result(model, rows, status, start))
    elapsed = round(sum(r["execution_time"] for r in results) + 1.5, 3)
    return {
        "metadata": _metadata(RUN_RESULTS_SCHEMA, generated),
        "results": results,
        "elapsed_time": elapsed,
        "args": {"which": "run", "target": "dev"},
    }


def _source_result(source: str, loaded_ago: timedelta, now: datetime) -> dict[str, object]:
    status = "pass"
    if loaded_ago >= timedelta(hours=4):
        status = "error"
    elif loaded_ago >= timedelta(hours=2):
        status = "warn"
    return {
        "unique_id": f"source.adinsights.airbyte.{source}",
        "max_loaded_at": (now - loaded_ago).isoformat(),
        "snapshotted_at": now.isoformat(),
        "max_loaded_at_time_ago_in_s": loaded_ago.total_seconds(),
        "status": status,
        "criteria": {
            "warn_after": {"count": 2, "period": "hour"},
            "error_after": {"count": 4, "period": "hour"},
            "filter": None,
        },
        "adapter_response": {"_message": "SELECT 1", "code": "SELECT", "rows_affected": 1},
        "timing": _timing(now - timedelta(seconds=1), 0.2),
        "thread_id": THREAD,
        "execution_time": 0.25,
    }


def sources(faults: frozenset[str], now: datetime) -> dict[str, object]:
    """Freshness is judged from max_loaded_at, so the faults move the load time and let the
    status follow from the same warn/error criteria a real run would apply."""
    ages = {"dbt_source_warn": timedelta(hours=3), "dbt_source_error": timedelta(hours=5)}
    first_age = next((a for f, a in ages.items() if f in faults), timedelta(minutes=30))
    results: list[dict[str, object]] = []
    for source in SOURCES:
        if source == SOURCES[0] and "dbt_source_runtime_error" in faults:
            results.append(
                {
                    "unique_id": f"source.adinsights.airbyte.{source}",
                    "error": SOURCE_RUNTIME_ERROR,
                    "status": "runtime error",
                }
            )
            continue
        age = first_age if source == SOURCES[0] else timedelta(minutes=30)
        results.append(_source_result(source, age, now))
    return {
        "metadata": _metadata(SOURCES_SCHEMA, now),
        "results": results,
        "elapsed_time": 0.61,
    }


def write_artifacts(target: Path, faults: frozenset[str], now: datetime) -> None:
    target.mkdir(parents=True, exist_ok=True)
    run_path = target / "run_results.json"
    if "dbt_missing_run_results" in faults:
        run_path.unlink(missing_ok=True)
    elif "dbt_invalid_run_results" in faults:
        run_path.write_text("{bad json", encoding="utf-8")
    else:
        run_path.write_text(json.dumps(run_results(faults, now), indent=2), encoding="utf-8")
    sources_text = json.dumps(sources(faults, now), indent=2)
    (target / "sources.json").write_text(sources_text, encoding="utf-8")

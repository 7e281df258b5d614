"""dbt orchestration health, the run baseline and source freshness for hourly feeds."""

from fixtures.catalog import check
from fixtures.evidence import observed_time
from fixtures.expect import expect

from .test_airbyte import minutes_since

DBT_STATES = {
    "missing_run_results": ("dbt-run-results-missing", "missing data"),
    "invalid_run_results": ("dbt-run-results-invalid", "contract violation"),
    "failing": ("dbt-failing-models", "failed job"),
    "stale": ("dbt-stale", "stale data"),
}
MODEL_OK = ("success", "skipped")


@check("adinsights.health.dbt.status",
       severity="critical", runbook="health.md#dbt-orchestration-health",
       needs=("api",), states=DBT_STATES)
def test_dbt_health(dbt_health):
    status = dbt_health.body("status")
    failing = dbt_health.body("failing_models") or []
    note = f"failing models: {', '.join(failing)}" if failing else dbt_health.body("detail")
    expect("[BODY].status", status, "==", "ok", state=status, note=note)


@check("adinsights.health.baseline.dbt", severity="high", runbook="health.md#baseline-dbt-run",
       category="stale data")
def test_dbt_run_baseline(run_results, diag):
    expect("run_results.json", run_results.state, "==", "ok", note=run_results.error)
    generated = run_results.data.get("metadata", {}).get("generated_at")
    observed_time("last dbt run (run_results generated_at)", generated)
    limit = diag.profile.thresholds["dbt_max_age_hours"]
    expect("metadata.generated_at", generated, "not in", (None, ""))
    expect("latest run age (h)", round(minutes_since(generated) / 60, 1), "<", limit)
    failing = [r.get("unique_id") for r in run_results.data.get("results", [])
               if str(r.get("unique_id", "")).startswith("model.")
               and r.get("status") not in MODEL_OK]
    expect("models not success/skipped", failing, "is empty")


def stale_sources(sources, hours: float) -> list[str]:
    """Sources older than ``hours``, plus any whose freshness query itself failed."""
    found = []
    for result in sources.data.get("results", []):
        loaded = result.get("max_loaded_at")
        if result.get("status") == "runtime error" or not loaded:
            found.append(f"{result.get('unique_id')} (runtime error: {result.get('error')})")
        elif minutes_since(loaded) > hours * 60:
            found.append(f"{result.get('unique_id')} ({minutes_since(loaded) / 60:.1f} h old)")
    return found


def expect_fresh(sources, hours: float) -> None:
    expect("sources.json", sources.state, "==", "ok", note=sources.error)
    expect(f"sources older than {hours:g} h", stale_sources(sources, hours), "is empty")


@check("adinsights.health.dbt_freshness.warn", severity="medium",
       runbook="health.md#dbt-source-freshness-warning", category="stale data")
def test_source_freshness_warn(source_freshness, diag):
    expect_fresh(source_freshness, diag.profile.thresholds["freshness_warn_hours"])


@check("adinsights.health.dbt_freshness.error", severity="high",
       runbook="health.md#dbt-source-freshness-error", category="stale data")
def test_source_freshness_error(source_freshness, diag):
    expect_fresh(source_freshness, diag.profile.thresholds["freshness_error_hours"])

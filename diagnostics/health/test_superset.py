"""Superset's own ``/health`` endpoint."""

from fixtures.catalog import check
from fixtures.expect import expect


@check("health.superset.reachable", severity="high", runbook="health.md#superset-reachable",
       needs=("superset",), category="upstream down")
def test_superset_reachable(gate):
    verdict = gate("superset")
    expect("[CONNECTED]", verdict.ok, "==", True, note=verdict.reason)


@check("health.superset.health", severity="high", runbook="health.md#superset-health",
       needs=("superset",), category="service unhealthy")
def test_superset_health(superset_health):
    expect("[STATUS]", superset_health.outcome, "==", "200")
    expect("[BODY]", superset_health.text.strip(), "==", "OK")

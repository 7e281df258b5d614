"""Superset's own ``/health`` endpoint."""

from fixtures.catalog import check, upstream_check
from fixtures.expect import expect

test_superset_reachable = upstream_check(
    "adinsights.health.superset.reachable", "superset", "[CONNECTED]", severity="high",
    runbook="health.md#superset-reachable")


@check("adinsights.health.superset.health", severity="high", runbook="health.md#superset-health",
       needs=("superset",), category="service unhealthy")
def test_superset_health(superset_health):
    expect("[STATUS]", superset_health.outcome, "==", "200")
    expect("[BODY]", superset_health.text.strip(), "==", "OK")

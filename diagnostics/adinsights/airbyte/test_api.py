"""Airbyte's own API: proxy credentials and ``/api/v1/health``."""

from fixtures.catalog import check, upstream_check
from fixtures.expect import expect

test_proxy_credentials = upstream_check(
    "adinsights.airbyte.api.credentials", "airbyte_auth", "[AUTHORISED]", severity="critical",
    runbook="airbyte.md#proxy-credentials", category="credentials")


@check("adinsights.airbyte.api.health",
       severity="critical", runbook="airbyte.md#airbyte-api-health",
       needs=("airbyte_server",), category="service unhealthy",
       states={"unavailable": "airbyte-api-database-unavailable"})
def test_airbyte_health(airbyte_health):
    expect("[STATUS]", airbyte_health.outcome, "==", "200")
    available = airbyte_health.body("available")
    expect("[BODY].available", available, "==", True,
           state="unavailable" if available is False else None)

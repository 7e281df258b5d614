"""Social connector status and the GA4 / Search Console pilot rows, per tenant."""

import pytest

from diagnostics.adinsights.social import expect_active
from fixtures.catalog import check
from fixtures.expect import expect

SOCIAL_STATES = {
    "not_connected": ("social-not-connected", "missing data"),
    "started_not_complete": "social-started-not-complete",
    "complete": ("social-complete-not-active", "stale data"),
}


@pytest.mark.parametrize("platform", ["meta", "instagram"])
@check("adinsights.health.social.status", severity="medium", runbook="health.md#social-status",
       needs=("api", "tenant"), states=SOCIAL_STATES)
def test_social_status(social_status, platform):
    expect_active(social_status, platform)


WEB_STATES = {
    "ga4": "ga4-pilot-rows",
    "search-console": "search-console-pilot-rows",
    "ga4-empty": "ga4-pilot-rows-empty",
    "search-console-empty": "search-console-pilot-rows-empty",
}


@pytest.mark.parametrize("source", ["ga4", "search-console"])
@check("adinsights.health.web.rows", severity="low", runbook="health.md#ga4-pilot-rows",
       needs=("api", "tenant"), states=WEB_STATES, category="missing data")
def test_web_analytics(web_analytics, source, web_connected):
    expect("[STATUS]", web_analytics.outcome, "==", "200", state=source)
    expect("[BODY].status", web_analytics.body("status"), "!=", "unavailable", state=source,
           note=web_analytics.body("detail"))
    rows = web_analytics.body("rows")
    expect("[BODY].rows", isinstance(rows, list), "==", True, state=source)
    if web_connected:
        expect("[BODY].rows (integration connected)", len(rows), ">", 0,
               state=f"{source}-empty")

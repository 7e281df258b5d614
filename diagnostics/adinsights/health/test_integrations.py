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


@pytest.mark.parametrize("source", ["ga4", "search-console"])
@check("adinsights.health.web.rows", severity="low", runbook="health.md#ga4-pilot-rows",
       needs=("api", "tenant"), states={"search-console": "search-console-pilot-rows"},
       category="missing data")
def test_web_analytics(web_analytics, source):
    expect("[STATUS]", web_analytics.outcome, "==", "200", state=source)
    expect("[BODY].status", web_analytics.body("status"), "!=", "unavailable", state=source,
           note=web_analytics.body("detail"))
    expect("[BODY].rows", isinstance(web_analytics.body("rows"), list), "==", True, state=source)

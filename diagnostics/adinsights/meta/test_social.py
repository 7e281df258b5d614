"""Social status per tenant and platform, with the Meta reason codes routed to their fixes."""

import pytest

from diagnostics.adinsights.social import expect_active
from fixtures.catalog import check

STATES = {
    "not_connected": ("not-connected", "missing data"),
    "started_not_complete": "started-not-complete",
    "complete": ("complete-not-active", "stale data"),
    # reason codes with a fix of their own
    "missing_meta_credential": ("not-connected", "missing data"),
    "credential_reauth_required": ("credential-needs-reauthorisation", "credentials"),
    "oauth_not_ready": "oauth-configuration",
    "marketing_permissions_missing": ("permissions-missing", "credentials"),
    "page_insights_permissions_missing": ("permissions-missing", "credentials"),
    "latest_sync_failed": ("complete-not-active", "failed job"),
}


@pytest.mark.parametrize("platform", ["meta", "instagram"])
@check("adinsights.meta.social.status", severity="high", runbook="meta.md#social-status",
       needs=("api", "tenant"), states=STATES)
def test_social_status(social_status, platform):
    expect_active(social_status, platform, reasons=STATES)

"""Social status per tenant and platform, with the Meta reason codes routed to their fixes."""

import pytest

from diagnostics.adinsights.social import expect_active
from fixtures.catalog import check
from fixtures.expect import expect

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
    "connection_paused": ("connection-active", "stale data"),
}


@pytest.mark.parametrize("platform", ["meta", "instagram"])
@check("adinsights.meta.social.status", severity="high", runbook="meta.md#social-status",
       needs=("api", "tenant"), states=STATES)
def test_social_status(social_status, platform):
    expect_active(social_status, platform, reasons=STATES)


@check("adinsights.meta.social.connection_active", severity="high",
       runbook="meta.md#connection-active", needs=("api", "tenant"))
def test_connection_active(social_status, meta_connections):
    """`complete` often means a paused connection: the one social status names must be
    `is_active=true`, as the playbook asks to confirm after a manual sync."""
    entry = next((p for p in social_status.body("platforms") or [] if p.get("platform") == "meta"),
                 {})
    connection_id = (entry.get("metadata") or {}).get("connection_id")
    if not connection_id:
        pytest.skip(f"not run: Meta is {entry.get('status') or 'absent'}, with no connection")
    expect("[STATUS] /api/airbyte/connections/", meta_connections.outcome, "==", "200")
    body = meta_connections.json
    rows = body if isinstance(body, list) else meta_connections.body("results", [])
    matches = [r for r in rows if r.get("id") == connection_id]
    expect(f"connections[id={connection_id}]", len(matches), "==", 1)
    code = (entry.get("reason") or {}).get("code")
    expect(f"connections[id={connection_id}].is_active", matches[0].get("is_active"), "==",
           True, note=f"social status: {entry.get('status')} ({code})")

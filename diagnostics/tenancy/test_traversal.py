"""HTTP traversal: no response to one tenant carries another tenant's identifiers, and
another tenant's objects cannot be fetched by id."""

import pytest

from fixtures import evidence
from fixtures.catalog import check
from fixtures.expect import expect

BY_ID = ("/api/analytics/campaigns/{id}/", "/api/airbyte/connections/{id}/")
LISTS = {"/api/analytics/campaigns/{id}/": "/api/analytics/campaigns/",
         "/api/airbyte/connections/{id}/": "/api/airbyte/connections/"}


@check("tenancy.traversal.lists", severity="critical",
       runbook="tenancy.md#cross-tenant-traversal", needs=("api", "tenant"))
def test_no_foreign_identifiers(traversal, tenant, tenancy_settings):
    accepted = tenancy_settings.get("accepted_exposures", [])
    shown = traversal.accepted(tenant, accepted)
    if shown:
        evidence.record(evidence.Entry("note", "accepted exposures",
                                       f"{len(shown)} exposures accepted by the profile",
                                       {"accepted": shown, "rules": accepted}))
    expect("foreign identifiers in responses", traversal.foreign(tenant, accepted), "is empty")


@pytest.mark.parametrize("detail", BY_ID)
@check("tenancy.traversal.by_id", severity="critical", runbook="tenancy.md#foreign-object-by-id",
       needs=("api", "tenant"))
def test_foreign_object_refused(diag, tenant, detail, own_list, tenant_ids):
    others = [t for t in tenant_ids if t != tenant]
    refused = []
    for other in others:
        rows = own_list(other, LISTS[detail])
        if not rows:
            continue
        url = detail.format(id=rows[0]["id"])
        answer = diag.http.get("api", url, headers=diag.auth(tenant))
        refused.append(f"{other}'s {url} -> {answer.outcome}")
        expect(f"[STATUS] of {other}'s object {url}", answer.outcome, "in", ("403", "404"))
    if not refused:
        pytest.skip("not run: no other tenant has an object here to try")

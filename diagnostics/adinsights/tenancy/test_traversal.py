"""HTTP traversal: no response to one tenant carries another tenant's identifiers, and
another tenant's objects cannot be fetched by id."""

import pytest

from fixtures import evidence
from fixtures.catalog import check
from fixtures.expect import expect

BY_ID = ("/api/analytics/campaigns/{id}/", "/api/airbyte/connections/{id}/")
LISTS = {"/api/analytics/campaigns/{id}/": "/api/analytics/campaigns/",
         "/api/airbyte/connections/{id}/": "/api/airbyte/connections/"}


@check("adinsights.tenancy.traversal.lists", severity="critical",
       runbook="tenancy.md#cross-tenant-traversal", needs=("api", "tenant"))
def test_no_foreign_identifiers(traversal, tenant, tenancy_settings):
    accepted = tenancy_settings.get("accepted_exposures", [])
    for entry in traversal.entries.get(tenant, []):
        if entry is not None:
            evidence.record(entry)
    shown = traversal.accepted(tenant, accepted)
    if shown:
        evidence.record(evidence.Entry("note", "accepted exposures",
                                       f"{len(shown)} exposures accepted by the profile",
                                       {"accepted": shown, "rules": accepted}))
    expect("foreign identifiers in responses", traversal.foreign(tenant, accepted), "is empty")


@pytest.mark.parametrize("detail", BY_ID)
@check("adinsights.tenancy.traversal.by_id",
       severity="critical", runbook="tenancy.md#foreign-object-by-id",
       needs=("api", "tenant"))
def test_foreign_object_refused(diag, tenant, detail, own_list, tenant_ids, tenancy_settings):
    others = neighbours(list(tenant_ids), tenant, int(tenancy_settings.get("by_id_peers", 3)))
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


def neighbours(names: list[str], tenant: str, count: int) -> list[str]:
    """The next ``count`` tenants after ``tenant``, wrapping round: every tenant is tried
    as intruder and as victim, and a fleet of N costs N x count fetches, not N squared."""
    index = names.index(tenant)
    return [names[(index + step) % len(names)]
            for step in range(1, min(count, len(names) - 1) + 1)]

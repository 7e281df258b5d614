"""Connection identity: the UUIDs ADinsights stores are the ones Airbyte knows."""

from fixtures.catalog import check
from fixtures.expect import expect


@check("adinsights.airbyte.connections.identity",
       severity="high", runbook="airbyte.md#connection-identity",
       needs=("api", "airbyte_server"))
def test_connection_identity(diag, config_api):
    backend: dict[str, str] = {}
    for tenant in diag.profile.tenants:
        answer = diag.http.get("api", "/api/airbyte/connections/", headers=diag.auth(tenant.name))
        rows = answer.json if isinstance(answer.json, list) else answer.body("results", [])
        backend.update({r["connection_id"]: r.get("workspace_id", "") for r in rows})
    airbyte: set[str] = set()
    for workspace in set(backend.values()):
        listed = config_api("connections/list", {"workspaceId": workspace})
        airbyte |= {c["connectionId"] for c in listed.body("connections", []) or []}
    expect("backend connections unknown to Airbyte", sorted(set(backend) - airbyte), "is empty")
    expect("Airbyte connections unknown to the backend (same workspaces)",
           sorted(airbyte - set(backend)), "is empty")

"""The warehouse adapter and the metrics a tenant sees (support playbook 1)."""

from fixtures.catalog import check
from fixtures.expect import expect


@check("adinsights.tenancy.warehouse", severity="critical", runbook="tenancy.md#warehouse-adapter",
       needs=("api", "tenant", "snapshot"))
def test_own_snapshot(metrics, own_list, tenant, tenant_ids):
    expect("[STATUS]", metrics.outcome, "==", "200", note=metrics.body("reason")
           if metrics.ok and metrics.status != 200 else None)
    rows = metrics.body("campaign.rows", []) or []
    mine = {r.get("id") for r in own_list(tenant, "/api/analytics/campaigns/")}
    mine |= {r.get("external_id") for r in own_list(tenant, "/api/analytics/campaigns/")}
    theirs = {}
    for other in tenant_ids:
        if other != tenant:
            for r in own_list(other, "/api/analytics/campaigns/"):
                theirs[r.get("id")] = other
                theirs[r.get("external_id")] = other
    foreign = [f"{r.get('id')} ({theirs[r.get('id')]}'s)" for r in rows if r.get("id") in theirs
               and r.get("id") not in mine]
    expect("campaign rows of another tenant in the snapshot", foreign, "is empty")


@check("adinsights.tenancy.metrics.data",
       severity="high", runbook="tenancy.md#tenant-metrics-visible",
       needs=("api", "tenant", "snapshot"), category="missing data")
def test_tenant_sees_metrics(metrics):
    expect("[STATUS]", metrics.outcome, "==", "200",
           note=metrics.body("detail") if metrics.ok and metrics.status != 200 else None)
    expect("[BODY].campaign.rows", len(metrics.body("campaign.rows", []) or []), ">", 0)
    expect("[BODY].snapshot_generated_at", metrics.body("snapshot_generated_at"), "not in",
           (None, ""))

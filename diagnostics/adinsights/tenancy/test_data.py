"""The warehouse adapter and the metrics a tenant sees (support playbook 1)."""

from fixtures.catalog import check
from fixtures.expect import expect


@check("adinsights.tenancy.warehouse", severity="critical", runbook="tenancy.md#warehouse-adapter",
       needs=("api", "tenant", "snapshot"))
def test_own_snapshot(metrics, own_list, tenant, campaign_owners):
    expect("[STATUS]", metrics.outcome, "==", "200", note=metrics.body("reason")
           if metrics.ok and metrics.status != 200 else None)
    rows = metrics.body("campaign.rows", []) or []
    listed = own_list(tenant, "/api/analytics/campaigns/")
    mine = {r.get("id") for r in listed} | {r.get("external_id") for r in listed}
    foreign = [f"{r.get('id')} ({campaign_owners[r.get('id')]}'s)" for r in rows
               if r.get("id") in campaign_owners and r.get("id") not in mine]
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

"""Background tasks and the audit trail carry, and respect, the tenant."""

import pytest

from fixtures.catalog import check
from fixtures.expect import expect


@check("adinsights.tenancy.tasks.tenant_id",
       severity="high", runbook="tenancy.md#background-task-logs")
def test_task_lines_carry_tenant(task_log_lines):
    expect("celery.tasks lines", len(task_log_lines), ">", 0)
    missing = [f"{r.get('task_name')} {r.get('task_id')}" for r in task_log_lines
               if not r.get("tenant_id")]
    expect("celery.tasks lines without tenant_id", missing, "is empty")


@check("adinsights.tenancy.audit.scoped",
       severity="critical", runbook="tenancy.md#audit-trail-scope",
       needs=("api", "tenant"))
def test_audit_rows_are_own(audit, tenant, tenant_ids):
    answer = audit()
    expect("[STATUS]", answer.outcome, "==", "200")
    rows = answer.body("results", []) or []
    foreign = [f"{r.get('id')} ({r.get('action')}, tenant {r.get('tenant')})" for r in rows
               if str(r.get("tenant")) != tenant_ids[tenant]]
    expect("audit rows of another tenant", foreign, "is empty")


@check("adinsights.tenancy.audit.filters", severity="medium", runbook="tenancy.md#audit-filters",
       needs=("api", "tenant"))
def test_audit_filters(audit):
    rows = audit().body("results", []) or []
    if not rows:
        pytest.skip("not run: the tenant has no audit rows to filter")
    for field, value in (("action", rows[0].get("action")),
                         ("resource_type", rows[0].get("resource_type"))):
        filtered = audit(**{field: value}).body("results", []) or []
        other = sorted({str(r.get(field)) for r in filtered} - {str(value)})
        expect(f"rows with another {field} under ?{field}={value}", other, "is empty")

"""Background tasks and the audit trail carry, and respect, the tenant."""

from collections import Counter

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
def test_audit_filters(audit_pages):
    rows, pages, more = audit_pages()
    if not rows:
        pytest.skip("not run: the tenant has no audit rows to filter")
    read = f"{len(rows)} rows over {pages} page(s){' and more unread' if more else ''}"
    for field in ("action", "resource_type"):
        value, excluded = excluding_value(rows, field)
        filtered, _, _ = audit_pages(**{field: value})
        other = sorted({str(r.get(field)) for r in filtered} - {value})
        expect(f"rows with another {field} under ?{field}={value}", other, "is empty",
               note=f"{excluded} of the {read} have another {field}")
        if value != ABSENT:
            expect(f"rows under ?{field}={value}", len(filtered), ">", 0,
                   note=f"the {read} include {len(rows) - excluded} with it")


# A value no trail holds: the filter must then answer with no rows at all.
ABSENT = "diagnostics-no-such-value"


def excluding_value(rows: list[dict], field: str) -> tuple[str, int]:
    """The value of ``field`` that the fewest known rows carry, so filtering by it must
    drop the most rows we have seen; when every row shares one value, a value none
    carries. Returns it with the number of known rows the filter must exclude."""
    counts = Counter(str(r.get(field)) for r in rows)
    if len(counts) < 2:
        return ABSENT, len(rows)
    value, kept = min(counts.items(), key=lambda item: (item[1], item[0]))
    return value, len(rows) - kept

"""The restore rehearsal: the restored database matches the primary table by table, row
by row and column by column, and answers the stack's smoke queries."""

from fixtures.catalog import check, upstream_check
from fixtures.evidence import record_table
from fixtures.expect import expect

from .conftest import differences

test_primary_reachable = upstream_check(
    "voucher.dr.primary.reachable", "dr_primary", "[CONNECTED]", severity="high",
    runbook="dr.md#primary-database-reachable")

test_restored_reachable = upstream_check(
    "voucher.dr.restore.reachable", "dr_restored", "[CONNECTED]", severity="critical",
    runbook="dr.md#restored-database-reachable")


@check("voucher.dr.parity.report", severity="high", runbook="dr.md#row-count-report",
       category="missing data")
def test_rowcount_report(rowcount_report):
    expect(f"{rowcount_report.path}", rowcount_report.error or "readable", "==", "readable")
    unequal = [(table, source, copy) for table, source, copy in rowcount_report.rows
               if source.strip() != copy.strip()]
    record_table("rowcount.csv differences", ("table", "source_rows", "restored_rows"),
                 unequal)
    expect("tables whose source and restored counts differ in rowcount.csv",
           [f"{t}: source {s}, restored {c}" for t, s, c in unequal], "is empty")


@check("voucher.dr.parity.rows", severity="critical", runbook="dr.md#row-count-parity",
       needs=("dr_primary", "dr_restored"), category="missing data")
def test_row_counts(primary, restored):
    for side in (primary, restored):
        expect(f"exact row counts on {side.name}", side.error or "read", "==", "read")
    expect("tables on the primary", len(primary.counts), ">", 0)
    diff = differences(primary, restored)
    record_table("row-count differences (exact count(*))", ("table", "primary", "restored"),
                 [(t, primary.counts.get(t, "missing"), restored.counts.get(t, "missing"))
                  for t in sorted(set(primary.counts) | set(restored.counts))
                  if primary.counts.get(t) != restored.counts.get(t)])
    expect("tables whose exact row counts differ", diff, "is empty")


@check("voucher.dr.parity.schema", severity="high", runbook="dr.md#schema-parity",
       needs=("dr_primary", "dr_restored"))
def test_schema(primary, restored):
    for side in (primary, restored):
        expect(f"columns on {side.name}", side.error or "read", "==", "read")
    drift = []
    for table in sorted(set(primary.columns) | set(restored.columns)):
        ours, theirs = primary.columns.get(table), restored.columns.get(table)
        if ours is None or theirs is None:
            drift.append((table, "", "missing" if ours is None else "present",
                          "missing" if theirs is None else "present"))
            continue
        for column in sorted(set(ours) | set(theirs)):
            if ours.get(column) != theirs.get(column):
                drift.append((table, column, ours.get(column, "missing"),
                              theirs.get(column, "missing")))
    record_table("schema differences", ("table", "column", "primary", "restored"), drift)
    expect("tables and columns that differ (table.column: primary -> restored)",
           [f"{t}{'.' + c if c else ''}: {p} -> {r}" for t, c, p, r in drift], "is empty")


@check("voucher.dr.restore.smoke", severity="critical", runbook="dr.md#restore-smoke-queries",
       needs=("dr_restored",), category="missing data")
def test_smoke_flow(diag, smoke):
    """Every read of the flow answers with rows, not only its first."""
    from fixtures.probes.db import DbError

    unanswered = []
    for n, query in enumerate(smoke):
        name = query.get("name", n)
        try:
            rows = diag.db.query(diag.database("dr_restored"), str(query.get("sql", "")))
        except DbError as exc:
            unanswered.append(f"{name}: {exc}")
            continue
        if not rows:
            unanswered.append(f"{name}: no rows")
    expect(f"reads of the flow ({len(smoke)}) the restore did not answer", unanswered,
           "is empty")

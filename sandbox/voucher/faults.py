"""Named failure states of the voucher app's DR rehearsal: its backups, the snapshot
manifest, the run's files and the primary and restored databases."""

from collections.abc import Iterable

from sandbox.parts import faults as parts_faults

FAULTS: dict[str, str] = {
    "dr_backup_stale": "the newest voucher backup in S3 is 50 h old (past the 24 h RPO)",
    "dr_backup_failed": "backup.log: pg_dump lost its connection; the backup FAILED, with no "
    "upload",
    "dr_backup_slow": "backup.log: the storage sync took 11 minutes (budget 5)",
    "dr_rowcount_mismatch": "the restore has 3 rows fewer in station_redeems (rowcount.csv "
    "and live)",
    "dr_restore_missing_table": "campaign_sends is missing from the restored database",
    "dr_column_drift": "restored vouchers.value_cents is bigint, not integer",
    "dr_primary_port_closed": "the voucher primary database refuses connections where the "
    "diagnostics run",
    "dr_restored_port_closed": "the restored voucher database refuses connections (the "
    "restore never came up)",
    "dr_manifest_401": "the snapshot manifest answers 401: the access token has expired",
    "dr_tabletop_overdue": "the newest DR tabletop report is 200 days old",
    "dr_templates_missing": "docs/incidents/templates/ does not exist",
}

# Each group sets one piece of state to different values, so at most one member may be chosen.
EXCLUSIVE: tuple[frozenset[str], ...] = (
    # What the one backup run did: fail, or finish slowly.
    frozenset({"dr_backup_failed", "dr_backup_slow"}),
)


def check_faults(names: Iterable[str]) -> frozenset[str]:
    """Reject typos and contradictions up front, where the caller can still see which name."""
    return parts_faults.check_faults(names, FAULTS, EXCLUSIVE)

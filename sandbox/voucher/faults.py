"""Named failure states of the voucher app: its DR rehearsal (backups, the snapshot
manifest, the run's files, the primary and restored databases) and its incident
runbooks (previews, WhatsApp sends, the campaign dispatcher, station redeems)."""

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
    "dr_restore_redeems_lost": "the restore lost every voucher's redeemed_at (same rows, "
    "same columns): the voucher redeem flow finds no redeemed voucher",
    "dr_primary_port_closed": "the voucher primary database refuses connections where the "
    "diagnostics run",
    "dr_restored_port_closed": "the restored voucher database refuses connections (the "
    "restore never came up)",
    "dr_manifest_401": "the snapshot manifest answers 401: the access token has expired",
    "dr_tabletop_overdue": "the newest DR tabletop report is 200 days old",
    "dr_templates_missing": "docs/incidents/templates/ does not exist",
    "dr_tabletop_incomplete": "the newest tabletop report lists no Support Manager and a "
    "finding with no owner or due date",
    "dr_templates_unlinked": "the newest tabletop report does not link the incident "
    "templates",
    "admin_down": "the voucher admin app refuses connections",
    "platform_down": "the platform's functions API refuses connections",
    "app_port_closed": "the voucher app database refuses connections where the diagnostics "
    "run",
    "preview_endpoint_unset": "NEXT_PUBLIC_VOUCHER_PREVIEW_ENDPOINT is unset: Integrations "
    "Status shows voucherPreview red and previews answer 503",
    "preview_function_removed": "the voucher-preview Edge Function is not deployed (404)",
    "preview_storage_error": "the storage probe cannot list the vouchers bucket (amber)",
    "whatsapp_rate_limited": "the provider throttles: the send function answers 429 with "
    "retry-after, a third of the last hour's notifications failed with 429",
    "whatsapp_provider_down": "the provider is down: the send function answers 503, a third "
    "of the last hour's notifications failed with 503",
    "whatsapp_quiet_hours_invalid": "settings quiet_hours.rw starts at 25:00",
    "whatsapp_throttle_zero": "settings send_throttle.whatsapp.per_minute is 0",
    "whatsapp_summary_missing": "the last incident (campaigns stopped) has no "
    "incident_resolution entry in audit_log",
    "dispatch_function_down": "the campaign-dispatch Edge Function answers 503",
    "dispatch_stalled": "the running campaign's targets last moved 20 minutes ago and its "
    "pending sends are 15 minutes overdue",
    "dispatch_failed_sends": "send_queue rows reached FAILED after 5 attempts in the last "
    "hour, with their send_logs errors",
    "dispatch_replay_unlogged": "the dispatcher's last replay left no campaign_start in "
    "audit_log",
    "redeem_double": "a voucher has two redeem events",
    "redeem_after_void": "a void voucher was redeemed",
    "redeem_key_reused": "an idempotency key was reused for another voucher's redeem",
    "redeem_scope_mismatch": "a voucher was redeemed at a station outside its station_scope",
}

# Each group sets one piece of state to different values, so at most one member may be chosen.
EXCLUSIVE: tuple[frozenset[str], ...] = (
    # What the one backup run did: fail, or finish slowly.
    frozenset({"dr_backup_failed", "dr_backup_slow"}),
    # What the send function answers, and why the last hour's notifications failed.
    frozenset({"whatsapp_rate_limited", "whatsapp_provider_down"}),
)


def check_faults(names: Iterable[str]) -> frozenset[str]:
    """Reject typos and contradictions up front, where the caller can still see which name."""
    return parts_faults.check_faults(names, FAULTS, EXCLUSIVE)

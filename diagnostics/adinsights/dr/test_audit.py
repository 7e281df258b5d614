"""Audit history: kept for the whole retention window, no longer, and archived daily to an
encrypted, private bucket before the nightly deletion removes it."""

from datetime import timedelta

from fixtures.catalog import check, upstream_check
from fixtures.evidence import record_table
from fixtures.expect import expect

from .conftest import MIN_RETENTION_DAYS, now

test_audit_db_reachable = upstream_check(
    "adinsights.dr.audit.reachable", "audit_db", "[CONNECTED]", severity="high",
    runbook="dr.md#audit-database-reachable")

test_archive_reachable = upstream_check(
    "adinsights.dr.archive.reachable", "s3", "S3 answers for the archive bucket", severity="high",
    runbook="dr.md#archive-bucket-reachable")

OLDEST = "select min(created_at), count(*) from accounts_auditlog"
TOO_OLD = "select count(*), min(created_at) from accounts_auditlog where created_at < %s"
LIVE_SINCE = "select min(created_at) from accounts_tenant"
PUBLIC_GRANTEES = ("http://acs.amazonaws.com/groups/global/AllUsers",
                   "http://acs.amazonaws.com/groups/global/AuthenticatedUsers")
BLOCKS = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")


@check("adinsights.dr.audit.retention", severity="high", runbook="dr.md#audit-retention",
       needs=("audit_db",))
def test_no_row_past_retention(audit_db, dr_settings):
    window = int(dr_settings["audit_retention_days"])
    expect("[adinsights.dr] audit_retention_days", window, ">=", MIN_RETENTION_DAYS,
           note="the operations runbook keeps at least 365 days of audit history")
    cutoff = now() - timedelta(days=window + int(dr_settings["audit_grace_days"]))
    (count, oldest), = audit_db(TOO_OLD, (cutoff,))
    expect(f"accounts_auditlog rows older than {window} days plus "
           f"{dr_settings['audit_grace_days']} day of grace", count, "==", 0,
           note=f"oldest {oldest:%Y-%m-%d}: the nightly deletion is not running" if count
           else None)


@check("adinsights.dr.audit.history", severity="high", runbook="dr.md#audit-history-kept",
       needs=("audit_db",), category="missing data")
def test_history_reaches_window(audit_db, dr_settings):
    window = int(dr_settings["audit_retention_days"])
    grace = timedelta(days=int(dr_settings["audit_grace_days"]))
    (live_since,), = audit_db(LIVE_SINCE)
    (oldest, count), = audit_db(OLDEST)
    expect("rows in accounts_auditlog", count, ">", 0)
    if live_since is None or now() - live_since < timedelta(days=window):
        return  # a system younger than the window keeps everything it has
    age_days = round((now() - oldest).total_seconds() / 86400, 1)
    expect(f"age in days of the oldest audit row (live since {live_since:%Y-%m-%d})",
           age_days, ">=", round(window - grace.days, 1),
           note="rows must remain at the old edge of the retention window")


@check("adinsights.dr.archive.exports", severity="high", runbook="dr.md#daily-audit-exports",
       needs=("s3",), category="missing data")
def test_daily_exports(archive_call, dr_settings):
    prefix = str(dr_settings["archive_prefix"])
    days = [(now() - timedelta(days=n)).date() for n in range(1, int(
        dr_settings["archive_days"]) + 1)]
    found, errors = {}, []
    for day in days:
        listing, error = archive_call("list_objects_v2", Prefix=f"{prefix}{day:%Y-%m-%d}",
                                      MaxKeys=5)
        errors += [error] if error else []
        keys = [o["Key"] for o in listing.get("Contents", []) if o.get("Size", 0) > 0]
        found[day] = keys[0] if keys else "missing"
    expect("archive listing", errors[0] if errors else "read", "==", "read")
    missing = [f"{day:%Y-%m-%d}" for day, key in found.items() if key == "missing"]
    record_table("daily audit exports", ("day", "export"),
                 [(f"{day:%Y-%m-%d}", key) for day, key in found.items()])
    expect(f"days of the last {len(days)} without an export under {prefix}", missing,
           "is empty")


@check("adinsights.dr.archive.encrypted", severity="high", runbook="dr.md#archive-encrypted",
       needs=("s3",))
def test_bucket_encrypted(archive_call):
    config, error = archive_call("get_bucket_encryption")
    rules = config.get("ServerSideEncryptionConfiguration", {}).get("Rules", [])
    algorithms = [r.get("ApplyServerSideEncryptionByDefault", {}).get("SSEAlgorithm")
                  for r in rules]
    expect("default encryption of the archive bucket", [a for a in algorithms if a], "!=", [],
           note=error or None)


@check("adinsights.dr.archive.private", severity="critical", runbook="dr.md#archive-not-public",
       needs=("s3",))
def test_bucket_private(archive_call):
    status, status_error = archive_call("get_bucket_policy_status")
    block, block_error = archive_call("get_public_access_block")
    acl, _ = archive_call("get_bucket_acl")
    public_grants = [g.get("Permission") for g in acl.get("Grants", [])
                     if g.get("Grantee", {}).get("URI") in PUBLIC_GRANTEES]
    expect("bucket policy IsPublic", status.get("PolicyStatus", {}).get("IsPublic", False),
           "==", False, note=status_error if "NoSuchBucketPolicy" not in status_error else None)
    expect("ACL grants to everyone", public_grants, "is empty")
    settings = block.get("PublicAccessBlockConfiguration", {})
    expect("public access block settings not on", [b for b in BLOCKS if not settings.get(b)],
           "is empty", note=block_error or None)

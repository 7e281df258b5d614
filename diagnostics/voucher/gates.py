"""The voucher app's upstreams: its primary database and the restore, and the S3 bucket
its backups go to; the admin app, the platform's functions API and the app database the
incident runbooks read."""

from __future__ import annotations

from fixtures import upstreams
from fixtures.context import Context
from fixtures.gates import Verdict, register

SYSTEM = "voucher"

upstreams.register_databases(SYSTEM, {"dr_primary": "voucher.dr.primary.reachable",
                                      "dr_restored": "voucher.dr.restore.reachable",
                                      "app": "voucher.dispatch.app_db.reachable"})


@register("admin", "voucher.preview.admin.reachable")
def admin_gate(ctx: Context, _key: str) -> Verdict:
    """Any answer under /api/ (a 401 included) means the admin app is up."""
    return upstreams.http(ctx, "admin", "/api/integrations/status")


@register("platform", "voucher.preview.platform.reachable")
def platform_gate(ctx: Context, _key: str) -> Verdict:
    return upstreams.http(ctx, "platform", "/v1/projects")


@register("s3", "voucher.dr.storage.reachable")
def s3_gate(ctx: Context, _key: str) -> Verdict:
    """HeadBucket on the backup bucket, when the backups are kept in S3: read-only, and it
    answers for any bucket state. Backups in a local directory need no S3."""
    where = str(ctx.profile.area("dr").get("backup_location", ""))
    if not where.startswith("s3://"):
        return Verdict(False, "the backups are not kept in S3 ([voucher.dr] backup_location "
                       f"is '{where}')", unavailable=True)
    bucket = where.removeprefix("s3://").partition("/")[0]
    return upstreams.aws(ctx, "s3", "head_bucket", lambda _: f"HeadBucket for {bucket}",
                         Bucket=bucket)

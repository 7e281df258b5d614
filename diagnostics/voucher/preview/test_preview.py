"""Voucher preview failures: the probe is green, the Edge Function behind previews is
deployed and active, and a test voucher's preview renders."""

from diagnostics.voucher.conftest import admin_headers
from diagnostics.voucher.status import STATES, expect_green
from fixtures.catalog import check, upstream_check
from fixtures.expect import expect

test_admin_reachable = upstream_check(
    "voucher.preview.admin.reachable", "admin", "the admin app answers", severity="critical",
    runbook="integrations.md#admin-app-reachable")

test_platform_reachable = upstream_check(
    "voucher.preview.platform.reachable", "platform", "the platform's functions API answers",
    severity="high", runbook="preview.md#functions-api-reachable")


@check("voucher.preview.status.preview", severity="high",
       runbook="integrations.md#voucherpreview", needs=("admin",), states=STATES)
def test_preview_probe(integrations):
    expect_green(integrations, "voucherPreview")


@check("voucher.preview.status.storage", severity="high",
       runbook="integrations.md#storagesignedurl", needs=("admin",), states=STATES)
def test_storage_probe(integrations):
    expect_green(integrations, "storageSignedUrl")


@check("voucher.preview.function.deployed", severity="high",
       runbook="preview.md#preview-function-deployed", needs=("platform",),
       category="service unhealthy",
       states={"unauthorised": ("functions-api-unauthorised", "credentials")})
def test_function_deployed(diag, preview_function):
    response = preview_function
    state = "unauthorised" if response.status in (401, 403) else None
    expect(f"[STATUS] of the function {response.url.rsplit('/', 1)[-1]}", response.outcome,
           "==", "200", state=state, note=str(response.body("message", "")) or None)
    expect("[BODY].status", response.body("status"), "==", "ACTIVE")


@check("voucher.preview.render", severity="high", runbook="preview.md#test-preview-renders",
       needs=("admin",), category="service unhealthy", intrusive=True)
def test_preview_renders(diag, preview_settings):
    response = diag.http.post(
        "admin", "/api/vouchers/preview",
        json_body={"voucherId": str(preview_settings["test_voucher_id"])},
        headers={**admin_headers(diag),
                 "x-idempotency-key": f"diagnostics-preview-{preview_settings['test_voucher_id']}"})
    expect("[STATUS] of POST /api/vouchers/preview", response.outcome, "==", "200",
           note=str(response.body("integration.message", "")) or None)
    expect("[BODY].integration.status", response.body("integration.status"), "==", "ok")
    expect("[BODY].imageUrl", bool(response.body("imageUrl")), "==", True)

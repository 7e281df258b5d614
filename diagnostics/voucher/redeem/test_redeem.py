"""Station redeem anomalies: each voucher redeemed once and never after void, one payload
per idempotency key, and redeems only at the voucher's own station."""

from fixtures.catalog import check
from fixtures.expect import expect


@check("voucher.redeem.vouchers.single", severity="critical",
       runbook="redeem.md#double-redemption", needs=("app",), category="contract violation",
       states={"after-void": "redeemed-after-void"})
def test_redeemed_once(double_redeems):
    after_void = any(row[4] for row in double_redeems)
    expect("vouchers redeemed twice or after void",
           [f"{voucher} ({status}): {events}" for voucher, status, events, _n, _v
            in double_redeems], "is empty", state="after-void" if after_void else None)


@check("voucher.redeem.idempotency", severity="high", runbook="redeem.md#idempotency-keys",
       needs=("app",), category="contract violation")
def test_keys_not_reused(reused_keys):
    expect("idempotency keys reused with a different payload",
           [f"{key}: vouchers {vouchers} at {stations} (stored {stored})"
            for key, vouchers, stations, stored in reused_keys], "is empty")


@check("voucher.redeem.scope", severity="high", runbook="redeem.md#station-scope",
       needs=("app",), category="contract violation")
def test_within_scope(out_of_scope):
    expect("redeems at a station outside the voucher's station_scope",
           [f"{voucher} scoped to {scope}, redeemed at {station} ({at})"
            for voucher, scope, station, at in out_of_scope], "is empty")

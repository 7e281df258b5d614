"""Checklist step 4 and the account's sending switch."""

from fixtures.catalog import check
from fixtures.expect import expect


@check("adinsights.ses.account.production", severity="critical",
       runbook="ses.md#account-out-of-the-sandbox", needs=("ses",))
def test_production_access(account):
    review = account.answer.get("Details", {}).get("ReviewDetails", {}).get("Status")
    expect("SES v2 ProductionAccessEnabled", account.answer.get("ProductionAccessEnabled"),
           "==", True, note=account.error or f"production access review: {review or 'none'}")


@check("adinsights.ses.account.sending",
       severity="critical", runbook="ses.md#account-sending-enabled",
       needs=("ses",))
def test_sending_enabled(account, ses_call):
    v1 = ses_call("ses", "get_account_sending_enabled")
    expect("SES v2 SendingEnabled", account.answer.get("SendingEnabled"), "==", True,
           note=account.error or None)
    expect("SES v1 GetAccountSendingEnabled Enabled", v1.answer.get("Enabled"), "==", True,
           note=v1.error or None)
    expect("SES v2 EnforcementStatus", account.answer.get("EnforcementStatus"), "==", "HEALTHY")

"""Checklist steps 1 and 2: the domain identity is verified, and Easy DKIM is enabled with
every token verified in SES and published in DNS."""

from fixtures.catalog import check
from fixtures.expect import expect

from .conftest import normal


@check("adinsights.ses.identity.verified",
       severity="critical", runbook="ses.md#domain-identity-verified",
       needs=("ses",))
def test_identity_verified(identity, identity_v2, verification_v1):
    v1 = verification_v1.answer.get("VerificationAttributes", {}).get(identity, {})
    expect(f"SES v2 VerificationStatus of {identity}",
           normal(identity_v2.answer.get("VerificationStatus")) or None, "==", "SUCCESS",
           note=identity_v2.error or None)
    expect(f"SES v1 VerificationStatus of {identity}",
           normal(v1.get("VerificationStatus")) or None, "==", "SUCCESS",
           note=verification_v1.error or None)
    expect("SES v2 VerifiedForSendingStatus", identity_v2.answer.get("VerifiedForSendingStatus"),
           "==", True)


@check("adinsights.ses.dkim.enabled",
       severity="high", runbook="ses.md#easy-dkim-enabled", needs=("ses",))
def test_dkim_enabled(identity, dkim_v1, identity_v2):
    expect(f"SES v1 DkimEnabled for {identity}", dkim_v1["enabled"], "==", True,
           note=dkim_v1["error"] or None)
    expect("SES v2 DkimAttributes.SigningEnabled",
           identity_v2.answer.get("DkimAttributes", {}).get("SigningEnabled"), "==", True,
           note=identity_v2.error or None)


@check("adinsights.ses.dkim.tokens", severity="high", runbook="ses.md#dkim-tokens-verified-in-ses",
       needs=("ses", "dns"), states={"dns": "dkim-cname-records-in-dns"})
def test_dkim_tokens(dkim_v1, dkim_rows):
    expect("Easy DKIM tokens listed by SES", len(dkim_v1["tokens"]), ">=", 1,
           note=dkim_v1["error"] or "SES lists no DKIM tokens for the identity")
    expect("SES DkimVerificationStatus for tokens", dkim_v1["status"], "==", "SUCCESS",
           note="tokens: " + ", ".join(row["token"] for row in dkim_rows))
    wrong = [f"{row['name']} -> {', '.join(row['cname']) or row['dns_error']}"
             for row in dkim_rows if row["cname"] != [row["expected"]]]
    expect("DKIM CNAMEs not pointing at the SES DKIM host", wrong, "is empty", state="dns",
           note=f"each must be <token>.{dkim_rows[0]['expected'].split('.', 1)[1]}")

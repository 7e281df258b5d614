"""Checklist step 3: SPF and DMARC exist and line up with how SES sends for the domain."""

from fixtures.catalog import check
from fixtures.expect import expect

from .conftest import includes_ses

POLICIES = ("none", "quarantine", "reject")


@check("adinsights.ses.dns.spf", severity="high", runbook="ses.md#spf-includes-amazon-ses",
       needs=("ses", "dns"))
def test_spf(diag, identity, spf, mail_from):
    expect(f"SPF records (v=spf1) on {identity}", len(spf["domain"]), "==", 1)
    expect(f"SPF of {identity}", spf["domain"][0], "contains", "include:amazonses.com")
    if mail_from["domain"]:
        where = mail_from["domain"]
        expect(f"SPF records on the MAIL FROM domain {where}", len(spf["mail_from"]), "==", 1)
        expect(f"SPF of {where}", spf["mail_from"][0], "contains", "include:amazonses.com")
        expect(f"MX of {where}", spf["mx"], "contains",
               f"10 feedback-smtp.{diag.aws.region}.amazonses.com")


@check("adinsights.ses.dns.dmarc", severity="high", runbook="ses.md#dmarc-record-and-alignment",
       needs=("ses", "dns"))
def test_dmarc(identity, dmarc, dkim_v1, dkim_rows, mail_from, spf):
    expect(f"DMARC records (v=DMARC1) at _dmarc.{identity}", len(dmarc["records"]), "==", 1,
           note=dmarc["error"] or None)
    expect("DMARC p= policy", dmarc["tags"].get("p"), "in", POLICIES)
    aligned = []
    if dkim_v1["enabled"] and dkim_v1["status"] == "SUCCESS" and dkim_rows and \
            all(row["cname"] == [row["expected"]] for row in dkim_rows):
        aligned.append("DKIM (Easy DKIM signs as the domain)")
    strict_spf = dmarc["tags"].get("aspf") == "s"
    if mail_from["domain"] and mail_from["status"] == "SUCCESS" and not strict_spf and \
            spf["mail_from"] and includes_ses(spf["mail_from"][0]):
        aligned.append(f"SPF (custom MAIL FROM {mail_from['domain']})")
    expect("sending paths aligned with the From domain", aligned, "!=", [],
           note="DMARC needs DKIM or SPF to pass and align: verified Easy DKIM, or a "
           "verified custom MAIL FROM with SPF including amazonses.com")

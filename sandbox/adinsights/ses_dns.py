"""The mail records the SES sending domain publishes (external-apis §4.3), each in the
state a fault names: faults remove or change single records."""

from __future__ import annotations

from sandbox.adinsights.ses import SesState
from sandbox.parts.dns import Record

SPF = "v=spf1 include:amazonses.com ~all"
SPF_WITHOUT_SES = "v=spf1 include:_spf.google.com ~all"
# Another provider's DKIM key on the same domain: long enough to need several strings.
OTHER_DKIM = "v=DKIM1; k=rsa; p=" + "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA" * 9


def ses_records(ses: SesState, faults: frozenset[str]) -> list[Record]:
    """The records a domain sending through SES publishes: Easy DKIM CNAMEs, SPF on the
    domain and on the custom MAIL FROM subdomain (with its feedback MX), and DMARC."""
    domain = ses.domain
    spf = SPF_WITHOUT_SES if "ses_spf_without_ses" in faults else SPF
    tokens = ses.tokens[1:] if "ses_dkim_cname_missing" in faults else ses.tokens
    records = [Record(f"{t}._domainkey.{domain}", "CNAME", f"{t}.dkim.amazonses.com")
               for t in tokens]
    records += [
        Record(domain, "SOA", f"ns1.{domain} hostmaster.{domain}"),
        Record(domain, "TXT", spf),
        Record(f"google._domainkey.{domain}", "TXT", OTHER_DKIM),
        Record(ses.mail_from_domain, "MX", f"10 feedback-smtp.{ses.region}.amazonses.com"),
        Record(ses.mail_from_domain, "TXT", spf),
    ]
    if "ses_dmarc_missing" not in faults:
        records.append(Record(f"_dmarc.{domain}", "TXT",
                              f"v=DMARC1; p=quarantine; rua=mailto:dmarc@{domain}"))
    return records

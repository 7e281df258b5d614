"""The two upstreams of the SES checklist: the SES API and the domain's nameserver."""

from fixtures.catalog import upstream_check

test_ses_api = upstream_check(
    "adinsights.ses.api.reachable", "ses", "SES API answers", severity="critical",
    runbook="ses.md#ses-api-reachable")

test_dns = upstream_check(
    "adinsights.ses.dns.reachable", "dns", "the profile's nameserver answers", severity="critical",
    runbook="ses.md#dns-nameserver-reachable")

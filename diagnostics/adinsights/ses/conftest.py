"""Observations for the SES readiness checklist: what SES says about the identity and the
account, what DNS serves for the domain, and the backend's email settings.

SES answers come through the AWS probe (memoised, so every check sees one state) and DNS
answers through the DNS probe, which asks only the nameserver the profile names. A failed
call becomes part of the observation, so a check fails with the call's one-line error
rather than erroring out.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from diagnostics.adinsights.gates import dns
from fixtures import evidence
from fixtures.context import Context
from fixtures.probes import files
from fixtures.probes.aws import AwsError
from fixtures.probes.dns import Answer

DEFAULTS: dict[str, Any] = {
    "identity": "adtelligent.net",
    "dkim_host": "dkim.amazonses.com",
    "delivery": "send_statistics",
    "delivery_wait_seconds": 10,
    "invite_email": "",
    "invite_role": "VIEWER",
    "reset_email": "",
}
DELIVERY_MODES = ("send_statistics", "send_quota", "none")
EMAIL_KEYS = {"from_address": "EMAIL_FROM_ADDRESS",
              "expected_from_domain": "SES_EXPECTED_FROM_DOMAIN",
              "configuration_set": "SES_CONFIGURATION_SET"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The mail smoke tests go first: the password reset shares the sign-in throttle
    budget (auth_burst) with the edge checks' bursts, which would otherwise leave it
    answering 429 for a minute."""
    items.sort(key=lambda item: 0 if item.nodeid.split("::")[0].endswith(
        "ses/test_smoke.py") else 1)


def normal(status: Any) -> str:
    """SES v1 says ``Success``/``NotStarted``, v2 ``SUCCESS``/``NOT_STARTED``: one form."""
    text = str(status or "")
    if text.isupper() or "_" in text:
        return text.upper()
    return re.sub(r"(?<!^)(?=[A-Z])", "_", text).upper()


@dataclass
class SesAnswer:
    answer: dict = field(default_factory=dict)
    error: str = ""


@pytest.fixture
def ses_settings(diag: Context) -> dict:
    return diag.settings("ses", DEFAULTS)


@pytest.fixture
def identity(ses_settings: dict) -> str:
    return str(ses_settings["identity"]).lower().rstrip(".")


@pytest.fixture
def ses_call(diag: Context):
    def call(service: str, operation: str, **params: Any) -> SesAnswer:
        try:
            return SesAnswer(diag.aws.call(service, operation, **params))
        except AwsError as exc:
            return SesAnswer(error=str(exc))

    return call


@pytest.fixture
def identity_v2(ses_call, identity: str) -> SesAnswer:
    return ses_call("sesv2", "get_email_identity", EmailIdentity=identity)


@pytest.fixture
def verification_v1(ses_call, identity: str) -> SesAnswer:
    return ses_call("ses", "get_identity_verification_attributes", Identities=[identity])


@pytest.fixture
def dkim_v1(ses_call, identity: str) -> dict:
    """``{enabled, status, tokens, error}`` from v1 GetIdentityDkimAttributes."""
    found = ses_call("ses", "get_identity_dkim_attributes", Identities=[identity])
    attributes = found.answer.get("DkimAttributes", {}).get(identity, {})
    return {"enabled": attributes.get("DkimEnabled"),
            "status": normal(attributes.get("DkimVerificationStatus")) or None,
            "tokens": list(attributes.get("DkimTokens") or []), "error": found.error}


@pytest.fixture
def mail_from(ses_call, identity: str) -> dict:
    """The custom MAIL FROM domain, when one is set (v1 GetIdentityMailFromDomainAttributes)."""
    found = ses_call("ses", "get_identity_mail_from_domain_attributes", Identities=[identity])
    attributes = found.answer.get("MailFromDomainAttributes", {}).get(identity, {})
    return {"domain": (attributes.get("MailFromDomain") or "").lower().rstrip("."),
            "status": normal(attributes.get("MailFromDomainStatus")) or None,
            "error": found.error}


@pytest.fixture
def account(ses_call) -> SesAnswer:
    return ses_call("sesv2", "get_account")


@pytest.fixture
def lookup(diag: Context):
    def query(name: str, rtype: str) -> Answer:
        return dns(diag).query(name, rtype)

    return query


@pytest.fixture
def dkim_rows(dkim_v1: dict, identity_v2: SesAnswer, identity: str, lookup,
              ses_settings: dict) -> list[dict]:
    """One row per Easy DKIM token: SES's verdict beside what DNS serves for its CNAME."""
    zone = identity_v2.answer.get("DkimAttributes", {}).get("SigningHostedZone") or \
        ses_settings["dkim_host"]
    rows = []
    for token in dkim_v1["tokens"]:
        name = f"{token}._domainkey.{identity}"
        answer = lookup(name, "CNAME")
        rows.append({"token": token, "name": name, "ses": dkim_v1["status"],
                     "expected": f"{token}.{zone}".lower(),
                     "cname": [r.lower() for r in answer.records],
                     "dns_error": answer.error})
    shown = "; ".join(f"{r['token']}: SES {r['ses']}, DNS {', '.join(r['cname']) or r['dns_error']}"
                      for r in rows) or "SES lists no tokens"
    evidence.record(evidence.Entry("ses", f"Easy DKIM tokens of {identity}",
                                   evidence.cap(shown, 1200), {"tokens": rows}))
    return rows


def spf_records(answer: Answer) -> list[str]:
    return [r for r in answer.records if r.lower().startswith("v=spf1")]


def includes_ses(record: str) -> bool:
    return "include:amazonses.com" in record.lower().split()


@pytest.fixture
def spf(identity: str, mail_from: dict, lookup) -> dict:
    """SPF where SES mail is checked against it: the custom MAIL FROM domain when one is
    set (with its feedback MX), and the domain's own record."""
    found = {"domain": spf_records(lookup(identity, "TXT")), "mail_from": None, "mx": None}
    if mail_from["domain"]:
        found["mail_from"] = spf_records(lookup(mail_from["domain"], "TXT"))
        found["mx"] = list(lookup(mail_from["domain"], "MX").records)
    return found


@pytest.fixture
def dmarc(identity: str, lookup) -> dict:
    answer = lookup(f"_dmarc.{identity}", "TXT")
    records = [r for r in answer.records if r.replace(" ", "").upper().startswith("V=DMARC1")]
    tags = {}
    if len(records) == 1:
        for part in records[0].split(";"):
            key, _, value = part.partition("=")
            if key.strip():
                tags[key.strip().lower()] = value.strip().lower()
    return {"records": records, "tags": tags, "error": answer.error}


@pytest.fixture
def email_env(diag: Context, ses_settings: dict) -> dict[str, str]:
    """The backend's email settings: the deployment env file the profile names, with
    any ``[adinsights.ses]`` value (``from_address``, ``expected_from_domain``,
    ``configuration_set``) taking precedence."""
    values: dict[str, str] = {}
    path = diag.profile.paths.get("env_file", "")
    if path:
        read = files.read_text(Path(path), diag.redactor)
        values = files.parse_env(read.data) if read.exists else {}
    explicit = {env: str(ses_settings[key]) for key, env in EMAIL_KEYS.items()
                if key in ses_settings}
    if not path and not explicit:
        pytest.skip("not run: the target profile names no [adinsights.paths] env_file and no "
                    "[adinsights.ses] from_address / expected_from_domain")
    return {**values, **explicit}


@pytest.fixture
def delivered(diag: Context, ses_settings: dict):
    """SES's account-wide count of delivery attempts, read fresh each time, as the
    profile's ``[adinsights.ses] delivery`` says: ``send_statistics`` (the sum of GetSendStatistics
    DeliveryAttempts), ``send_quota`` (GetSendQuota SentLast24Hours) or ``none``."""
    mode = ses_settings["delivery"]

    def count() -> float | None:
        if mode == "send_statistics":
            points = diag.aws.call("ses", "get_send_statistics", fresh=True)
            return float(sum(p.get("DeliveryAttempts", 0)
                             for p in points.get("SendDataPoints", [])))
        if mode == "send_quota":
            return float(diag.aws.call("ses", "get_send_quota", fresh=True)
                         .get("SentLast24Hours", 0))
        return None

    return count


@pytest.fixture
def mail_flow(delivered, ses_settings: dict):
    """Run a flow that should send mail and report the API's answer and the delivery
    count before and after; SES statistics may lag, so wait up to
    ``delivery_wait_seconds`` for the count to move."""

    def run(action) -> dict:
        if ses_settings["delivery"] not in DELIVERY_MODES:
            return {"mode": ses_settings["delivery"]}
        try:
            before = delivered()
            response = action()
            after = delivered()
            deadline = time.monotonic() + float(ses_settings["delivery_wait_seconds"])
            while before is not None and response.ok and after <= before \
                    and time.monotonic() < deadline:
                time.sleep(1)
                after = delivered()
        except AwsError as exc:
            return {"mode": ses_settings["delivery"], "error": str(exc)}
        return {"mode": ses_settings["delivery"], "response": response, "before": before,
                "after": after}

    return run

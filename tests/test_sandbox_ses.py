"""The sandbox's SES and DNS parts, and the DNS probe: the contracts of external-apis §4,
over real UDP, TCP and HTTP on loopback."""

from __future__ import annotations

from pathlib import Path

import boto3
import dns.resolver
import httpx
import pytest
from botocore.exceptions import ClientError
from sandboxes import Sandbox

from fixtures import evidence
from fixtures.probes.dns import DnsProbe
from fixtures.redact import Redactor
from sandbox.adinsights import Account
from sandbox.adinsights.ses_dns import OTHER_DKIM
from sandbox.parts.dns import TXT_CHUNK
from sandbox.parts.http import refused_port

DOMAIN = "adtelligent.net"
TIMEOUTS = {"connect": 0.5, "read": 1.0, "total": 2.0}


def boot(tmp_path_factory, *faults: str) -> Sandbox:
    return Sandbox([Account("acme", username="ops@acme.test", password="pw")],
                   faults=faults, workdir=tmp_path_factory.mktemp("ses"),
                   runtime={"aws", "dns"})


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    with boot(tmp_path_factory) as running:
        yield running


def clients(sb: Sandbox):
    kw = {"endpoint_url": sb.urls["aws"], "region_name": "us-east-1",
          "aws_access_key_id": "AKIATESTTESTTESTTEST", "aws_secret_access_key": "test"}
    return boto3.client("ses", **kw), boto3.client("sesv2", **kw)


def resolver(sb: Sandbox) -> dns.resolver.Resolver:
    found = dns.resolver.Resolver(configure=False)
    found.nameservers = [sb.urls["dns_host"]]
    found.port = int(sb.urls["dns_port"])
    found.lifetime = 2
    return found


def tokens(sb: Sandbox) -> list[str]:
    v1, _ = clients(sb)
    return v1.get_identity_dkim_attributes(Identities=[DOMAIN])["DkimAttributes"][DOMAIN][
        "DkimTokens"]


@pytest.mark.parametrize("tcp", [False, True], ids=["udp", "tcp"])
def test_dns_serves_the_mail_records_over_udp_and_tcp(sandbox, tcp):
    ask = resolver(sandbox)

    def texts(name: str, rtype: str) -> list[str]:
        return [r.to_text() for r in ask.resolve(name, rtype, tcp=tcp)]

    for token in tokens(sandbox):
        assert texts(f"{token}._domainkey.{DOMAIN}", "CNAME") == [
            f"{token}.dkim.amazonses.com."]
    assert texts(DOMAIN, "TXT") == ['"v=spf1 include:amazonses.com ~all"']
    assert texts(f"mail.{DOMAIN}", "MX") == ["10 feedback-smtp.us-east-1.amazonses.com."]
    assert texts(f"_dmarc.{DOMAIN}", "TXT")[0].startswith('"v=DMARC1; p=quarantine')
    [long] = ask.resolve(f"google._domainkey.{DOMAIN}", "TXT", tcp=tcp)
    assert [len(s) for s in long.strings][0] == TXT_CHUNK
    assert b"".join(long.strings).decode() == OTHER_DKIM
    with pytest.raises(dns.resolver.NXDOMAIN):
        ask.resolve(f"nothing.{DOMAIN}", "TXT", tcp=tcp)
    with pytest.raises(dns.resolver.NoAnswer):
        ask.resolve(f"mail.{DOMAIN}", "CNAME", tcp=tcp)


def test_v1_and_v2_agree_and_account_calls_are_answered(sandbox):
    v1, v2 = clients(sandbox)
    assert v1.get_identity_verification_attributes(Identities=[DOMAIN])[
        "VerificationAttributes"][DOMAIN]["VerificationStatus"] == "Success"
    identity = v2.get_email_identity(EmailIdentity=DOMAIN)
    assert identity["VerificationStatus"] == "SUCCESS" and identity["VerifiedForSendingStatus"]
    assert identity["DkimAttributes"]["Tokens"] == tokens(sandbox)
    assert len(set(tokens(sandbox))) == 3
    assert v1.get_account_sending_enabled()["Enabled"] is True
    account = v2.get_account()
    assert account["ProductionAccessEnabled"] is True and account["SendingEnabled"] is True
    assert account["Details"]["ReviewDetails"]["Status"] == "GRANTED"


def test_backend_env_and_invite_send_through_ses(sandbox):
    env = Path(sandbox.paths["env_file"]).read_text()
    for line in ("EMAIL_PROVIDER=ses", "EMAIL_FROM_ADDRESS=no-reply@adtelligent.net",
                 "SES_EXPECTED_FROM_DOMAIN=adtelligent.net", "AWS_REGION=us-east-1",
                 "SES_CONFIGURATION_SET=adinsights-transactional"):
        assert line in env.splitlines()
    v1, _ = clients(sandbox)
    before = v1.get_send_quota()["SentLast24Hours"]
    api = sandbox.urls["api"]
    login = httpx.post(f"{api}/api/auth/login/",
                       json={"username": "ops@acme.test", "password": "pw"}).json()
    invite = httpx.post(f"{api}/api/users/invite/", json={"email": "new@acme.test"},
                        headers={"Authorization": f"Bearer {login['access']}"})
    assert invite.status_code == 201 and invite.json()["status"] == "pending"
    assert httpx.post(f"{api}/api/users/invite/", json={"email": "x"}).status_code == 401
    unknown = httpx.post(f"{api}/api/auth/password-reset/", json={"email": "no@one.test"})
    known = httpx.post(f"{api}/api/auth/password-reset/", json={"email": "ops@acme.test"})
    assert unknown.status_code == known.status_code == 202
    assert v1.get_send_quota()["SentLast24Hours"] == before + 2  # the invite and one reset


@pytest.mark.parametrize("fault, status", [
    ("ses_identity_pending", ("Pending", "PENDING")),
    ("ses_dkim_token_failed", ("Success", "SUCCESS")),
])
def test_faults_change_what_both_api_versions_say(tmp_path_factory, fault, status):
    with boot(tmp_path_factory, fault) as sb:
        v1, v2 = clients(sb)
        assert v1.get_identity_verification_attributes(Identities=[DOMAIN])[
            "VerificationAttributes"][DOMAIN]["VerificationStatus"] == status[0]
        assert v2.get_email_identity(EmailIdentity=DOMAIN)["VerificationStatus"] == status[1]
        if fault == "ses_dkim_token_failed":
            dkim = v1.get_identity_dkim_attributes(Identities=[DOMAIN])["DkimAttributes"]
            assert dkim[DOMAIN]["DkimVerificationStatus"] == "Failed"


def test_ses_refuses_sends_from_a_sandboxed_or_paused_account(tmp_path_factory):
    message = {"Source": "no-reply@adtelligent.net",
               "Destination": {"ToAddresses": ["someone@example.test"]},
               "Message": {"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "b"}}}}
    for fault, code in (("ses_account_sandboxed", "MessageRejected"),
                        ("ses_sending_disabled", "AccountSendingPausedException"),
                        ("ses_configuration_set_missing", "ConfigurationSetDoesNotExist")):
        with boot(tmp_path_factory, fault) as sb:
            v1, v2 = clients(sb)
            extra = {"ConfigurationSetName": "adinsights-transactional"}
            with pytest.raises(ClientError) as info:
                v1.send_email(**message, **extra)
            assert info.value.response["Error"]["Code"] == code
            if fault == "ses_account_sandboxed":
                assert v2.get_account()["ProductionAccessEnabled"] is False


def test_dns_faults_remove_single_records(tmp_path_factory):
    with boot(tmp_path_factory, "ses_dkim_cname_missing", "ses_dmarc_missing",
              "ses_spf_without_ses") as sb:
        ask = resolver(sb)
        first, *rest = tokens(sb)
        with pytest.raises(dns.resolver.NXDOMAIN):
            ask.resolve(f"{first}._domainkey.{DOMAIN}", "CNAME")
        assert all(ask.resolve(f"{t}._domainkey.{DOMAIN}", "CNAME") for t in rest)
        with pytest.raises(dns.resolver.NXDOMAIN):
            ask.resolve(f"_dmarc.{DOMAIN}", "TXT")
        spf = ask.resolve(DOMAIN, "TXT")[0].to_text()
        assert "amazonses" not in spf


def test_probe_names_the_nameserver_and_reports_one_line(sandbox):
    probe = DnsProbe([sandbox.urls["dns_host"]], int(sandbox.urls["dns_port"]), TIMEOUTS,
                     Redactor([]))
    with evidence.capture() as recorder:
        found = probe.query(DOMAIN, "TXT")
        missing = probe.query(f"_nothing.{DOMAIN}", "TXT")
        empty = probe.query(f"mail.{DOMAIN}", "CNAME")
    assert found.records == ("v=spf1 include:amazonses.com ~all",)
    assert missing.outcome == "nxdomain" and "NXDOMAIN" in missing.error
    assert empty.outcome == "noanswer" and "no CNAME record" in empty.error
    assert all(e.kind == "dns" and f"@127.0.0.1:{probe.port}" in e.target
               for e in recorder.entries)
    assert all(e.detail["nameserver"] == probe.where for e in recorder.entries)


def test_probe_never_falls_back_to_the_machine_resolver():
    silent = DnsProbe(["127.0.0.1"], refused_port(), TIMEOUTS, Redactor([]))
    timed_out = silent.query(DOMAIN, "TXT")
    assert timed_out.outcome == "error" and "\n" not in timed_out.error
    assert silent.ping()[0] is False
    unnamed = DnsProbe([""], 53, TIMEOUTS, Redactor([]))
    assert "names no DNS nameserver" in unnamed.query(DOMAIN, "TXT").error
    assert unnamed.ping() == (False, unnamed.query(DOMAIN, "TXT").error)

"""SES for the sandbox: the domain identity, Easy DKIM, the account, and the backend's
email settings, each in the state a fault names.

moto holds the identity, its MAIL FROM domain and the configuration set. It answers v1
verification and DKIM with a hard-coded Success and lacks the account calls, so small
overrides answer those from the same state: moto's identity object (which the seed puts
into the fault's state in-process) and the account kept here. SendEmail is checked first
for what SES itself refuses (sending paused, an unknown configuration set, an unverified
sender, an unverified recipient while in the sandbox); what passes goes on to moto, which
counts it in the send statistics.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs
from xml.sax.saxutils import escape

from sandbox.adinsights.mail import Mailer
from sandbox.parts.aws import REGION, SEED_KEY, AwsServer, Call, Override, Reply

DOMAIN = "adtelligent.net"
FROM_ADDRESS = f"no-reply@{DOMAIN}"
MAIL_FROM_DOMAIN = f"mail.{DOMAIN}"
CONFIGURATION_SET = "adinsights-transactional"
# The address an operator forgets to change: the backend's own default.
DEFAULT_FROM_ADDRESS = "no-reply@adinsights.local"
V1_NAMESPACE = "http://ses.amazonaws.com/doc/2010-12-01/"
V1_CASING = {"SUCCESS": "Success", "PENDING": "Pending", "FAILED": "Failed",
             "TEMPORARY_FAILURE": "TemporaryFailure", "NOT_STARTED": "NotStarted"}


@dataclass(frozen=True)
class SesState:
    """What SES and the backend's settings hold for this sandbox. DKIM tokens are random,
    as SES's are, so nothing may depend on their values."""

    domain: str
    region: str
    tokens: tuple[str, ...]
    verification: str
    dkim_enabled: bool
    dkim_status: str
    production_access: bool
    sending_enabled: bool
    configuration_set_exists: bool
    mail_from_domain: str
    api_down: bool

    @classmethod
    def build(cls, faults: frozenset[str]) -> SesState:
        return cls(
            domain=DOMAIN,
            region=REGION,
            tokens=tuple(_token() for _ in range(3)),
            verification="PENDING" if "ses_identity_pending" in faults else "SUCCESS",
            dkim_enabled="ses_dkim_disabled" not in faults,
            dkim_status="FAILED" if "ses_dkim_token_failed" in faults else "SUCCESS",
            production_access="ses_account_sandboxed" not in faults,
            sending_enabled="ses_sending_disabled" not in faults,
            configuration_set_exists="ses_configuration_set_missing" not in faults,
            mail_from_domain=MAIL_FROM_DOMAIN,
            api_down="ses_api_down" in faults,
        )


def _token() -> str:
    alphabet = "abcdefghijklmnopqrstuvwxyz234567"
    return "".join(secrets.choice(alphabet) for _ in range(32))


def email_settings(faults: frozenset[str]) -> dict[str, str]:
    """The backend's email variables as its env file holds them (``.env.sample`` values,
    with the configuration set and region a production deployment sets)."""
    from_address = DEFAULT_FROM_ADDRESS if "ses_from_domain_mismatch" in faults else FROM_ADDRESS
    return {
        "EMAIL_PROVIDER": "ses",
        "EMAIL_FROM_ADDRESS": from_address,
        "SES_EXPECTED_FROM_DOMAIN": DOMAIN,
        "SES_CONFIGURATION_SET": CONFIGURATION_SET,
        "AWS_REGION": "" if "ses_smoke_mail_skipped" in faults else REGION,
    }


def seed(aws: AwsServer, state: SesState, mail: Mailer) -> None:
    """Create the identity, MAIL FROM domain and configuration set over HTTP, then put
    moto's identity object into the state SES would report for the faults; the
    mailer then sends through this server."""
    client = aws.client("ses")
    client.verify_domain_identity(Domain=state.domain)
    client.set_identity_mail_from_domain(Identity=state.domain,
                                         MailFromDomain=state.mail_from_domain,
                                         BehaviorOnMXFailure="UseDefaultValue")
    if state.configuration_set_exists:
        client.create_configuration_set(ConfigurationSet={"Name": CONFIGURATION_SET})
    identity = _identity(state.domain)
    identity.verification_status = state.verification
    identity.verified_for_sending_status = state.verification == "SUCCESS"
    identity.dkim_attributes.update(SigningEnabled=state.dkim_enabled,
                                    Status=state.dkim_status, Tokens=list(state.tokens),
                                    SigningAttributesOrigin="AWS_SES")
    mail.bind(aws.url)


def override(state: SesState) -> Override:
    """Answer the SES calls moto lacks or answers from a fixed value."""

    def answer(call: Call) -> Reply | None:
        if "/ses/aws4_request" not in call.headers.get("authorization", ""):
            return None
        seeding = f"Credential={SEED_KEY[0]}/" in call.headers.get("authorization", "")
        if state.api_down and not seeding:
            return _error(call, 503, "ServiceUnavailable", "Service is unavailable.")
        if call.path == "/v2/email/account" and call.method == "GET":
            return _json(_account(state))
        action = call.action
        if action == "GetAccountSendingEnabled":
            return _xml(action, f"<Enabled>{_bool(state.sending_enabled)}</Enabled>")
        if action == "GetIdentityVerificationAttributes":
            return _xml(action, _verification(_params(call)))
        if action == "GetIdentityDkimAttributes":
            return _xml(action, _dkim(_params(call)))
        if action == "SendEmail":
            return _refusal(state, _params(call))
        return None

    return answer


def _account(state: SesState) -> dict:
    return {
        "DedicatedIpAutoWarmupEnabled": False,
        "EnforcementStatus": "HEALTHY",
        "ProductionAccessEnabled": state.production_access,
        "SendingEnabled": state.sending_enabled,
        "SendQuota": {"Max24HourSend": 50000.0 if state.production_access else 200.0,
                      "MaxSendRate": 14.0 if state.production_access else 1.0,
                      "SentLast24Hours": float(_backend().sent_message_count)},
        "Details": {"MailType": "TRANSACTIONAL", "WebsiteURL": f"https://{state.domain}",
                    "ContactLanguage": "EN",
                    "ReviewDetails": {"Status": "GRANTED" if state.production_access
                                      else "PENDING", "CaseId": "sandbox-review"}},
    }


def _verification(params: dict[str, list[str]]) -> str:
    entries = []
    for name in _members(params, "Identities"):
        identity = _backend().email_identities.get(name)
        if identity is None:
            continue
        status = V1_CASING.get(identity.verification_status, identity.verification_status)
        stable = hashlib.sha256(name.encode()).hexdigest()[:32]
        token = f"<VerificationToken>{stable}</VerificationToken>" \
            if identity.identity_type == "DOMAIN" else ""
        entries.append(f"<entry><key>{escape(name)}</key><value><VerificationStatus>{status}"
                       f"</VerificationStatus>{token}</value></entry>")
    return f"<VerificationAttributes>{''.join(entries)}</VerificationAttributes>"


def _dkim(params: dict[str, list[str]]) -> str:
    entries = []
    for name in _members(params, "Identities"):
        identity = _backend().email_identities.get(name)
        attributes = identity.dkim_attributes if identity else {}
        status = V1_CASING.get(attributes.get("Status", "NOT_STARTED"), "NotStarted")
        tokens = "".join(f"<member>{escape(t)}</member>" for t in attributes.get("Tokens", []))
        entries.append(
            f"<entry><key>{escape(name)}</key><value>"
            f"<DkimEnabled>{_bool(bool(attributes.get('SigningEnabled')))}</DkimEnabled>"
            f"<DkimVerificationStatus>{status}</DkimVerificationStatus>"
            f"<DkimTokens>{tokens}</DkimTokens></value></entry>")
    return f"<DkimAttributes>{''.join(entries)}</DkimAttributes>"


def _refusal(state: SesState, params: dict[str, list[str]]) -> Reply | None:
    """SES's own refusals of a send, before moto counts it."""
    backend = _backend()
    if not state.sending_enabled:
        return _v1_error(400, "AccountSendingPausedException",
                         "Email sending is disabled for your entire Amazon SES account.")
    config_set = (params.get("ConfigurationSetName") or [""])[0]
    if config_set and config_set not in backend.config_sets:
        return _v1_error(400, "ConfigurationSetDoesNotExist",
                         f"Configuration set <{config_set}> does not exist.")
    source = (params.get("Source") or [""])[0]
    sender = source.rsplit("<", 1)[-1].rstrip(">").strip()
    identity = backend.email_identities.get(sender) or \
        backend.email_identities.get(sender.rsplit("@", 1)[-1])
    if identity is None or identity.verification_status != "SUCCESS":
        return _v1_error(400, "MessageRejected", "Email address is not verified. The following "
                         f"identities failed the check in region {state.region.upper()}: "
                         f"{sender}")
    recipients = [v for k, vals in params.items() if k.startswith("Destination.")
                  for v in vals]
    unverified = [r for r in recipients if r not in backend.email_identities]
    if not state.production_access and unverified:
        return _v1_error(400, "MessageRejected", "Email address is not verified. The following "
                         f"identities failed the check in region {state.region.upper()}: "
                         f"{', '.join(unverified)}")
    return None


def _backend() -> Any:
    from moto.backends import get_backend

    for regions in get_backend("ses").values():
        if REGION in regions:
            return regions[REGION]
    raise LookupError("moto holds no SES backend")


def _identity(name: str) -> Any:
    return _backend().email_identities[name]


def _params(call: Call) -> dict[str, list[str]]:
    return parse_qs(call.body.decode("utf-8", "replace")) if call.method == "POST" \
        else parse_qs(call.query)


def _members(params: dict[str, list[str]], name: str) -> list[str]:
    keys = sorted((k for k in params if k.startswith(f"{name}.member.")),
                  key=lambda k: int(k.rsplit(".", 1)[-1]))
    return [params[k][0] for k in keys]


def _bool(value: bool) -> str:
    return "true" if value else "false"


def _xml(action: str, result: str) -> Reply:
    body = (f'<{action}Response xmlns="{V1_NAMESPACE}"><{action}Result>{result}'
            f"</{action}Result><ResponseMetadata><RequestId>{uuid.uuid4()}</RequestId>"
            f"</ResponseMetadata></{action}Response>")
    return Reply(200, body.encode())


def _json(payload: dict) -> Reply:
    return Reply(200, json.dumps(payload).encode(), "application/json")


def _v1_error(status: int, code: str, message: str) -> Reply:
    body = (f'<ErrorResponse xmlns="{V1_NAMESPACE}"><Error><Type>Sender</Type>'
            f"<Code>{code}</Code><Message>{escape(message)}</Message></Error>"
            f"<RequestId>{uuid.uuid4()}</RequestId></ErrorResponse>")
    return Reply(status, body.encode())


def _error(call: Call, status: int, code: str, message: str) -> Reply:
    if call.path.startswith("/v2/"):
        return Reply(status, json.dumps({"message": message}).encode(), "application/json",
                     {"x-amzn-ErrorType": code})
    return _v1_error(status, code, message)

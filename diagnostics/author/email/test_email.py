"""Email delivery: a real SMTP exchange up to AUTH (no mail is sent), the provider's
status page, and its suppression lists for the sending domain."""

import base64

import pytest

from diagnostics.author import app
from fixtures import evidence
from fixtures.catalog import check
from fixtures.expect import expect

from ..conftest import settings

SANDBOX_MODE = ("mailhog", "1025")
LISTS = ("bounces", "complaints", "unsubscribes")


@check("author.email.smtp.exchange", severity="critical", category="upstream down",
       runbook="email.md#smtp-server-answers",
       states={"auth": ("smtp-credentials-refused", "credentials"),
               "no-starttls": ("smtp-starttls-not-offered", "misconfiguration"),
               "tls-untrusted": ("smtp-certificate-not-trusted", "misconfiguration"),
               "mailhog": "sandbox-mode-outside-local-profiles"})
def test_smtp_exchange(diag, api_env):
    wanted = settings(diag, "email")
    host = api_env.values.get("SMTP_HOST", "")
    port = api_env.values.get("SMTP_PORT", "")
    expect(f"SMTP_HOST and SMTP_PORT in {api_env.where}", "set" if host and port else "unset",
           "==", "set")
    local = (host, port) == SANDBOX_MODE
    if local:
        expect("SMTP_HOST=mailhog, SMTP_PORT=1025 (sandbox mode) in a production profile",
               diag.profile.production, "==", False, state="mailhog")
    target = str(wanted["smtp_host"] or host)
    target_port = str(wanted["smtp_port"] or port)
    expect("the SMTP port is a number", target_port.isdigit(), "==", True, note=target_port)
    try_auth = bool(wanted["smtp_auth"]) and not local
    seen = app.smtp_exchange(target, int(target_port), api_env.values.get("SMTP_USER", ""),
                             api_env.values.get("SMTP_PASSWORD", ""),
                             diag.profile.timeouts["total"], try_auth,
                             ca_file=str(wanted["smtp_ca_file"]),
                             require_tls=bool(wanted["smtp_require_tls"]) and not local)
    app.record_exchange(diag, seen)
    expect(f"SMTP exchange with {target}:{target_port}"
           f"{' (sandbox mode, no AUTH)' if local else ''}",
           "ok" if seen.ok else diag.redactor.text(seen.error), "==", "ok",
           state=seen.state or None)
    if try_auth:
        expect("AUTH with SMTP_USER and SMTP_PASSWORD", seen.auth, "==", "235",
               state="auth")


@check("author.email.provider.status", severity="high", category="service unhealthy",
       runbook="email.md#provider-status")
def test_provider_status(diag):
    if not diag.profile.urls.get("provider_status"):
        pytest.skip(f"not run: the target profile names no {diag.profile.table('urls')} "
                    "provider_status")
    answer = diag.http.get("provider_status", "/api/v2/status.json")
    expect("[STATUS] of the provider's status page", answer.outcome, "==", "200")
    expect("status.indicator on the provider's status page", answer.body("status.indicator"),
           "==", "none", note=answer.body("status.description"))


@check("author.email.provider.suppressions", severity="medium", category="service unhealthy",
       runbook="email.md#suppressions-and-bounces")
def test_suppressions(diag, api_env):
    wanted = settings(diag, "email")
    if not diag.profile.urls.get("provider_api"):
        pytest.skip(f"not run: the target profile names no {diag.profile.table('urls')} "
                    "provider_api")
    sender = api_env.values.get("MAIL_FROM", "")
    domain = str(wanted["sender_domain"] or sender.rpartition("@")[2])
    expect(f"the sending domain (MAIL_FROM in {api_env.where})", domain or "(none)", "!=",
           "(none)")
    key = diag.profile.secret(str(wanted.get("provider_api_key_env", "")))
    auth = {"Authorization": "Basic " + base64.b64encode(f"api:{key}".encode()).decode()}
    counts = {}
    for kind in LISTS:
        answer = diag.http.get("provider_api", f"/v3/{domain}/{kind}", headers=auth)
        expect(f"[STATUS] of GET /v3/{domain}/{kind}", answer.outcome, "==", "200")
        items = answer.body("items")
        counts[kind] = len(items) if isinstance(items, list) else 0
    evidence.record_table(f"the provider's suppression lists for {domain}", ("list", "entries"),
                          sorted(counts.items()))
    expect(f"bounces and complaints listed for {domain}",
           counts["bounces"] + counts["complaints"], "<=", int(wanted["max_suppressions"]),
           note=", ".join(f"{k} {v}" for k, v in counts.items()))

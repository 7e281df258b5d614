"""The author stand-in's real parts behave as the real services do: the SMTP server wants
AUTH before any mail and keeps no argument in the log, offers STARTTLS with a certificate
the profile's CA file verifies (and then wants it before AUTH), Redis refuses a client
without the password and goes away when stopped, and grants.sql reads as the grants it
applies. The SMTP faults without TLS, or with a CA that did not sign the server's
certificate, fail the exchange before any credential is sent."""

from __future__ import annotations

import os
import smtplib
from pathlib import Path

import pytest
from test_read_only import requests

from conftest import needs
from sandbox.author import database
from sandbox.parts.certs import Authority
from sandbox.parts.http import RequestLog
from sandbox.parts.smtp import SmtpServer

# Without TLS the server asks AUTH in the clear on purpose (see sandbox/parts/smtp.py).
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
USER, PASSWORD = "postmaster@mg.author.test", "s3cret-pass-1"


def test_smtp_wants_auth_before_mail_and_logs_no_argument():
    log = RequestLog()
    with SmtpServer(log, USER, PASSWORD) as server:
        server.start_logging()
        client = smtplib.SMTP("127.0.0.1", server.port, timeout=5)
        client.ehlo()
        assert client.has_extn("auth") and not client.has_extn("starttls")
        code, _ = client.mail("no-reply@mg.author.test")
        assert code == 530  # authentication required
        with pytest.raises(smtplib.SMTPAuthenticationError):
            client.login(USER, "wrong")
        assert client.login(USER, PASSWORD)[0] == 235
        client.quit()
        assert server.delivered == 0
    verbs = [path for method, path in log.entries if method == "SMTP"]
    assert "EHLO" in verbs and "AUTH" in verbs
    assert not [p for _, p in log.entries if "s3cret" in p or "@" in p]


def _exchange(port: int, ca_file: Path):
    from fixtures.packs import packs

    packs()  # puts the packs on the import path
    from diagnostics.author.app import smtp_exchange

    return smtp_exchange("127.0.0.1", port, USER, PASSWORD, 5.0, True, ca_file=str(ca_file),
                         require_tls=True)


def test_smtp_with_tls_verifies_then_signs_in_and_keeps_no_key(tmp_path):
    log = RequestLog()
    with SmtpServer(log, USER, PASSWORD, tls_dir=tmp_path) as server:
        server.start_logging()
        assert list(tmp_path.iterdir()) == []  # the key passed through and was removed
        plain = smtplib.SMTP("127.0.0.1", server.port, timeout=5)
        plain.ehlo()
        assert plain.has_extn("starttls") and not plain.has_extn("auth")
        assert plain.docmd("AUTH", "PLAIN")[0] == 530  # STARTTLS first
        plain.quit()
        ca_file = tmp_path / "ca.pem"
        ca_file.write_bytes(server.ca_pem)
        seen = _exchange(server.port, ca_file)
    assert seen.ok, seen.error
    assert [(verb, reply.split()[0]) for verb, reply in seen.steps] == [
        ("EHLO", "250"), ("STARTTLS", "220"), ("AUTH", "235")]
    verbs = [path for method, path in log.entries if method == "SMTP"]
    assert verbs == ["EHLO", "EHLO", "STARTTLS", "EHLO", "AUTH"]


def test_smtp_certificate_from_another_ca_is_named_and_gets_no_auth(tmp_path):
    log = RequestLog()
    with SmtpServer(log, USER, PASSWORD, tls_dir=tmp_path) as server:
        server.start_logging()
        ca_file = tmp_path / "ca.pem"
        ca_file.write_bytes(Authority("another CA").pem)
        seen = _exchange(server.port, ca_file)
    assert (seen.state, seen.starttls) == ("tls-untrusted", "untrusted")
    assert seen.error.startswith(f"certificate not trusted by {ca_file}: ")
    assert "\n" not in seen.error
    assert "AUTH" not in [path for method, path in log.entries if method == "SMTP"]


@pytest.mark.parametrize(("fault", "anchor", "says"), [
    ("authorsmtp_no_starttls", "smtp-starttls-not-offered",
     "STARTTLS not offered, so the credentials were not sent"),
    ("authorsmtp_tls_untrusted", "smtp-certificate-not-trusted", "certificate not trusted"),
])
def test_smtp_tls_faults_fail_the_exchange_before_auth(diag_run, fault, anchor, says):
    run = diag_run("-m", "email", "--sandbox-fault", fault)
    assert run.ids("failed", "error") == {"author.email.smtp.exchange"}
    verdict = next(c for c in run.summary["checks"] if c["id"] == "author.email.smtp.exchange")
    assert verdict["anchor"] == f"author/email.md#{anchor}"
    assert says in verdict["observed"]
    smtp = [path for method, path in requests(run) if method == "SMTP"]
    assert "EHLO" in smtp and "AUTH" not in smtp


@needs("redis")
def test_redis_wants_the_password_and_stops(tmp_path):
    import redis

    from sandbox.parts.redis import RedisServer

    server = RedisServer(tmp_path / "redis", "r3dis-pass")
    with server:
        assert server.client().ping()
        anonymous = redis.Redis(host="127.0.0.1", port=server.port, socket_timeout=2)
        with pytest.raises(redis.exceptions.AuthenticationError):
            anonymous.ping()
        pid = server.pid
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_grants_file_reads_as_the_table_grants_it_declares():
    from fixtures.packs import packs

    packs()  # puts the packs on the import path
    from diagnostics.author.migrations.grants import parse_grants

    grants = parse_grants(database.GRANTS_SQL)
    assert ("author_migrator", "_prisma_migrations", "INSERT") in grants
    assert ("author_app", "detections", "DELETE") in grants
    assert not [g for g in grants if g[1].upper().startswith("SCHEMA")]
    assert len(grants) == 4 + 3 * 6 + 3 * 4

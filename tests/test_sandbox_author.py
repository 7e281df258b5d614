"""The author stand-in's real parts behave as the real services do: the SMTP server wants
AUTH before any mail and keeps no argument in the log, Redis refuses a client without the
password and goes away when stopped, and grants.sql reads as the grants it applies."""

from __future__ import annotations

import os
import smtplib

import pytest

from conftest import needs
from sandbox.author import database
from sandbox.parts.http import RequestLog
from sandbox.parts.smtp import SmtpServer

# The sandbox asks AUTH without TLS on loopback on purpose (see sandbox/parts/smtp.py).
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")


def test_smtp_wants_auth_before_mail_and_logs_no_argument():
    log = RequestLog()
    with SmtpServer(log, "postmaster@mg.author.test", "s3cret-pass-1") as server:
        server.start_logging()
        client = smtplib.SMTP("127.0.0.1", server.port, timeout=5)
        client.ehlo()
        assert client.has_extn("auth")
        code, _ = client.mail("no-reply@mg.author.test")
        assert code == 530  # authentication required
        with pytest.raises(smtplib.SMTPAuthenticationError):
            client.login("postmaster@mg.author.test", "wrong")
        assert client.login("postmaster@mg.author.test", "s3cret-pass-1")[0] == 235
        client.quit()
        assert server.delivered == 0
    verbs = [path for method, path in log.entries if method == "SMTP"]
    assert "EHLO" in verbs and "AUTH" in verbs
    assert not [p for _, p in log.entries if "s3cret" in p or "@" in p]


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

"""Without --allow-intrusive no burst is sent and nothing is written: the sandbox's own
request log, written beside the reports, is the proof."""

from __future__ import annotations

import re

from conftest import needs

BURST_TARGETS = ("/api/token/", "/api/auth/password-reset/", "/api/airbyte/webhook/")


def requests(run) -> list[tuple[str, str]]:
    lines = (run.run_dir / "sandbox-requests.log").read_text().splitlines()
    return [tuple(line.split(" ", 1)) for line in lines if line]


def test_default_run_sends_no_burst_and_no_write(diag_run):
    run = diag_run("-m", "tenancy or cache or edge or airbyte")
    sent = requests(run)
    assert len(sent) > 50  # the log really records the run
    writes = [(m, p.split("?")[0]) for m, p in sent if m not in ("GET", "OPTIONS", "HEAD")]
    # sign-in is the one POST a read-only run makes (once per password tenant and
    # process), plus the Airbyte config API, whose reads are POST-shaped
    assert {p for _, p in writes} <= {"/api/auth/login/"} | {
        p for _, p in writes if p.startswith("/api/v1/")}
    assert [p for _, p in writes if p == "/api/auth/login/"] == ["/api/auth/login/"]
    assert not [p for _, p in sent if p.split("?")[0] in BURST_TARGETS]
    assert not [p for _, p in sent if "cache=false" in p]
    assert run.ids("skipped") >= {"adinsights.edge.throttle[/api/token/]",
                                  "adinsights.cache.bypass[acme]"}


def test_intrusive_run_sends_bounded_bursts(diag_run):
    run = diag_run("-m", "edge", "--allow-intrusive")
    sent = requests(run)
    burst = [p for m, p in sent if m == "POST" and p in BURST_TARGETS + ("/api/auth/login/",)]
    assert 10 <= len(burst) <= 3 * (10 + 3) + 1


WRITE = re.compile(r"^\s*(insert|update|delete|merge|create|alter|drop|truncate|grant|revoke"
                   r"|copy\s.*\sfrom|vacuum|analyze|refresh|reindex|cluster|lock|call)\b",
                   re.IGNORECASE)


@needs("postgres")
def test_default_run_sends_no_mutating_statement(diag_run):
    """The databases' own query log, written beside the reports: every statement the
    diagnostics' roles sent, none of which may change anything."""
    run = diag_run("-m", "airbyte or tenancy or meta or dr")
    lines = (run.run_dir / "sandbox-queries.log").read_text().splitlines()
    statements = [line.split(": ", 1) for line in lines if ": " in line]
    roles = {role for role, _ in statements}
    assert {"voucher_reader", "adinsights_dr", "adinsights_app", "adinsights_ops"} <= roles
    assert any("count(*)" in s for _, s in statements)
    assert [s for _, s in statements if WRITE.match(s)] == []


REDIS_READS = {"HELLO", "AUTH", "PING", "SCAN", "LLEN", "ZCARD", "CLIENT", "SELECT"}


@needs("postgres", "redis")
def test_default_author_run_writes_nothing_and_sends_no_mail(diag_run):
    """The author stand-ins' own logs: Redis's MONITOR, the SMTP server's verbs, the AWS
    and HTTP request log and PostgreSQL's statement log."""
    run = diag_run("-m", "author")
    assert run.result.ret == 0, run.output
    sent = requests(run)
    redis = [p.split(" ", 1)[0].upper() for m, p in sent if m == "REDIS"]
    assert {"PING", "SCAN", "LLEN"} <= set(redis) <= REDIS_READS
    smtp = {p for m, p in sent if m == "SMTP"}
    assert {"EHLO", "AUTH"} <= smtp and not smtp & {"MAIL", "RCPT", "DATA"}
    other = [(m, p) for m, p in sent if m not in ("REDIS", "SMTP")]
    assert not [x for x in other if x[0] not in ("GET", "HEAD", "OPTIONS", "POST")]
    # POSTs are the query and JSON protocols' reads (STS, CloudWatch), never an S3 object
    assert all(p.split("?")[0].split(" ")[0] == "/" for m, p in other if m == "POST")
    lines = (run.run_dir / "sandbox-queries.log").read_text().splitlines()
    statements = [line.split(": ", 1) for line in lines if line.startswith("author_diag: ")]
    assert statements and [s for _, s in statements if WRITE.match(s)] == []

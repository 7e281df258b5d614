"""The Chatwoot/RAG MVP's stand-in and its checks: a default run sends no write beyond
its own session set-up, its read-only role sends no mutating statement, the stand-in
honours the contract's auth edges, and every report carries the evidence to capture."""

from __future__ import annotations

import re

from conftest import needs

WRITE = re.compile(r"^\s*(insert|update|delete|merge|create|alter|drop|truncate|grant|revoke"
                   r"|copy\s.*\sfrom|vacuum|analyze|refresh|reindex|cluster|lock|call)\b",
                   re.IGNORECASE)
SESSION_SETUP = re.compile(r"^/auth/login$|^/projects/[0-9a-f-]{36}/select$")


@needs("postgres")
def test_default_run_writes_nothing_but_its_session(diag_run):
    run = diag_run("-m", "chatwoot")
    assert run.result.ret == 0, run.output
    lines = (run.run_dir / "sandbox-requests.log").read_text().splitlines()
    sent = [tuple(line.split(" ", 1)) for line in lines if line]
    assert len(sent) > 20
    writes = [(m, p.split("?")[0]) for m, p in sent if m not in ("GET", "OPTIONS", "HEAD")]
    # a sign-in and a project select per project, and one sign-in through the proxy; no
    # search, tick, job or outbound POST
    assert writes and all(SESSION_SETUP.match(p) for _, p in writes), writes
    assert len(writes) == 2 * 2 + 1
    assert not [p for _, p in sent if "/jobs/scheduler/tick" in p or "/search" in p]
    assert {"chatwoot.search.smoke[refund]", "chatwoot.auth.csrf.enforced[acme-support]"} <= \
        run.ids("skipped")
    statements = [line.split(": ", 1) for line in
                  (run.run_dir / "sandbox-queries.log").read_text().splitlines() if ": " in line]
    mine = [s for role, s in statements if role == "cw_reader"]
    assert any("rag_chunks" in s for s in mine)
    assert [s for s in mine if WRITE.match(s)] == []


@needs("postgres")
def test_failed_runbooks_write_their_evidence(diag_run):
    run = diag_run("-m", "chatwoot", "--sandbox-fault", "cwsched_failing")
    text = (run.run_dir / "chatwoot-evidence.md").read_text()
    assert "## Scheduler tick / worker jobs failing" in text
    assert "chatwoot.scheduler.worker.failed" in text
    assert "failed (502)" in text  # the worker run's error text
    assert "## Search returns no results" not in text  # nothing of it failed


@needs("postgres")
def test_stand_in_honours_the_auth_edges():
    import httpx

    from sandbox.chatwoot import StandIn
    from sandbox.stack import Stack

    stand_in = StandIn(password="pw-edge-1234")
    with Stack([stand_in]):
        app = stand_in.placeholders()["cw_app"]
        with httpx.Client(base_url=app) as client:
            assert client.get("/jobs/status").json()["error"] == "unauthorized"
            login = client.post("/auth/login", json={"username": "diagnostics",
                                                     "password": "pw-edge-1234"})
            assert login.status_code == 200
            cookies = login.headers.get_list("set-cookie")
            assert len(cookies) == 2 and all("Path=/" in c for c in cookies)
            csrf = login.cookies["csrf_token"]
            projects = client.get("/v1/projects").json()["projects"]
            path = f"/projects/{projects[0]['id']}/select"
            assert client.get("/jobs/status").json()["error"] == "active_project_required"
            refused = client.post(path)
            assert (refused.status_code, refused.json()["error"]) == (403, "csrf_invalid")
            assert client.post(path, headers={"x-csrf-token": csrf}).status_code == 200
            assert client.get("/jobs/status").json()["rag_counts"]["ready"] > 0
            wrong = client.post("/auth/login", json={"username": "diagnostics",
                                                     "password": "nope"})
            assert wrong.json()["error"] == "invalid_credentials"

"""Search returns no results: the jobs behind the index, the session's project, the
project's scoped rows, the OpenAI key, and a smoke query."""

from fixtures.catalog import check, upstream_check
from fixtures.expect import expect

from ..conftest import latest_job

test_db_reachable = upstream_check(
    "chatwoot.search.db.reachable", "cw_db", "the MVP's database accepts the read-only role",
    severity="high", runbook="search.md#database-reachable")


@check("chatwoot.search.jobs.sync", severity="high", runbook="search.md#sync-not-pending",
       needs=("session",), category="stale data")
def test_sync_not_pending(jobs_status):
    job = latest_job(jobs_status, "chatwoot_sync")
    expect("[STATUS] of GET /jobs/status", jobs_status.outcome, "==", "200")
    expect("status of the latest chatwoot_sync run", job.get("status"), "not in",
           ("running", None), note=f"started {job.get('started_at')}" if job else
           "no chatwoot_sync run at all: the project was never synced")


@check("chatwoot.search.jobs.embeddings", severity="high",
       runbook="search.md#embeddings-ready", needs=("session",), category="missing data")
def test_embeddings_ready(jobs_status):
    expect("[STATUS] of GET /jobs/status", jobs_status.outcome, "==", "200")
    counts = jobs_status.body("rag_counts") or {}
    expect("rag_counts.ready", counts.get("ready"), ">", 0,
           note=f"pending {counts.get('pending')}, processing {counts.get('processing')}, "
                f"failed {counts.get('failed')}")


@check("chatwoot.search.session.project", severity="medium",
       runbook="search.md#active-project-in-session", needs=("cw_db",))
def test_operator_session_has_project(diag, rows):
    from diagnostics.chatwoot import mvp

    operator = str(mvp.settings(diag)["operator"])
    if not operator:
        import pytest

        pytest.skip("not run: the target profile names no [chatwoot.app] operator")
    found = rows("select s.active_project_id::text, p.name, p.account_scope_id::text "
                 "from sessions s left join projects p on p.id = s.active_project_id "
                 "where s.username = %s order by s.last_seen_at desc limit 1", (operator,))
    expect(f"sessions of {operator}", len(found), ">", 0, note="the operator never signed in")
    active, name, scope = found[0]
    expect(f"active project of {operator}'s latest session", name or active or "none", "!=",
           "none")
    expect(f"account scope of project {name}", scope, "!=", None)


@check("chatwoot.search.data.messages", severity="high", runbook="search.md#scoped-messages",
       needs=("cw_db",), category="missing data")
def test_messages_exist(rows, project, project_id):
    count = rows("select count(*) from cw_messages where project_id = %s", (project_id,))
    expect(f"cw_messages rows with project_id of {project}", count[0][0], ">", 0)


@check("chatwoot.search.data.chunks", severity="high", runbook="search.md#scoped-ready-chunks",
       needs=("cw_db",), category="missing data")
def test_ready_chunks_exist(rows, project, project_id):
    found = dict(rows("select embedding_status, count(*) from rag_chunks where project_id = %s "
                      "group by 1", (project_id,)))
    expect(f"rag_chunks with embedding_status='ready' for {project}", found.get("ready", 0),
           ">", 0, note=", ".join(f"{k} {v}" for k, v in sorted(found.items())) or
           "no chunks at all")


@check("chatwoot.search.env.openai_key", severity="critical",
       runbook="search.md#openai-key-set", category="misconfiguration")
def test_openai_key_set(env_file):
    expect(f"OPENAI_API_KEY in {env_file.where}", env_file.shown("OPENAI_API_KEY"), "==",
           "set", note=env_file.error or None)


@check("chatwoot.search.smoke", severity="high", runbook="search.md#search-smoke-query",
       needs=("session",), intrusive=True, category="missing data")
def test_search_smoke(diag, session, smoke):
    response = diag.http.post("app", "/search", json_body={"query": smoke["query"], "topK": 5},
                              headers={**session.headers, "x-csrf-token": session.csrf})
    expect("[STATUS] of POST /search", response.outcome, "==", "200",
           note=response.body("message") if response.status and response.status >= 400
           else None)
    results = response.body("results")
    expect(f"hits for '{smoke['query']}'", len(results) if isinstance(results, list)
           else results, ">=", 1)

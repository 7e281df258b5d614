"""Chatwoot sync job fails: the latest run's error, the server's CHATWOOT_* settings, and
whether Chatwoot accepts the server's token for each project's account."""

import pytest

from fixtures.catalog import check
from fixtures.evidence import observed_time
from fixtures.expect import expect

from ..conftest import latest_job

SETTINGS = ("CHATWOOT_BASE_URL", "CHATWOOT_API_TOKEN", "CHATWOOT_ACCOUNT_ID")


@check("chatwoot.sync.job.latest", severity="high", runbook="sync.md#latest-sync-run",
       needs=("session",), category="failed job")
def test_latest_sync_run(jobs_status):
    expect("[STATUS] of GET /jobs/status", jobs_status.outcome, "==", "200")
    job = latest_job(jobs_status, "chatwoot_sync")
    observed_time(f"latest chatwoot_sync run ({job.get('status')})",
                  job.get("finished_at") or job.get("started_at"))
    expect("status of the latest chatwoot_sync run", job.get("status"), "!=", "failed",
           note=job.get("error") or None)


@pytest.mark.parametrize("key", SETTINGS)
@check("chatwoot.sync.env.set", severity="critical", runbook="sync.md#chatwoot-settings")
def test_chatwoot_setting(env_file, key):
    expect(f"{key} in {env_file.where}", env_file.shown(key), "not in",
           ("absent", "empty"), note=env_file.error or None)


@check("chatwoot.sync.chatwoot.account", severity="critical",
       runbook="sync.md#chatwoot-accepts-the-token", needs=("cw_db",), category="credentials",
       states={"token": ("chatwoot-token-refused", "credentials"),
               "account": ("chatwoot-account-unknown", "misconfiguration")})
def test_chatwoot_account(diag, rows, server_env, project, project_id):
    bound = rows("select external_id from project_sources where project_id = %s and "
                 "source_kind = 'chatwoot_account'", (project_id,))
    account = bound[0][0] if bound else server_env.values.get("CHATWOOT_ACCOUNT_ID", "")
    expect(f"Chatwoot account of {project} (project_sources, else CHATWOOT_ACCOUNT_ID)",
           account, "not in", ("", None))
    token = server_env.values.get("CHATWOOT_API_TOKEN", "")
    expect("CHATWOOT_API_TOKEN", "set" if token else "empty", "==", "set", state="token")
    answer = diag.http.get("chatwoot_api", f"/api/v1/accounts/{account}/inboxes",
                           headers={"api_access_token": token})
    state = {401: "token", 403: "token", 404: "account"}.get(answer.status or 0)
    expect(f"[STATUS] of Chatwoot's GET /api/v1/accounts/{account}/inboxes", answer.outcome,
           "==", "200", state=state)

"""Ad account access and rate limits, read-only from the Meta operations tables, and
the ad accounts Graph lets the token reach."""

from datetime import datetime

import pytest

from fixtures.catalog import check
from fixtures.expect import expect

FAILED_ACCOUNTS = """
select t.name, s.account_id, s.last_job_error,
       (select count(*) from integrations_apierrorlog e
        where e.tenant_id = s.tenant_id and e.provider = 'META' and e.status_code = 403
          and e.endpoint like '/' || s.account_id || '%%' and e.created_at >= %s)
from integrations_metaaccountsyncstate s join accounts_tenant t on t.id = s.tenant_id
where s.last_job_status = 'failed'
order by 1, 2
"""
FORBIDDEN_ERRORS = """
select t.name, e.endpoint, e.error_code, count(*)
from integrations_apierrorlog e join accounts_tenant t on t.id = e.tenant_id
where e.provider = 'META' and e.status_code = 403 and e.endpoint like '/act\\_%%'
  and e.created_at >= %s
group by 1, 2, 3 order by 1, 2
"""
RETRYABLE = """
select count(*) filter (where is_retryable), count(*)
from integrations_apierrorlog where provider = 'META' and created_at >= %s
"""


@check("adinsights.meta.accounts.access", severity="high", runbook="meta.md#ad-account-access",
       needs=("meta_ops_db",), category="failed job")
def test_account_access(ops_rows, error_window):
    failed = [f"{tenant} {account}: last job failed ({error or 'no error stored'}); "
              f"{forbidden} 403 errors in the window"
              for tenant, account, error, forbidden in ops_rows(FAILED_ACCOUNTS, (error_window,))]
    expect("Meta accounts whose last sync job failed", failed, "is empty")
    forbidden = [f"{tenant} {endpoint}: {count} x 403 (#{code})"
                 for tenant, endpoint, code, count in ops_rows(FORBIDDEN_ERRORS, (error_window,))]
    expect("403 account endpoint errors in the window", forbidden, "is empty")


@check("adinsights.meta.rate_limit.share", severity="medium", runbook="meta.md#rate-limits",
       needs=("meta_ops_db",), category="throttled")
def test_retryable_share(ops_rows, error_window, meta_settings):
    (retryable, total), = ops_rows(RETRYABLE, (error_window,))
    share = round(retryable / total, 2) if total else 0.0
    window = f"{retryable} of {total} Meta errors retryable since {error_window:%H:%M} UTC"
    if retryable >= int(meta_settings["retryable_min_count"]):
        expect("share of retryable errors", share, "<=",
               float(meta_settings["retryable_share_max"]), note=window)


@check("adinsights.meta.accounts.graph", severity="high", runbook="meta.md#ad-account-reachable",
       needs=("api", "tenant", "meta_graph"), category="credentials")
def test_account_reachable_in_graph(social_status, graph_accounts):
    """Failure mode 3 from Meta's side: the tenant's selected ad account is among those
    the token can reach, and active (`account_status` 1)."""
    entry = next((p for p in social_status.body("platforms") or [] if p.get("platform") == "meta"),
                 {})
    account = (entry.get("metadata") or {}).get("credential_account_id")
    if not account:
        pytest.skip("not run: Meta is not connected for this tenant")
    expect("[STATUS] me/adaccounts", graph_accounts.outcome, "==", "200",
           note=(graph_accounts.body("error") or {}).get("message") if graph_accounts.ok
           else None)
    listed = {a.get("id"): a.get("account_status") for a in graph_accounts.body("data") or []}
    expect(f"{account} in me/adaccounts", account in listed, "==", True,
           note=f"{len(listed)} accounts listed")
    expect(f"{account} account_status", listed[account], "==", 1,
           note="1 active, 2 disabled, 3 unsettled, 101 closed")


@check("adinsights.meta.rate_limit.retries", severity="medium", runbook="meta.md#rate-limits",
       category="throttled")
def test_graph_retries(graph_retry_lines, error_window, meta_settings):
    """The retry logs the runbook names beside the error table: bounded retries that
    keep reaching their last attempt mean the throttle is sustained, not transient."""
    recent = [r for r in graph_retry_lines
              if datetime.fromisoformat(str(r.get("timestamp"))) >= error_window]
    exhausted = [r for r in recent if int(r.get("attempt") or 0) >= int(
        r.get("max_attempts") or meta_settings["graph_max_attempts"])]
    window = f"{len(recent)} meta.graph.retry lines since {error_window:%H:%M} UTC"
    expect("retry chains that reached their last attempt", [
        f"{r.get('endpoint')} at {r.get('timestamp')}" for r in exhausted], "is empty",
        note=window)

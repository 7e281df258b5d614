"""Token health: stored credentials, and the Graph token debugger's verdict on the
profile's token (validity, granted scopes, expiry)."""

from diagnostics.adinsights.meta.conftest import lacking_scopes
from fixtures.catalog import check, upstream_check
from fixtures.evidence import observed_time
from fixtures.expect import expect

BAD_CREDENTIALS = """
select t.name, c.account_id, c.token_status, c.token_status_reason
from integrations_platformcredential c join accounts_tenant t on t.id = c.tenant_id
where c.provider = 'META' and c.token_status in ('invalid', 'reauth_required')
order by 1, 2
"""

EXPIRING_CREDENTIALS = """
select t.name, c.account_id, c.token_expires_at
from integrations_platformcredential c join accounts_tenant t on t.id = c.tenant_id
where c.provider = 'META' and c.token_status = 'valid' and c.token_expires_at is not null
  and c.token_expires_at < now() + make_interval(days => %s)
order by 1, 2
"""

test_ops_db_reachable = upstream_check(
    "adinsights.meta.db.reachable", "meta_ops_db", "[CONNECTED]", severity="high",
    runbook="meta.md#meta-operations-database-reachable")


@check("adinsights.meta.token.status", severity="high", runbook="meta.md#stored-credentials",
       needs=("meta_ops_db",), category="credentials")
def test_stored_credentials(ops_rows):
    bad = [f"{tenant} {account}: {status} ({reason or 'no reason stored'})"
           for tenant, account, status, reason in ops_rows(BAD_CREDENTIALS)]
    expect("META credentials with token_status invalid or reauth_required", bad, "is empty")


@check("adinsights.meta.token.stored_expiry", severity="high",
       runbook="meta.md#stored-credential-expiry", needs=("meta_ops_db",),
       category="credentials")
def test_stored_credentials_expiry(ops_rows, meta_settings):
    """The tenants' own tokens, as stored, not the profile's one: a `valid` credential
    that expires inside the window will turn `reauth_required` unless refreshed."""
    days = int(meta_settings["token_expiry_warn_days"])
    soon = [f"{tenant} {account}: expires {expires:%Y-%m-%d %H:%M} UTC"
            for tenant, account, expires in ops_rows(EXPIRING_CREDENTIALS, (days,))]
    expect(f"valid META credentials expiring within {days} days", soon, "is empty")


@check("adinsights.meta.token.valid", severity="critical", runbook="meta.md#token-validity",
       needs=("meta_graph",), category="credentials",
       states={"caller": ("app-credential-rejected", "credentials")})
def test_token_valid(token_data):
    expect("debug_token caller credential", token_data.caller_error, "is empty", state="caller")
    error = token_data.data.get("error") or {}
    expect("data.is_valid", token_data.data.get("is_valid"), "==", True,
           note=f"({error.get('code')}/{error.get('subcode')}) {error.get('message')}"
           if error else None)


@check("adinsights.meta.token.scopes", severity="high", runbook="meta.md#token-scopes",
       needs=("meta_graph",), category="credentials")
def test_token_scopes(token_data):
    expect("debug_token caller credential", token_data.caller_error, "is empty")
    scopes = token_data.data.get("scopes") or []
    expect("scope gate groups not granted", lacking_scopes(scopes), "is empty",
           note=f"granted: {', '.join(scopes) or 'none'}")


@check("adinsights.meta.token.expiry", severity="high", runbook="meta.md#token-expiry",
       needs=("meta_graph",), category="credentials")
def test_token_expiry(token_data, token_days_left, meta_settings):
    expect("debug_token caller credential", token_data.caller_error, "is empty")
    days, when = token_days_left
    observed_time("Meta token expires", when if days is not None else None)
    if days is not None:
        expect("days until the token expires", days, ">",
               float(meta_settings["token_expiry_warn_days"]), note=f"expires_at {when}")

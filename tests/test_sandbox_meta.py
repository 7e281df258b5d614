"""The Meta parts of the sandbox honour their contracts: the Graph stand-in (debug_token and
ad accounts, external-apis 3), the backend's Meta setup, OAuth start and direct read
APIs (adinsights-api 3.10 and the runbook), the env file, and the operations tables
read through the read-only operations role."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import psycopg
import pytest
from sandboxes import Sandbox

from conftest import needs
from sandbox.adinsights import Account
from sandbox.adinsights.meta_graph import APP_ID, GRAPH_VERSION

ACME = Account(name="acme", token="tok-acme")
GLOBEX = Account(name="globex", token="tok-globex")
AUTH = {"Authorization": "Bearer tok-acme"}
SECRET, TOKEN = "app-secret-under-test", "EAAB-token-under-test"


@contextmanager
def running(*faults: str, runtime: tuple[str, ...] = ()) -> Iterator[Sandbox]:
    with Sandbox([ACME, GLOBEX], faults, meta_app_secret=SECRET, meta_token=TOKEN,
                 runtime=runtime, meta_ops_db_password="ops-pw") as sb:
        yield sb


def graph(sb: Sandbox, path: str, **params: str) -> httpx.Response:
    return httpx.get(f"{sb.urls['meta_graph']}/{GRAPH_VERSION}/{path}", params=params, timeout=5)


def api(sb: Sandbox, path: str, method: str = "GET", **kw) -> httpx.Response:
    return httpx.request(method, f"{sb.urls['api']}{path}", headers=AUTH, timeout=5, **kw)


def test_debug_token_as_documented() -> None:
    with running() as sb:
        good = graph(sb, "debug_token", input_token=TOKEN, access_token=f"{APP_ID}|{SECRET}")
        assert good.status_code == 200
        data = good.json()["data"]
        assert data["is_valid"] is True and data["app_id"] == APP_ID
        assert {"ads_read", "business_management", "pages_show_list"} <= set(data["scopes"])
        assert data["expires_at"] > 0 and data["type"]
        # an unknown input token: 200 with is_valid false and data.error
        other = graph(sb, "debug_token", input_token="nope", access_token=f"{APP_ID}|{SECRET}")
        assert other.status_code == 200 and other.json()["data"]["is_valid"] is False
        assert other.json()["data"]["error"]["code"] == 190
        # a wrong caller credential: a top-level Graph error envelope
        wrong = graph(sb, "debug_token", input_token=TOKEN, access_token=f"{APP_ID}|wrong")
        assert wrong.status_code == 400
        assert wrong.json()["error"]["type"] == "OAuthException"
        assert wrong.json()["error"]["code"] == 190
        assert graph(sb, "debug_token", input_token=TOKEN).json()["error"]["code"] == 104


def test_expired_token_and_accounts() -> None:
    with running("meta_token_expired") as sb:
        data = graph(sb, "debug_token", input_token=TOKEN,
                     access_token=f"{APP_ID}|{SECRET}").json()["data"]
        assert data["is_valid"] is False
        assert (data["error"]["code"], data["error"]["subcode"]) == (190, 463)
        assert graph(sb, "me/adaccounts", access_token=TOKEN).json()["error"]["code"] == 190
    with running() as sb:
        accounts = graph(sb, "me/adaccounts", access_token=TOKEN).json()["data"]
        assert [a["id"] for a in accounts] == [t.ad_account_id for t in sb.tenants]
        assert graph(sb, "me/adaccounts", access_token="x").status_code == 400


def test_request_log_masks_credentials() -> None:
    with running() as sb:
        graph(sb, "debug_token", input_token=TOKEN, access_token=f"{APP_ID}|{SECRET}")
        logged = "\n".join(path for _method, path in sb.request_log)
        assert "input_token=[REDACTED]" in logged
        assert TOKEN not in logged and SECRET not in logged


def test_setup_env_file_and_oauth_start_agree() -> None:
    with running() as sb:
        setup = api(sb, "/api/integrations/meta/setup/").json()
        assert setup["provider"] == "meta_ads" and setup["ready_for_oauth"] is True
        assert setup["missing_env_vars"] == []
        for check in setup["checks"]:
            assert set(check) >= {"key", "label", "ok", "env_vars", "missing_env_vars"}
        lines = Path(sb.paths["env_file"]).read_text().splitlines()
        env = dict(line.split("=", 1) for line in lines if "=" in line and line[0] != "#")
        assert env["META_APP_ID"] == APP_ID and env["META_APP_SECRET"] == SECRET
        assert env["META_OAUTH_SCOPES"].split(",") == setup["oauth_scopes"]
        assert setup["redirect_uri"] == env["FRONTEND_BASE_URL"] + "/dashboards/data-sources"
        start = api(sb, "/api/integrations/meta/oauth/start/", "POST", json={})
        assert start.status_code == 200
        query = parse_qs(urlsplit(start.json()["authorize_url"]).query)
        assert query["client_id"] == [APP_ID]
        assert query["redirect_uri"] == [setup["redirect_uri"]]
        assert query["config_id"] == [env["META_LOGIN_CONFIG_ID"]]
        assert query["state"] == [start.json()["state"]]
        assert httpx.post(f"{sb.urls['api']}/api/integrations/meta/oauth/start/").status_code \
            == 401


@pytest.mark.parametrize(("fault", "detail", "missing"), [
    ("meta_app_id_missing", "META_APP_ID must be configured for Meta OAuth.", "META_APP_ID"),
    ("meta_login_config_missing", "META_LOGIN_CONFIG_ID must be configured for Meta OAuth.",
     "META_LOGIN_CONFIG_ID"),
])
def test_unconfigured_oauth(fault: str, detail: str, missing: str) -> None:
    with running(fault) as sb:
        setup = api(sb, "/api/integrations/meta/setup/").json()
        assert setup["ready_for_oauth"] is False and missing in setup["missing_env_vars"]
        start = api(sb, "/api/integrations/meta/oauth/start/", "POST", json={})
        assert (start.status_code, start.json()) == (503, {"detail": detail})


def test_direct_read_walk_is_paginated_and_tenant_scoped() -> None:
    with running() as sb:
        acme, globex = sb.tenants
        accounts = api(sb, "/api/meta/accounts/").json()
        assert set(accounts) == {"count", "next", "previous", "results"}
        assert [a["id"] for a in accounts["results"]] == [acme.ad_account_id]
        campaigns = api(sb, "/api/meta/campaigns/",
                        params={"account_id": acme.ad_account_id}).json()["results"]
        adsets = api(sb, "/api/meta/adsets/",
                     params={"campaign_id": campaigns[0]["id"]}).json()["results"]
        ads = api(sb, "/api/meta/ads/", params={"adset_id": adsets[0]["id"]}).json()["results"]
        assert ads and ads[0]["adset_id"] == adsets[0]["id"]
        insights = api(sb, "/api/meta/insights/", params={
            "account_id": acme.ad_account_id, "level": "ad", "since": "2026-01-01",
            "until": "2026-01-03"}).json()
        assert insights["count"] == 3 * len(api(sb, "/api/meta/campaigns/", params={
            "account_id": acme.ad_account_id}).json()["results"])
        foreign = api(sb, "/api/meta/campaigns/", params={"account_id": globex.ad_account_id})
        assert foreign.json()["count"] == 0
        assert api(sb, "/api/meta/campaigns/").status_code == 400
        assert httpx.get(f"{sb.urls['api']}/api/meta/accounts/").status_code == 401
    with running("meta_direct_api_broken") as sb:
        broken = api(sb, "/api/meta/insights/", params={
            "account_id": sb.tenants[0].ad_account_id, "since": "2026-01-01",
            "until": "2026-01-01"})
        assert broken.status_code == 500 and broken.json()["error"]["code"] == "server_error"


@needs("postgres")
def test_ops_role_reads_every_tenant_but_no_token_and_cannot_write() -> None:
    with running("meta_account_forbidden", runtime=("database",)) as sb:
        dsn = sb.dsn["meta_ops_db"]
        with psycopg.connect(dsn, password="ops-pw", autocommit=True) as conn:
            states = conn.execute("select last_job_status from integrations_metaaccountsyncstate"
                                  " order by last_job_status").fetchall()
            assert states == [("failed",), ("succeeded",)]  # both tenants, without a tenant set
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute("select access_token_enc from integrations_platformcredential")
            with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
                conn.execute("delete from integrations_apierrorlog")
        with psycopg.connect(dsn, password="ops-pw", autocommit=True) as conn, \
                pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("select count(*) from analytics_campaign")

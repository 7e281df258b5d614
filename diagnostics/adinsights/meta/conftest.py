"""Observations for the Meta connector lifecycle: the backend's setup report and env file,
social status, the Graph token debugger, the Meta operations tables, the direct read
APIs and OAuth start.

Where the token to debug comes from: the profile's ``[adinsights.meta] token_env`` names an env var
holding a token of the backend's Meta app (a system-user token in practice). The Graph
call authenticates as the app itself (``APPID|APPSECRET``: ``[adinsights.meta] app_id`` and the
secret in ``[adinsights.meta] app_secret_env``). Both values are registered with the redactor like
every ``*_env`` secret, and credential query parameters are masked in every URL shown.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from diagnostics.adinsights.gates import GRAPH_API_VERSION
from diagnostics.adinsights.health.conftest import endpoint as get_endpoint
from fixtures.context import Context
from fixtures.probes import files
from fixtures.probes.http import Response
from fixtures.shared import rows_from

DEFAULTS = {
    "app_id": "",
    "app_secret_env": "",
    "token_env": "",
    "login_config_required": None,  # the environment's policy; None: not declared
    "graph_api_version": GRAPH_API_VERSION,
    "token_expiry_warn_days": 7,
    "error_window_minutes": 60,
    "retryable_share_max": 0.5,
    "retryable_min_count": 10,
    "graph_max_attempts": 5,  # META_GRAPH_MAX_ATTEMPTS, when a line does not say
}
# The runbook's scope gate: each group needs one of its permissions.
SCOPE_GATE = (("ads_read", "ads_management"), ("business_management",),
              ("pages_read_engagement",), ("pages_show_list",))
LOGIN_REQUIRED = "META_LOGIN_CONFIG_REQUIRED"


def lacking_scopes(scopes: list[str] | tuple[str, ...]) -> list[str]:
    granted = set(scopes)
    return [" or ".join(group) for group in SCOPE_GATE if not granted & set(group)]


def split_scopes(text: str) -> list[str]:
    return [s for s in text.replace(" ", ",").split(",") if s]


@pytest.fixture
def meta_settings(diag: Context) -> dict:
    return diag.settings("meta", DEFAULTS)


social_status = get_endpoint("social_status", "api", "/api/integrations/social/status/",
                         auth="tenant")
meta_connections = get_endpoint("meta_connections", "api", "/api/airbyte/connections/",
                                auth="tenant")
meta_setup = get_endpoint("meta_setup", "api", "/api/integrations/meta/setup/", auth="first")


@pytest.fixture
def meta_env(diag: Context) -> dict[str, str] | None:
    """The deployment env file's settings, or None when the profile names no env file."""
    path = diag.profile.paths.get("env_file", "")
    if not path:
        return None
    read = files.read_text(Path(path), diag.redactor)
    return files.parse_env(read.data) if read.exists else {}


@dataclass(frozen=True)
class Requirement:
    """One OAuth configuration requirement as the setup report and the env file show it.
    ``env_ok`` is None when the profile names no env file. Values never appear here,
    only whether they are set, so a secret cannot reach a report through it."""

    setup_ok: bool
    setup_seen: str
    env_ok: bool | None = None
    env_seen: str = ""


def _setup_check(setup: Response, key: str) -> dict:
    return next((c for c in setup.body("checks") or [] if c.get("key") == key), {})


def _named(env: dict[str, str], *names: str) -> str:
    return ", ".join(f"{n}={'set' if env.get(n) else 'empty'}" for n in names)


@pytest.fixture
def oauth_config(meta_setup: Response, meta_env: dict[str, str] | None,
                 meta_settings: dict) -> dict[str, Requirement]:
    setup = meta_setup.json if meta_setup.status == 200 else {}
    missing = set(setup.get("missing_env_vars") or [])
    found: dict[str, Requirement] = {}
    for piece, name in (("app_id", "META_APP_ID"), ("app_secret", "META_APP_SECRET")):
        credentials = _setup_check(meta_setup, "meta_app_credentials")
        ok = bool(credentials) and name not in (credentials.get("missing_env_vars") or []) \
            and name not in missing
        found[piece] = Requirement(ok, f"missing_env_vars {sorted(missing) or 'empty'}")
    login = _setup_check(meta_setup, "meta_login_configuration_id")
    found["login_config"] = Requirement(bool(login.get("ok")),
                                        f"meta_login_configuration_id ok={login.get('ok')}")
    redirect = setup.get("redirect_uri") or ""
    found["redirect"] = Requirement(bool(redirect), f"redirect_uri {redirect or 'missing'}")
    scopes = setup.get("oauth_scopes") or []
    lacking = lacking_scopes(scopes)
    found["scopes"] = Requirement(not lacking, f"oauth_scopes lack {lacking}" if lacking
                                  else "oauth_scopes satisfy the gate")
    if meta_env is not None:
        env = meta_env
        required = env.get(LOGIN_REQUIRED) == "1"
        policy = meta_settings.get("login_config_required")
        as_policy = policy is None or required == bool(policy)
        env_scopes = split_scopes(env.get("META_OAUTH_SCOPES", ""))
        env_checks = {
            "app_id": (bool(env.get("META_APP_ID")), _named(env, "META_APP_ID")),
            "app_secret": (bool(env.get("META_APP_SECRET")), _named(env, "META_APP_SECRET")),
            "login_config": (as_policy and (not required or bool(env.get("META_LOGIN_CONFIG_ID"))),
                             f"{LOGIN_REQUIRED}={env.get(LOGIN_REQUIRED, '')}"
                             + ("" if policy is None else
                                f" (the profile's policy: {'1' if policy else '0'})")
                             + ", " + _named(env, "META_LOGIN_CONFIG_ID")),
            "redirect": (bool(env.get("META_OAUTH_REDIRECT_URI") or env.get("FRONTEND_BASE_URL")),
                         _named(env, "META_OAUTH_REDIRECT_URI", "FRONTEND_BASE_URL")),
            # An unset META_OAUTH_SCOPES means the backend's defaults: the setup report judges.
            "scopes": (not env_scopes or not lacking_scopes(env_scopes),
                       f"META_OAUTH_SCOPES lacks {lacking_scopes(env_scopes)}"
                       if env_scopes and lacking_scopes(env_scopes)
                       else "META_OAUTH_SCOPES satisfies the gate or is unset"),
        }
        for piece, (ok, seen) in env_checks.items():
            found[piece] = Requirement(found[piece].setup_ok, found[piece].setup_seen, ok, seen)
    return found


@pytest.fixture
def debug_token(diag: Context, meta_settings: dict, meta_env: dict[str, str] | None) -> Response:
    """``GET /<version>/debug_token`` for the profile's token, as the app (memoised, so
    the validity, scope and expiry checks judge one answer). The app is the backend's:
    its META_APP_ID and META_APP_SECRET from its env file where the profile names one, so
    a secret rotated in Meta but not in the backend shows; else the profile's copy."""
    token_env, secret_env = meta_settings["token_env"], meta_settings["app_secret_env"]
    if not token_env:
        pytest.skip("not run: the target profile names no [adinsights.meta] token_env to debug")
    token, secret = diag.profile.secret(token_env), diag.profile.secret(secret_env)
    app_id = meta_settings["app_id"]
    if meta_env and meta_env.get("META_APP_ID") and meta_env.get("META_APP_SECRET"):
        app_id, secret = meta_env["META_APP_ID"], meta_env["META_APP_SECRET"]
        diag.redactor.add(secret)
    if not token or not secret or not app_id:
        pytest.skip(f"not run: set [adinsights.meta] app_id and the env vars {token_env} and "
                    f"{secret_env or '[adinsights.meta] app_secret_env'}")
    app_credential = f"{app_id}|{secret}"
    diag.redactor.add(app_credential)
    version = meta_settings["graph_api_version"]
    return diag.http.get("meta_graph", f"/{version}/debug_token",
                         params={"input_token": token, "access_token": app_credential})


@pytest.fixture
def graph_accounts(diag: Context, meta_settings: dict) -> Response:
    """``me/adaccounts`` for the profile's token: the ad accounts it can reach."""
    token_env = meta_settings["token_env"]
    token = diag.profile.secret(token_env) if token_env else ""
    if not token:
        pytest.skip("not run: the target profile names no [adinsights.meta] token_env")
    version = meta_settings["graph_api_version"]
    return diag.http.get("meta_graph", f"/{version}/me/adaccounts",
                         params={"access_token": token, "fields": "id,account_status"})


@dataclass(frozen=True)
class TokenData:
    caller_error: str  # a top-level Graph error: the app credential was refused
    data: dict


@pytest.fixture
def token_data(debug_token: Response) -> TokenData:
    error = debug_token.body("error") if debug_token.ok else None
    if debug_token.status != 200 or error:
        message = (error or {}).get("message") or debug_token.outcome
        return TokenData(f"{debug_token.outcome}: {message}", {})
    return TokenData("", debug_token.body("data") or {})


@pytest.fixture
def token_days_left(token_data: TokenData) -> tuple[float | None, str]:
    """Days until expiry and the expiry shown as a date; None for a token that never
    expires (``expires_at: 0``) or when Graph said nothing."""
    expires = token_data.data.get("expires_at")
    if not expires:
        return None, "never (expires_at 0)" if expires == 0 else "not reported"
    left = (float(expires) - time.time()) / 86400
    return round(left, 1), datetime.fromtimestamp(float(expires), UTC).isoformat()


@pytest.fixture
def ops_rows(diag: Context):
    return rows_from(diag, "meta_ops_db")


@pytest.fixture
def error_window(meta_settings: dict) -> datetime:
    return datetime.now(UTC) - timedelta(minutes=float(meta_settings["error_window_minutes"]))


# -- direct read APIs --------------------------------------------------------------------

DIRECT = {
    # endpoint: (parent endpoint, query parameter naming the parent's id, required fields)
    "accounts": (None, None, ("id", "account_id", "name")),
    "campaigns": ("accounts", "account_id", ("id", "account_id", "name", "status")),
    "adsets": ("campaigns", "campaign_id", ("id", "campaign_id", "name")),
    "ads": ("adsets", "adset_id", ("id", "adset_id", "name")),
    "insights": ("accounts", "account_id", ("date_start", "ad_id", "impressions", "clicks",
                                            "spend")),
}
PAGE_KEYS = ("count", "next", "previous", "results")


def _direct_get(diag: Context, tenant: str, name: str) -> Response:
    """The walk: each list is asked for with the first id of its parent's list."""
    parent, param, _fields = DIRECT[name]
    params: dict[str, str] = {}
    if parent is not None:
        above = _direct_get(diag, tenant, parent)
        rows = above.body("results") if above.status == 200 else None
        if not rows or not isinstance(rows, list) or not isinstance(rows[0], dict):
            pytest.skip(f"not run: /api/meta/{parent}/ gave no id to walk from "
                        f"({above.outcome})")
        params[param] = str(rows[0].get("id"))
    if name == "insights":
        today = datetime.now(UTC).date()
        params.update(level="ad", since=(today - timedelta(days=7)).isoformat(),
                      until=(today - timedelta(days=1)).isoformat())
    return diag.http.get("api", f"/api/meta/{name}/", headers=diag.auth(tenant), params=params)


@pytest.fixture
def direct_read(diag: Context, tenant: str, resource: str) -> Response:
    return _direct_get(diag, tenant, resource)


@pytest.fixture
def oauth_start(diag: Context) -> Response:
    first = diag.profile.tenants[0].name
    return diag.http.post("api", "/api/integrations/meta/oauth/start/", json_body={},
                          headers=diag.auth(first))


@dataclass(frozen=True)
class AuthorizeUrl:
    params: dict[str, str]
    expected_client_id: str
    expected_config_id: str  # empty when no login configuration is required


@pytest.fixture
def authorize_url(oauth_start: Response, meta_env: dict[str, str] | None,
                  meta_settings: dict) -> AuthorizeUrl:
    url = oauth_start.body("authorize_url") if oauth_start.status == 200 else ""
    query = {k: v[-1] for k, v in parse_qs(urlsplit(url or "").query).items()}
    env = meta_env or {}
    client_id = env.get("META_APP_ID") or meta_settings["app_id"]
    config_id = env.get("META_LOGIN_CONFIG_ID", "") if env.get(LOGIN_REQUIRED) == "1" else ""
    return AuthorizeUrl(query, client_id, config_id)

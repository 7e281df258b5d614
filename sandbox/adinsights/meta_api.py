"""The backend's Meta endpoints: the setup report, OAuth start, and the direct read APIs
(adinsights-api 3.10 and the operations runbook's "Meta Marketing API direct-sync
operations").

The setup report and OAuth start are computed from the same MetaApp settings the env
file is written from, so a check comparing the three finds them in agreement unless a
fault breaks one of them. The direct read data is derived from the tenant's ad account,
with the same campaign, ad set and ad ids the application database holds.
"""

from __future__ import annotations

import hashlib
import hmac
import random
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlencode

from sandbox.adinsights import health
from sandbox.adinsights.drf import ParseError, paginate, request_data
from sandbox.adinsights.meta_graph import GRAPH_VERSION, MetaApp
from sandbox.adinsights.state import Tenant
from sandbox.parts.http import Response, json_response

if TYPE_CHECKING:
    from sandbox.adinsights.call import Call

OAUTH_START_BROKEN = "meta_oauth_start_broken"
DIRECT_API_BROKEN = "meta_direct_api_broken"
BROKEN_ENDPOINT = "insights"
STALE_REDIRECT = "http://localhost:3000/integrations/meta/callback"
PAGE_SIZE = 50
INSIGHT_DAYS = 7
MARKETING_GATE = "(ads_read or ads_management), business_management, pages_read_engagement, " \
                 "pages_show_list"


def _check(key: str, label: str, names: dict[str, str]) -> dict:
    missing = [name for name, value in names.items() if not value]
    return {"key": key, "label": label, "ok": not missing, "env_vars": list(names),
            "missing_env_vars": missing}


def scope_gate(scopes: tuple[str, ...] | list[str]) -> list[str]:
    """The permissions the exchange still lacks: the runbook's gate."""
    granted = set(scopes)
    lacking = [] if granted & {"ads_read", "ads_management"} else ["ads_read|ads_management"]
    return lacking + [s for s in ("business_management", "pages_read_engagement",
                                  "pages_show_list") if s not in granted]


def setup_report(app: MetaApp, workspace_id: str) -> dict:
    redirect = app.effective_redirect_uri
    checks = [
        _check("meta_app_credentials", "Meta app credentials",
               {"META_APP_ID": app.app_id, "META_APP_SECRET": app.app_secret}),
        {**_check("meta_redirect_uri", "OAuth redirect URI",
                  {"META_OAUTH_REDIRECT_URI": redirect}),
         "env_vars": ["META_OAUTH_REDIRECT_URI", "FRONTEND_BASE_URL"]},
    ]
    login = _check("meta_login_configuration_id", "Facebook Login for Business configuration",
                   {"META_LOGIN_CONFIG_ID": app.login_config_id})
    if not app.login_config_required:
        login.update(ok=True, missing_env_vars=[])
    checks.append(login)
    lacking = scope_gate(app.scopes)
    checks.append({"key": "meta_marketing_scopes", "label": "Marketing API scopes",
                   "ok": not lacking, "env_vars": ["META_OAUTH_SCOPES"],
                   "missing_env_vars": ["META_OAUTH_SCOPES"] if lacking else [],
                   "required_scopes": MARKETING_GATE, "missing_scopes": lacking})
    for key, name in (("airbyte_workspace_default", "AIRBYTE_DEFAULT_WORKSPACE_ID"),
                      ("airbyte_destination_default", "AIRBYTE_DEFAULT_DESTINATION_ID"),
                      ("airbyte_source_definition_meta", "AIRBYTE_SOURCE_DEFINITION_META")):
        checks.append(_check(key, name.replace("_", " ").title(), {name: workspace_id}))
    missing = [name for c in checks for name in c["missing_env_vars"]]
    oauth_keys = {"meta_app_credentials", "meta_login_configuration_id", "meta_redirect_uri"}
    return {
        "provider": "meta_ads",
        "ready_for_oauth": all(c["ok"] for c in checks if c["key"] in oauth_keys),
        "ready_for_provisioning_defaults": all(c["ok"] for c in checks
                                               if c["key"].startswith("airbyte_")),
        "checks": checks,
        "missing_env_vars": sorted(set(missing)),
        "oauth_scopes": list(app.scopes),
        "graph_api_version": GRAPH_VERSION,
        "redirect_uri": redirect or None,
        "login_mode": "facebook_login_for_business" if app.login_config_required else "oauth",
    }


def setup(call: Call) -> Response:
    workspace = call.world.tenants[0].connections[0].workspace_id
    return json_response(200, setup_report(call.world.meta, workspace))


def _unconfigured(app: MetaApp) -> str | None:
    if not app.app_id:
        return "META_APP_ID must be configured for Meta OAuth."
    if not app.app_secret:
        return "META_APP_SECRET must be configured for Meta OAuth."
    if app.login_config_required and not app.login_config_id:
        return "META_LOGIN_CONFIG_ID must be configured for Meta OAuth."
    if not app.effective_redirect_uri:
        return "META_OAUTH_REDIRECT_URI or FRONTEND_BASE_URL must be configured for Meta OAuth."
    return None


def oauth_start(call: Call) -> Response:
    app = call.world.meta
    try:
        body = request_data(call.request)
    except ParseError as exc:
        return json_response(400, exc.body)
    problem = _unconfigured(app)
    if problem:
        return json_response(503, {"detail": problem})
    nonce = f"{call.tenant.tenant_id}:{int(call.now.timestamp())}"
    signature = hmac.new(app.app_secret.encode(), nonce.encode(), hashlib.sha256).hexdigest()[:16]
    state = f"{nonce}:{signature}"
    redirect = app.effective_redirect_uri
    if OAUTH_START_BROKEN in call.world.faults:
        redirect = STALE_REDIRECT  # a hard-coded callback left behind by an old release
    params = {"client_id": app.app_id, "redirect_uri": redirect, "state": state,
              "response_type": "code", "override_default_response_type": "true",
              "scope": ",".join(app.scopes)}
    if app.login_config_required and app.login_config_id:
        params["config_id"] = app.login_config_id
    if body.get("auth_type"):
        params["auth_type"] = str(body["auth_type"])
    url = f"https://www.facebook.com/{GRAPH_VERSION}/dialog/oauth?{urlencode(params)}"
    return json_response(200, {
        "authorize_url": url, "state": state, "redirect_uri": redirect,
        "login_configuration_id": params.get("config_id"), "oauth_flow": "marketing"})


# -- direct read APIs ------------------------------------------------------------------


def _digits(tenant: Tenant) -> str:
    return tenant.ad_account_id.removeprefix("act_")


def accounts(tenant: Tenant) -> list[dict]:
    return [{"id": tenant.ad_account_id, "account_id": _digits(tenant),
             "name": f"{tenant.name.title()} Ads", "currency": "USD",
             "timezone_name": "America/Jamaica", "account_status": 1}]


def campaigns(tenant: Tenant) -> list[dict]:
    """Same external ids as the application database's analytics_campaign rows."""
    return [{"id": f"{_digits(tenant)}{n:03d}", "account_id": tenant.ad_account_id,
             "name": f"{tenant.name.title()} {label}", "status": "ACTIVE",
             "objective": "OUTCOME_TRAFFIC"}
            for n, label in enumerate(("Prospecting", "Retargeting"), 1)]


def adsets(tenant: Tenant) -> list[dict]:
    return [{"id": f"{c['id']}01", "campaign_id": c["id"], "account_id": c["account_id"],
             "name": f"{c['name']} - Prospecting", "status": "ACTIVE", "daily_budget": "50.00"}
            for c in campaigns(tenant)]


def ads(tenant: Tenant) -> list[dict]:
    return [{"id": f"{a['id']}01", "adset_id": a["id"], "campaign_id": a["campaign_id"],
             "account_id": a["account_id"], "name": a["name"].replace("Prospecting", "Carousel"),
             "status": "ACTIVE"} for a in adsets(tenant)]


def insights(tenant: Tenant, since: str, until: str) -> list[dict]:
    rows = []
    for ad in ads(tenant):
        rng = random.Random(ad["id"])
        for day in _days(since, until):
            impressions = rng.randint(2_000, 20_000)
            clicks = impressions * rng.randint(8, 30) // 1000
            rows.append({"date_start": day, "date_stop": day, "level": "ad",
                         "account_id": ad["account_id"], "campaign_id": ad["campaign_id"],
                         "adset_id": ad["adset_id"], "ad_id": ad["id"],
                         "impressions": impressions, "clicks": clicks,
                         "spend": f"{impressions * rng.uniform(4, 12) / 1000:.2f}"})
    return rows


def _days(since: str, until: str) -> list[str]:
    from datetime import date

    start, end = date.fromisoformat(since), date.fromisoformat(until)
    days = []
    while start <= end and len(days) < 93:
        days.append(start.isoformat())
        start += timedelta(days=1)
    return days


def _query(call: Call) -> dict[str, str]:
    return {k: v[-1] for k, v in parse_qs(call.request.query, keep_blank_values=True).items()}


def _listing(rows: Callable[[Call, dict[str, str]], list[dict] | dict],
             name: str) -> Callable[[Call], Response]:
    def view(call: Call) -> Response:
        if DIRECT_API_BROKEN in call.world.faults and name == BROKEN_ENDPOINT \
                and call.tenant.tenant_id == call.world.tenants[0].tenant_id:
            envelope = health.error_envelope("server_error", health.SERVER_ERROR,
                                             call.request.path)
            return json_response(500, envelope)
        found = rows(call, _query(call))
        if isinstance(found, dict):  # a field error
            return json_response(400, found)
        return json_response(*paginate(call.request, found, PAGE_SIZE))

    return view


def _required(query: dict[str, str], *names: str) -> dict | None:
    missing = {n: ["This field is required."] for n in names if not query.get(n)}
    return missing or None


def _by(field: str, source: Callable[[Tenant], list[dict]]):
    def rows(call: Call, query: dict[str, str]) -> list[dict] | dict:
        return _required(query, field) or [r for r in source(call.tenant)
                                           if r[field] == query[field]]

    return rows


def _insights(call: Call, query: dict[str, str]) -> list[dict] | dict:
    error = _required(query, "account_id", "since", "until")
    if error:
        return error
    try:
        found = insights(call.tenant, query["since"], query["until"])
    except ValueError:
        return {"since": ["Date has wrong format. Use one of these formats instead: YYYY-MM-DD."]}
    level = query.get("level", "ad")
    if level != "ad":
        return {"level": [f'"{level}" is not a valid choice.']}
    return [r for r in found if r["account_id"] == query["account_id"]]


DIRECT_VIEWS: dict[str, Callable[[Call], Response]] = {
    "accounts": _listing(lambda call, _q: accounts(call.tenant), "accounts"),
    "campaigns": _listing(_by("account_id", campaigns), "campaigns"),
    "adsets": _listing(_by("campaign_id", adsets), "adsets"),
    "ads": _listing(_by("adset_id", ads), "ads"),
    "insights": _listing(_insights, "insights"),
}

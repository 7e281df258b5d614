"""The Meta app the backend is configured with, and a Graph API stand-in on loopback.

The stand-in answers the two calls the runbook's token and account steps rely on:
``debug_token`` (the Access Token Debugger) and ``me/adaccounts``. Both insist on a
credential, as the real Graph does: debug_token wants the app's own ``APPID|APPSECRET``
(or a token of the same app), the account list wants a user or system-user token.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from urllib.parse import parse_qs

from sandbox.parts.http import (
    DownService,
    HttpService,
    Request,
    RequestLog,
    Response,
    json_response,
)

GRAPH_VERSION = "v24.0"
# Not a secret: an app id is public (it appears in every OAuth dialog URL).
APP_ID = "1024512048409600"
APP_NAME = "ADinsights Sandbox"
LOGIN_CONFIG_ID = "881234567890123"
FULL_SCOPES = (
    "ads_read",
    "ads_management",
    "business_management",
    "pages_read_engagement",
    "pages_show_list",
)
REDIRECT_PATH = "/dashboards/data-sources"
TOKEN_LIFETIME_DAYS = 60
EXPIRING_DAYS = 3

APP_ID_MISSING = "meta_app_id_missing"
APP_SECRET_MISSING = "meta_app_secret_missing"
LOGIN_CONFIG_MISSING = "meta_login_config_missing"
LOGIN_POLICY_OFF = "meta_login_policy_off"
BACKEND_SECRET_STALE = "meta_backend_secret_stale"
ACCOUNT_DISABLED = "meta_account_disabled"
SCOPES_INSUFFICIENT = "meta_scopes_insufficient"
REDIRECT_MISSING = "meta_redirect_missing"
TOKEN_EXPIRED = "meta_token_expired"
TOKEN_EXPIRING = "meta_token_expiring"
GRAPH_DOWN = "meta_graph_down"

# Query parameters that carry a credential; the request log never keeps their values.
SECRET_PARAMS = ("input_token", "access_token", "client_secret", "fb_exchange_token")
_SECRET_PARAM = re.compile("((?:^|&)(?:" + "|".join(SECRET_PARAMS) + ")=)[^&]*")


@dataclass(frozen=True)
class MetaApp:
    """The backend's META_* settings plus what Meta itself knows about the app and the
    one token the diagnostics may debug. Faults blank a setting the way a deployment
    that forgot it would, or change what Meta says about the token."""

    app_id: str
    app_secret: str
    login_config_id: str
    login_config_required: bool
    redirect_uri: str
    frontend_base_url: str
    scopes: tuple[str, ...]
    graph_app_secret: str  # the secret Meta holds, whatever the backend was given
    token: str
    token_valid: bool
    token_expires_at: int  # unix seconds; 0 means it never expires
    granted_scopes: tuple[str, ...]

    @classmethod
    def build(cls, faults: frozenset[str], app_secret: str, token: str,
              frontend_base_url: str, now: float | None = None) -> MetaApp:
        now = time.time() if now is None else now
        scopes = FULL_SCOPES
        if SCOPES_INSUFFICIENT in faults:
            scopes = tuple(s for s in FULL_SCOPES if s != "business_management")
        expires = int(now) + TOKEN_LIFETIME_DAYS * 86400
        if TOKEN_EXPIRING in faults:
            expires = int(now) + EXPIRING_DAYS * 86400
        if TOKEN_EXPIRED in faults:
            expires = int(now) - 2 * 86400
        return cls(
            app_id="" if APP_ID_MISSING in faults else APP_ID,
            app_secret="" if APP_SECRET_MISSING in faults else
            # rotated in Meta's dashboard, never updated in the backend
            "stale" + app_secret[::-1] if BACKEND_SECRET_STALE in faults else app_secret,
            login_config_id="" if LOGIN_CONFIG_MISSING in faults else LOGIN_CONFIG_ID,
            login_config_required=LOGIN_POLICY_OFF not in faults,
            redirect_uri="",  # unset: the backend falls back to FRONTEND_BASE_URL
            frontend_base_url="" if REDIRECT_MISSING in faults else frontend_base_url,
            scopes=scopes,
            graph_app_secret=app_secret,
            token=token,
            token_valid=TOKEN_EXPIRED not in faults,
            token_expires_at=expires,
            granted_scopes=scopes,
        )

    @property
    def effective_redirect_uri(self) -> str:
        if self.redirect_uri:
            return self.redirect_uri
        base = self.frontend_base_url.rstrip("/")
        return f"{base}{REDIRECT_PATH}" if base else ""

    def env(self) -> dict[str, str]:
        """The META_* lines of the backend's env file."""
        return {
            "META_APP_ID": self.app_id,
            "META_APP_SECRET": self.app_secret,
            "META_LOGIN_CONFIG_ID": self.login_config_id,
            "META_LOGIN_CONFIG_REQUIRED": "1" if self.login_config_required else "0",
            "META_OAUTH_REDIRECT_URI": self.redirect_uri,
            "META_OAUTH_SCOPES": ",".join(self.scopes),
            "META_GRAPH_API_VERSION": GRAPH_VERSION,
        }


def graph_error(message: str, code: int, subcode: int | None = None,
                kind: str = "OAuthException") -> dict:
    error: dict = {"message": message, "type": kind, "code": code,
                   "fbtrace_id": "AsandboxTrace0001"}
    if subcode is not None:
        error["error_subcode"] = subcode
    return {"error": error}


class Graph:
    """The Graph API, reduced to the calls the diagnostics make. Ad accounts are the
    tenants' own, so the account list agrees with the backend's stored ids."""

    def __init__(self, app: MetaApp, accounts: list[tuple[str, str]],
                 faults: frozenset[str] = frozenset()) -> None:
        self.app = app
        self.accounts = accounts  # (act_id, name)
        self.faults = faults

    def __call__(self, request: Request) -> Response:
        query = {k: v[-1] for k, v in parse_qs(request.query, keep_blank_values=True).items()}
        version, _, rest = request.path.strip("/").partition("/")
        if not re.fullmatch(r"v\d+\.\d+", version) or request.method != "GET":
            return json_response(400, graph_error("Unsupported request.", 100,
                                                  kind="GraphMethodException"))
        if rest == "debug_token":
            return self._debug_token(query)
        if rest == "me/adaccounts":
            return self._adaccounts(query)
        return json_response(400, graph_error(
            f"Unknown path components: /{rest}", 2500))

    def _debug_token(self, query: dict[str, str]) -> Response:
        caller = query.get("access_token", "")
        app_credential = f"{APP_ID}|{self.app.graph_app_secret}"
        if not caller:
            return json_response(400, graph_error(
                "An access token is required to request this resource.", 104))
        if caller not in (app_credential, self.app.token):
            return json_response(400, graph_error(
                "Invalid OAuth access token - Cannot parse access token", 190))
        if "input_token" not in query:
            return json_response(400, graph_error(
                "(#100) The parameter input_token is required", 100))
        if query["input_token"] != self.app.token:
            return json_response(200, {"data": {"error": {
                "code": 190, "message": "Invalid OAuth access token - Cannot parse access token"},
                "is_valid": False, "scopes": []}})
        data = {
            "app_id": APP_ID,
            "type": "SYSTEM_USER",
            "application": APP_NAME,
            "data_access_expires_at": self.app.token_expires_at,
            "expires_at": self.app.token_expires_at,
            "is_valid": self.app.token_valid,
            "scopes": list(self.app.granted_scopes),
            "user_id": "100000000000042",
        }
        if not self.app.token_valid:
            data["error"] = {"code": 190, "subcode": 463,
                             "message": "Error validating access token: Session has expired."}
        return json_response(200, {"data": data})

    def _adaccounts(self, query: dict[str, str]) -> Response:
        if query.get("access_token") != self.app.token:
            return json_response(400, graph_error(
                "Invalid OAuth access token - Cannot parse access token", 190))
        if not self.app.token_valid:
            return json_response(400, graph_error(
                "Error validating access token: Session has expired.", 190, 463))
        disabled = self.accounts[0][0] if ACCOUNT_DISABLED in self.faults and self.accounts \
            else None
        data = [{"id": act, "account_id": act.removeprefix("act_"), "name": name,
                 "account_status": 2 if act == disabled else 1} for act, name in self.accounts]
        return json_response(200, {"data": data, "paging": {"cursors": {}}})


class MaskedLog:
    """The request log, minus credential values in query strings: the log is written
    beside the reports, and a debug_token URL carries both a token and the app secret."""

    def __init__(self, log: RequestLog) -> None:
        self._log = log

    def record(self, method: str, path: str) -> None:
        base, sep, query = path.partition("?")
        self._log.record(method, base + sep + _SECRET_PARAM.sub(r"\1[REDACTED]", query))


def service(world, log: RequestLog) -> HttpService | DownService:
    if GRAPH_DOWN in world.faults:
        return DownService("meta_graph")
    accounts = [(t.ad_account_id, f"{t.name.title()} Ads") for t in world.tenants]
    return HttpService("meta_graph", Graph(world.meta, accounts, world.faults), MaskedLog(log))


def with_meta_env(env_text: str, app: MetaApp) -> str:
    """The backend env file plus its META_* block. FRONTEND_BASE_URL is the redirect
    fallback, so when the app runs without one the file shows it empty too."""
    lines = [f"FRONTEND_BASE_URL={app.frontend_base_url}"
             if line.startswith("FRONTEND_BASE_URL=") else line
             for line in env_text.splitlines()]
    lines.append("# Meta OAuth, browser-redirect flow")
    lines += [f"{key}={value}" for key, value in app.env().items()]
    return "\n".join(lines) + "\n"

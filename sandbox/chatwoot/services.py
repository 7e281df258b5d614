"""The services the MVP calls, as loopback stand-ins that check the caller's credential
and answer as the real ones do: Chatwoot's account API (``api_access_token``), OpenAI's
model list (a bearer key) and the Telegram Bot API (the token in the path); and the
reverse proxy in front of the MVP's API."""

from __future__ import annotations

import re

from sandbox.chatwoot.world import PROJECTS, World
from sandbox.parts.http import App, Request, RequestLog, Response, json_response

_ACCOUNT = re.compile(r"^/api/v1/accounts/(\d+)/inboxes$")
_BOT = re.compile(r"^/bot([^/]+)/(getMe|getWebhookInfo)$")


def chatwoot(world: World) -> App:
    accounts = {p.account_id: p.name for p in PROJECTS}

    def serve(request: Request) -> Response:
        token = request.headers.get("api_access_token", "")
        if not token or world.has("chatwoot_token_rejected") \
                or token != world.secrets.chatwoot_token:
            return json_response(401, {"errors": ["You need to sign in or sign up before "
                                                  "continuing."]})
        match = _ACCOUNT.match(request.path)
        if request.method != "GET" or match is None or int(match.group(1)) not in accounts:
            return json_response(404, {"error": "Resource could not be found"})
        account = int(match.group(1))
        return json_response(200, {"payload": [
            {"id": account * 10 + 1, "name": f"{accounts[account]} website",
             "channel_type": "Channel::WebWidget"}]})

    return serve


def openai_error(world: World, key: str) -> tuple[int, dict] | None:
    """What OpenAI answers to ``key``, when it refuses it."""
    if not key.startswith("Bearer ") or world.has("openai_key_rejected") \
            or key.removeprefix("Bearer ") != world.secrets.openai_key:
        shown = key.removeprefix("Bearer ")
        return 401, {"error": {
            "message": f"Incorrect API key provided: {shown[:3]}***{shown[-2:]}. You can find "
                       "your API key at https://platform.openai.com/account/api-keys.",
            "type": "invalid_request_error", "param": None, "code": "invalid_api_key"}}
    if world.has("openai_quota_exceeded"):
        return 429, {"error": {
            "message": "You exceeded your current quota, please check your plan and billing "
                       "details.", "type": "insufficient_quota", "param": None,
            "code": "insufficient_quota"}}
    return None


def openai(world: World) -> App:
    def serve(request: Request) -> Response:
        refused = openai_error(world, request.headers.get("Authorization", ""))
        if refused:
            return json_response(*refused)
        if request.method != "GET" or request.path != "/v1/models":
            return json_response(404, {"error": {"message": "Unknown request URL",
                                                 "type": "invalid_request_error"}})
        models = ("text-embedding-3-small", "text-embedding-3-large", "gpt-4o-mini")
        return json_response(200, {"object": "list", "data": [
            {"id": m, "object": "model", "created": 1705953180, "owned_by": "system"}
            for m in models]})

    return serve


def telegram(world: World, webhook_url: str) -> App:
    def serve(request: Request) -> Response:
        match = _BOT.match(request.path)
        if match is None:
            return json_response(404, {"ok": False, "error_code": 404,
                                       "description": "Not Found"})
        if match.group(1) != world.secrets.telegram_token \
                or world.has("telegram_token_revoked"):
            return json_response(401, {"ok": False, "error_code": 401,
                                       "description": "Unauthorized"})
        if match.group(2) == "getMe":
            return json_response(200, {"ok": True, "result": {
                "id": 7700112233, "is_bot": True, "first_name": "MVP signup",
                "username": "mvp_signup_bot", "can_join_groups": False}})
        info = {"url": webhook_url, "has_custom_certificate": False,
                "pending_update_count": 0, "max_connections": 40}
        if world.has("telegram_webhook_failing"):
            info |= {"pending_update_count": 42, "last_error_date": int(world.now.timestamp()),
                     "last_error_message": "Wrong response from the webhook: 401 Unauthorized"}
        return json_response(200, {"ok": True, "result": info})

    return serve


def proxy(world: World, upstream: App) -> App:
    """The reverse proxy in front of the API; a misconfigured one drops Set-Cookie."""

    def serve(request: Request) -> Response:
        response = upstream(request)
        if world.has("cwproxy_strips_cookies"):
            response.headers.pop("Set-Cookie", None)
        return response

    return serve


class MaskedLog(RequestLog):
    """The Bot API carries its token in the path: the run's request log, which is written
    beside the reports, gets the path with the token masked."""

    def __init__(self, log: RequestLog, secret: str) -> None:
        super().__init__()
        self._log = log
        self._secret = secret

    def record(self, method: str, path: str) -> None:
        self._log.record(method, path.replace(self._secret, "<token>") if self._secret
                         else path)

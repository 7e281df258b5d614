"""Authentication across both token stores, and simplejwt's obtain and refresh views
(``POST /api/token/``, ``POST /api/token/refresh/``); the stores live in ``tokens``."""

from __future__ import annotations

from datetime import datetime

from sandbox.adinsights.auth import BAD_CREDENTIALS
from sandbox.adinsights.call import Call
from sandbox.adinsights.drf import ParseError, missing_fields, request_data
from sandbox.adinsights.state import Tenant
from sandbox.adinsights.tokens import token_error
from sandbox.adinsights.world import World
from sandbox.parts.http import Response, json_response


def authenticate(world: World, header: str | None, now: datetime) -> Tenant | dict:
    """The login endpoint's tokens first, then the ones `/api/token/` issued."""
    outcome = world.sessions.authenticate(header, now)
    if isinstance(outcome, dict) and outcome.get("code") == "token_not_valid":
        tenant = world.tokens.resolve(str(header).split()[1], now)
        if tenant is not None:
            return tenant
    return outcome


def obtain_view(call: Call) -> Response:
    try:
        fields = request_data(call.request)
    except ParseError as exc:
        return json_response(400, exc.body)
    missing = missing_fields({key: fields.get(key) for key in ("username", "password")})
    if missing:
        return json_response(400, missing)
    world = call.world
    login = world.sessions.login(str(fields["username"]), str(fields["password"]), call.now)
    tenant = world.tenant(str(login["tenant_id"])) if login else None
    if tenant is None:
        return json_response(401, BAD_CREDENTIALS)
    return json_response(200, world.tokens.obtain(tenant, call.now))


def refresh_view(call: Call) -> Response:
    try:
        fields = request_data(call.request)
    except ParseError as exc:
        return json_response(400, exc.body)
    missing = missing_fields({"refresh": fields.get("refresh")})
    if missing:
        return json_response(400, missing)
    outcome = call.world.tokens.rotate(str(fields["refresh"]), call.now)
    if isinstance(outcome, str):
        return json_response(401, token_error(outcome))
    return json_response(200, outcome)

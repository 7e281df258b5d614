"""The ADinsights API service: routing, authentication and the endpoint handlers.

Routing follows the backend's order of operations (authenticate, then method check, then
the view), because a check that sends the wrong method or no token must see the same
status code it would get from the real service.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import parse_qs

from sandbox import airbyte_views, audit, health, integrations, metrics, webhook
from sandbox.auth import BAD_CREDENTIALS, user_body
from sandbox.http import DownService, HttpService, Request, RequestLog, Response, json_response
from sandbox.http import text_response as text
from sandbox.state import Tenant, World, iso, utc_now

VERSION = "1.4.2"
UNSET_VERSION = "0.0.0-dev"
THROTTLE_SECONDS = 57
NOT_FOUND = "The requested resource was not found."

logger = logging.getLogger("sandbox.api")


@dataclass(frozen=True)
class Call:
    request: Request
    world: World
    tenant: Tenant | None
    now: datetime
    params: dict[str, str] = field(default_factory=dict)  # named parts of the path


@dataclass(frozen=True)
class Route:
    view: Callable[[Call], Response]
    methods: frozenset[str] = frozenset({"GET"})
    auth: bool = False


def _check(check: health.Check) -> Response:
    return json_response(*check)


def _version(call: Call) -> Response:
    if "version_throttled" in call.world.faults:
        detail = f"Request was throttled. Expected available in {THROTTLE_SECONDS} seconds."
        return json_response(429, {"detail": detail}, {"Retry-After": str(THROTTLE_SECONDS)})
    unset = "version_unset" in call.world.faults
    return json_response(200, {"version": UNSET_VERSION if unset else VERSION})


def _sync_health(call: Call) -> Response:
    rows = []
    for connection in sorted(call.tenant.connections, key=lambda c: c.name):
        job = connection.latest_job
        rows.append(
            {
                "id": connection.id,
                "name": connection.name,
                "provider": connection.provider,
                "schedule_type": connection.schedule_type,
                "is_active": connection.is_active,
                "state": health.sync_state(connection, call.now),
                "last_synced_at": iso(connection.last_synced_at(call.now)),
                "last_job_status": job.status if job else None,
                "last_job_error": job.error if job else None,
            }
        )
    counts = {"total": len(rows)}
    for state in ("fresh", "stale", "failed", "missing", "inactive"):
        counts[state] = sum(row["state"] == state for row in rows)
    return json_response(
        200,
        {
            "generated_at": iso(call.now),
            "stale_after_minutes": health.SYNC_HEALTH_STALE_MINUTES,
            "counts": counts,
            "rows": rows,
        },
    )


def _me(call: Call) -> Response:
    return json_response(200, {"user": user_body(call.tenant), "tenant_id": call.tenant.tenant_id})


def _social(call: Call) -> Response:
    return json_response(200, integrations.social_status(call.tenant, call.now))


def _web(source: str, fault: str) -> Callable[[Call], Response]:
    def view(call: Call) -> Response:
        if fault in call.world.faults:
            body = {"source": source, "status": "unavailable", "detail": "Query failed."}
            return json_response(200, {**body, "rows": []})
        rows = integrations.web_rows(source, call.tenant, call.now)
        return json_response(200, {"source": source, "status": "ok", "detail": None, "rows": rows})

    return view


def _metrics(call: Call) -> Response:
    return text(200, metrics.exposition(call.world), metrics.CONTENT_TYPE)


def _login(call: Call) -> Response:
    request = call.request
    if "application/x-www-form-urlencoded" in request.headers.get("Content-Type", ""):
        fields = {k: v[-1] for k, v in parse_qs(request.body.decode("utf-8")).items()}
    else:
        try:
            fields = json.loads(request.body or b"{}")
        except (ValueError, UnicodeDecodeError) as exc:
            return json_response(400, {"detail": f"JSON parse error - {exc}"})
    if not isinstance(fields, dict):
        return json_response(400, {"non_field_errors": ["Invalid data. Expected a dictionary."]})
    identifier = fields.get("username") or fields.get("email")
    missing = {
        name: ["This field is required."]
        for name, value in (("username", identifier), ("password", fields.get("password")))
        if not value
    }
    if missing:
        return json_response(400, missing)
    if "login_rejected" in call.world.faults:
        return json_response(401, BAD_CREDENTIALS)
    body = call.world.sessions.login(str(identifier), str(fields["password"]), call.now)
    if not body:
        return json_response(401, BAD_CREDENTIALS)
    tenant = call.world.tenant(body["tenant_id"])
    resource = ("user", tenant.user_id)
    audit.record(call.world.audit, tenant, "login", resource, {"method": "password"}, call.now)
    return json_response(200, body)


ROUTES: dict[str, Route] = {
    "/api/health/": Route(lambda c: _check(health.api_health(c.world))),
    "/api/health/version/": Route(_version),
    "/api/timezone/": Route(lambda c: _check(health.timezone(c.world))),
    "/api/health/airbyte/": Route(lambda c: _check(health.airbyte_health(c.world, c.now))),
    "/api/health/dbt/": Route(lambda c: _check(health.dbt_health(c.world, c.now))),
    "/api/ops/sync-health/": Route(_sync_health, auth=True),
    "/api/ops/health-overview/": Route(
        lambda c: json_response(200, health.overview(c.world, c.now)), auth=True
    ),
    "/api/me/": Route(_me, auth=True),
    "/api/integrations/social/status/": Route(_social, auth=True),
    "/api/analytics/web/ga4/": Route(_web("ga4", "ga4_unavailable"), auth=True),
    "/api/analytics/web/search-console/": Route(
        _web("search_console", "search_console_unavailable"), auth=True
    ),
    "/metrics/app/": Route(_metrics),
    "/api/auth/login/": Route(_login, methods=frozenset({"POST"})),
    "/api/airbyte/telemetry/": Route(airbyte_views.telemetry, auth=True),
    "/api/airbyte/connections/": Route(airbyte_views.connections, auth=True),
    "/api/airbyte/connections/summary/": Route(airbyte_views.connection_summary, auth=True),
    "/api/airbyte/connections/<id>/": Route(airbyte_views.connection_detail, auth=True),
    "/api/airbyte/webhook/": Route(webhook.receive, methods=frozenset({"POST"})),
    "/api/audit-logs/": Route(airbyte_views.audit_logs, auth=True),
}
# Routes with a <name> part, tried after the exact ones (so summary/ is never an id).
_PATTERNS = [
    (re.compile(re.sub(r"<(\w+)>", r"(?P<\1>[^/]+)", path)), route)
    for path, route in ROUTES.items()
    if "<" in path
]


def resolve(path: str) -> tuple[Route, dict[str, str]] | None:
    if path in ROUTES and "<" not in path:
        return ROUTES[path], {}
    for pattern, route in _PATTERNS:
        match = pattern.fullmatch(path)
        if match:
            return route, match.groupdict()
    return None


class Api:
    """The API as one callable app; GET requests only read `world`, apart from the audit
    row that viewing telemetry writes in the real backend too."""

    def __init__(self, world: World) -> None:
        self.world = world

    def __call__(self, request: Request) -> Response:
        response = self._dispatch(request)
        correlation = request.headers.get("X-Correlation-Id") or uuid.uuid4().hex
        response.headers.setdefault("X-Correlation-Id", correlation)
        return response

    def _dispatch(self, request: Request) -> Response:
        resolved = resolve(request.path)
        if resolved is None:
            if resolve(f"{request.path}/"):  # Django's APPEND_SLASH
                query = f"?{request.query}" if request.query else ""
                location = {"Location": f"{request.path}/{query}"}
                return Response(301, b"", "text/html; charset=utf-8", location)
            return json_response(404, health.error_envelope("not_found", NOT_FOUND, request.path))
        route, params = resolved
        now = utc_now()
        tenant = None
        if route.auth:
            outcome = self.world.sessions.authenticate(request.headers.get("Authorization"), now)
            if isinstance(outcome, dict):
                return json_response(401, outcome, {"WWW-Authenticate": 'Bearer realm="api"'})
            # Sessions hold the tenant as it was at login; a webhook may have moved it on.
            tenant = self.world.tenant(outcome.tenant_id) or outcome
        method = "GET" if request.method == "HEAD" else request.method
        if method not in route.methods:
            extra = {"HEAD", "OPTIONS"} if "GET" in route.methods else {"OPTIONS"}
            allowed = ", ".join(sorted(route.methods | extra))
            detail = f'Method "{request.method}" not allowed.'
            return json_response(405, {"detail": detail}, {"Allow": allowed})
        try:
            return route.view(Call(request, self.world, tenant, now, params))
        except Exception:
            logger.exception("unhandled error on %s %s", request.method, request.path)
            message = health.SERVER_ERROR
            return json_response(500, health.error_envelope("server_error", message, request.path))


def service(world: World, log: RequestLog) -> HttpService | DownService:
    if "api_down" in world.faults:
        return DownService("api")
    return HttpService("api", Api(world), log)

"""The ADinsights API service: routing, authentication and the endpoint handlers.

Routing follows the backend's order of operations (the CORS middleware, then
authenticate, throttle, method check and the view), because a check that sends the wrong
method, no token or one request too many must see the status code the real service sends.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from sandbox.adinsights import (
    airbyte_views,
    analytics,
    analytics_views,
    audit,
    cors,
    health,
    integrations,
    invites,
    meta_api,
    metrics,
    metrics_views,
    throttle,
    token_views,
    tokens,
    webhook,
)
from sandbox.adinsights.auth import BAD_CREDENTIALS, user_body
from sandbox.adinsights.call import Call
from sandbox.adinsights.drf import ParseError, missing_fields, request_data
from sandbox.adinsights.state import iso, utc_now
from sandbox.adinsights.world import World
from sandbox.parts.http import (
    DownService,
    HttpService,
    Request,
    RequestLog,
    Response,
    json_response,
)
from sandbox.parts.http import text_response as text

VERSION = "1.4.2"
UNSET_VERSION = "0.0.0-dev"
THROTTLE_SECONDS = 57
NOT_FOUND = "The requested resource was not found."
OPS_LEAK_FAULT = "tenancy_ops_leak"
GARBAGE_500_FAULT = "auth_garbage_500"
PASSWORD_RESET_SENT = {
    "detail": "If an account exists for this email, a password reset link has been sent."
}

logger = logging.getLogger("sandbox.api")


@dataclass(frozen=True)
class Route:
    view: Callable[[Call], Response]
    methods: frozenset[str] = frozenset({"GET"})
    auth: bool = False
    throttle: tuple[str, ...] = ()  # DRF throttle scopes, checked before the method


POST = frozenset({"POST"})


def _check(check: health.Check) -> Response:
    return json_response(*check)


def _version(call: Call) -> Response:
    if "version_throttled" in call.world.faults:
        return throttle.throttled(THROTTLE_SECONDS)
    unset = "version_unset" in call.world.faults
    return json_response(200, {"version": UNSET_VERSION if unset else VERSION})


def _sync_health(call: Call) -> Response:
    owned = list(call.tenant.connections)
    neighbour = call.world.neighbour(call.tenant)
    if neighbour and OPS_LEAK_FAULT in call.world.faults:
        owned += neighbour.connections
    rows = []
    for connection in sorted(owned, key=lambda c: c.name):
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


WEB_ROWS_EMPTY = "web_rows_empty"


def _web(source: str, fault: str) -> Callable[[Call], Response]:
    def view(call: Call) -> Response:
        if fault in call.world.faults:
            body = {"source": source, "status": "unavailable", "detail": "Query failed."}
            return json_response(200, {**body, "rows": []})
        rows = integrations.web_rows(source, call.tenant, call.now)
        if WEB_ROWS_EMPTY in call.world.faults and call.tenant == call.world.tenants[0]:
            rows = []
        return json_response(200, {"source": source, "status": "ok", "detail": None, "rows": rows})

    return view


def _metrics(call: Call) -> Response:
    return text(200, metrics.exposition(call.world), metrics.CONTENT_TYPE)


def _login(call: Call) -> Response:
    try:
        fields = request_data(call.request)
    except ParseError as exc:
        return json_response(400, exc.body)
    identifier = fields.get("username") or fields.get("email")
    missing = missing_fields({"username": identifier, "password": fields.get("password")})
    if missing:
        return json_response(400, missing)
    if "login_rejected" in call.world.faults:
        return json_response(401, BAD_CREDENTIALS)
    body = call.world.sessions.login(str(identifier), str(fields["password"]), call.now)
    if not body:
        return json_response(401, BAD_CREDENTIALS)
    tenant = call.world.tenant(body["tenant_id"])
    # Its refresh token is simplejwt's too, so /api/token/refresh/ must accept it.
    claims = {"tenant_id": tenant.tenant_id}
    call.world.tokens.keep_refresh(str(body["refresh"]), tenant, call.now, claims)
    resource = ("user", tenant.user_id)
    audit.record(call.world.audit, tenant, "login", resource, {"method": "password"}, call.now)
    return json_response(200, body)


def _password_reset(call: Call) -> Response:
    """The same answer whether or not the address has an account, so the endpoint cannot
    be used to find out who has one; only a malformed request is refused."""
    try:
        fields = request_data(call.request)
    except ParseError as exc:
        return json_response(400, exc.body)
    email = str(fields.get("email") or "").strip()
    missing = missing_fields({"email": email})
    if missing:
        return json_response(400, missing)
    if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email):
        return json_response(400, {"email": ["Enter a valid email address."]})
    invites.send_reset(call.world, email)
    return json_response(202, PASSWORD_RESET_SENT)


def _schema(call: Call) -> Response:
    """drf-spectacular's YAML document, listing the routes this API serves."""
    paths = [re.sub(r"<(\w+)>", r"{\1}", path) for path in ROUTES]
    lines = ["openapi: 3.0.3", "info:", "  title: ADinsights API", f"  version: {VERSION}"]
    lines += ["paths:", *(f"  {path}: {{}}" for path in paths)]
    return text(200, "\n".join(lines) + "\n", "application/vnd.oai.openapi; charset=utf-8")


def _analytics_routes() -> dict[str, Route]:
    routes = {}
    for plural, model in analytics.MODELS.items():
        routes[f"/api/analytics/{plural}/"] = Route(analytics_views.list_view(model),
                                                    auth=True)
        routes[f"/api/analytics/{plural}/<id>/"] = Route(analytics_views.detail_view(model),
                                                         auth=True)
    return routes


AUTH = throttle.AUTH_SCOPES
PUBLIC = throttle.PUBLIC_SCOPES
ROUTES: dict[str, Route] = {
    "/api/health/": Route(lambda c: _check(health.api_health(c.world))),
    "/api/health/version/": Route(_version, throttle=PUBLIC),
    "/api/schema/": Route(_schema, throttle=PUBLIC),
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
    "/api/auth/login/": Route(_login, methods=POST, throttle=AUTH),
    "/api/auth/password-reset/": Route(_password_reset, methods=POST, throttle=AUTH),
    "/api/token/": Route(token_views.obtain_view, methods=POST, throttle=AUTH),
    "/api/token/refresh/": Route(token_views.refresh_view, methods=POST, throttle=AUTH),
    **_analytics_routes(),
    "/api/metrics/combined/": Route(metrics_views.combined, auth=True),
    "/api/metrics/": Route(metrics_views.combined, auth=True),
    "/api/datasets/status/": Route(metrics_views.datasets_status, auth=True),
    "/api/airbyte/telemetry/": Route(airbyte_views.telemetry, auth=True),
    "/api/airbyte/connections/": Route(airbyte_views.connections, auth=True),
    "/api/airbyte/connections/summary/": Route(airbyte_views.connection_summary, auth=True),
    "/api/airbyte/connections/<id>/": Route(airbyte_views.connection_detail, auth=True),
    "/api/airbyte/webhook/": Route(webhook.receive, methods=POST),
    "/api/audit-logs/": Route(airbyte_views.audit_logs, auth=True),
    "/api/integrations/meta/setup/": Route(meta_api.setup, auth=True),
    "/api/integrations/meta/oauth/start/": Route(meta_api.oauth_start, methods=POST, auth=True),
    **{f"/api/meta/{name}/": Route(view, auth=True)
       for name, view in meta_api.DIRECT_VIEWS.items()},
    "/api/users/invite/": Route(invites.invite, methods=POST, auth=True),
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
    """The API as one callable app; GET requests only read `world`, apart from what the
    real backend also writes on a GET: the audit row for viewing telemetry, and the
    metrics snapshot that `cache=false` rebuilds."""

    def __init__(self, world: World) -> None:
        self.world = world

    def __call__(self, request: Request) -> Response:
        response = cors.preflight(self.world.cors, request) or self._dispatch(request)
        cors.decorate(self.world.cors, request, response)
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
            header = request.headers.get("Authorization")
            outcome = token_views.authenticate(self.world, header, now)
            if isinstance(outcome, dict):
                return self._unauthenticated(request, outcome)
            # Sessions hold the tenant as it was at login; a webhook may have moved it on.
            tenant = self.world.tenant(outcome.tenant_id) or outcome
        blocked = throttle.check(self.world.throttles, route.throttle, request, now)
        if blocked is not None:
            return blocked
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
            return _server_error(request)

    def _unauthenticated(self, request: Request, body: dict) -> Response:
        """401, except under the garbage fault, where an authentication class that
        decodes the token without guarding it crashes on anything that is not a JWT."""
        rejected = body.get("code") == "token_not_valid"  # a Bearer header with one token
        token = request.headers["Authorization"].split()[1] if rejected else ""
        if rejected and GARBAGE_500_FAULT in self.world.faults and tokens.is_garbage(token) \
                and not self.world.sessions.signed(token):
            logger.error("unhandled error decoding a bearer token on %s", request.path)
            return _server_error(request)
        return json_response(401, body, {"WWW-Authenticate": 'Bearer realm="api"'})


def _server_error(request: Request) -> Response:
    envelope = health.error_envelope("server_error", health.SERVER_ERROR, request.path)
    return json_response(500, envelope)


def service(world: World, log: RequestLog) -> HttpService | DownService:
    if "api_down" in world.faults:
        return DownService("api")
    return HttpService("api", Api(world), log)

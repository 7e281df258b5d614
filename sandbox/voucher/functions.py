"""The voucher app's HTTP side, as its incident runbooks meet it: the admin app's
Integrations Status and preview routes, the Edge Functions behind them, and the
platform's functions API that says whether each function is deployed.

The admin app probes each function the way the real one does (a POST with no body,
judged by its status code), but in-process: the request log then shows only what the
diagnostics sent.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

from sandbox.parts.http import HttpService, Request, RequestLog, Response, json_response

PREVIEW_UNSET, PREVIEW_REMOVED, STORAGE_ERROR = "preview_endpoint_unset", \
    "preview_function_removed", "preview_storage_error"
RATE_LIMITED, PROVIDER_DOWN = "whatsapp_rate_limited", "whatsapp_provider_down"
DISPATCH_DOWN = "dispatch_function_down"

PROJECT_REF = "voucher-staging"
PREVIEW, SEND, DISPATCH = "voucher-preview", "voucher-send", "campaign-dispatch"
RETRY_AFTER = "30"
# The Integrations Status probes: key, the function behind it, the variable naming it.
PROBES = (("voucherPreview", PREVIEW, "NEXT_PUBLIC_VOUCHER_PREVIEW_ENDPOINT"),
          ("whatsappSend", SEND, "NEXT_PUBLIC_WHATSAPP_SEND_ENDPOINT"),
          ("campaignDispatcher", DISPATCH, "NEXT_PUBLIC_CAMPAIGN_DISPATCHER_ENDPOINT"))
UNAUTHORIZED = {"error": "unauthorized", "message": "Missing or invalid admin session."}
NOT_CONFIGURED = ("Voucher preview service not configured. Set VOUCHER_PREVIEW_ENDPOINT to "
                  "enable previews.")


@dataclass(frozen=True)
class Secrets:
    """The admin session cookie, the platform's access token, the functions' service key."""

    session: str
    access_token: str
    service_key: str


def functions_app(faults: frozenset[str], secrets: Secrets) -> Callable[[Request], Response]:
    """The Edge Functions host: ``POST /<slug>`` with the service key as bearer."""

    def serve(request: Request) -> Response:
        slug = request.path.strip("/")
        if slug not in (PREVIEW, SEND, DISPATCH) or (slug == PREVIEW
                                                     and PREVIEW_REMOVED in faults):
            return json_response(404, {"code": "NOT_FOUND",
                                       "message": "Requested function was not found"})
        if request.method != "POST":
            return json_response(405, {"message": "Method not allowed"})
        if request.headers.get("Authorization", "") != f"Bearer {secrets.service_key}":
            return json_response(401, {"code": 401, "message": "Invalid JWT"})
        if slug == SEND:
            return _send(request, faults)
        if slug == DISPATCH:
            if DISPATCH_DOWN in faults:
                return json_response(503, {"error": "campaign_dispatch_failed"})
            return json_response(200, {"picked": 0, "sent": 0, "failed": 0,
                                       "retry_scheduled": 0})
        return json_response(200, {"imageUrl": "https://cdn.example.invalid/preview.png"})

    return serve


def _send(request: Request, faults: frozenset[str]) -> Response:
    """The send function: 429 with ``retry-after`` when the provider throttles, 503 when
    it is down; a dry request is accepted with 202 and sends nothing."""
    if RATE_LIMITED in faults:
        return json_response(429, {"error": "rate_limited", "message": "WhatsApp Cloud API "
                                   "rate limit hit (#130429)"}, {"retry-after": RETRY_AFTER})
    if PROVIDER_DOWN in faults:
        return json_response(503, {"error": "upstream_unavailable",
                                   "message": "graph.facebook.com answered 503"})
    if not request.body:  # the admin app's health probe
        return json_response(200, {"ok": True})
    try:
        body = json.loads(request.body)
    except ValueError:
        return json_response(400, {"error": "invalid_payload"})
    if not isinstance(body, dict) or not body.get("dryRun"):
        return json_response(400, {"error": "invalid_payload",
                                   "message": "only dry runs are accepted here"})
    return json_response(202, {"status": "accepted", "dryRun": True})


def platform_app(faults: frozenset[str], secrets: Secrets) -> Callable[[Request], Response]:
    """The platform's functions API: ``GET /v1/projects/<ref>/functions/<slug>``."""
    prefix = f"/v1/projects/{PROJECT_REF}/functions/"

    def serve(request: Request) -> Response:
        if request.headers.get("Authorization", "") != f"Bearer {secrets.access_token}":
            return json_response(401, {"message": "Unauthorized"})
        if request.method != "GET" or not request.path.startswith(prefix):
            return json_response(404, {"message": "Not Found"})
        slug = request.path.removeprefix(prefix)
        if slug not in (PREVIEW, SEND, DISPATCH) or (slug == PREVIEW
                                                     and PREVIEW_REMOVED in faults):
            return json_response(404, {"message": "Function not found"})
        return json_response(200, {"id": f"fn-{slug}", "slug": slug, "name": slug,
                                   "status": "ACTIVE", "version": 7, "verify_jwt": True,
                                   "created_at": 1733000000000, "updated_at": 1764000000000})

    return serve


def admin_app(faults: frozenset[str], secrets: Secrets,
              functions: Callable[[Request], Response]) -> Callable[[Request], Response]:
    """The admin app's routes the runbooks name, behind the ``admin_session`` cookie."""

    def probe(slug: str, variable: str) -> dict[str, str]:
        if slug == PREVIEW and PREVIEW_UNSET in faults:
            return {"status": "red", "message": f"Set {variable} to enable health checks"}
        answer = functions(Request("POST", f"/{slug}", "", _bearer(secrets.service_key), b""))
        if 200 <= answer.status < 300:
            return {"status": "green", "message": "OK"}
        return {"status": "red" if answer.status >= 500 else "amber",
                "message": f"HTTP {answer.status}"}

    def status() -> Response:
        found = {key: probe(slug, variable) for key, slug, variable in PROBES}
        found["storageSignedUrl"] = (
            {"status": "amber", "message": "Bucket not found"} if STORAGE_ERROR in faults
            else {"status": "green", "message": "Connected to vouchers bucket"})
        return json_response(200, found)

    def preview(request: Request) -> Response:
        if PREVIEW_UNSET in faults:
            return _degraded(503, NOT_CONFIGURED)
        answer = functions(Request("POST", f"/{PREVIEW}", "", _bearer(secrets.service_key),
                                   request.body or b"{}"))
        if answer.status != 200:
            message = json.loads(answer.body or b"{}").get("message", "preview failed")
            return _degraded(answer.status, message)
        return json_response(200, {"imageUrl": "https://cdn.example.invalid/preview.png",
                                   "pdfUrl": "https://cdn.example.invalid/preview.pdf",
                                   "expiresAt": "2027-12-31T00:00:00Z",
                                   "integration": {"status": "ok", "target": "voucher_preview"}})

    def serve(request: Request) -> Response:
        if not request.path.startswith("/api/"):
            return json_response(404, {"error": "not_found"})
        if _cookie(request, "admin_session") != secrets.session:
            return json_response(401, UNAUTHORIZED)
        if request.method == "GET" and request.path == "/api/integrations/status":
            return status()  # ?force=true is accepted and ignored, as in the real app
        if request.method == "POST" and request.path == "/api/vouchers/preview":
            return preview(request)
        return json_response(404, {"error": "not_found"})

    return serve


def _bearer(token: str):
    from email.message import Message

    headers = Message()
    headers["Authorization"] = f"Bearer {token}"
    return headers


def _cookie(request: Request, name: str) -> str:
    for part in request.headers.get("Cookie", "").split(";"):
        key, _, value = part.strip().partition("=")
        if key == name:
            return value
    return ""


def _degraded(status: int, message: str) -> Response:
    return json_response(status, {"integration": {"status": "degraded",
                                                  "target": "voucher_preview",
                                                  "message": message}})


def services(faults: frozenset[str], secrets: Secrets, log: RequestLog) -> list[HttpService]:
    """The admin app, the functions host and the platform API, each on its own port."""
    functions = functions_app(faults, secrets)
    return [HttpService("admin", admin_app(faults, secrets, functions), log),
            HttpService("functions", functions, log),
            HttpService("platform", platform_app(faults, secrets), log)]

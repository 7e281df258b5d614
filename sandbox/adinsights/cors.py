"""The backend's own CORS middleware (reference §3.13), not django-cors-headers.

It runs before routing and authentication, so a preflight never reaches a view: an
approved origin gets 204 with the allow headers, any other origin a bare 403. Simple
requests are always served; only an approved origin gets CORS headers on them, which is
what keeps a browser on another site from reading the answer.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from sandbox.parts.http import Request, Response, text_response

ALLOW_ALL_FAULT = "cors_allow_all"
# The frontend moved but nobody updated the allowlist: the real frontend is refused.
FRONTEND_MISSING_FAULT = "cors_frontend_missing"
MOVED_FRONTEND = "https://app.moved.invalid"
DEFAULT_FRONTEND_BASE_URL = "http://localhost:5173"
# The .env.sample value; the setting itself defaults to empty.
DEFAULT_ALLOWED_ORIGINS = ("http://localhost:5173",)
ALLOWED_METHODS = "DELETE, GET, OPTIONS, PATCH, POST, PUT"
# What the observed preflight answered (CORS_ALLOWED_HEADERS itself lists more).
ALLOWED_HEADERS = "authorization, content-type"
MAX_AGE = "86400"
BLOCKED = "CORS origin blocked."


def origin_of(url: str) -> str:
    """scheme://host[:port] of a URL, which is how FRONTEND_BASE_URL joins the allowlist."""
    parts = urlsplit(url.strip())
    return f"{parts.scheme}://{parts.netloc}".lower() if parts.scheme and parts.netloc else ""


@dataclass(frozen=True)
class CorsPolicy:
    allowed_origins: tuple[str, ...] = DEFAULT_ALLOWED_ORIGINS
    frontend_base_url: str = DEFAULT_FRONTEND_BASE_URL
    allow_all: bool = False
    allow_credentials: bool = True

    @classmethod
    def build(
        cls,
        allowed_origins: Iterable[str] | None,
        frontend_base_url: str | None,
        faults: frozenset[str],
    ) -> CorsPolicy:
        origins = DEFAULT_ALLOWED_ORIGINS if allowed_origins is None else tuple(allowed_origins)
        if FRONTEND_MISSING_FAULT in faults:
            origins, frontend_base_url = (), MOVED_FRONTEND
        return cls(
            allowed_origins=tuple(o.strip().rstrip("/") for o in origins if o.strip()),
            frontend_base_url=frontend_base_url or DEFAULT_FRONTEND_BASE_URL,
            allow_all=ALLOW_ALL_FAULT in faults,
        )

    @property
    def allowlist(self) -> frozenset[str]:
        frontend = origin_of(self.frontend_base_url)
        return frozenset({o.lower() for o in self.allowed_origins} | ({frontend} - {""}))

    def approves(self, origin: str) -> bool:
        return self.allow_all or origin.rstrip("/").lower() in self.allowlist

    def allow_origin(self, origin: str) -> dict[str, str]:
        """With credentials the origin is echoed; `*` only when credentials are off."""
        echoed = "*" if self.allow_all and not self.allow_credentials else origin
        headers = {"Access-Control-Allow-Origin": echoed, "Vary": "Origin"}
        if self.allow_credentials:
            headers["Access-Control-Allow-Credentials"] = "true"
        return headers


def is_preflight(request: Request) -> bool:
    return (
        request.method == "OPTIONS"
        and bool(request.headers.get("Origin"))
        and bool(request.headers.get("Access-Control-Request-Method"))
    )


def preflight(policy: CorsPolicy, request: Request) -> Response | None:
    """The middleware's answer to a preflight, or None for any other request."""
    if not is_preflight(request):
        return None
    origin = request.headers["Origin"]
    if not policy.approves(origin):
        return text_response(403, BLOCKED, "text/html; charset=utf-8")
    response = Response(204, b"", "text/html; charset=utf-8")
    response.headers.update(policy.allow_origin(origin))
    response.headers.update(
        {
            "Access-Control-Allow-Methods": ALLOWED_METHODS,
            "Access-Control-Allow-Headers": ALLOWED_HEADERS,
            "Access-Control-Max-Age": MAX_AGE,
        }
    )
    return response


def decorate(policy: CorsPolicy, request: Request, response: Response) -> None:
    """Add CORS headers to a simple request's response when its origin is approved."""
    origin = request.headers.get("Origin")
    if origin and not is_preflight(request) and policy.approves(origin):
        response.headers.update(policy.allow_origin(origin))

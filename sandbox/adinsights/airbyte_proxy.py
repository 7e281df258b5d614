"""What answers on the Airbyte ports: the upstream proxy's basic auth in front of the
server and the webapp, or, under a fault, nobody at all or somebody else's server.

Both Airbyte services go through `serve`, so the API and the UI always agree on whether
auth is enforced and on who is really listening.
"""

from __future__ import annotations

import base64
import hmac

from sandbox.adinsights.world import World
from sandbox.parts.http import App, DownService, HttpService, Request, RequestLog, Response

REJECT_FAULT = "airbyte_proxy_auth_rejected"
COLLISION_FAULT = "airbyte_port_collision"
REALM = "Welcome to Airbyte"
HTML = "text/html; charset=utf-8"

# The proxy's 401.html: what a browser, or curl without -u, gets on every path.
UNAUTHORIZED_PAGE = """<!DOCTYPE html>
<html>
<head><title>401 Authorization Required</title></head>
<body>
<h1>Authorization Required</h1>
<p>This Airbyte instance is protected by basic authentication.</p>
<p>Use the BASIC_AUTH_USERNAME and BASIC_AUTH_PASSWORD configured in its .env file.</p>
</body>
</html>
"""

# An unrelated Node dev server that got the port first.
FOREIGN_INDEX = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Storybook</title>
</head>
<body>
<div id="storybook-root"></div>
<script type="module" src="/sb-preview/runtime.js"></script>
</body>
</html>
"""
FOREIGN_ERROR = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Error</title>
</head>
<body>
<pre>Cannot {method} {path}</pre>
</body>
</html>
"""
FOREIGN_HEADERS = {
    "X-Powered-By": "Express",
    "Content-Security-Policy": "default-src 'none'",
    "X-Content-Type-Options": "nosniff",
}


def _accepts(header: str | None, expected: tuple[str, str]) -> bool:
    scheme, _, encoded = (header or "").partition(" ")
    if scheme.lower() != "basic":
        return False
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return False
    user, colon, password = decoded.partition(":")
    return bool(colon) and all(
        hmac.compare_digest(given.encode(), wanted.encode())
        for given, wanted in ((user, expected[0]), (password, expected[1]))
    )


def guarded(app: App, world: World) -> App:
    """Basic auth on every path, /api/v1/health included, whenever credentials are set;
    under the reject fault no credential is ever good enough."""
    rejects_all = REJECT_FAULT in world.faults
    if world.airbyte_auth is None and not rejects_all:
        return app

    def guard(request: Request) -> Response:
        header = request.headers.get("Authorization")
        if rejects_all or not _accepts(header, world.airbyte_auth):
            challenge = {"WWW-Authenticate": f'Basic realm="{REALM}"'}
            return Response(401, UNAUTHORIZED_PAGE.encode(), HTML, challenge)
        return app(request)

    return guard


def foreign_server(request: Request) -> Response:
    if request.path == "/" and request.method in ("GET", "HEAD"):
        return Response(200, FOREIGN_INDEX.encode(), HTML, {"X-Powered-By": "Express"})
    page = FOREIGN_ERROR.format(method=request.method, path=request.path)
    return Response(404, page.encode(), HTML, dict(FOREIGN_HEADERS))


def serve(
    name: str, app: App, world: World, log: RequestLog, *, down: str | None = None
) -> HttpService | DownService:
    if down is not None and down in world.faults:
        return DownService(name)
    if COLLISION_FAULT in world.faults:
        return HttpService(name, foreign_server, log)
    return HttpService(name, guarded(app, world), log)

"""The Airbyte webapp (`airbyte-webapp`): a single-page app whose nginx answers every page
with index.html and passes /api/ on to the server, so the UI port also answers API calls.
"""

from __future__ import annotations

from sandbox.adinsights import airbyte_proxy
from sandbox.adinsights.airbyte_api import DOWN_FAULT, AirbyteApi
from sandbox.adinsights.world import World
from sandbox.parts.http import DownService, HttpService, Request, RequestLog, Response

HTML = "text/html; charset=utf-8"
INDEX = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="/favicon.ico">
<title>Airbyte</title>
<script type="module" crossorigin src="/assets/index-4f1c2a9e.js"></script>
</head>
<body>
<noscript>You need to enable JavaScript to run this app.</noscript>
<div id="root"></div>
</body>
</html>
"""


def _nginx(status: int, reason: str) -> Response:
    page = (
        f"<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n"
        f"<center><h1>{status} {reason}</h1></center>\r\n<hr><center>nginx</center>\r\n"
        "</body>\r\n</html>\r\n"
    )
    return Response(status, page.encode(), HTML)


class AirbyteUi:
    def __init__(self, world: World) -> None:
        self.world = world
        self.api = AirbyteApi(world)

    def __call__(self, request: Request) -> Response:
        if request.path.startswith("/api/"):
            if DOWN_FAULT in self.world.faults:
                return _nginx(502, "Bad Gateway")
            return self.api(request)
        if request.method not in ("GET", "HEAD"):
            return _nginx(405, "Not Allowed")
        return Response(200, INDEX.encode(), HTML)


def service(world: World, log: RequestLog) -> HttpService | DownService:
    return airbyte_proxy.serve("airbyte_ui", AirbyteUi(world), world, log)

"""The Superset web server, reduced to the health probe the runbook looks at."""

from __future__ import annotations

from sandbox.adinsights.world import World
from sandbox.parts.http import (
    DownService,
    HttpService,
    Request,
    RequestLog,
    Response,
    text_response,
)

NOT_FOUND_PAGE = (
    "<!doctype html>\n<html lang=en>\n<title>404 Not Found</title>\n<h1>Not Found</h1>\n"
    "<p>The requested URL was not found on the server.</p>\n"
)


class Superset:
    def __init__(self, world: World) -> None:
        self.world = world

    def __call__(self, request: Request) -> Response:
        if request.path != "/health":
            return text_response(404, NOT_FOUND_PAGE, "text/html; charset=utf-8")
        if "superset_unhealthy" in self.world.faults:
            return text_response(503, "Service Unavailable")
        return text_response(200, "OK")


def service(world: World, log: RequestLog) -> HttpService | DownService:
    if "superset_down" in world.faults:
        return DownService("superset")
    return HttpService("superset", Superset(world), log)

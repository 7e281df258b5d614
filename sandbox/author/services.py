"""The HTTP services the author app's checks read, as loopback stand-ins: the mail
provider's status page (a Statuspage ``/api/v2/status.json``), its suppression lists
(Mailgun's ``/v3/<domain>/bounces``, ``complaints``, ``unsubscribes``, behind basic auth
``api:<key>``) and LocalStack's health endpoint."""

from __future__ import annotations

import base64
import re
from collections.abc import Set

from sandbox.parts.http import App, Request, Response, json_response

DOMAIN = "mg.author.test"
_LIST = re.compile(r"^/v3/([^/]+)/(bounces|complaints|unsubscribes)$")
BOUNCES_WHEN_HIGH = 25


def status_page(faults: Set[str]) -> App:
    def serve(request: Request) -> Response:
        if request.method != "GET" or request.path != "/api/v2/status.json":
            return json_response(404, {"error": "not found"})
        indicator, text = (("major", "Partial outage: delayed delivery in US region")
                           if "mailgun_incident" in faults else
                           ("none", "All Systems Operational"))
        return json_response(200, {"page": {"id": "mailgun", "name": "Mailgun"},
                                   "status": {"indicator": indicator, "description": text}})

    return serve


def provider_api(faults: Set[str], api_key: str) -> App:
    expected = "Basic " + base64.b64encode(f"api:{api_key}".encode()).decode()

    def serve(request: Request) -> Response:
        if request.headers.get("Authorization", "") != expected:
            return json_response(401, {"message": "Invalid private key"})
        match = _LIST.match(request.path)
        if request.method != "GET" or match is None or match.group(1) != DOMAIN:
            return json_response(404, {"message": "Domain not found"})
        kind = match.group(2)
        count = {"bounces": BOUNCES_WHEN_HIGH if "mailgun_bounces_high" in faults else 2,
                 "complaints": 1, "unsubscribes": 3}[kind]
        items = [{"address": f"user{n}@example.net", "created_at":
                  "Thu, 03 Dec 2026 10:00:00 UTC",
                  **({"code": "550", "error": "5.1.1 mailbox unavailable"}
                     if kind == "bounces" else {})} for n in range(count)]
        return json_response(200, {"items": items, "paging": {}})

    return serve


def localstack(faults: Set[str]) -> App:
    def serve(request: Request) -> Response:
        if request.method != "GET" or request.path != "/_localstack/health":
            return json_response(404, {"error": "not found"})
        s3 = "error" if "localstack_s3_error" in faults else "running"
        return json_response(200, {"services": {"s3": s3, "sts": "running",
                                                "cloudwatch": "running", "iam": "available"},
                                   "edition": "community", "version": "3.8.1"})

    return serve

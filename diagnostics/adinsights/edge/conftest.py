"""Observations for the API edge controls: CORS preflights and simple requests."""

from __future__ import annotations

import pytest

from fixtures.context import Context
from fixtures.probes.http import Response

DEFAULTS = {"approved_origin": "http://localhost:5173",
            "unapproved_origin": "https://unapproved-origin.invalid",
            "auth_burst": 10, "burst_margin": 3, "probe_path": "/api/health/",
            "auth_sustained": "100/day", "public_burst": 120,
            "public_probe_path": "/api/health/version/",
            # the header the public probe sends, so its budget is its own (see edge.md)
            "probe_forwarded_for": "192.0.2.10"}


@pytest.fixture
def edge_settings(diag: Context) -> dict:
    return diag.settings("edge", DEFAULTS)


@pytest.fixture
def preflight(diag: Context, edge_settings: dict):
    def send(origin: str) -> Response:
        return diag.http.send("OPTIONS", "api", edge_settings["probe_path"], headers={
            "Origin": origin, "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "authorization"})

    return send


@pytest.fixture
def simple_get(diag: Context, edge_settings: dict):
    def send(origin: str) -> Response:
        return diag.http.send("GET", "api", edge_settings["probe_path"],
                              headers={"Origin": origin})

    return send


def cors_headers(response: Response) -> dict[str, str]:
    return {k: v for k, v in response.headers.items()
            if k.lower().startswith("access-control-allow-")}

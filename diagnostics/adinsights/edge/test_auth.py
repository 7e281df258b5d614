"""Throttles (the configured rates, and bounded bursts at the auth and public budgets)
and token handling at the edge."""

import base64
import json
import time
import uuid

import pytest

from fixtures import evidence
from fixtures.catalog import check
from fixtures.expect import expect

THROTTLED = {
    "/api/token/": lambda: {"username": "diagnostics-throttle-probe",
                            "password": uuid.uuid4().hex},
    "/api/auth/login/": lambda: {"username": "diagnostics-throttle-probe",
                                 "password": uuid.uuid4().hex},
    "/api/auth/password-reset/": lambda: {"email": "diagnostics-throttle@unapproved.invalid"},
}


@pytest.mark.parametrize("endpoint", list(THROTTLED))
@check("adinsights.edge.throttle",
       severity="high", runbook="edge.md#auth-throttles", needs=("api",),
       intrusive=True)
def test_auth_throttle(diag, endpoint, edge_settings):
    """A bounded burst: at most the budget plus a margin, stopping at the first 429."""
    limit = int(edge_settings["auth_burst"]) + int(edge_settings["burst_margin"])
    _burst(limit, f"POST {endpoint}", lambda: diag.http.send(
        "POST", "api", endpoint, json_body=THROTTLED[endpoint]()))


def _burst(limit: int, what: str, send) -> None:
    """Send up to ``limit`` requests, stopping at the first 429, which must say when to
    retry; no 429 at all fails with every status seen."""
    statuses = []
    for _ in range(limit):
        answer = send()
        statuses.append(answer.outcome)
        if answer.status == 429:
            expect("[HEADER] Retry-After", answer.header("retry-after"), "!=", "")
            return
    expect(f"[STATUS] of {what} within {limit} requests", statuses[-1], "==", "429",
           note=f"statuses seen: {', '.join(sorted(set(statuses)))}")


# Each DRF budget, the backend's env var for it and the contract's default.
RATES = {"auth_burst": ("DRF_THROTTLE_AUTH_BURST", "10/min"),
         "auth_sustained": ("DRF_THROTTLE_AUTH_SUSTAINED", "100/day"),
         "public": ("DRF_THROTTLE_PUBLIC", "120/min")}
_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def per_day(text: str) -> float | None:
    """Requests a DRF rate allows per day; DRF reads only the period's first letter
    ("10/min" is "10/m"). None when DRF could not parse it."""
    count, _, period = text.partition("/")
    seconds = _PERIODS.get(period.strip()[:1].lower())
    if not count.strip().isdigit() or seconds is None:
        return None
    return int(count) * 86400 / seconds


@check("adinsights.edge.throttle.rates", severity="high", runbook="edge.md#throttle-rates",
       category="misconfiguration")
def test_throttle_rates(backend_env, edge_settings):
    """The sustained budget cannot be probed without locking the client out for a day, so
    all three budgets are read where the backend reads them, unset meaning the default."""
    wanted = {"auth_burst": f"{edge_settings['auth_burst']}/min",
              "auth_sustained": str(edge_settings["auth_sustained"]),
              "public": f"{edge_settings['public_burst']}/min"}
    table, loose = [], []
    for scope, (name, default) in RATES.items():
        text = backend_env.get(name) or default
        allowed, limit = per_day(text), per_day(wanted[scope])
        ok = allowed is not None and limit is not None and allowed <= limit
        table.append((name, text, wanted[scope], "yes" if ok else "no"))
        if not ok:
            loose.append(f"{name}={text}")
    evidence.record_table("the backend's throttle rates (unset: the default)",
                          ("variable", "configured", "at most", "within"), table)
    expect("throttle rates looser than the profile allows, or not a DRF rate", loose,
           "==", [])


@check("adinsights.edge.throttle.public", severity="medium",
       runbook="edge.md#public-throttle", needs=("api",), intrusive=True)
def test_public_throttle(diag, edge_settings):
    """A bounded burst at one public endpoint, stopping at the first 429. It names a
    client of its own (X-Forwarded-For), so the budget it spends is not the one the other
    checks' requests count against."""
    limit = int(edge_settings["public_burst"]) + int(edge_settings["burst_margin"])
    path = str(edge_settings["public_probe_path"])
    headers = {"X-Forwarded-For": str(edge_settings["probe_forwarded_for"])}
    _burst(limit, f"GET {path}", lambda: diag.http.send("GET", "api", path, headers=headers))


def _expired_jwt() -> str:
    def part(data: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    claims = {"token_type": "access", "exp": int(time.time()) - 3600, "user_id": 0}
    return f"{part({'alg': 'HS256', 'typ': 'JWT'})}.{part(claims)}.{uuid.uuid4().hex}"


@check("adinsights.edge.auth.tokens", severity="high", runbook="edge.md#token-handling",
       needs=("api", "tenant"), category="credentials")
def test_token_handling(diag, tenant):
    valid = diag.http.get("api", "/api/me/", headers=diag.auth(tenant))
    expect("[STATUS] with a valid token", valid.outcome, "==", "200")
    for label, token in (("garbage", "not-a-token"), ("expired", _expired_jwt())):
        answer = diag.http.send("GET", "api", "/api/me/",
                                headers={"Authorization": f"Bearer {token}"})
        expect(f"[STATUS] with a {label} token", answer.outcome, "==", "401")


@check("adinsights.edge.auth.expired", severity="high", runbook="edge.md#expired-token",
       needs=("api",), category="credentials")
def test_expired_token_refused(diag, edge_settings):
    """A token the API itself signed, past its `exp`: only expiry can refuse it, so this
    proves expiry is enforced, which an unsigned token cannot."""
    env = edge_settings.get("expired_token_env", "")
    token = diag.profile.secret(env) if env else ""
    if not token:
        pytest.skip("not run: the profile names no [adinsights.edge] expired_token_env "
                    "holding an expired access token the API signed" if not env else
                    f"not run: {env} is empty")
    answer = diag.http.send("GET", "api", "/api/me/", headers={"Authorization": f"Bearer {token}"})
    expect("[STATUS] with an expired, validly signed token", answer.outcome, "==", "401")

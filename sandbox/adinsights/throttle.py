"""DRF's scoped rate throttles, as the backend configures them (reference §1).

Each scope keeps one sliding window per client and every request in the scope counts
against it, whatever its outcome, because DRF throttles in `initial()`, before the view
decides between 200 and 401. Counters live in memory, like the backend's local-memory
cache: a new sandbox starts with full budgets, as a restarted backend process does.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from sandbox.parts.http import HOST, Request, Response, json_response

DISABLED_FAULT = "throttle_disabled"
AUTH_SCOPES = ("auth_burst", "auth_sustained")
PUBLIC_SCOPES = ("public",)
# DRF_THROTTLE_AUTH_BURST, DRF_THROTTLE_AUTH_SUSTAINED and DRF_THROTTLE_PUBLIC defaults.
DEFAULT_RATES: dict[str, str] = {
    "auth_burst": "10/min",
    "auth_sustained": "100/day",
    "public": "120/min",
}
# Faults that set one budget far above its default, as a mistyped env var would.
LOOSE_RATES: dict[str, tuple[str, str]] = {
    "throttle_sustained_loose": ("auth_sustained", "100000/day"),
    "throttle_public_loose": ("public", "100000/min"),
}
ENV_NAMES = {scope: f"DRF_THROTTLE_{scope.upper()}" for scope in DEFAULT_RATES}
_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True)
class Rate:
    requests: int
    seconds: int


def parse_rate(text: str) -> Rate:
    """DRF's parse_rate: only the first letter of the period counts ("10/min" = "10/m")."""
    count, _, period = text.partition("/")
    try:
        requests, seconds = int(count), _PERIODS[period.strip()[:1].lower()]
    except (ValueError, KeyError):
        raise ValueError(f"throttle rate {text!r} is not like '10/min'") from None
    if requests < 1:
        raise ValueError(f"throttle rate {text!r} must allow at least one request")
    return Rate(requests, seconds)


def check_rates(overrides: Mapping[str, str] | None) -> dict[str, str]:
    """Every scope's rate text with the overrides applied; a bad scope or rate raises."""
    merged = {**DEFAULT_RATES, **(overrides or {})}
    unknown = sorted(set(merged) - set(DEFAULT_RATES))
    if unknown:
        raise ValueError(f"unknown throttle scope {unknown[0]!r}")
    for text in merged.values():
        parse_rate(text)
    return merged


def client_ident(request: Request) -> str:
    """DRF's get_ident with NUM_PROXIES unset: the whole X-Forwarded-For value when sent,
    otherwise the peer address. The API listens on loopback and its requests do not carry
    the peer, so every direct client counts as HOST."""
    forwarded = request.headers.get("X-Forwarded-For")
    return "".join(forwarded.split()) if forwarded else HOST


class Throttles:
    """Request histories per (scope, client), newest first, as SimpleRateThrottle keeps them."""

    def __init__(self, rates: Mapping[str, str] | None = None, *, enabled: bool = True) -> None:
        self.texts = check_rates(rates)
        self.rates = {scope: parse_rate(text) for scope, text in self.texts.items()}
        self.enabled = enabled
        self._history: dict[tuple[str, str], list[float]] = {}
        self._lock = threading.Lock()

    def wait(self, scopes: Iterable[str], ident: str, now: datetime) -> int | None:
        """Seconds until the client may retry, or None when the request is allowed (and
        then counted in every scope that allowed it, as DRF does)."""
        if not self.enabled:
            return None
        moment = now.timestamp()
        waits = []
        with self._lock:
            for scope in scopes:
                rate = self.rates[scope]
                history = self._history.setdefault((scope, ident), [])
                while history and history[-1] <= moment - rate.seconds:
                    history.pop()
                if len(history) >= rate.requests:
                    waits.append(rate.seconds - (moment - history[-1]))
                else:
                    history.insert(0, moment)
        return math.ceil(max(waits)) if waits else None


def throttled(seconds: int) -> Response:
    unit = "second" if seconds == 1 else "seconds"  # DRF's ngettext
    detail = f"Request was throttled. Expected available in {seconds} {unit}."
    return json_response(429, {"detail": detail}, {"Retry-After": str(seconds)})


def check(
    throttles: Throttles, scopes: tuple[str, ...], request: Request, now: datetime
) -> Response | None:
    """The 429 DRF sends for a request over budget, or None to let it through."""
    if not scopes:
        return None
    seconds = throttles.wait(scopes, client_ident(request), now)
    return None if seconds is None else throttled(seconds)


def throttles_for(rates: Mapping[str, str] | None, faults: Collection[str]) -> Throttles:
    """The throttles a backend with these rates runs, as the faults leave them."""
    loose = {scope: rate for fault, (scope, rate) in LOOSE_RATES.items() if fault in faults}
    return Throttles({**(rates or {}), **loose}, enabled=DISABLED_FAULT not in faults)

"""simplejwt's own token endpoints: `POST /api/token/` and `POST /api/token/refresh/`.

`/api/token/` is the stock TokenObtainPairView, so its tokens carry no `tenant_id` claim;
the backend finds the tenant through the user. Refresh tokens rotate and the used one is
blacklisted, so a refresh token works once. Tokens are remembered rather than verified,
as in `auth.Sessions`, which keeps the login endpoint's own store untouched.
"""

from __future__ import annotations

import base64
import binascii
import json
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sandbox.adinsights.auth import ACCESS_LIFETIME, REFRESH_LIFETIME, encode_token
from sandbox.adinsights.state import Tenant


@dataclass(frozen=True)
class _Issued:
    tenant: Tenant
    expires: datetime
    claims: dict  # the custom claims a refreshed token carries on (tenant_id for logins)


def token_error(detail: str) -> dict[str, str]:
    return {"detail": detail, "code": "token_not_valid"}


class TokenPairs:
    """Access and refresh tokens issued outside the login endpoint, plus the refresh
    tokens that logins hand out (so they can be refreshed too)."""

    def __init__(self) -> None:
        self._access: dict[str, _Issued] = {}
        self._refresh: dict[str, _Issued] = {}
        self._blacklisted: set[str] = set()
        self._lock = threading.Lock()

    def obtain(self, tenant: Tenant, now: datetime, claims: dict | None = None) -> dict:
        """A fresh pair; `claims` are extra claims both tokens carry."""
        extra = dict(claims or {})

        def token(kind: str, lifetime: timedelta) -> str:
            body = {
                "token_type": kind,
                "exp": int((now + lifetime).timestamp()),
                "iat": int(now.timestamp()),
                "jti": uuid.uuid4().hex,
                "user_id": tenant.user_id,
                **extra,
            }
            return encode_token(body)

        access, refresh = token("access", ACCESS_LIFETIME), token("refresh", REFRESH_LIFETIME)
        with self._lock:
            self._access[access] = _Issued(tenant, now + ACCESS_LIFETIME, extra)
            self._refresh[refresh] = _Issued(tenant, now + REFRESH_LIFETIME, extra)
        return {"access": access, "refresh": refresh}

    def keep_refresh(self, refresh: str, tenant: Tenant, now: datetime, claims: dict) -> None:
        with self._lock:
            self._refresh[refresh] = _Issued(tenant, now + REFRESH_LIFETIME, dict(claims))

    def rotate(self, refresh: str, now: datetime) -> dict | str:
        """A new pair for a valid refresh token, or simplejwt's reason for refusing it."""
        with self._lock:
            issued = self._refresh.get(refresh)
            if issued is None:
                return "Token is invalid"
            if refresh in self._blacklisted:
                return "Token is blacklisted"
            if now >= issued.expires:
                return "Token is expired"
            self._blacklisted.add(refresh)
        return self.obtain(issued.tenant, now, issued.claims)

    def resolve(self, access: str, now: datetime) -> Tenant | None:
        with self._lock:
            issued = self._access.get(access)
        return issued.tenant if issued is not None and now < issued.expires else None


def is_garbage(token: str) -> bool:
    """Not even shaped like a JWT: three dot-separated parts whose first two decode to
    JSON objects. A well-formed but unknown or expired token is not garbage."""
    parts = token.split(".")
    if len(parts) != 3:
        return True
    try:
        for part in parts[:2]:
            if not isinstance(json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))),
                              dict):
                return True
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return True
    return False

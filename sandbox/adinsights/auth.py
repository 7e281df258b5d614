"""Login and bearer-token handling in the shape simplejwt produces.

Tokens look like real JWTs (checks may decode the claims) but carry a random signature;
the sandbox remembers what it issued instead of verifying an HMAC, which keeps it free
of any secret that could be mistaken for a real one.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
import uuid
from datetime import datetime, timedelta

from sandbox.adinsights.state import Tenant

ACCESS_LIFETIME = timedelta(minutes=30)
REFRESH_LIFETIME = timedelta(days=1)

NO_CREDENTIALS = {"detail": "Authentication credentials were not provided."}
BAD_CREDENTIALS = {"detail": "No active account found with the given credentials"}
BAD_HEADER = {
    "detail": "Authorization header must contain two space-delimited values",
    "code": "bad_authorization_header",
}
BAD_TOKEN = {
    "detail": "Given token not valid for any token type",
    "code": "token_not_valid",
    "messages": [
        {"token_class": "AccessToken", "token_type": "access", "message": "Token is invalid"}
    ],
}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def encode_token(claims: dict[str, object]) -> str:
    header = {"alg": "HS256", "typ": "JWT"}
    parts = (json.dumps(part, separators=(",", ":")) for part in (header, claims))
    return ".".join([*(_b64(p.encode()) for p in parts), _b64(secrets.token_bytes(32))])


def user_body(tenant: Tenant) -> dict[str, object]:
    """The `user` object shared by the login response and /api/me/."""
    return {
        "id": tenant.user_id,
        "email": tenant.email,
        "tenant": tenant.tenant_id,
        "roles": ["ADMIN"],
    }


EXPIRY_IGNORED_FAULT = "auth_expiry_ignored"


class Sessions:
    """Issued access tokens plus the static bearer tokens of token accounts.

    `expired` is an access token this backend signed for the first tenant and that has
    since expired, so a check can prove expiry itself is enforced (an unsigned token
    would be refused for its signature alone). `ignore_expiry` is the fault where the
    authentication class skips the `exp` claim.
    """

    def __init__(self, tenants: tuple[Tenant, ...], *, expired: str | None = None,
                 expired_at: datetime | None = None, ignore_expiry: bool = False) -> None:
        self._tenants = tenants
        self._static = {t.account.token: t for t in tenants if t.account.token}
        self._issued: dict[str, tuple[Tenant, datetime]] = {}
        if expired and tenants and expired_at is not None:
            self._issued[expired] = (tenants[0], expired_at)
        self._ignore_expiry = ignore_expiry
        self._lock = threading.Lock()

    def signed(self, token: str) -> bool:
        """Whether this backend issued the token, expired or not: it decodes as a JWT."""
        with self._lock:
            return token in self._issued or token in self._static

    def login(self, identifier: str, password: str, now: datetime) -> dict[str, object] | None:
        for tenant in self._tenants:
            account = tenant.account
            if (
                account.username
                and account.password == password
                and identifier
                in (
                    account.username,
                    tenant.email,
                )
            ):
                return self._issue(tenant, now)
        return None

    def _issue(self, tenant: Tenant, now: datetime) -> dict[str, object]:
        def token(kind: str, lifetime: timedelta) -> str:
            return encode_token(
                {
                    "token_type": kind,
                    "exp": int((now + lifetime).timestamp()),
                    "iat": int(now.timestamp()),
                    "jti": uuid.uuid4().hex,
                    "user_id": tenant.user_id,
                    "tenant_id": tenant.tenant_id,
                }
            )

        access = token("access", ACCESS_LIFETIME)
        with self._lock:
            self._issued[access] = (tenant, now + ACCESS_LIFETIME)
        return {
            "access": access,
            "refresh": token("refresh", REFRESH_LIFETIME),
            "tenant_id": tenant.tenant_id,
            "user": user_body(tenant),
        }

    def resolve(self, token: str, now: datetime) -> Tenant | None:
        if token in self._static:
            return self._static[token]
        with self._lock:
            tenant, expires = self._issued.get(token, (None, now))
        live = now < expires or self._ignore_expiry
        return tenant if tenant is not None and live else None

    def authenticate(self, header: str | None, now: datetime) -> Tenant | dict[str, object]:
        """Mirror simplejwt: a non-Bearer header counts as no credentials at all."""
        parts = (header or "").split()
        if not parts or parts[0] != "Bearer":
            return NO_CREDENTIALS
        if len(parts) != 2:
            return BAD_HEADER
        return self.resolve(parts[1], now) or BAD_TOKEN

"""The mail-sending flows the SES readiness smoke tests drive: a user invite and the
password reset. Both answer the same whatever happens to the mail, as the backend does;
the message goes through the backend's mailer (``sandbox.mail``).
"""

from __future__ import annotations

import re
import secrets
from datetime import timedelta
from typing import Any

from sandbox.adinsights.drf import ParseError, missing_fields, request_data
from sandbox.adinsights.state import iso, stable_id
from sandbox.adinsights.world import World
from sandbox.parts.http import Response, json_response

EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
ROLES = ("ADMIN", "ANALYST", "VIEWER")
INVITE_DAYS = 7


def invite(call: Any) -> Response:
    """``POST /api/users/invite/``: an admin invites an address into their tenant, and the
    invitee is mailed a one-time accept link for ``/api/users/accept-invite/``."""
    try:
        fields = request_data(call.request)
    except ParseError as exc:
        return json_response(400, exc.body)
    email = str(fields.get("email") or "").strip()
    missing = missing_fields({"email": email})
    if missing:
        return json_response(400, missing)
    if not EMAIL.fullmatch(email):
        return json_response(400, {"email": ["Enter a valid email address."]})
    role = str(fields.get("role") or "VIEWER").upper()
    if role not in ROLES:
        return json_response(400, {"role": [f'"{role}" is not a valid choice.']})
    token = secrets.token_urlsafe(24)
    call.world.mail.send(email, "You are invited to ADinsights",
                         f"Accept the invitation: /api/users/accept-invite/?token={token}")
    return json_response(201, {
        "id": stable_id(call.tenant.tenant_id, "invite", email, token),
        "email": email,
        "role": role,
        "tenant": call.tenant.tenant_id,
        "status": "pending",
        "expires_at": iso(call.now + timedelta(days=INVITE_DAYS)),
    })


def send_reset(world: World, email: str) -> None:
    """Mail a reset link only when the address belongs to an account."""
    if any(t.email.lower() == email.lower() for t in world.tenants):
        world.mail.send(email, "Reset your ADinsights password",
                        f"Reset link: /reset-password/?token={secrets.token_urlsafe(24)}")

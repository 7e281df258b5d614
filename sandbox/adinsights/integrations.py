"""Per-tenant integration data: Meta/Instagram connection status and web analytics rows.

Every identifier here is derived from the tenant, so a response that leaks another
tenant's data is visible as a foreign id rather than as a subtly different number.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from sandbox.adinsights.state import Tenant, iso

# social state -> ((meta status, code, message), (instagram status, code, message))
SOCIAL_STATES = {
    "active": (
        ("active", "active_direct_sync", "Meta is connected and syncing directly."),
        ("active", "instagram_active_via_meta", "Instagram insights sync through Meta."),
    ),
    "not_connected": (
        ("not_connected", "missing_meta_credential", "Connect a Meta account to begin."),
        ("not_connected", "missing_meta_credential", "Connect a Meta account to begin."),
    ),
    "reauth_required": (
        (
            "started_not_complete",
            "credential_reauth_required",
            "Error validating access token: Session has expired.",
        ),
        (
            "complete",
            "instagram_linked_waiting_meta_active",
            "Instagram is linked and waits for Meta to become active.",
        ),
    ),
    "complete": (
        (
            "complete",
            "awaiting_recent_successful_sync",
            "Meta is connected and waits for a recent successful sync.",
        ),
        (
            "complete",
            "instagram_linked_waiting_meta_active",
            "Instagram is linked and waits for Meta to become active.",
        ),
    ),
}
SOCIAL_STATES["paused"] = (
    ("complete", "connection_paused", "The Meta connection is paused."),
    SOCIAL_STATES["complete"][1],
)
DISPLAY_NAMES = {"meta": "Meta", "instagram": "Instagram"}
ACTIONS = {
    "active": ["sync_now", "view"],
    "complete": ["sync_now", "view"],
    "started_not_complete": ["connect_oauth", "view"],
    "not_connected": ["connect_oauth"],
}


def social_status(tenant: Tenant, now: datetime) -> dict:
    """One connection per tenant, so both platforms point at the same Meta sync row."""
    connection = tenant.connections[0]
    connected = tenant.social != "not_connected"
    platforms = []
    for platform, (status, code, message) in zip(
        ("meta", "instagram"), SOCIAL_STATES[tenant.social], strict=True
    ):
        platforms.append(
            {
                "platform": platform,
                "display_name": DISPLAY_NAMES[platform],
                "status": status,
                "reason": {"code": code, "message": message},
                "last_checked_at": iso(now),
                "last_synced_at": iso(connection.last_synced_at(now)) if connected else None,
                "actions": ACTIONS[status],
                "metadata": {
                    "credential_account_id": tenant.ad_account_id if connected else None,
                    "connection_id": connection.id if connected else None,
                },
                "reporting_readiness": {"ready": status == "active"},
            }
        )
    return {"generated_at": iso(now), "platforms": platforms}


def web_rows(source: str, tenant: Tenant, now: datetime) -> list[dict]:
    """A few days of per-tenant rows; seeded by tenant so reruns return the same numbers."""
    rng = random.Random(f"{tenant.tenant_id}/{source}")
    rows = []
    for days in range(3, 0, -1):
        day = (now - timedelta(days=days)).date().isoformat()
        if source == "ga4":
            sessions = rng.randint(200, 900)
            rows.append(
                {
                    "date": day,
                    "property_id": f"properties/{tenant.ad_account_id[-9:]}",
                    "sessions": sessions,
                    "users": sessions - rng.randint(20, 150),
                    "conversions": rng.randint(3, 40),
                }
            )
        else:
            impressions = rng.randint(1500, 6000)
            clicks = rng.randint(40, 300)
            rows.append(
                {
                    "date": day,
                    "site_url": f"https://www.{tenant.name}.example/",
                    "clicks": clicks,
                    "impressions": impressions,
                    "ctr": round(clicks / impressions, 4),
                    "position": round(rng.uniform(3, 18), 1),
                }
            )
    return rows

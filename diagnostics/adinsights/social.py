"""The social status step, shared by the health row and the Meta connector checks.

Both read ``GET /api/integrations/social/status/`` and want each platform ``active``;
the Meta checks also route a known ``reason.code`` to its own fix, which is why the
state is chosen by the caller's map rather than here.
"""

from __future__ import annotations

from collections.abc import Container

from fixtures.expect import expect
from fixtures.probes.http import Response


def expect_active(status: Response, platform: str, reasons: Container[str] = ()) -> None:
    """Fail unless the platform's entry says ``active``. The failure's state is the
    reason code when ``reasons`` knows it, else the status itself."""
    expect("[STATUS]", status.outcome, "==", "200")
    entries = [p for p in status.body("platforms") or [] if p.get("platform") == platform]
    expect(f"platforms[{platform}]", len(entries), "==", 1)
    entry = entries[0]
    reason = entry.get("reason") or {}
    code = reason.get("code")
    state = code if code in reasons else entry.get("status")
    expect(f"platforms[{platform}].status", entry.get("status"), "==", "active",
           state=state, note=f"{code}: {reason.get('message')}")

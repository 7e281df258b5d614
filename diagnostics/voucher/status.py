"""The Integrations Status verdict every incident area reads for its own probe."""

from __future__ import annotations

from diagnostics.voucher.conftest import probe_state
from fixtures.expect import expect
from fixtures.probes.http import Response

# Each failure state's runbook section: amber (the function answered 4xx or 429), red (5xx
# or unreachable), and an unset endpoint variable, which no redeploy fixes.
STATES = {"amber": "probe-amber", "red": ("probe-red", "service unhealthy"),
          "unset": "endpoint-variable-unset"}


def expect_green(integrations: Response, key: str) -> None:
    """Green passes; amber and red fail showing the probe's own ``message``."""
    status, message = probe_state(integrations, key)
    unset = status == "red" and message.startswith("Set ") and "_ENDPOINT" in message
    state = "unset" if unset else status if status in ("amber", "red") else None
    expect(f"Integrations Status {key}", status, "==", "green", state=state,
           note=message or None)

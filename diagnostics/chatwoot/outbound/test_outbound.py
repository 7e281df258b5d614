"""Outbound delivery blocked or failing: messages that never reach ``sent``, each routed
to its own fix, with the contact's policy row and attempt history as evidence."""

from datetime import UTC, datetime, timedelta

import pytest

from diagnostics.chatwoot import mvp
from fixtures.catalog import check
from fixtures.context import Context
from fixtures.expect import expect

DEFAULTS = {"stuck_hours": 24}
CAPPED, OPTED_OUT = "frequency_cap_reached", "blocked_opt_out"


@pytest.fixture
def outbound(diag: Context, session: mvp.Session) -> list[dict]:
    answer = diag.http.get(mvp.APP, "/outbound", headers=session.headers,
                           params={"limit": "100"})
    expect("[STATUS] of GET /outbound", answer.outcome, "==", "200")
    return [o for o in answer.body("outbound") or [] if isinstance(o, dict)]


def _evidence(rows, items: list[dict]) -> list[str]:
    """The policy row and attempts of each item's contact and channel, read as evidence."""
    for item in items[:5]:
        rows("select contact_global_id, channel, opted_out, stop_on_reply, sent_in_window, "
             "frequency_cap, frequency_window_hours, window_started_at from "
             "contact_channel_policies where contact_global_id = %s and channel = %s",
             (item.get("recipient_ref"), item.get("channel")))
        rows("select attempt_no, status, error, created_at from outbound_attempts where "
             "outbound_id = %s order by attempt_no", (item.get("id"),))
    return [f"{o.get('id')} {o.get('status')} ({o.get('last_error') or 'no error'}) to "
            f"{o.get('recipient_ref')}" for o in items]


@check("chatwoot.outbound.delivery", severity="high", runbook="outbound.md#stuck-or-failed",
       needs=("session", "cw_db"), category="failed job")
def test_delivery(diag, rows, outbound):
    hours = float(diag.settings("outbound", DEFAULTS)["stuck_hours"])
    limit = datetime.now(UTC) - timedelta(hours=hours)
    stuck = [o for o in outbound if (o.get("status") in ("draft", "approved") and
                                     datetime.fromisoformat(o["created_at"]) < limit)
             or (o.get("status") == "failed" and o.get("last_error") != CAPPED)]
    expect(f"outbound failed, or draft/approved for over {hours:g} h", _evidence(rows, stuck),
           "is empty")


@check("chatwoot.outbound.opt_out", severity="medium", runbook="outbound.md#blocked-by-opt-out",
       needs=("session", "cw_db"))
def test_opted_out(rows, outbound):
    blocked = [o for o in outbound if o.get("status") == OPTED_OUT]
    expect("outbound blocked_opt_out", _evidence(rows, blocked), "is empty")


@check("chatwoot.outbound.frequency_cap", severity="low",
       runbook="outbound.md#frequency-cap-reached", needs=("session", "cw_db"),
       category="throttled")
def test_capped(rows, outbound):
    capped = [o for o in outbound if o.get("last_error") == CAPPED]
    expect("outbound failed on frequency_cap_reached", _evidence(rows, capped), "is empty")

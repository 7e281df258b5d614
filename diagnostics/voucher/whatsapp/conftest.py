"""Observations for WhatsApp send failures: the last window's notifications and why they
failed, the send policy in ``settings``, and the audit log's incident entries."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

import pytest

from fixtures.context import Context
from fixtures.evidence import record_table

DEFAULTS = {
    "window_minutes": 60,
    "failed_share_max": 0.1,
    "min_count": 20,
    "failed_statuses": ["failed", "send_failed"],
    "provider_limit_per_minute": 4800,
    "dry_send": False,
    "dry_send_msisdn": "",
    "incident_action": "incident_resolution",
    "incident_action_exists": True,
    "incident_window_hours": 24,
}
# The app's fallbacks when a key is absent from ``settings``.
QUIET_HOURS_DEFAULT = {"start": "22:00", "end": "06:00"}
THROTTLE_DEFAULT = 60
CLOCK = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


@pytest.fixture
def whatsapp_settings(diag: Context) -> dict:
    return diag.settings("whatsapp", DEFAULTS)


@dataclass
class Failures:
    total: int
    failed: int
    codes: list[tuple[str, str, int]] = field(default_factory=list)  # code, retry-after, n

    @property
    def share(self) -> float:
        return round(self.failed / self.total, 3) if self.total else 0.0

    def count(self, match) -> int:
        return sum(n for code, _retry, n in self.codes if match(code))

    @property
    def retry_after(self) -> str:
        return next((retry for code, retry, _n in self.codes if code == "429" and retry), "")


@pytest.fixture
def failures(app_rows, whatsapp_settings: dict) -> Failures:
    """Sends in the window, the failed ones, and their status codes (``http_status`` and
    ``retry_after`` in each notification's metadata)."""
    window, failed = int(whatsapp_settings["window_minutes"]), list(
        whatsapp_settings["failed_statuses"])
    total, bad = app_rows(
        "select count(*), count(*) filter (where status = any(%s)) from notifications "
        "where created_at > now() - make_interval(mins => %s)", (failed, window))[0]
    codes = app_rows(
        "select coalesce(metadata->>'http_status', 'none'), "
        "coalesce(max(metadata->>'retry_after'), ''), count(*) from notifications "
        "where status = any(%s) and created_at > now() - make_interval(mins => %s) "
        "group by 1 order by 3 desc", (failed, window))
    record_table("failed sends by status code", ("http_status", "retry_after", "count"), codes)
    return Failures(int(total), int(bad), [(str(c), str(r), int(n)) for c, r, n in codes])


@pytest.fixture
def send_policy(app_rows) -> dict[str, object]:
    """The ``settings`` keys the send route reads, decoded; absent keys are left out."""
    rows = app_rows("select key, value::text from settings where key = any(%s)",
                    (["quiet_hours.rw", "send_throttle.whatsapp.per_minute"],))
    return {key: json.loads(value) for key, value in rows}


def window_problem(value: object) -> str:
    """Why a quiet-hours value is not a window, or ``""``."""
    if not isinstance(value, dict):
        return f"not a {{start, end}} object: {json.dumps(value)}"
    start, end = value.get("start"), value.get("end")
    bad = [f"{name} {edge!r}" for name, edge in (("start", start), ("end", end))
           if not isinstance(edge, str) or not CLOCK.match(edge)]
    if bad:
        return "not HH:MM: " + ", ".join(bad)
    return "start equals end (an empty window)" if start == end else ""


@dataclass
class IncidentTrail:
    opened: str          # when campaigns were last stopped or paused, "" if not in the window
    summaries: list[tuple[str, str]] = field(default_factory=list)  # created_at, diff


@pytest.fixture
def incident_trail(app_rows, whatsapp_settings: dict) -> IncidentTrail:
    """The last stop or pause of campaigns in the window (an incident's first action) and
    the incident entries recorded after it."""
    if not whatsapp_settings["incident_action_exists"]:
        pytest.skip("not run: manual step: the profile says the app records no incident "
                    "action ([voucher.whatsapp] incident_action_exists = false); log the "
                    "summary by hand")
    hours = int(whatsapp_settings["incident_window_hours"])
    opened = app_rows("select max(created_at) from audit_log where action in "
                      "('campaign_stop', 'campaign_pause') and created_at > "
                      "now() - make_interval(hours => %s)", (hours,))[0][0]
    if opened is None:
        return IncidentTrail("")
    rows = app_rows("select created_at, coalesce(diff::text, '') from audit_log "
                    "where action = %s and created_at >= %s order by created_at desc limit 5",
                    (str(whatsapp_settings["incident_action"]), opened))
    return IncidentTrail(f"{opened:%Y-%m-%dT%H:%M:%SZ}",
                         [(f"{at:%Y-%m-%dT%H:%M:%SZ}", diff) for at, diff in rows])

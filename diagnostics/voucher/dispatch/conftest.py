"""Observations for campaign dispatcher stalls. The real app has no dispatcher status
endpoint, so the campaign, target, queue, log and audit tables are read instead."""

from __future__ import annotations

import pytest

from fixtures.context import Context
from fixtures.evidence import record_table

DEFAULTS = {
    "stall_minutes": 5,
    "pending_target_statuses": ["queued", "sending"],
    "overdue_grace_minutes": 5,
    "max_overdue": 0,
    "max_attempts": 5,
    "failed_window_minutes": 60,
    "replay_window_hours": 24,
    "audit_slack_minutes": 2,
}


@pytest.fixture
def dispatch_settings(diag: Context) -> dict:
    return diag.settings("dispatch", DEFAULTS)


@pytest.fixture
def running_campaigns(app_rows, dispatch_settings: dict) -> list[tuple]:
    """Each running campaign with targets still to send: id, name, pending targets, and
    minutes since any of its targets last moved."""
    pending = list(dispatch_settings["pending_target_statuses"])
    rows = app_rows(
        "select c.id::text, c.name, count(*) filter (where t.status = any(%s)), "
        "round(extract(epoch from now() - max(t.last_update_at)) / 60, 1)::float "
        "from campaigns c join campaign_targets t on t.campaign_id = c.id "
        "where c.status = 'running' group by c.id, c.name "
        "having count(*) filter (where t.status = any(%s)) > 0", (pending, pending))
    record_table("running campaigns", ("campaign", "name", "pending_targets",
                                       "minutes_since_last_update"), rows)
    return rows


@pytest.fixture
def queue(app_rows, dispatch_settings: dict) -> tuple[int, int]:
    """The queue's length (PENDING rows) and how many are past ``next_attempt_at`` by more
    than the grace (the dispatcher claims a row by pushing it 5 minutes ahead)."""
    pending, overdue = app_rows(
        "select count(*), count(*) filter (where next_attempt_at < now() - "
        "make_interval(mins => %s)) from send_queue where status = 'PENDING'",
        (int(dispatch_settings["overdue_grace_minutes"]),))[0]
    return int(pending), int(overdue)


@pytest.fixture
def failed_sends(app_rows, dispatch_settings: dict) -> list[tuple]:
    """Rows that reached FAILED after their attempts in the window, with their last
    ``send_logs`` error."""
    rows = app_rows(
        "select q.id, q.campaign_id::text, q.msisdn, q.attempts, "
        "(select l.error from send_logs l where l.queue_id = q.id "
        " order by l.created_at desc limit 1) "
        "from send_queue q where q.status = 'FAILED' and q.attempts >= %s "
        "and q.updated_at > now() - make_interval(mins => %s) order by q.id limit 50",
        (int(dispatch_settings["max_attempts"]), int(dispatch_settings["failed_window_minutes"])))
    record_table("FAILED sends", ("queue_id", "campaign", "msisdn", "attempts", "error"), rows)
    return rows


@pytest.fixture
def unlogged_actions(app_rows, dispatch_settings: dict) -> list[tuple]:
    """Campaign starts and stops in the window with no matching ``campaign_start`` or
    ``campaign_stop`` row in ``audit_log`` (within the slack of the state change)."""
    rows = app_rows(
        "with changes as ("
        " select id, name, 'campaign_start' as action, started_at as at from campaigns "
        " where started_at > now() - make_interval(hours => %s) "
        " union all select id, name, 'campaign_stop', finished_at from campaigns "
        " where finished_at > now() - make_interval(hours => %s)) "
        "select c.id::text, c.name, c.action, to_char(c.at, 'YYYY-MM-DD\"T\"HH24:MI:SS') "
        "from changes c where not exists (select 1 from audit_log a "
        " where a.action = c.action and a.target_id = c.id::text "
        " and a.created_at between c.at - make_interval(mins => %s) "
        " and c.at + make_interval(mins => %s)) order by c.at",
        (int(dispatch_settings["replay_window_hours"]),) * 2
        + (int(dispatch_settings["audit_slack_minutes"]),) * 2)
    record_table("campaign actions missing from audit_log",
                 ("campaign", "name", "action", "at"), rows)
    return rows

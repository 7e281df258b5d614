"""Campaign dispatcher stalls: the probe, targets that stopped moving, the queue, sends
that gave up, and the replay's audit trail."""

from diagnostics.voucher.status import STATES, expect_green
from fixtures.catalog import check, upstream_check
from fixtures.expect import expect

test_app_db_reachable = upstream_check(
    "voucher.dispatch.app_db.reachable", "app", "[CONNECTED]", severity="critical",
    runbook="dispatch.md#app-database-reachable")


@check("voucher.dispatch.status", severity="high",
       runbook="integrations.md#campaigndispatcher", needs=("admin",), states=STATES)
def test_dispatcher_probe(integrations):
    expect_green(integrations, "campaignDispatcher")


@check("voucher.dispatch.targets.advancing", severity="critical",
       runbook="dispatch.md#targets-advancing", needs=("app",), category="stale data")
def test_targets_advancing(running_campaigns, dispatch_settings):
    limit = float(dispatch_settings["stall_minutes"])
    stalled = [f"{name} ({campaign}): {pending} targets pending, last update {minutes} min ago"
               for campaign, name, pending, minutes in running_campaigns if minutes > limit]
    expect(f"running campaigns whose targets have not moved for {limit:g} min", stalled,
           "is empty")


@check("voucher.dispatch.queue.backlog", severity="high", runbook="dispatch.md#queue-backlog",
       needs=("app",), category="stale data")
def test_queue_backlog(queue, dispatch_settings):
    pending, overdue = queue
    expect(f"PENDING sends past next_attempt_at by over "
           f"{dispatch_settings['overdue_grace_minutes']} min", overdue, "<=",
           int(dispatch_settings["max_overdue"]), note=f"queue length {pending} PENDING")


@check("voucher.dispatch.queue.failed", severity="high", runbook="dispatch.md#failed-sends",
       needs=("app",), category="failed job")
def test_failed_sends(failed_sends, dispatch_settings):
    expect(f"sends FAILED after {dispatch_settings['max_attempts']} attempts in the last "
           f"{dispatch_settings['failed_window_minutes']} min",
           [f"queue {qid} to {msisdn}: {error or 'no send_logs error'}"
            for qid, _campaign, msisdn, _attempts, error in failed_sends], "is empty")


@check("voucher.dispatch.audit.replay", severity="medium", runbook="dispatch.md#replay-audit",
       needs=("app",), category="missing data")
def test_replay_audited(unlogged_actions):
    expect("campaign starts and stops with no audit_log entry",
           [f"{action} of {name} ({campaign}) at {at}"
            for campaign, name, action, at in unlogged_actions], "is empty")

"""WhatsApp send failures: the probe, the failed sends and why, the send policy, a dry
send, and the incident summary."""

from diagnostics.voucher.conftest import bearer
from diagnostics.voucher.status import STATES, expect_green
from fixtures.catalog import check
from fixtures.expect import expect

from .conftest import QUIET_HOURS_DEFAULT, THROTTLE_DEFAULT, window_problem

SEND_STATES = {"throttled": ("rate-limited-429", "throttled"),
               "provider": ("provider-errors-5xx", "service unhealthy")}


@check("voucher.whatsapp.status", severity="high", runbook="integrations.md#whatsappsend",
       needs=("admin",), states=STATES)
def test_send_probe(integrations):
    expect_green(integrations, "whatsappSend")


@check("voucher.whatsapp.failures", severity="high", runbook="whatsapp.md#failed-sends",
       needs=("app",), category="service unhealthy", states=SEND_STATES)
def test_failed_share(failures, whatsapp_settings):
    throttled = failures.count(lambda code: code == "429")
    provider = failures.count(lambda code: code.startswith("5"))
    state = "throttled" if throttled and throttled >= provider else \
        "provider" if provider else None
    note = ", ".join(f"HTTP {code} x{n}" + (f" (retry-after {retry} s)" if retry else "")
                     for code, retry, n in failures.codes) or None
    if failures.total < int(whatsapp_settings["min_count"]):
        return  # too few sends in the window to call a share elevated
    expect(f"share of failed sends in the last {whatsapp_settings['window_minutes']} min "
           f"({failures.failed} of {failures.total})", failures.share, "<=",
           float(whatsapp_settings["failed_share_max"]), state=state, note=note)


@check("voucher.whatsapp.settings.quiet_hours", severity="medium",
       runbook="whatsapp.md#quiet-hours", needs=("app",))
def test_quiet_hours(send_policy):
    value = send_policy.get("quiet_hours.rw", QUIET_HOURS_DEFAULT)
    expect("settings quiet_hours.rw", window_problem(value) or "a valid window", "==",
           "a valid window", note=f"value {value}")


@check("voucher.whatsapp.settings.throttle", severity="medium", runbook="whatsapp.md#throttle",
       needs=("app",))
def test_throttle(send_policy, whatsapp_settings):
    value = send_policy.get("send_throttle.whatsapp.per_minute", THROTTLE_DEFAULT)
    number = value if isinstance(value, int | float) and not isinstance(value, bool) else None
    expect("settings send_throttle.whatsapp.per_minute", number, ">", 0, note=f"value {value}")
    limit = float(whatsapp_settings["provider_limit_per_minute"])
    expect("settings send_throttle.whatsapp.per_minute", number, "<", limit,
           note="the provider's limit ([voucher.whatsapp] provider_limit_per_minute)")


@check("voucher.whatsapp.send.dry", severity="high", runbook="whatsapp.md#dry-send",
       category="service unhealthy", states=SEND_STATES, intrusive=True)
def test_dry_send(diag, whatsapp_settings, functions_settings):
    import pytest

    if not whatsapp_settings["dry_send"]:
        pytest.skip("not run: the profile does not allow a dry send "
                    "([voucher.whatsapp] dry_send = false)")
    response = diag.http.post(
        "functions", f"/{functions_settings['send']}", headers=bearer(diag, "service_key_env"),
        json_body={"dryRun": True, "msisdn": str(whatsapp_settings["dry_send_msisdn"])})
    code = response.status or 0
    state = "throttled" if code == 429 else "provider" if code >= 500 else None
    retry = response.header("retry-after")
    expect(f"[STATUS] of the dry send to {functions_settings['send']}", response.outcome, "==",
           "202", state=state, note=f"retry-after: {retry} s" if retry else None)


@check("voucher.whatsapp.incident.summary", severity="low",
       runbook="whatsapp.md#incident-summary", needs=("app",))
def test_incident_summary(incident_trail, whatsapp_settings):
    if not incident_trail.opened:
        return  # no campaign was stopped in the window: no incident to close
    action = whatsapp_settings["incident_action"]
    expect(f"audit_log '{action}' entries with a summary since campaigns were stopped at "
           f"{incident_trail.opened}",
           len([diff for _at, diff in incident_trail.summaries if diff not in ("", "{}")]),
           ">", 0)

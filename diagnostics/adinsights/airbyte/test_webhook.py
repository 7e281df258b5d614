"""Airbyte webhook operations: deliveries keep arriving, and the endpoint guards itself.

The guard checks are intrusive (they POST to the webhook) and only run with
``--allow-intrusive``. They always name a random connection UUID, so even a webhook that
wrongly accepts them cannot change any tenant's data.
"""

import uuid
from datetime import UTC, datetime

import pytest

from fixtures.catalog import check
from fixtures.evidence import observed_time
from fixtures.expect import expect

WEBHOOK = "/api/airbyte/webhook/"
NOT_CONFIGURED = {"secret_not_configured": ("webhook-secret-not-configured",
                                            "misconfiguration")}


def _payload() -> dict:
    return {"connectionId": str(uuid.uuid4()),
            "job": {"id": 1, "status": "succeeded", "createdAt": 0, "updatedAt": 0}}


def _state(response) -> str | None:
    return "secret_not_configured" if response.status == 503 else None


@check("adinsights.airbyte.webhook.recent",
       severity="high", runbook="airbyte.md#webhook-deliveries",
       needs=("api", "tenant"), category="stale data")
def test_webhook_deliveries(webhook_audit, telemetry, settings):
    expect("[STATUS]", webhook_audit.outcome, "==", "200")
    jobs = telemetry.body("count", 0) or 0
    rows = webhook_audit.body("results", []) or []
    newest = max((r.get("created_at", "") for r in rows), default="")
    observed_time("newest Airbyte webhook delivery", newest or None)
    if not jobs:
        pytest.skip("not run: the tenant has no Airbyte jobs, so no webhook is expected")
    age = (datetime.now(UTC) - datetime.fromisoformat(newest)).total_seconds() / 60 \
        if newest else None
    expect("minutes since the newest airbyte_job_webhook audit row",
           round(age) if age is not None else None, "<=", settings["webhook_silence_minutes"],
           note=f"{jobs} jobs exist")


@check("adinsights.airbyte.webhook.secret_rejected", severity="critical",
       runbook="airbyte.md#webhook-authentication", needs=("api",), intrusive=True,
       states=NOT_CONFIGURED)
def test_webhook_rejects_bad_secret(diag):
    for header in ({}, {"X-Airbyte-Webhook-Secret": "wrong-" + uuid.uuid4().hex}):
        response = diag.http.post("api", WEBHOOK, json_body=_payload(), headers=header)
        label = "wrong" if header else "missing"
        expect(f"[STATUS] with a {label} secret", response.outcome, "==", "403",
               state=_state(response), note=response.body("detail") if response.ok else None)


@check("adinsights.airbyte.webhook.unknown_connection", severity="medium",
       runbook="airbyte.md#webhook-unknown-connection", needs=("api",), intrusive=True,
       states=NOT_CONFIGURED)
def test_webhook_unknown_connection(diag, settings):
    secret_env = settings.get("webhook_secret_env", "")
    if not secret_env:
        pytest.skip("not run: the profile names no [adinsights.airbyte] webhook_secret_env")
    response = diag.http.post("api", WEBHOOK, json_body=_payload(),
                              headers={"X-Airbyte-Webhook-Secret": diag.profile.secret(secret_env)})
    expect("[STATUS] for an unknown connection", response.outcome, "==", "404",
           state=_state(response))
    expect("[BODY].detail", response.body("detail"), "==", "connection not found")


@check("adinsights.airbyte.webhook.rotation", severity="critical",
       runbook="airbyte.md#webhook-rotation", needs=("api",), intrusive=True,
       states=NOT_CONFIGURED)
def test_webhook_rotation(diag, settings):
    """Rotation step 4: the previous secret is refused and the new one accepted. A random
    connection UUID keeps an accepted request away from every tenant's data: accepted
    means 404 `connection not found`, refused means 403."""
    names = (settings.get("previous_webhook_secret_env", ""),
             settings.get("webhook_secret_env", ""))
    if not all(names):
        pytest.skip("not run: the profile names no [adinsights.airbyte] "
                    "previous_webhook_secret_env and webhook_secret_env")
    for label, env, wanted in (("previous", names[0], "403"), ("new", names[1], "404")):
        response = diag.http.post("api", WEBHOOK, json_body=_payload(),
                                  headers={"X-Airbyte-Webhook-Secret": diag.profile.secret(env)})
        expect(f"[STATUS] with the {label} secret", response.outcome, "==", wanted,
               state=_state(response), note=response.body("detail") if response.ok else None)


def _looks_real(value: str) -> bool:
    """Long and without a placeholder's words or brackets: what a generated secret is."""
    words = ("change", "replace", "example", "your", "placeholder", "secret", "xxx", "<", "{")
    return len(value) >= 16 and not any(w in value.lower() for w in words)


@check("adinsights.airbyte.webhook.sample_placeholder", severity="high",
       runbook="airbyte.md#webhook-sample-placeholder", category="credentials")
def test_env_sample_placeholder(env_sample):
    """The sample is committed: a value in it is a published secret. Only its shape is
    shown, never the value."""
    value = env_sample.get("AIRBYTE_WEBHOOK_SECRET", "")
    shape = f"{len(value)} characters" + (", hex" if value and all(
        c in "0123456789abcdef" for c in value.lower()) else "")
    expect("AIRBYTE_WEBHOOK_SECRET in .env.sample looks real", _looks_real(value), "==", False,
           note=f"the value has {shape}" if value else None)


@check("adinsights.airbyte.webhook.logged", severity="medium",
       runbook="airbyte.md#webhook-processed-log", needs=("api", "tenant"))
def test_webhooks_logged(webhook_audit, backend_log):
    """Each processed webhook the audit trail shows also left its `Airbyte webhook
    processed` line, with the `correlation_id` that ties it to the sync's task."""
    # judged on the rows that are webhooks, whether or not the action filter worked
    rows = [r for r in webhook_audit.body("results", []) or []
            if r.get("action") == "airbyte_job_webhook"][:5]
    if not rows:
        pytest.skip("not run: the tenant's audit trail holds no airbyte_job_webhook row")
    logged = {str(line.get("job_id")): line for line in backend_log("integrations.airbyte.webhook")
              if line.get("message") == "Airbyte webhook processed"}
    jobs = [str((row.get("metadata") or {}).get("job_id")) for row in rows]
    expect("audited webhook jobs with no 'Airbyte webhook processed' line",
           [j for j in jobs if j not in logged], "is empty")
    expect("processed lines without correlation_id",
           [j for j in jobs if not logged[j].get("correlation_id")], "is empty")

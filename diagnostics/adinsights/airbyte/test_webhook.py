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

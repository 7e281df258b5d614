"""Secret canaries: planted credentials never reach any artifact or the terminal."""

from __future__ import annotations

from conftest import JWT, embedded

CANARIES = {
    "DIAG_SANDBOX_ACME_PASSWORD": "canary-password-7Qx2Lm",
    "DIAG_SANDBOX_GLOBEX_TOKEN": "canary-token-9Vb4Rt",
    "DIAG_SANDBOX_AIRBYTE_PASSWORD": "canary-proxy-3Hn8Zq",
    "DIAG_SANDBOX_WEBHOOK_SECRET": "canary-webhook-5Kd1Wy",
    "DIAG_SANDBOX_AIRBYTE_DB_PASSWORD": "canary-dbpass-8Pj6Xe",
}


def test_no_secret_in_any_output(diag_run, monkeypatch):
    for name, value in CANARIES.items():
        monkeypatch.setenv(name, value)
    runs = [diag_run("--allow-intrusive", "--sandbox-fault", fault)
            for fault in ("dbt_failing", "login_rejected", "airbyte_stale",
                          "airbyte_proxy_auth_rejected", "airbyte_db_port_closed",
                          "airbyte_webhook_open")]
    redacted = 0
    for run in runs:
        texts = {"terminal": run.output, **{str(p): t for p, t in run.artifacts().items()}}
        texts.update(embedded(texts))
        for where, text in texts.items():
            for value in CANARIES.values():
                assert value not in text, f"secret leaked into {where}"
            assert not JWT.search(text), f"a JWT leaked into {where}"
            redacted += text.count("[REDACTED]")
    # the credentials really were exercised and masked, not merely absent
    assert redacted > 10


"""Secret canaries: planted credentials never reach any artifact or the terminal."""

from __future__ import annotations

import base64
import re

JWT = re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.")
DATA_URI = re.compile(r"base64,([A-Za-z0-9+/=]+)")

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


def embedded(texts: dict[str, str]) -> dict[str, str]:
    """The self-contained HTML page base64-encodes its JSON extras: search those too."""
    found = {}
    for where, text in texts.items():
        for n, blob in enumerate(DATA_URI.findall(text)):
            found[f"{where} (data URI {n})"] = base64.b64decode(blob).decode("utf-8", "replace")
    return found


AWS_CANARIES = {
    "DIAG_SANDBOX_AWS_ACCESS_KEY_ID": "AKIACANARY7SES4KEY2X",
    "DIAG_SANDBOX_AWS_SECRET_ACCESS_KEY": "canary-aws-secret-6Tm3Jw/Qp8Zr+Lx1Vb",
}


def test_no_aws_key_in_any_output(diag_run, monkeypatch):
    """The AWS keys sign every SES call of the run; none may surface anywhere."""
    for name, value in AWS_CANARIES.items():
        monkeypatch.setenv(name, value)
    runs = [diag_run("-m", "ses", "--allow-intrusive", *fault)
            for fault in ((), ("--sandbox-fault", "ses_api_down"),
                          ("--sandbox-fault", "ses_configuration_set_missing"))]
    assert runs[0].result.ret == 0 and runs[1].result.ret == runs[2].result.ret == 1
    for run in runs:
        texts = {"terminal": run.output, **{str(p): t for p, t in run.artifacts().items()}}
        texts.update(embedded(texts))
        for where, text in texts.items():
            for value in AWS_CANARIES.values():
                assert value not in text, f"an AWS key leaked into {where}"
                assert value.split("/")[0] not in text, f"part of an AWS key in {where}"

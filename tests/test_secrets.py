"""Secret canaries: planted credentials never reach any artifact or the terminal."""

from __future__ import annotations

from urllib.parse import quote

from conftest import JWT, embedded

CANARIES = {
    "DIAG_SANDBOX_ACME_PASSWORD": "canary-password-7Qx2Lm",
    "DIAG_SANDBOX_GLOBEX_TOKEN": "canary-token-9Vb4Rt",
    "DIAG_SANDBOX_AIRBYTE_PASSWORD": "canary-proxy-3Hn8Zq",
    "DIAG_SANDBOX_WEBHOOK_SECRET": "canary-webhook-5Kd1Wy",
    "DIAG_SANDBOX_AIRBYTE_DB_PASSWORD": "canary-dbpass-8Pj6Xe",
    "DIAG_SANDBOX_META_APP_SECRET": "canary-metaapp-2Rw7Ns",
    # '/' and '+' are percent-encoded in a query string, where a plain replace misses them
    "DIAG_SANDBOX_META_TOKEN": "canary-meta/token+4Fz",
    "DIAG_SANDBOX_META_OPS_DB_PASSWORD": "canary-opsdb-6Tc3Jm",
    "DIAG_SANDBOX_EXPIRED_TOKEN": "canary-expired-1Gh5Uk",
    "DIAG_SANDBOX_PREVIOUS_WEBHOOK_SECRET": "canary-oldhook-4Mv9Qa",
}


def test_no_secret_in_any_output(diag_run, monkeypatch):
    for name, value in CANARIES.items():
        monkeypatch.setenv(name, value)
    # The fault matrix sweeps every fault with random canaries; this run adds values with
    # characters that need escaping, in runs where the credentials are refused.
    runs = [diag_run("--allow-intrusive", "--sandbox-fault", "login_rejected",
                     "--sandbox-fault", "airbyte_proxy_auth_rejected",
                     "--sandbox-fault", "airbyte_webhook_open", "--sandbox-fault", "dbt_failing")]
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


def test_no_meta_token_or_app_secret_in_any_output(diag_run, monkeypatch):
    """The Graph token debugger is sent the token and the app secret in its query string;
    neither may reach a report, the validation evidence or the terminal, also when the
    token checks fail and show their evidence."""
    for name, value in CANARIES.items():
        monkeypatch.setenv(name, value)
    runs = [diag_run("-m", "meta", "--allow-intrusive", "--sandbox-fault", fault)
            for fault in ("meta_token_expired", "meta_scopes_insufficient")]
    secrets = [CANARIES[n] for n in ("DIAG_SANDBOX_META_APP_SECRET", "DIAG_SANDBOX_META_TOKEN")]
    secrets += [quote(s, safe="") for s in secrets]
    masked = 0
    for run in runs:
        assert (run.run_dir / "meta-validation.md").is_file()
        texts = {"terminal": run.output, **{str(p): t for p, t in run.artifacts().items()}}
        texts.update(embedded(texts))
        for where, text in texts.items():
            for value in secrets:
                assert value not in text, f"a Meta secret leaked into {where}"
            masked += text.count("input_token=[REDACTED]")
    assert masked > 0  # the debug_token call was made, and shown masked


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


AUTHOR_CANARIES = {
    "DIAG_SANDBOX_AUTHOR_MIGRATOR_PASSWORD": "canary-migrator-4Vd8Qs",
    "DIAG_SANDBOX_AUTHOR_JWT_SECRET": "canary-jwt-secret-2Lw9Xe",
    "DIAG_SANDBOX_AUTHOR_SMTP_PASSWORD": "canary-smtp-pass-7Hn3Rk",
    "DIAG_SANDBOX_AUTHOR_REDIS_PASSWORD": "canary-redis-pass-5Tb1Mz",
    "DIAG_SANDBOX_AUTHOR_AWS_ACCESS_KEY_ID": "AKIACANARYAUTHOR7Q2X",
    "DIAG_SANDBOX_AUTHOR_AWS_SECRET_ACCESS_KEY": "canary-author-aws/Sx4+Wq8Zr",
    "DIAG_SANDBOX_AUTHOR_MAILGUN_API_KEY": "canary-mailgun-key-9Fp6Jd",
}


def test_no_author_secret_in_any_output(diag_run, monkeypatch):
    """The author app's secrets sit in its env files (DATABASE_URL and REDIS_URL carry
    passwords), sign its AWS calls, and are sent in SMTP AUTH and to the provider; a
    refused AUTH, mismatched JWT secrets and a log line holding a key must not show them."""
    for name, value in AUTHOR_CANARIES.items():
        monkeypatch.setenv(name, value)
    runs = [diag_run("-m", "author"),
            diag_run("-m", "author", "--sandbox-fault", "authorsmtp_auth_refused",
                     "--sandbox-fault", "authorenv_jwt_mismatch",
                     "--sandbox-fault", "authorworker_log_errors",
                     "--sandbox-fault", "authorenv_migrator_role_wrong")]
    assert runs[0].result.ret == 0 and runs[1].result.ret == 1
    for run in runs:
        texts = {"terminal": run.output, **{str(p): t for p, t in run.artifacts().items()}}
        texts.update(embedded(texts))
        for where, text in texts.items():
            for value in AUTHOR_CANARIES.values():
                assert value not in text, f"an author secret leaked into {where}"
                assert value.split("/")[0] not in text, f"part of an author secret in {where}"
    assert "[REDACTED]" in runs[1].output  # the log line's key was there, and masked

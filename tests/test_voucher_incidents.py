"""The voucher incident areas: a default run only reads (the sandbox's request and query
logs prove it), the intrusive run sends exactly its two requests, the new credentials
are swept by the canaries, and the stand-in honours the contract it simulates."""

from __future__ import annotations

import json
import time
from email.message import Message

from test_read_only import WRITE, requests

from conftest import needs, sandbox_secret_envs
from sandbox.parts.http import Request
from sandbox.voucher import functions

AREAS = "voucher and not dr"
SECRETS = functions.Secrets("session-1", "token-1", "key-1")


def statements(run) -> list[tuple[str, str]]:
    lines = (run.run_dir / "sandbox-queries.log").read_text().splitlines()
    return [tuple(line.split(": ", 1)) for line in lines if ": " in line]


@needs("postgres")
def test_default_run_only_reads(diag_run):
    run = diag_run("-m", AREAS)
    sent = requests(run)
    assert ("GET", "/api/integrations/status") in sent
    assert [(m, p) for m, p in sent if m != "GET"] == []
    assert not [p for _, p in sent if "force=true" in p]
    ops = [s for role, s in statements(run) if role == "voucher_ops"]
    assert any("send_queue" in s for s in ops) and any("voucher_events" in s for s in ops)
    assert [s for s in ops if WRITE.match(s)] == []
    assert run.ids("skipped") == {"voucher.preview.render", "voucher.whatsapp.send.dry"}
    assert run.result.ret == 0, run.output


def test_intrusive_run_sends_one_preview_and_one_dry_send(diag_run):
    run = diag_run("-m", "preview or whatsapp", "--allow-intrusive")
    posts = [p for m, p in requests(run) if m == "POST"]
    assert sorted(posts) == ["/api/vouchers/preview", "/voucher-send"]


def test_the_new_credentials_are_swept_by_the_canaries():
    """The matrix plants a canary in every ``*_env`` credential of the sandbox profile."""
    assert {"DIAG_SANDBOX_VOUCHER_APP_DB_PASSWORD", "DIAG_SANDBOX_VOUCHER_ADMIN_SESSION",
            "DIAG_SANDBOX_VOUCHER_PLATFORM_TOKEN",
            "DIAG_SANDBOX_VOUCHER_SERVICE_KEY"} <= set(sandbox_secret_envs())


def _call(app, method: str, path: str, body: bytes = b"", **headers: str):
    message = Message()
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    query = path.partition("?")[2]
    return app(Request(method, path.partition("?")[0], query, message, body))


def _admin(*faults: str):
    chosen = frozenset(faults)
    return functions.admin_app(chosen, SECRETS, functions.functions_app(chosen, SECRETS))


def test_send_function_answers_202_429_with_retry_after_and_5xx():
    dry = json.dumps({"dryRun": True}).encode()
    auth = {"Authorization": "Bearer key-1"}
    healthy = functions.functions_app(frozenset(), SECRETS)
    assert _call(healthy, "POST", "/voucher-send", dry, **auth).status == 202
    assert _call(healthy, "POST", "/voucher-send", dry, Authorization="Bearer x").status == 401
    limited = _call(functions.functions_app(frozenset({functions.RATE_LIMITED}), SECRETS),
                    "POST", "/voucher-send", dry, **auth)
    assert (limited.status, limited.headers["retry-after"]) == (429, functions.RETRY_AFTER)
    down = functions.functions_app(frozenset({functions.PROVIDER_DOWN}), SECRETS)
    assert _call(down, "POST", "/voucher-send", dry, **auth).status == 503


def test_integrations_status_follows_the_contract():
    cookie = {"Cookie": "admin_session=session-1"}
    assert _call(_admin(), "GET", "/api/integrations/status").status == 401
    healthy = json.loads(_call(_admin(), "GET", "/api/integrations/status", **cookie).body)
    assert {k: v["status"] for k, v in healthy.items()} == dict.fromkeys(
        ("voucherPreview", "whatsappSend", "campaignDispatcher", "storageSignedUrl"), "green")
    forced = _call(_admin(), "GET", "/api/integrations/status?force=true", **cookie)
    assert json.loads(forced.body) == healthy  # accepted and ignored
    throttled = json.loads(_call(_admin(functions.RATE_LIMITED), "GET",
                                 "/api/integrations/status", **cookie).body)
    assert throttled["whatsappSend"] == {"status": "amber", "message": "HTTP 429"}
    unset = json.loads(_call(_admin(functions.PREVIEW_UNSET), "GET",
                             "/api/integrations/status", **cookie).body)
    assert unset["voucherPreview"]["message"] == (
        "Set NEXT_PUBLIC_VOUCHER_PREVIEW_ENDPOINT to enable health checks")
    preview = _call(_admin(functions.PREVIEW_UNSET), "POST", "/api/vouchers/preview", b"{}",
                    **cookie)
    assert preview.status == 503
    assert json.loads(preview.body)["integration"]["status"] == "degraded"


@needs("postgres")
def test_the_dispatcher_keeps_a_healthy_campaign_moving(tmp_path, monkeypatch):
    """Seeded once, the running campaign's targets would look stalled to a run that
    lasts longer than the check's five minutes."""
    from sandbox.parts.postgres import Postgres
    from sandbox.voucher import app_db

    monkeypatch.setattr(app_db, "DISPATCH_EVERY", 0.05)
    pg = Postgres(tmp_path / "pg").start()
    try:
        app_db.build_app_db(pg, password="pw", faults=frozenset())
        newest = ("SELECT round(extract(epoch from now() - max(last_update_at)) / 60) "
                  "FROM campaign_targets WHERE campaign_id = "
                  f"{app_db.CAMPAIGN.format(app_db.RUNNING)}")
        overdue = ("SELECT count(*) FROM send_queue WHERE status = 'PENDING' "
                   "AND next_attempt_at < now()")
        with pg.superuser(app_db.DATABASE) as conn:
            conn.execute("UPDATE campaign_targets SET last_update_at = last_update_at - "
                         "interval '10 minutes'")
            conn.execute("UPDATE send_queue SET next_attempt_at = now() - interval '1 hour'")
            assert conn.execute(newest).fetchone()[0] >= 10
            assert conn.execute(overdue).fetchone()[0] == 20
        dispatcher = app_db.Dispatcher(pg).start()
        try:
            with pg.superuser(app_db.DATABASE) as conn:
                for _ in range(100):
                    if conn.execute(newest).fetchone()[0] <= 1:
                        break
                    time.sleep(0.05)
                assert conn.execute(newest).fetchone()[0] <= 1
                assert conn.execute(overdue).fetchone()[0] == 0
        finally:
            dispatcher.stop()
    finally:
        pg.stop()

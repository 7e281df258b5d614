"""Sign-up disabled / PIN flow unavailable: the sign-up status, the bot token, and what
Telegram says of the bot and its webhook (both read-only calls)."""

from fixtures.catalog import check
from fixtures.expect import expect

DEFAULTS = {"webhook_pending_max": 10}


@check("chatwoot.signup.status", severity="high", runbook="signup.md#sign-up-status",
       needs=("app",))
def test_signup_status(diag):
    status = diag.http.get("app", "/auth/signup/status")
    expect("[STATUS] of GET /auth/signup/status", status.outcome, "==", "200")
    expect("[BODY].has_telegram_token", status.body("has_telegram_token"), "==", True)
    expect("[BODY].owner_bound", status.body("owner_bound"), "==", True,
           note="no Telegram owner has sent /bind to the bot")


@check("chatwoot.signup.env.telegram", severity="high", runbook="signup.md#bot-token-set")
def test_bot_token_set(env_file):
    expect(f"TELEGRAM_BOT_TOKEN in {env_file.where}", env_file.shown("TELEGRAM_BOT_TOKEN"),
           "==", "set", note=env_file.error or None)


def _bot(diag, server_env, method: str):
    token = server_env.values.get("TELEGRAM_BOT_TOKEN", "")
    expect("TELEGRAM_BOT_TOKEN", "set" if token else "empty", "==", "set")
    answer = diag.http.get("telegram", f"/bot{token}/{method}")
    expect(f"[STATUS] of Telegram's {method}", answer.outcome, "==", "200",
           note=answer.body("description") if answer.status != 200 else None)
    return answer


@check("chatwoot.signup.telegram.bot", severity="high", runbook="signup.md#bot-answers",
       category="credentials")
def test_bot_answers(diag, server_env):
    answer = _bot(diag, server_env, "getMe")
    expect("[BODY].result.is_bot", answer.body("result.is_bot"), "==", True)


@check("chatwoot.signup.telegram.webhook", severity="medium", runbook="signup.md#webhook-delivery")
def test_webhook(diag, server_env):
    info = _bot(diag, server_env, "getWebhookInfo")
    expect("[BODY].result.url", info.body("result.url") or "", "!=", "",
           note="no webhook is registered: /bind can never reach the server")
    expect("[BODY].result.last_error_message", info.body("result.last_error_message"), "==",
           None)
    expect("[BODY].result.pending_update_count", info.body("result.pending_update_count"),
           "<=", int(diag.settings("signup", DEFAULTS)["webhook_pending_max"]))

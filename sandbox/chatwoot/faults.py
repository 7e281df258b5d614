"""Named failure states of the Chatwoot/RAG MVP: its API and proxy, its database's
jobs, data, scheduler, sign-up and outbound rows, its env file, and the Chatwoot, OpenAI
and Telegram APIs it calls.

A name's first word says which piece of the stand-in it breaks, so faults of different
pieces can share a run."""

from collections.abc import Iterable

from sandbox.parts import faults as parts_faults

FAULTS: dict[str, str] = {
    "cwapp_down": "the MVP's API does not answer (nothing listens on its port)",
    "cwapp_login_rejected": "POST /auth/login answers 401 invalid_credentials for the "
    "diagnostics' user (AUTH_PASSWORD was changed)",
    "cwapp_csrf_not_enforced": "a protected POST without x-csrf-token is accepted",
    "cwapp_cookie_domain_wrong": "the session cookie is set for Domain=dashboard.lab.pics, "
    "not the UI's host, so the browser never sends it back",
    "cwproxy_strips_cookies": "the reverse proxy drops Set-Cookie from the sign-in answer",
    "cw_db_port_closed": "the MVP's database refuses connections where the diagnostics run",
    "cwjobs_sync_pending": "globex-sales' latest chatwoot_sync run has been 'running' for 3 h",
    "cwjobs_sync_failed": "globex-sales' latest chatwoot_sync run failed (Chatwoot answered "
    "500)",
    "cwjobs_embeddings_failing": "acme-support's latest embeddings_run failed with "
    "EMBED_BATCH_SIZE=100",
    "cwdata_messages_missing": "globex-sales has no cw_messages rows and no rag_chunks",
    "cwdata_embeddings_none": "every rag_chunks row of globex-sales is still 'pending' "
    "(ready = 0)",
    "cwdata_backlog": "acme-support has 2,000 rag_chunks waiting to be embedded",
    "cwsession_no_project": "the operator's latest session has no active project",
    "cwsched_failing": "acme-support's scheduled chatwoot_sync failed: last_error set and a "
    "failed worker_runs row",
    "cwsched_stalled": "globex-sales' scheduled jobs are 3 h overdue (the worker loop stopped)",
    "cwsched_source_unbound": "globex-sales has no project_sources binding to a Chatwoot "
    "account",
    "cwsignup_owner_unbound": "no Telegram owner is bound (app_settings has no owner ids)",
    "cwoutbound_failed": "an acme-support outbound message failed for good "
    "(simulated_provider_failure, retries used up) and a draft has waited 3 days",
    "cwoutbound_opted_out": "an acme-support outbound message is blocked_opt_out",
    "cwoutbound_capped": "an acme-support outbound message failed on frequency_cap_reached",
    "cwenv_openai_key_unset": "OPENAI_API_KEY is empty in the server's env file",
    "cwenv_chatwoot_token_unset": "CHATWOOT_API_TOKEN is empty in the server's env file",
    "cwenv_telegram_token_unset": "TELEGRAM_BOT_TOKEN is empty in the server's env file",
    "cwenv_cors_origin_wrong": "CORS_ORIGIN is https://dashboard.lab.pics, not the UI's origin",
    "chatwoot_token_rejected": "Chatwoot answers 401 to the server's API token; every sync "
    "since failed",
    "chatwoot_account_wrong": "globex-sales is bound to Chatwoot account 404404, which "
    "Chatwoot does not have; its sync failed",
    "openai_key_rejected": "OpenAI answers 401 invalid_api_key to the server's key",
    "openai_quota_exceeded": "OpenAI answers 429 insufficient_quota to the server's key",
    "telegram_token_revoked": "Telegram answers 401 Unauthorized to the bot token",
    "telegram_webhook_failing": "Telegram's last webhook delivery failed and 42 updates wait",
}

# Each group sets one piece of state to different values, so at most one member may be chosen.
EXCLUSIVE: tuple[frozenset[str], ...] = (
    # globex-sales' latest sync run: still running, failed on a 500, a 401 or a 404.
    frozenset({"cwjobs_sync_pending", "cwjobs_sync_failed", "chatwoot_token_rejected",
               "chatwoot_account_wrong"}),
    # globex-sales' data: no messages at all, or messages whose chunks wait.
    frozenset({"cwdata_messages_missing", "cwdata_embeddings_none"}),
    # globex-sales' binding: absent, or pointing at an unknown account.
    frozenset({"cwsched_source_unbound", "chatwoot_account_wrong"}),
    # what OpenAI says to the key: an empty key is never sent.
    frozenset({"openai_key_rejected", "openai_quota_exceeded", "cwenv_openai_key_unset"}),
    frozenset({"telegram_token_revoked", "cwenv_telegram_token_unset",
               "telegram_webhook_failing"}),
)


def check_faults(names: Iterable[str]) -> frozenset[str]:
    """Reject typos and contradictions up front, where the caller can still see which name."""
    return parts_faults.check_faults(names, FAULTS, EXCLUSIVE)

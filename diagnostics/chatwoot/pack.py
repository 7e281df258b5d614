"""The Chatwoot/RAG MVP: search, Chatwoot syncs, sign-in, the scheduler and worker,
embeddings, sign-up and outbound delivery."""

from __future__ import annotations

from diagnostics.chatwoot import (
    evidence,
    gates,  # noqa: F401 - registers the MVP's upstreams
)
from fixtures.packs import Pack


def stand_in(section, faults: frozenset[str], areas: set[str]):
    """The MVP's sandbox stand-in, given the credentials the section's env vars hold: the
    diagnostics' password, the reader role's, and the server's own secrets."""
    from sandbox.chatwoot import StandIn

    app, named = section.area("app"), section.area("server_env")
    return StandIn(
        faults,
        username=str(app.get("username", "diagnostics")),
        password=section.secret(str(app.get("password_env", ""))),
        db_password=section.secret(section.dsn.get("cw_db_password_env", "")),
        server={key.removesuffix("_env"): section.secret(str(value))
                for key, value in named.items()},
    )


def faults() -> dict[str, str]:
    from sandbox.chatwoot.faults import FAULTS

    return FAULTS


PACK = Pack(
    name="chatwoot",
    title="the Chatwoot/RAG MVP: search, Chatwoot syncs, sign-in, scheduler, embeddings, "
          "sign-up and outbound delivery",
    areas={
        "search": "search returns no results: jobs, active project, scoped data, OpenAI key",
        "sync": "Chatwoot sync: the latest run's error, CHATWOOT_* settings, the token",
        "auth": "auth loop: the API, sign-in cookies, CSRF, CORS and the reverse proxy",
        "scheduler": "scheduler tick and worker runs: errors, overdue jobs, backlog, bindings",
        "embeddings": "embeddings: the OpenAI key and quota, failed runs and batch size",
        "signup": "sign-up and PIN flow: status, the Telegram bot and its webhook",
        "outbound": "outbound delivery: stuck, failed, opted-out and capped messages",
    },
    required_urls=("app",),
    ungated_http={"chatwoot_api": "sync", "openai": "embeddings", "telegram": "signup"},
    stand_in=stand_in,
    faults=faults,
    writers=(evidence.write,),
)

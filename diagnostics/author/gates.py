"""The author app's upstreams: its database (as a read-only role), Redis at the API's
REDIS_URL, AWS (STS answers for the app's keys), and the container engine the API and
the worker run on."""

from __future__ import annotations

from diagnostics.author import app
from fixtures import upstreams
from fixtures.context import Context
from fixtures.gates import Verdict, register

SYSTEM = "author"

upstreams.register_databases(SYSTEM, {"author_db": "author.migrations.db.reachable"})


@register("redis", "author.sessions.redis.reachable")
def redis_gate(ctx: Context, _key: str) -> Verdict:
    """AUTH and PING at REDIS_URL: session lookups and the worker's queue both need it."""
    unavailable = str(ctx.profile.area("sessions").get("redis_unavailable", ""))
    if unavailable:
        return Verdict(False, unavailable, unavailable=True)
    store = app.redis_store(ctx)
    ok, reason = store.ping()
    return Verdict(ok, reason)


@register("aws", "author.storage.aws.reachable")
def aws_gate(ctx: Context, _key: str) -> Verdict:
    return upstreams.aws(ctx, "sts", "get_caller_identity",
                         lambda answer: f"GetCallerIdentity for account {answer.get('Account')}")


@register("engine", "author.worker.engine.reachable")
def engine_gate(ctx: Context, _key: str) -> Verdict:
    return upstreams.engine(ctx)

"""API authentication: one JWT_SECRET for the API and the web app, Redis at REDIS_URL,
and the sessions the API writes there."""

from fixtures.catalog import check, upstream_check
from fixtures.expect import expect
from fixtures.redact import digest

from ..conftest import settings

test_redis_reachable = upstream_check(
    "author.sessions.redis.reachable", "redis", "Redis at REDIS_URL answers AUTH and PING",
    severity="critical", runbook="sessions.md#redis-reachable")


@check("author.sessions.jwt.match", severity="critical", category="credentials",
       runbook="sessions.md#jwt-secret-matches")
def test_jwt_secret_matches(api_env, web_env):
    api, web = (env.values.get("JWT_SECRET", "") for env in (api_env, web_env))
    expect(f"JWT_SECRET in {api_env.where}", "set" if api else "empty", "==", "set")
    expect(f"JWT_SECRET in {web_env.where}", "set" if web else "empty", "==", "set")
    expect("the SHA-256 digests of the two JWT_SECRET values",
           "equal" if digest(api) == digest(web) else "different", "==", "equal",
           note="neither value is shown")


@check("author.sessions.redis.keys", severity="high", needs=("redis",),
       runbook="sessions.md#session-keys-in-redis", category="missing data")
def test_session_keys(diag, redis):
    wanted = settings(diag, "sessions")
    count, finished = redis.count_keys(str(wanted["session_pattern"]))
    expect(f"keys matching {wanted['session_pattern']} in {redis.shown}", count, ">=",
           int(wanted["min_sessions"]), note=None if finished else "scan stopped early")

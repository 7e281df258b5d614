"""Observations the author app's areas share: its env files, its database as a
read-only role, Redis, and the area settings with the playbook's defaults."""

from __future__ import annotations

import pytest

from diagnostics.author import app
from fixtures import shared
from fixtures.context import Context
from fixtures.expect import expect
from fixtures.probes.engine import Container
from fixtures.shared import rows_from

DEFAULTS = {
    "migrations": {"migrator_role": "author_migrator", "url_var": "DATABASE_URL",
                   "migrations_table": "_prisma_migrations", "api_container": "author-api"},
    "sessions": {"session_pattern": "sess:*", "min_sessions": 1},
    "email": {"smtp_auth": True, "smtp_require_tls": True, "smtp_ca_file": "",
              "sender_domain": "", "max_suppressions": 10, "smtp_host": "", "smtp_port": 0},
    "storage": {"account": "", "role": "author-app", "bucket": "author-recordings",
                "multipart_max_age_hours": 24, "max_4xx_errors": 100},
    "worker": {"queue": "detections", "queue_prefix": "bull", "max_queue_depth": 1000,
               "model_bucket": "author-models", "model_key": "detector/{version}/model.tar.gz",
               "container": "author-worker", "log_evidence_lines": 20},
}


def settings(diag: Context, area: str) -> dict:
    return diag.settings(area, DEFAULTS[area])


def _env(diag: Context, key: str) -> app.EnvFile:
    """A file the profile does not name is not run; one it names that is missing fails."""
    if not diag.profile.paths.get(key):
        pytest.skip(f"not run: the target profile names no {diag.profile.table('paths')} {key}")
    found = app.env_file(diag, key)
    if found.error:
        pytest.fail(f"{found.error}: {app.ENV_FILES[key]}'s env file", pytrace=False)
    return found


@pytest.fixture
def api_env(diag: Context) -> app.EnvFile:
    return _env(diag, "api_env")


@pytest.fixture
def web_env(diag: Context) -> app.EnvFile:
    return _env(diag, "web_env")


@pytest.fixture
def worker_env(diag: Context) -> app.EnvFile:
    return _env(diag, "worker_env")


@pytest.fixture
def container(diag: Context):
    """Inspect a running container (state, masked env, value digests, log tail)."""

    def inspect(name: str) -> Container:
        found = shared.container(diag, name)
        expect(f"container {name}", found.status if found.exists else "missing", "==",
               "running")
        return found

    return inspect


@pytest.fixture
def rows(diag: Context):
    """Queries as the read-only role (``[author.dsn] author_db``)."""
    return rows_from(diag, "author_db")


@pytest.fixture
def redis(diag: Context) -> app.RedisStore:
    """Redis, once the redis gate answered."""
    return app.redis_store(diag)


@pytest.fixture
def aws_call(diag: Context):
    """An AWS call with the profile's keys that fails the check with AWS's one-line
    error, never a traceback."""
    from fixtures.probes.aws import AwsError

    def call(service: str, operation: str, **params):
        try:
            return diag.aws.call(service, operation, **params)
        except AwsError as exc:
            pytest.fail(str(exc), pytrace=False)

    return call

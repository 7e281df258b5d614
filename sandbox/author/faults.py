"""Named failure states of the author app: its database's roles, grants and migrations,
its env files, Redis (sessions and the worker's queue), the SMTP server and the mail
provider, S3, STS and CloudWatch, LocalStack, and the worker.

A name's first word says which piece of the stand-in it breaks, so faults of different
pieces can share a run."""

from collections.abc import Iterable

from sandbox.parts import faults as parts_faults

FAULTS: dict[str, str] = {
    "author_db_port_closed": "the author database refuses connections where the "
    "diagnostics run",
    "authordb_grant_missing": "INSERT on _prisma_migrations was revoked from "
    "author_migrator, which grants.sql declares (migrations fail with SQLSTATE 42501)",
    "authordb_migrator_nologin": "the author_migrator role exists but cannot log in",
    "authordb_migration_failed": "a migration started and never finished "
    "(_prisma_migrations.finished_at is null)",
    "authorenv_migrator_role_wrong": "the API's DATABASE_URL connects as author_app, not "
    "as the migration role",
    "authorenv_jwt_mismatch": "JWT_SECRET in the web app's env differs from the API's",
    "authorredis_down": "nothing listens at REDIS_URL",
    "authorredis_sessions_missing": "Redis holds no session keys (they were flushed)",
    "authorredis_queue_backlog": "the worker's queue holds 1,500 waiting jobs",
    "authorsmtp_auth_refused": "the SMTP server refuses the env's SMTP credentials "
    "(535: the password was rotated at the provider)",
    "authorsmtp_down": "nothing listens at SMTP_HOST:SMTP_PORT",
    "authorsmtp_no_starttls": "the SMTP server offers no STARTTLS (and would take AUTH "
    "in the clear)",
    "authorsmtp_tls_untrusted": "the SMTP server's certificate is signed by a CA other than "
    "the one in the profile's smtp_ca_file",
    "mailgun_incident": "the provider's status page reports a major incident",
    "mailgun_bounces_high": "the provider lists 25 bounces for the sending domain",
    "authoraws_sts_down": "STS answers 503 ServiceUnavailable to GetCallerIdentity",
    "authoraws_wrong_role": "the app's AWS keys belong to role author-ci, not author-app",
    "authors3_policy_principal_missing": "the recordings bucket's policy no longer names "
    "the author-app role",
    "authors3_stale_multipart": "a recording's multipart upload has been in progress "
    "for 3 days",
    "authors3_4xx_spike": "CloudWatch shows 480 4xxErrors on the recordings bucket in the "
    "last hour",
    "authors3_model_artifact_missing": "the model artifact DETECTOR_MODEL_VERSION names "
    "is not in the models bucket",
    "localstack_s3_error": "LocalStack's health endpoint reports s3 in error",
    "authorworker_model_mismatch": "the worker runs DETECTOR_MODEL_VERSION 2026.11.2 while "
    "the deployed bundle is 2026.11.3",
    "authorworker_log_errors": "the worker container's recent log has error lines",
    "authorengine_down": "the engine socket the profile names is gone (the API and the "
    "worker containers cannot be read)",
    "authorapi_container_env_stale": "the API container was started before its .env was "
    "last edited: it still sees the previous JWT_SECRET and SMTP_PORT",
}

# Each group sets one piece of state to different values, so at most one member may be chosen.
EXCLUSIVE: tuple[frozenset[str], ...] = (
    frozenset({"authorsmtp_auth_refused", "authorsmtp_down", "authorsmtp_no_starttls",
               "authorsmtp_tls_untrusted"}),
    frozenset({"authoraws_sts_down", "authoraws_wrong_role"}),
    frozenset({"authorredis_down", "authorredis_sessions_missing",
               "authorredis_queue_backlog"}),
    # with the engine gone, the containers' own faults cannot be seen
    frozenset({"authorengine_down", "authorapi_container_env_stale"}),
    frozenset({"authorengine_down", "authorworker_log_errors"}),
    # the artifact checked is the one the worker's version names, which the other changes
    frozenset({"authors3_model_artifact_missing", "authorworker_model_mismatch"}),
)


def check_faults(names: Iterable[str]) -> frozenset[str]:
    """Reject typos and contradictions up front, where the caller can still see which name."""
    return parts_faults.check_faults(names, FAULTS, EXCLUSIVE)

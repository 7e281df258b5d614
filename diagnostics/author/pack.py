"""The author app: database migrations and grants, API sessions, email delivery, S3 and
storage, and the worker's detection pipeline."""

from __future__ import annotations

from diagnostics.author import gates  # noqa: F401 - registers the author app's upstreams
from fixtures.packs import Pack

# The app's secrets the stand-in writes where the app keeps them: [author.app_env] names
# the env vars holding them (the checks read the app's env files, never these).
APP_SECRETS = ("migrator_password", "jwt_secret", "smtp_password", "redis_password")
# The areas whose checks read the API's or the worker's container.
CONTAINER_AREAS = frozenset({"migrations", "worker"})


def stand_in(section, faults: frozenset[str], areas: set[str]):
    """The author app's sandbox stand-in, given the credentials the section's env vars
    hold, so the suite meets the values a real deployment would check."""
    from sandbox.author import StandIn

    named = section.area("app_env")
    given = {name: section.secret(str(named.get(f"{name}_env", ""))) for name in APP_SECRETS}
    given["db_password"] = section.secret(section.dsn.get("author_db_password_env", ""))
    given["provider_api_key"] = section.secret(
        str(section.area("email").get("provider_api_key_env", "")))
    for key in ("access_key_id", "secret_access_key"):
        given[f"aws_{key}"] = section.secret(section.aws.get(f"{key}_env", ""))
    return StandIn(faults, secrets_=given, containers=bool(areas & CONTAINER_AREAS))


def faults() -> dict[str, str]:
    from sandbox.author.faults import FAULTS

    return FAULTS


PACK = Pack(
    name="author",
    title="the author app: migrations and grants, sessions, email, storage and the worker",
    areas={
        "migrations": "database migrations: the migration role in DATABASE_URL, its login "
                      "and grants against grants.sql, Prisma's _prisma_migrations",
        "sessions": "API authentication: JWT_SECRET shared by the API and web app, Redis at "
                    "REDIS_URL and the session keys",
        "email": "email delivery: an SMTP exchange with AUTH (no mail sent), the provider's "
                 "status and its suppression lists",
        "storage": "S3 and storage: the caller's role, the bucket policy, stale multipart "
                   "uploads, LocalStack's health, CloudWatch 4xxErrors",
        "worker": "worker and detection: DETECTOR_MODEL_VERSION against the bundle and S3, "
                  "the queue depth, the worker log's error lines",
    },
    ungated_http={"provider_status": "email", "provider_api": "email",
                  "localstack": "storage"},
    stand_in=stand_in,
    faults=faults,
    summary_notes=("escalation.md#support-escalation-paths",),
)

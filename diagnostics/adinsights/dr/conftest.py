"""Observations for ADinsights' audit trail: its history in the application database and
its daily archive in S3."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from fixtures.context import Context
from fixtures.probes.aws import AwsError
from fixtures.shared import rows_from

DEFAULTS: dict[str, Any] = {
    "audit_retention_days": 365,
    "audit_grace_days": 1,
    "archive_bucket": "",
    "archive_prefix": "accounts_auditlog/",
    "archive_days": 7,
}
MIN_RETENTION_DAYS = 365


@pytest.fixture
def dr_settings(diag: Context) -> dict:
    return diag.settings("dr", DEFAULTS)


def now() -> datetime:
    return datetime.now(UTC)


@pytest.fixture
def audit_db(diag: Context):
    return rows_from(diag, "audit_db")


@pytest.fixture
def archive_call(diag: Context, dr_settings: dict):
    """An S3 call on the archive bucket; the error, if any, becomes the answer's note."""
    bucket = str(dr_settings["archive_bucket"])

    def call(operation: str, **params: Any) -> tuple[dict, str]:
        try:
            return diag.aws.call("s3", operation, Bucket=bucket, **params), ""
        except AwsError as exc:
            return {}, str(exc)

    return call

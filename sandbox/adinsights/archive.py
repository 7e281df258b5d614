"""Where ADinsights archives its audit trail: the daily exports of ``accounts_auditlog``
in the S3 bucket ``adinsights-audit-archive``, with the bucket's encryption, policy and
public access block, each in the state a fault names. The objects live in moto, seeded
over HTTP before the request log starts.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sandbox.parts.aws import SEED_KEY, AwsServer, Call, Override, Reply

EXPORT_MISSING, UNENCRYPTED, PUBLIC = "dr_export_missing", "dr_bucket_unencrypted", \
    "dr_bucket_public"
S3_DOWN = "dr_s3_down"

ARCHIVE_BUCKET, ARCHIVE_PREFIX = "adinsights-audit-archive", "accounts_auditlog/"
EXPORT_DAYS = 10  # more than the 7 the profile checks, so the window has a past
MISSING_EXPORT_DAYS_AGO = 3


@dataclass(frozen=True)
class ArchiveState:
    """Which days were exported follows from the faults and the day the run started."""

    faults: frozenset[str]
    now: datetime

    @property
    def export_days(self) -> list[date]:
        today = self.now.date()
        days = [today - timedelta(days=n) for n in range(1, EXPORT_DAYS + 1)]
        if EXPORT_MISSING in self.faults:
            days.remove(today - timedelta(days=MISSING_EXPORT_DAYS_AGO))
        return days


def seed(aws: AwsServer, state: ArchiveState) -> None:
    """The archive bucket, its exports and its protections, over HTTP."""
    s3 = aws.client("s3")
    s3.create_bucket(Bucket=ARCHIVE_BUCKET)
    for day in state.export_days:
        s3.put_object(Bucket=ARCHIVE_BUCKET, Key=f"{ARCHIVE_PREFIX}{day:%Y-%m-%d}.jsonl.gz",
                      Body=b'{"action":"user.login"}\n', ServerSideEncryption="aws:kms")
    if UNENCRYPTED not in state.faults:
        s3.put_bucket_encryption(Bucket=ARCHIVE_BUCKET, ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"}}]})
    s3.put_bucket_policy(Bucket=ARCHIVE_BUCKET, Policy=json.dumps(archive_policy(state.faults)))
    if PUBLIC not in state.faults:
        s3.put_public_access_block(Bucket=ARCHIVE_BUCKET, PublicAccessBlockConfiguration={
            name: True for name in ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy",
                                    "RestrictPublicBuckets")})


def archive_policy(faults: frozenset[str]) -> dict[str, Any]:
    """TLS only and, unless the bucket is meant to be unencrypted, no upload without SSE;
    the public fault adds the anonymous read someone granted "just for a day"."""
    arn = f"arn:aws:s3:::{ARCHIVE_BUCKET}"
    statements: list[dict[str, Any]] = [
        {"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
         "Resource": [arn, f"{arn}/*"], "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
    ]
    if UNENCRYPTED not in faults:
        statements.append(
            {"Sid": "DenyUnencryptedUploads", "Effect": "Deny", "Principal": "*",
             "Action": "s3:PutObject", "Resource": f"{arn}/*",
             "Condition": {"Null": {"s3:x-amz-server-side-encryption": "true"}}})
    if PUBLIC in faults:
        statements.append({"Sid": "PublicRead", "Effect": "Allow", "Principal": "*",
                           "Action": "s3:GetObject", "Resource": f"{arn}/*"})
    return {"Version": "2012-10-17", "Statement": statements}


def override(faults: frozenset[str]) -> Override:
    """S3 unavailable: every call but the seeding answers 503 SlowDown-style errors. The
    moto server is shared, so this holds for every system's buckets, as an S3 outage
    would."""

    def answer(call: Call) -> Reply | None:
        auth = call.headers.get("authorization", "")
        if S3_DOWN not in faults or "/s3/aws4_request" not in auth \
                or f"Credential={SEED_KEY[0]}/" in auth:
            return None
        body = ("<?xml version='1.0' encoding='UTF-8'?><Error><Code>ServiceUnavailable</Code>"
                "<Message>Please reduce your request rate.</Message>"
                f"<RequestId>{uuid.uuid4().hex[:16]}</RequestId></Error>")
        return Reply(503, body.encode(), "application/xml")

    return answer

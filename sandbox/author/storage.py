"""The author app's AWS, seeded on the sandbox's moto server: the ``author-app`` role and
a session of it bound to the app's access key, the recordings bucket with its policy and
an in-progress multipart upload, the models bucket with the detector's artifacts, and
the bucket's ``4xxErrors`` metric in CloudWatch.

moto answers ``ListMultipartUploads`` with a fixed 2010 ``Initiated`` date, and reads
the caller of ``GetCallerIdentity`` only from keys shaped like AWS's own (20 capitals and
digits), so two small overrides answer those calls from moto's own state: its uploads,
with the times they were started, and its role sessions, by the key that signed the call.
"""

from __future__ import annotations

import json
import re
from collections.abc import Set
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs
from xml.sax.saxutils import escape

from sandbox.parts.aws import AwsServer, Call, Reply

ACCOUNT = "123456789012"
ROLE = "author-app"
OTHER_ROLE = "author-ci"
BUCKET = "author-recordings"
MODELS = "author-models"
MODEL_KEY = "detector/{version}/model.tar.gz"
BUNDLE_VERSION = "2026.11.3"
PREVIOUS_VERSION = "2026.11.2"
UPLOAD_KEY = "recordings/usr_7/rec_31.webm"
_TRUST = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"},
    "Action": "sts:AssumeRole"}]})


def role_arn(name: str) -> str:
    return f"arn:aws:iam::{ACCOUNT}:role/{name}"


@dataclass
class StorageState:
    faults: Set[str]
    access_key: str
    secret_key: str
    started: dict[str, datetime] = field(default_factory=dict)  # upload id -> initiated


def seed(aws: AwsServer, state: StorageState) -> None:
    _bind_role(aws, state)
    s3 = aws.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    principal = role_arn(OTHER_ROLE if "authors3_policy_principal_missing" in state.faults
                         else ROLE)
    s3.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps({
        "Version": "2012-10-17", "Statement": [{
            "Sid": "AppReadWrite", "Effect": "Allow", "Principal": {"AWS": principal},
            "Action": ["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload",
                       "s3:ListMultipartUploadParts"],
            "Resource": f"arn:aws:s3:::{BUCKET}/*"}]}))
    now = datetime.now(UTC)
    ages = [timedelta(minutes=12)]
    if "authors3_stale_multipart" in state.faults:
        ages.append(timedelta(days=3, hours=2))
    for n, age in enumerate(ages):
        upload = s3.create_multipart_upload(Bucket=BUCKET, Key=UPLOAD_KEY.replace("31", f"3{n}"))
        state.started[upload["UploadId"]] = now - age
    s3.create_bucket(Bucket=MODELS)
    for version in (PREVIOUS_VERSION, BUNDLE_VERSION):
        if version == BUNDLE_VERSION and "authors3_model_artifact_missing" in state.faults:
            continue
        s3.put_object(Bucket=MODELS, Key=MODEL_KEY.format(version=version),
                      Body=f"detector {version}".encode())
    errors = 480 if "authors3_4xx_spike" in state.faults else 3
    aws.client("cloudwatch").put_metric_data(Namespace="AWS/S3", MetricData=[{
        "MetricName": "4xxErrors", "Value": float(errors), "Unit": "Count",
        "Timestamp": now - timedelta(minutes=20),
        "Dimensions": [{"Name": "BucketName", "Value": BUCKET},
                       {"Name": "FilterId", "Value": "EntireBucket"}]}])


def _bind_role(aws: AwsServer, state: StorageState) -> None:
    """moto issues its own keys for a role session; the app's keys are the profile's, so
    the session moto made is re-keyed to them in moto's own state."""
    name = OTHER_ROLE if "authoraws_wrong_role" in state.faults else ROLE
    iam = aws.client("iam")
    for role in (ROLE, OTHER_ROLE):
        iam.create_role(RoleName=role, AssumeRolePolicyDocument=_TRUST)
    made = aws.client("sts").assume_role(RoleArn=role_arn(name), RoleSessionName="author-api")
    assumed = _assumed(made["Credentials"]["AccessKeyId"])
    if assumed is not None:
        assumed.access_key_id = state.access_key
        assumed.secret_access_key = state.secret_key


_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/")


def _assumed(access_key: str):
    from moto.backends import get_backend

    for regions in get_backend("sts").values():
        for backend in regions.values():
            for assumed in backend.assumed_roles:
                if assumed.access_key_id == access_key:
                    return assumed
    return None


def identity_override(state: StorageState):
    """``GetCallerIdentity`` signed by a key bound to a role session answers that session
    (or 503, when STS is down)."""

    def answer(call: Call) -> Reply | None:
        if call.action != "GetCallerIdentity":
            return None
        if "authoraws_sts_down" in state.faults:
            return Reply(503, _STS_DOWN.encode())
        return _identity(call)

    return answer


_STS_DOWN = ('<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error>'
             "<Type>Receiver</Type><Code>ServiceUnavailable</Code><Message>Service is "
             "unavailable</Message></Error><RequestId>0</RequestId></ErrorResponse>")


def _identity(call: Call) -> Reply | None:
    match = _CREDENTIAL.search(call.headers.get("authorization", ""))
    assumed = _assumed(match.group(1)) if match else None
    if assumed is None:
        return None
    body = ('<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'
            f"<GetCallerIdentityResult><Arn>{escape(assumed.arn)}</Arn><UserId>"
            f"{escape(assumed.user_id)}</UserId><Account>{assumed.account_id}</Account>"
            "</GetCallerIdentityResult><ResponseMetadata><RequestId>"
            "c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId></ResponseMetadata>"
            "</GetCallerIdentityResponse>")
    return Reply(200, body.encode())


def multipart_override(state: StorageState):
    """``GET /<bucket>?uploads`` from moto's uploads, with their real start times."""

    def answer(call: Call) -> Reply | None:
        if call.method != "GET" or "uploads" not in parse_qs(call.query,
                                                            keep_blank_values=True):
            return None
        bucket = call.path.strip("/").split("/")[0]
        if bucket != BUCKET:
            return None
        from moto.backends import get_backend

        uploads = {}
        for regions in get_backend("s3").values():
            for backend in regions.values():
                if BUCKET in backend.buckets:
                    uploads = backend.buckets[BUCKET].multiparts
        rows = "".join(
            f"<Upload><Key>{escape(u.key_name)}</Key><UploadId>{escape(upload_id)}</UploadId>"
            f"<Initiator><ID>{role_arn(ROLE)}</ID><DisplayName>{ROLE}</DisplayName></Initiator>"
            "<StorageClass>STANDARD</StorageClass><Initiated>"
            f"{state.started.get(upload_id, datetime.now(UTC)).strftime('%Y-%m-%dT%H:%M:%S.000Z')}"
            "</Initiated></Upload>" for upload_id, u in uploads.items())
        body = ('<?xml version="1.0" encoding="UTF-8"?><ListMultipartUploadsResult '
                'xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
                f"<Bucket>{BUCKET}</Bucket><KeyMarker></KeyMarker><UploadIdMarker>"
                "</UploadIdMarker><MaxUploads>1000</MaxUploads><IsTruncated>false"
                f"</IsTruncated>{rows}</ListMultipartUploadsResult>")
        return Reply(200, body.encode())

    return answer

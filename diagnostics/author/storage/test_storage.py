"""S3 and storage: the app's AWS identity, the bucket policy, stale multipart uploads,
LocalStack in local profiles, and the bucket's 4xxErrors."""

import json
from datetime import UTC, datetime, timedelta

import pytest

from fixtures import evidence
from fixtures.catalog import check, upstream_check
from fixtures.expect import expect

from ..conftest import settings

test_aws_reachable = upstream_check(
    "author.storage.aws.reachable", "aws", "STS answers GetCallerIdentity for the app's keys",
    severity="critical", runbook="storage.md#aws-reachable")


def role_arn(account: str, role: str) -> str:
    return f"arn:aws:iam::{account}:role/{role}"


def _as_role(arn: str) -> str:
    """``arn:aws:sts::<account>:assumed-role/<role>/<session>`` as the role's own ARN."""
    head, _, rest = arn.partition(":assumed-role/")
    if not rest:
        return arn
    return role_arn(head.split(":")[4], rest.split("/")[0])


def _account(diag, aws_call) -> str:
    wanted = str(settings(diag, "storage")["account"])
    return wanted or str(aws_call("sts", "get_caller_identity").get("Account", ""))


@check("author.storage.aws.identity", severity="critical", needs=("aws",),
       runbook="storage.md#caller-identity-is-the-app-role", category="credentials")
def test_caller_identity(diag, aws_call):
    wanted = settings(diag, "storage")
    answer = aws_call("sts", "get_caller_identity")
    expected = role_arn(_account(diag, aws_call), str(wanted["role"]))
    expect("the caller's role (sts get-caller-identity)", _as_role(str(answer.get("Arn"))),
           "==", expected)


@check("author.storage.bucket.policy", severity="high", needs=("aws",),
       runbook="storage.md#bucket-policy-allows-the-app-role")
def test_bucket_policy(diag, aws_call):
    wanted = settings(diag, "storage")
    principal = role_arn(_account(diag, aws_call), str(wanted["role"]))
    policy = json.loads(aws_call("s3", "get_bucket_policy", Bucket=wanted["bucket"])
                        .get("Policy") or "{}")
    allowed = set()
    for statement in policy.get("Statement", []):
        if statement.get("Effect") != "Allow":
            continue
        named = (statement.get("Principal") or {})
        named = named.get("AWS", []) if isinstance(named, dict) else named
        allowed.update([named] if isinstance(named, str) else named)
    expect(f"principals allowed by the policy of {wanted['bucket']}", sorted(allowed),
           "contains", principal)


@check("author.storage.multipart.stale", severity="medium", needs=("aws",),
       runbook="storage.md#no-stale-multipart-upload", category="stale data")
def test_stale_multipart(diag, aws_call):
    wanted = settings(diag, "storage")
    hours = float(wanted["multipart_max_age_hours"])
    uploads = aws_call("s3", "list_multipart_uploads", Bucket=wanted["bucket"]).get(
        "Uploads", [])
    edge = datetime.now(UTC) - timedelta(hours=hours)
    stale = sorted((str(u.get("Initiated")), u.get("Key")) for u in uploads
                   if _when(u.get("Initiated")) < edge)
    if stale:
        evidence.observed_time("oldest multipart upload started", stale[0][0])
    evidence.record_table(f"multipart uploads older than {hours:g} h", ("initiated", "key"),
                          stale)
    expect(f"multipart uploads in progress for more than {hours:g} h", len(stale), "==", 0,
           note=f"oldest started {stale[0][0]}; {len(uploads)} in progress" if stale else None)


def _when(value) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return datetime.now(UTC)


@check("author.storage.localstack.health", severity="medium", category="service unhealthy",
       runbook="storage.md#localstack-running")
def test_localstack(diag):
    if diag.profile.production or not diag.profile.urls.get("localstack"):
        pytest.skip("not run: LocalStack is checked in local profiles only (non-production, "
                    f"with {diag.profile.table('urls')} localstack)")
    answer = diag.http.get("localstack", "/_localstack/health")
    expect("[STATUS] of LocalStack's /_localstack/health", answer.outcome, "==", "200")
    services = answer.body("services")
    expect("services listed by LocalStack", len(services) if isinstance(services, dict)
           else "none", ">", 0)
    broken = sorted(f"{name}: {state}" for name, state in services.items()
                    if state not in ("running", "available", "disabled"))
    expect("LocalStack services not running", broken, "is empty")


@check("author.storage.cloudwatch.errors", severity="high", needs=("aws",),
       runbook="storage.md#s3-4xxerrors", category="service unhealthy")
def test_4xx_errors(diag, aws_call):
    wanted = settings(diag, "storage")
    now = datetime.now(UTC)
    answer = aws_call("cloudwatch", "get_metric_statistics", Namespace="AWS/S3",
                      MetricName="4xxErrors", StartTime=now - timedelta(hours=1), EndTime=now,
                      Period=3600, Statistics=["Sum"],
                      Dimensions=[{"Name": "BucketName", "Value": wanted["bucket"]},
                                  {"Name": "FilterId", "Value": "EntireBucket"}])
    total = sum(float(p.get("Sum", 0)) for p in answer.get("Datapoints", []))
    expect(f"4xxErrors on {wanted['bucket']} in the last hour", total, "<",
           float(wanted["max_4xx_errors"]))

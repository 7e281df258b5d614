"""The sandbox's AWS part, and the probe that reads it: real HTTP, bounded, one-line errors."""

from __future__ import annotations

import pytest
from sandboxes import Sandbox

from fixtures import evidence
from fixtures.probes.aws import AwsError, AwsProbe
from fixtures.redact import Redactor
from sandbox.adinsights import Account
from sandbox.parts.http import refused_port

TIMEOUTS = {"connect": 1.0, "read": 2.0, "total": 5.0}
KEYS = {"access_key_id": "AKIACANARY0000000001", "secret_access_key": "aws-secret-canary"}


@pytest.fixture(scope="module")
def aws_sandbox(tmp_path_factory):
    with Sandbox([Account("acme", token="t")], workdir=tmp_path_factory.mktemp("aws"),
                 runtime={"aws"}) as sandbox:
        yield sandbox


def probe(endpoint: str | None) -> AwsProbe:
    settings = {"region": "us-east-1"} | ({"endpoint_url": endpoint} if endpoint is not None
                                         else {})
    return AwsProbe(settings, KEYS, TIMEOUTS, Redactor(KEYS.values()))


def test_probe_reads_moto_over_loopback_and_records_evidence(aws_sandbox):
    assert aws_sandbox.urls["aws"].startswith("http://127.0.0.1:")
    with evidence.capture() as recorder:
        answer = probe(aws_sandbox.urls["aws"]).call("s3", "list_buckets")
    assert "Buckets" in answer
    [entry] = recorder.entries
    assert entry.kind == "aws" and entry.target == "s3.list_buckets"
    assert ("GET", "/") in aws_sandbox.request_log
    text = repr(entry.as_dict())
    assert all(key not in text for key in KEYS.values())


def test_refused_endpoint_is_one_line_without_retries(aws_sandbox):
    dead = probe(f"http://127.0.0.1:{refused_port()}")
    with pytest.raises(AwsError) as info:
        dead.call("ses", "get_send_quota")
    message = str(info.value)
    assert "\n" not in message and "get_send_quota" in message
    assert "Could not connect" in message


def test_blank_endpoint_never_falls_back_to_aws():
    with pytest.raises(AwsError, match="endpoint_url is empty"):
        probe("").call("s3", "list_buckets")


def test_client_errors_name_the_aws_code(aws_sandbox):
    with pytest.raises(AwsError, match=r"NoSuchBucket \(HTTP 404\)"):
        probe(aws_sandbox.urls["aws"]).call("s3", "get_bucket_policy", Bucket="absent")

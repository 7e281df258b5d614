"""Worker and detection: the engine the worker runs on, the model version against the
deployed bundle and S3, the queue's depth, and the worker container's error lines."""

import re

from fixtures import evidence
from fixtures.catalog import check, upstream_check
from fixtures.expect import expect
from fixtures.probes import files
from fixtures.shared import profile_path

from ..conftest import settings

ERROR_LINE = re.compile(r"\b(error|fatal|panic|unhandled)\b", re.IGNORECASE)

test_engine_reachable = upstream_check(
    "author.worker.engine.reachable", "engine", "[ENGINE]", severity="critical",
    runbook="worker.md#container-engine-reachable")


@check("author.worker.model.version", severity="high",
       runbook="worker.md#model-version-matches-the-bundle")
def test_model_version(diag, worker_env):
    bundle = files.read_json(profile_path(diag, "model_bundle"), diag.redactor)
    expect("the deployed bundle's manifest", bundle.state, "==", "ok")
    deployed = (bundle.data.get("detector") or {}).get("version") \
        if isinstance(bundle.data, dict) else None
    expect(f"DETECTOR_MODEL_VERSION in {worker_env.where}",
           worker_env.values.get("DETECTOR_MODEL_VERSION", "(unset)"), "==", deployed)


@check("author.worker.model.artifact", severity="high", needs=("aws",),
       runbook="worker.md#model-artifact-in-s3", category="missing data")
def test_model_artifact(diag, worker_env, aws_call):
    wanted = settings(diag, "worker")
    version = worker_env.values.get("DETECTOR_MODEL_VERSION", "")
    expect(f"DETECTOR_MODEL_VERSION in {worker_env.where}", version or "(unset)", "!=",
           "(unset)")
    bucket = worker_env.values.get("MODEL_BUCKET") or wanted["model_bucket"]
    key = str(wanted["model_key"]).format(version=version)
    listed = aws_call("s3", "list_objects_v2", Bucket=bucket, Prefix=key, MaxKeys=1)
    found = [o.get("Key") for o in listed.get("Contents", []) if o.get("Key") == key]
    expect(f"s3://{bucket}/{key}", "present" if found else "missing", "==", "present")


@check("author.worker.queue.depth", severity="high", needs=("redis",),
       runbook="worker.md#queue-depth", category="stale data")
def test_queue_depth(diag, redis):
    wanted = settings(diag, "worker")
    prefix = f"{wanted['queue_prefix']}:{wanted['queue']}"
    parts = {"wait": "list", "paused": "list", "prioritized": "zset", "delayed": "zset"}
    counts = {name: redis.length(f"{prefix}:{name}", kind) for name, kind in parts.items()}
    evidence.record_table(f"queue {wanted['queue']}", ("state", "jobs"), sorted(counts.items()))
    expect(f"jobs waiting in {wanted['queue']} (wait, paused, prioritized, delayed)",
           sum(counts.values()), "<", int(wanted["max_queue_depth"]))


@check("author.worker.log.errors", severity="medium", category="failed job",
       needs=("engine",), runbook="worker.md#worker-log-has-no-errors")
def test_worker_log(diag, container):
    wanted = settings(diag, "worker")
    name = str(wanted["container"])
    recent = container(name).logs
    errors = [line for line in recent if ERROR_LINE.search(line)]
    shown = [evidence.cap(line, 300) for line in errors[-int(wanted["log_evidence_lines"]):]]
    evidence.record(evidence.Entry("log", name, f"{len(errors)} error lines in the last "
                                   f"{len(recent)}", {"error_lines": shown}))
    expect(f"error lines in the last {len(recent)} lines of container {name}'s log",
           len(errors), "==", 0, note=shown[-1] if shown else None)

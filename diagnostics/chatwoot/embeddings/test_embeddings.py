"""Embeddings job fails: the server's OpenAI key is accepted and has quota, and the
latest embedding run did not fail (with the batch size it ran with)."""

from fixtures.catalog import check
from fixtures.expect import expect
from fixtures.probes.http import ProbeError

from ..conftest import latest_job

BATCH_FIX_ABOVE = 20


@check("chatwoot.embeddings.openai.key", severity="critical",
       runbook="embeddings.md#openai-key-accepted", category="credentials",
       states={"key": ("openai-key-rejected", "credentials"),
               "quota": ("openai-quota-exhausted", "throttled")})
def test_openai_key(diag, server_env):
    key = server_env.values.get("OPENAI_API_KEY", "")
    expect(f"OPENAI_API_KEY in {server_env.where}", "set" if key else "empty", "==", "set",
           state="key")
    answer = diag.http.get("openai", "/v1/models", headers={"Authorization": f"Bearer {key}"})
    code = answer.body("error.code") if answer.status and answer.status >= 400 else None
    state = "quota" if answer.status == 429 else ("key" if answer.status in (401, 403)
                                                  else None)
    expect("[STATUS] of OpenAI's GET /v1/models", answer.outcome, "==", "200", state=state,
           note=code)
    expect("models listed by OpenAI (the key reads its organisation's list)",
           _models(answer), ">", 0, note=answer.error)


def _models(answer) -> int | str:
    try:
        listed = answer.body("data")
    except ProbeError as exc:
        return f"unreadable ({exc})"
    return len(listed) if isinstance(listed, list) else "none"


@check("chatwoot.embeddings.job.latest", severity="high",
       runbook="embeddings.md#latest-embedding-run",
       needs=("session",), category="failed job",
       states={"batch": ("reduce-the-batch-size", "failed job")})
def test_latest_embedding_run(server_env, jobs_status):
    expect("[STATUS] of GET /jobs/status", jobs_status.outcome, "==", "200")
    job = latest_job(jobs_status, "embeddings_run")
    batch = server_env.values.get("EMBED_BATCH_SIZE", "100")
    size = int(batch) if batch.isdigit() else 100
    counts = jobs_status.body("rag_counts") or {}
    expect("status of the latest embeddings_run", job.get("status"), "!=", "failed",
           state="batch" if size > BATCH_FIX_ABOVE else None,
           note=f"{job.get('error')}; EMBED_BATCH_SIZE={size}; chunks: "
                f"{', '.join(f'{k} {v}' for k, v in counts.items())}")

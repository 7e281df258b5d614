"""Scheduler tick / worker jobs failing: the scheduled jobs' last errors and next runs,
the embedding backlog, each project's Chatwoot binding, and failed worker runs. The
tick and the manual job routes are fixes, so they are never called."""

from datetime import UTC, datetime, timedelta

from fixtures.catalog import check
from fixtures.evidence import observed_time
from fixtures.expect import expect

DEFAULTS = {"overdue_grace_minutes": 15, "backlog_max": 500, "worker_window_hours": 24}


def _jobs(scheduler) -> list[dict]:
    expect("[STATUS] of GET /jobs/scheduler", scheduler.outcome, "==", "200")
    return [j for j in scheduler.body("jobs") or [] if isinstance(j, dict)]


@check("chatwoot.scheduler.tick.error", severity="high", runbook="scheduler.md#scheduler-errors",
       needs=("session",), category="failed job")
def test_no_last_error(scheduler):
    failing = [f"{j.get('job_type')}: {j.get('last_error')}" for j in _jobs(scheduler)
               if j.get("last_error")]
    expect("scheduled jobs with a last_error", failing, "is empty")


@check("chatwoot.scheduler.tick.overdue", severity="high", runbook="scheduler.md#scheduler-overdue",
       needs=("session",), category="stale data")
def test_not_overdue(diag, scheduler):
    grace = float(diag.settings("scheduler", DEFAULTS)["overdue_grace_minutes"])
    limit = datetime.now(UTC) - timedelta(minutes=grace)
    for job in _jobs(scheduler):
        observed_time(f"next run of scheduled {job.get('job_type')}", job.get("next_run_at"))
    late = [f"{j.get('job_type')} due {j.get('next_run_at')}" for j in _jobs(scheduler)
            if j.get("status") == "active" and j.get("next_run_at")
            and datetime.fromisoformat(j["next_run_at"]) < limit]
    expect(f"active jobs overdue by more than {grace:g} min", late, "is empty")


@check("chatwoot.scheduler.backlog", severity="medium", runbook="scheduler.md#embedding-backlog",
       needs=("session",), category="stale data")
def test_backlog(diag, jobs_status):
    expect("[STATUS] of GET /jobs/status", jobs_status.outcome, "==", "200")
    counts = jobs_status.body("rag_counts") or {}
    waiting = int(counts.get("pending") or 0) + int(counts.get("processing") or 0)
    expect("rag_counts pending + processing", waiting, "<=",
           int(diag.settings("scheduler", DEFAULTS)["backlog_max"]))


@check("chatwoot.scheduler.sources", severity="high", runbook="scheduler.md#source-binding",
       needs=("cw_db",))
def test_source_binding(rows, project, project_id):
    jobs = rows("select count(*) from scheduled_jobs where project_id = %s and job_type = "
                "'chatwoot_sync'", (project_id,))[0][0]
    bound = rows("select external_id from project_sources where project_id = %s and "
                 "source_kind = 'chatwoot_account'", (project_id,))
    if jobs:
        expect(f"project_sources binding of {project} (it has Chatwoot jobs)", len(bound),
               "==", 1)


@check("chatwoot.scheduler.worker.failed", severity="high",
       runbook="scheduler.md#failed-worker-runs",
       needs=("cw_db",), category="failed job")
def test_failed_worker_runs(diag, rows):
    hours = float(diag.settings("scheduler", DEFAULTS)["worker_window_hours"])
    failed = rows("select w.id, p.name, w.job_type, w.started_at, w.error from worker_runs w "
                  "left join projects p on p.id = w.project_id where w.status = 'failed' and "
                  "w.started_at > now() - make_interval(secs => %s) order by w.started_at desc "
                  "limit 20", (hours * 3600,))
    for ident, name, job, at, _error in failed:
        observed_time(f"worker run #{ident} ({name} {job}) failed", at)
    expect(f"failed worker_runs in the last {hours:g} h",
           [f"#{i} {name} {job}: {error}" for i, name, job, _at, error in failed], "is empty")

"""The MVP's database in the shared PostgreSQL cluster: the tables of its migrations
that the runbooks look at, seeded for two projects, each in the state the faults name.

The diagnostics read it as ``cw_reader``, a read-only role. The stand-in's API reads and
writes it as the superuser over the local socket, whose statements are never logged, so
the query log holds only what the diagnostics sent. The embedding vectors themselves are
left out (no pgvector here): the status columns are what the runbooks check.
"""

from __future__ import annotations

from typing import Any

from psycopg import sql

from sandbox.chatwoot.world import FIRST, OPERATOR, PROJECTS, SECOND, Project, World
from sandbox.parts.postgres import Postgres

DBNAME, READER = "chatwoot_mvp", "cw_reader"
MESSAGES, CHUNKS, BACKLOG = 40, 60, 2000
JOB_TYPES = {"chatwoot_sync": 900, "embeddings_run": 1200, "signals_extraction": 900,
             "health_scoring": 1800, "campaign_scheduler": 300, "analytics_aggregates": 1800}

SCHEMA = """
CREATE TABLE account_scopes (id uuid PRIMARY KEY, name text NOT NULL);
CREATE TABLE projects (id uuid PRIMARY KEY, name text NOT NULL UNIQUE,
  account_scope_id uuid REFERENCES account_scopes, created_at timestamptz DEFAULT now());
CREATE TABLE sessions (session_id text PRIMARY KEY, username text NOT NULL,
  active_project_id uuid, csrf_token text NOT NULL, created_at timestamptz DEFAULT now(),
  last_seen_at timestamptz DEFAULT now());
CREATE TABLE app_settings (key text PRIMARY KEY, value text, updated_at timestamptz
  DEFAULT now());
CREATE TABLE cw_messages (id text PRIMARY KEY, account_id bigint, message_id bigint,
  conversation_id bigint, content text, data jsonb NOT NULL DEFAULT '{}',
  created_at timestamptz DEFAULT now(), conversation_global_id text, contact_global_id text,
  sender_type text, private boolean DEFAULT false, message_type text,
  updated_at timestamptz DEFAULT now(), project_id uuid, account_scope_id uuid);
CREATE TABLE rag_chunks (id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  conversation_global_id text, message_global_id text, chunk_index int NOT NULL DEFAULT 0,
  text text NOT NULL, embedding_status text NOT NULL DEFAULT 'pending'
  CHECK (embedding_status IN ('pending','processing','ready','failed')),
  embedding_model text, created_at timestamptz DEFAULT now(), embedding_attempts int
  DEFAULT 0, embedding_error text, project_id uuid, account_scope_id uuid,
  UNIQUE (message_global_id, chunk_index));
CREATE TABLE job_runs (id bigserial PRIMARY KEY, job_name text NOT NULL, status text NOT NULL,
  started_at timestamptz DEFAULT now(), finished_at timestamptz, processed_count int
  DEFAULT 0, error text, meta jsonb DEFAULT '{}', project_id uuid, account_scope_id uuid);
CREATE TABLE scheduled_jobs (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), project_id uuid,
  account_scope_id uuid, job_type text NOT NULL, status text NOT NULL DEFAULT 'active'
  CHECK (status IN ('active','paused')), payload jsonb DEFAULT '{}', cadence_seconds int
  DEFAULT 900, next_run_at timestamptz, last_run_at timestamptz, last_status text,
  last_error text, UNIQUE (project_id, job_type));
CREATE TABLE worker_runs (id bigserial PRIMARY KEY, scheduled_job_id uuid REFERENCES
  scheduled_jobs ON DELETE SET NULL, project_id uuid, account_scope_id uuid, job_type text,
  status text NOT NULL CHECK (status IN ('running','ok','failed')),
  started_at timestamptz DEFAULT now(), finished_at timestamptz, details jsonb, error text);
CREATE TABLE project_sources (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), project_id uuid,
  account_scope_id uuid, source_kind text NOT NULL CHECK (source_kind IN ('chatwoot_account')),
  external_id text NOT NULL, meta jsonb DEFAULT '{}', UNIQUE (source_kind, external_id),
  UNIQUE (project_id, source_kind));
CREATE TABLE contact_channel_policies (id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  project_id uuid, account_scope_id uuid, contact_global_id text NOT NULL, channel text
  NOT NULL CHECK (channel IN ('email','chatwoot','telegram')), opted_out boolean DEFAULT false,
  stop_on_reply boolean DEFAULT true, frequency_window_hours int DEFAULT 24,
  frequency_cap int DEFAULT 3, sent_in_window int DEFAULT 0, window_started_at timestamptz,
  last_outbound_at timestamptz, last_inbound_at timestamptz, updated_at timestamptz
  DEFAULT now(), UNIQUE (project_id, contact_global_id, channel));
CREATE TABLE outbound_messages (id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  project_id uuid, account_scope_id uuid, channel text NOT NULL
  CHECK (channel IN ('email','chatwoot','telegram')), recipient_ref text NOT NULL,
  payload jsonb DEFAULT '{}', evidence_refs jsonb DEFAULT '[]', status text NOT NULL
  DEFAULT 'draft' CHECK (status IN ('draft','approved','sent','failed','cancelled',
  'blocked_opt_out')), idempotency_key text NOT NULL, retry_count int DEFAULT 0,
  max_retries int DEFAULT 5, next_attempt_at timestamptz, approved_at timestamptz,
  sent_at timestamptz, last_error text, created_at timestamptz DEFAULT now(),
  updated_at timestamptz DEFAULT now(), UNIQUE (project_id, idempotency_key));
CREATE TABLE outbound_attempts (id bigserial PRIMARY KEY, outbound_id uuid REFERENCES
  outbound_messages, project_id uuid, account_scope_id uuid, attempt_no int NOT NULL,
  status text NOT NULL CHECK (status IN ('sent','failed')), provider_message_id text,
  error text, created_at timestamptz DEFAULT now(), UNIQUE (outbound_id, attempt_no));
CREATE TABLE audit_events (id bigserial PRIMARY KEY, project_id uuid, account_scope_id uuid,
  actor_username text, action text NOT NULL, entity_type text, entity_id text,
  status text DEFAULT 'ok', request_id text, payload jsonb DEFAULT '{}',
  evidence_refs jsonb DEFAULT '[]', created_at timestamptz DEFAULT now());
"""


def build(pg: Postgres, world: World, password: str) -> dict[str, Any]:
    """The database, its seed and the reader role; returns where the reader connects."""
    pg.create_role(READER, password)
    pg.create_database(DBNAME, owner="postgres")
    with pg.superuser(DBNAME) as conn, conn.transaction():
        conn.execute(SCHEMA)
        for project in PROJECTS:
            _seed(conn, world, project)
        _seed_settings(conn, world)
        conn.execute(sql.SQL("GRANT SELECT ON ALL TABLES IN SCHEMA public TO {}").format(
            sql.Identifier(READER)))
    pg.make_read_only(READER)
    return {"host": pg.host, "port": pg.port, "user": READER, "dbname": DBNAME}


def _seed(conn: Any, world: World, project: Project) -> None:
    ids = (project.id, project.scope_id)
    conn.execute("INSERT INTO account_scopes VALUES (%s, %s)", (project.scope_id, project.name))
    conn.execute("INSERT INTO projects (id, name, account_scope_id) VALUES (%s, %s, %s)",
                 (project.id, project.name, project.scope_id))
    account = world.bound_account(project)
    if account is not None:
        conn.execute("INSERT INTO project_sources (project_id, account_scope_id, source_kind, "
                     "external_id) VALUES (%s, %s, 'chatwoot_account', %s)", (*ids, str(account)))
    second = project is SECOND
    if not (second and world.has("cwdata_messages_missing")):
        _seed_messages(conn, project, pending=second and world.has("cwdata_embeddings_none"))
    if project is FIRST and world.has("cwdata_backlog"):
        conn.execute("INSERT INTO rag_chunks (message_global_id, chunk_index, text, "
                     "project_id, account_scope_id) SELECT 'cwmsg:backlog:' || n, 0, "
                     "'queued text ' || n, %s, %s FROM generate_series(1, %s) n",
                     (*ids, BACKLOG))
    _seed_jobs(conn, world, project)
    _seed_schedule(conn, world, project)
    _seed_outbound(conn, world, project)


def _seed_messages(conn: Any, project: Project, *, pending: bool) -> None:
    ids = (project.id, project.scope_id)
    conn.execute(
        "INSERT INTO cw_messages (id, account_id, message_id, conversation_id, content, "
        "conversation_global_id, contact_global_id, sender_type, message_type, created_at, "
        "project_id, account_scope_id) SELECT 'cwmsg:' || %s || ':' || n, %s, n, 1 + n %% 8, "
        "'Customer asks about invoice ' || n || ' and the refund policy', "
        "'cwconv:' || %s || ':' || (1 + n %% 8), 'cwcontact:' || %s || ':' || (1 + n %% 5), "
        "'contact', 'incoming', now() - n * interval '1 hour', %s, %s "
        "FROM generate_series(1, %s) n",
        (project.account_id, project.account_id, project.account_id, project.account_id, *ids,
         MESSAGES))
    conn.execute(
        "INSERT INTO rag_chunks (conversation_global_id, message_global_id, chunk_index, text, "
        "embedding_status, embedding_model, project_id, account_scope_id) "
        "SELECT 'cwconv:' || %s || ':' || (1 + n %% 8), 'cwmsg:' || %s || ':' || (1 + n %% %s), "
        "n / %s, 'Customer asks about invoice ' || n || ' and the refund policy', %s, %s, %s, %s "
        "FROM generate_series(1, %s) n",
        (project.account_id, project.account_id, MESSAGES, MESSAGES,
         "pending" if pending else "ready", None if pending else "text-embedding-3-small",
         *ids, CHUNKS))


def _seed_jobs(conn: Any, world: World, project: Project) -> None:
    """Earlier runs, then the latest run of each job, in the state the faults say."""
    ids = (project.id, project.scope_id)
    for job in ("chatwoot_sync", "embeddings_run"):
        conn.execute("INSERT INTO job_runs (job_name, status, started_at, finished_at, "
                     "processed_count, project_id, account_scope_id) VALUES "
                     "(%s, 'ok', now() - interval '5 hours', now() - interval '299 minutes', "
                     "12, %s, %s)", (job, *ids))
    sync = _latest_sync(world, project)
    embed = ("failed", "OpenAI embeddings failed (400)") \
        if project is FIRST and world.has("cwjobs_embeddings_failing") else ("ok", None)
    for job, (status, error) in (("chatwoot_sync", sync), ("embeddings_run", embed)):
        started = "now() - interval '3 hours'" if status == "running" \
            else "now() - interval '6 minutes'"
        finished = "NULL" if status == "running" else "now() - interval '5 minutes'"
        conn.execute(sql.SQL("INSERT INTO job_runs (job_name, status, started_at, finished_at, "
                             "processed_count, error, meta, project_id, account_scope_id) "
                             "VALUES (%s, %s, {}, {}, %s, %s, %s, %s, %s)").format(
                                 sql.SQL(started), sql.SQL(finished)),
                     (job, status, 0 if error else 40, error,
                      '{"batch_size": 100}' if job == "embeddings_run" else "{}", *ids))


def _latest_sync(world: World, project: Project) -> tuple[str, str | None]:
    account = world.bound_account(project)
    failed = "Chatwoot GET /api/v1/accounts/{}/conversations failed ({})"
    if world.has("chatwoot_token_rejected"):
        return "failed", failed.format(account, 401)
    if project is not SECOND:
        return "ok", None
    if world.has("chatwoot_account_wrong"):
        return "failed", failed.format(account, 404)
    if world.has("cwjobs_sync_failed"):
        return "failed", failed.format(account, 500)
    if world.has("cwjobs_sync_pending"):
        return "running", None
    return "ok", None


def _seed_schedule(conn: Any, world: World, project: Project) -> None:
    ids = (project.id, project.scope_id)
    stalled = project is SECOND and world.has("cwsched_stalled")
    for job, cadence in JOB_TYPES.items():
        failing = project is FIRST and job == "chatwoot_sync" and world.has("cwsched_failing")
        error = "Chatwoot GET /api/v1/accounts/7/conversations failed (502)" if failing else None
        next_run = "now() - interval '3 hours'" if stalled else \
            ("now() + interval '5 minutes'" if failing else f"now() + interval '{cadence // 2} s'")
        row = conn.execute(sql.SQL(
            "INSERT INTO scheduled_jobs (project_id, account_scope_id, job_type, "
            "cadence_seconds, next_run_at, last_run_at, last_status, last_error) "
            "VALUES (%s, %s, %s, %s, {}, now() - interval '4 minutes', %s, %s) RETURNING id"
        ).format(sql.SQL(next_run)), (*ids, job, cadence, "failed" if failing else "ok",
                                      error)).fetchone()
        conn.execute("INSERT INTO worker_runs (scheduled_job_id, project_id, account_scope_id, "
                     "job_type, status, started_at, finished_at, details, error) VALUES "
                     "(%s, %s, %s, %s, %s, now() - interval '4 minutes', "
                     "now() - interval '4 minutes', '{}', %s)",
                     (row[0], *ids, job, "failed" if failing else "ok", error))


def _seed_outbound(conn: Any, world: World, project: Project) -> None:
    ids = (project.id, project.scope_id)
    rows = [("sent", None, "now() - interval '2 hours'", 0)]
    first = project is FIRST
    if first and world.has("cwoutbound_failed"):
        rows += [("failed", "simulated_provider_failure", "now() - interval '1 day'", 5),
                 ("draft", None, "now() - interval '3 days'", 0)]
    if first and world.has("cwoutbound_opted_out"):
        rows.append(("blocked_opt_out", "recipient_opted_out", "now() - interval '1 hour'", 0))
    if first and world.has("cwoutbound_capped"):
        rows.append(("failed", "frequency_cap_reached", "now() - interval '30 minutes'", 1))
    for n, (status, error, created, retries) in enumerate(rows, 1):
        contact = f"cwcontact:{project.account_id}:{n}"
        out = conn.execute(sql.SQL(
            "INSERT INTO outbound_messages (project_id, account_scope_id, channel, "
            "recipient_ref, payload, status, idempotency_key, retry_count, last_error, "
            "created_at, updated_at, sent_at) VALUES (%s, %s, 'telegram', %s, "
            "'{{\"text\": \"Your refund was approved\"}}', %s, %s, %s, %s, {c}, {c}, {s}) "
            "RETURNING id").format(c=sql.SQL(created),
                                   s=sql.SQL(created if status == "sent" else "NULL")),
            (*ids, contact, status, f"diag-{n}", retries, error)).fetchone()[0]
        conn.execute("INSERT INTO contact_channel_policies (project_id, account_scope_id, "
                     "contact_global_id, channel, opted_out, sent_in_window, frequency_cap, "
                     "window_started_at) VALUES (%s, %s, %s, 'telegram', %s, %s, 3, "
                     "now() - interval '2 hours')",
                     (*ids, contact, status == "blocked_opt_out",
                      3 if error == "frequency_cap_reached" else 1))
        for attempt in range(1, max(retries, status == "sent") + 1):
            conn.execute("INSERT INTO outbound_attempts (outbound_id, project_id, "
                         "account_scope_id, attempt_no, status, provider_message_id, error) "
                         "VALUES (%s, %s, %s, %s, %s, %s, %s)",
                         (out, *ids, attempt, "sent" if status == "sent" else "failed",
                          f"sim:{attempt}" if status == "sent" else None, error))
        action = {"blocked_opt_out": "outbound.opt_out_block"}.get(status, "outbound.send")
        conn.execute("INSERT INTO audit_events (project_id, account_scope_id, actor_username, "
                     "action, entity_type, entity_id, status) VALUES (%s, %s, %s, %s, "
                     "'outbound_message', %s, %s)",
                     (*ids, OPERATOR, action, str(out),
                      "ok" if status == "sent" else ("blocked" if error == "recipient_opted_out"
                                                     else "failed")))


def _seed_settings(conn: Any, world: World) -> None:
    if not world.has("cwsignup_owner_unbound"):
        conn.execute("INSERT INTO app_settings (key, value) VALUES "
                     "('telegram_owner_user_id', '5550001'), "
                     "('telegram_owner_chat_id', '5550001')")
    active = None if world.has("cwsession_no_project") else FIRST.id
    conn.execute("INSERT INTO sessions (session_id, username, active_project_id, csrf_token, "
                 "created_at, last_seen_at) VALUES ('seed-older', %s, %s, 'x', "
                 "now() - interval '2 days', now() - interval '2 days'), "
                 "('seed-latest', %s, %s, 'y', now() - interval '20 minutes', "
                 "now() - interval '1 minute')", (OPERATOR, FIRST.id, OPERATOR, active))

"""The voucher app's own database, as its incident runbooks find it: vouchers and their
events, stations, campaigns and their targets, the dispatcher's queue and logs, the
notifications, settings, idempotency keys, the station redeem log and the audit log.

The tables follow the app's admin-core migration (the columns the runbooks read); times
are relative to the moment it is built, so "the last five minutes" means what it says.
A read-only operations role reads it, as the diagnostics would in production. Each
fault changes the rows of one failure state.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Set
from typing import Any

import psycopg
from psycopg import sql

from sandbox.parts.postgres import Postgres

OPS = "voucher_ops"
DATABASE = "voucher_app"
TEST_VOUCHER = "5a1e0000-0000-4000-8000-000000000001"

QUIET_HOURS_INVALID, THROTTLE_ZERO = "whatsapp_quiet_hours_invalid", "whatsapp_throttle_zero"
RATE_LIMITED, PROVIDER_DOWN = "whatsapp_rate_limited", "whatsapp_provider_down"
SUMMARY_MISSING = "whatsapp_summary_missing"
STALLED, FAILED_SENDS, REPLAY_UNLOGGED = "dispatch_stalled", "dispatch_failed_sends", \
    "dispatch_replay_unlogged"
DOUBLE, AFTER_VOID, KEY_REUSED, SCOPE = "redeem_double", "redeem_after_void", \
    "redeem_key_reused", "redeem_scope_mismatch"

_STATUSES = "'issued','sent','redeemed','expired','void','cancelled'"
TABLES: dict[str, str] = {
    "stations": "id uuid PRIMARY KEY, name text NOT NULL, engencode text, "
                "owner_contact text, status text NOT NULL DEFAULT 'active'",
    "campaigns": "id uuid PRIMARY KEY, name text NOT NULL, type text, "
                 "status text NOT NULL DEFAULT 'draft', template_id text, created_by uuid, "
                 "started_at timestamptz, finished_at timestamptz, "
                 "metadata jsonb NOT NULL DEFAULT '{}'",
    "vouchers": "id uuid PRIMARY KEY, user_id uuid, amount numeric(12,2) NOT NULL, "
                "currency text NOT NULL DEFAULT 'RWF', "
                "station_scope uuid REFERENCES stations(id) ON DELETE SET NULL, "
                "code5 text UNIQUE, qr_url text, png_url text, "
                f"status text NOT NULL DEFAULT 'issued' CHECK (status IN ({_STATUSES})), "
                "issued_at timestamptz NOT NULL DEFAULT now(), redeemed_at timestamptz, "
                "expires_at timestamptz, created_by uuid, campaign_id uuid REFERENCES campaigns, "
                "metadata jsonb NOT NULL DEFAULT '{}'",
    "voucher_events": "id bigserial PRIMARY KEY, "
                      "voucher_id uuid NOT NULL REFERENCES vouchers ON DELETE CASCADE, "
                      "event_type text NOT NULL, actor_id uuid, "
                      "station_id uuid REFERENCES stations, context jsonb NOT NULL DEFAULT '{}', "
                      "created_at timestamptz NOT NULL DEFAULT now()",
    "campaign_targets": "id bigserial PRIMARY KEY, campaign_id uuid NOT NULL REFERENCES campaigns, "
                        "msisdn text NOT NULL, user_id uuid, personalized_vars jsonb, "
                        "status text NOT NULL DEFAULT 'queued', error_code text, "
                        "message_id text, last_update_at timestamptz NOT NULL DEFAULT now()",
    "send_queue": "id bigserial PRIMARY KEY, campaign_id uuid REFERENCES campaigns, "
                  "msisdn text NOT NULL, payload jsonb NOT NULL DEFAULT '{}', "
                  "status text NOT NULL DEFAULT 'PENDING', attempts int NOT NULL DEFAULT 0, "
                  "next_attempt_at timestamptz NOT NULL DEFAULT now(), "
                  "created_at timestamptz NOT NULL DEFAULT now(), "
                  "updated_at timestamptz NOT NULL DEFAULT now()",
    "send_logs": "id bigserial PRIMARY KEY, queue_id bigint REFERENCES send_queue, "
                 "campaign_id uuid, msisdn text, delivery_status text NOT NULL, "
                 "provider_msg_id text, error text, "
                 "created_at timestamptz NOT NULL DEFAULT now()",
    "notifications": "id bigserial PRIMARY KEY, to_role text, type text, "
                     "status text NOT NULL DEFAULT 'queued', msisdn text, sent_at timestamptz, "
                     "created_at timestamptz NOT NULL DEFAULT now(), "
                     "metadata jsonb NOT NULL DEFAULT '{}'",
    "settings": "key text PRIMARY KEY, value jsonb NOT NULL",
    "idempotency_keys": "key text PRIMARY KEY, payload jsonb, "
                        "created_at timestamptz NOT NULL DEFAULT now()",
    "station_redeem_log": "id bigserial PRIMARY KEY, idempotency_key text NOT NULL, "
                          "voucher_id uuid NOT NULL, station_id uuid NOT NULL, "
                          "payload jsonb NOT NULL, status_code int NOT NULL, "
                          "created_at timestamptz NOT NULL DEFAULT now()",
    "audit_log": "id bigserial PRIMARY KEY, actor_id uuid, action text NOT NULL, "
                 "target_table text, target_id text, diff jsonb, "
                 "created_at timestamptz NOT NULL DEFAULT now()",
}

# md5-derived uuids: the same ids every build, readable in the evidence by their prefix.
_UUID = "md5({})::uuid"
STATION, CAMPAIGN, VOUCHER = (_UUID.format("'station' || {}"), _UUID.format("'campaign' || {}"),
                              _UUID.format("'voucher' || {}"))
RUNNING, DONE = 1, 2
ACTOR = "'00000000-0000-4000-8000-00000000a11c'::uuid"

_SEED = [
    f"INSERT INTO stations (id, name, engencode) SELECT {STATION.format('n')}, "
    "'Station ' || n, 'EN' || n FROM generate_series(1, 4) n",
    f"INSERT INTO campaigns (id, name, type, status, started_at, finished_at) VALUES "
    f"({CAMPAIGN.format(RUNNING)}, 'Weekend promo', 'TEMPLATE', 'running', "
    "now() - interval '2 hours', NULL), "
    f"({CAMPAIGN.format(DONE)}, 'Loyalty', 'TEXT', 'done', now() - interval '4 days', "
    "now() - interval '3 days'), "
    f"({CAMPAIGN.format(3)}, 'Next month', 'TEXT', 'draft', NULL, NULL)",
    # 40 vouchers, each scoped to a station; 1..12 redeemed once, 13..14 void.
    "INSERT INTO vouchers (id, amount, station_scope, code5, status, issued_at, redeemed_at, "
    f"expires_at, campaign_id) SELECT {VOUCHER.format('n')}, 5000, "
    f"{STATION.format('1 + n % 4')}, lpad((10000 + n)::text, 5, '0'), "
    "CASE WHEN n <= 12 THEN 'redeemed' WHEN n <= 14 THEN 'void' ELSE 'issued' END, "
    "now() - interval '3 days', CASE WHEN n <= 12 THEN now() - n * interval '2 hours' END, "
    f"now() + interval '30 days', {CAMPAIGN.format(RUNNING)} FROM generate_series(1, 40) n",
    "INSERT INTO vouchers (id, amount, station_scope, code5, status, expires_at) VALUES "
    f"('{TEST_VOUCHER}', 1000, {STATION.format(1)}, '99999', 'issued', "
    "now() + interval '365 days')",
    "INSERT INTO voucher_events (voucher_id, event_type, station_id, context, created_at) "
    f"SELECT {VOUCHER.format('n')}, 'redeemed', {STATION.format('1 + n % 4')}, "
    "jsonb_build_object('idempotencyKey', 'redeem-' || n), now() - n * interval '2 hours' "
    "FROM generate_series(1, 12) n",
    "INSERT INTO voucher_events (voucher_id, event_type, actor_id, created_at) "
    f"SELECT {VOUCHER.format('n')}, 'void', {ACTOR}, now() - interval '1 day' "
    "FROM generate_series(13, 14) n",
    "INSERT INTO idempotency_keys (key, payload, created_at) SELECT 'redeem-' || n, "
    f"jsonb_build_object('voucherId', {VOUCHER.format('n')}, 'stationId', "
    f"{STATION.format('1 + n % 4')}), now() - n * interval '2 hours' "
    "FROM generate_series(1, 12) n",
    "INSERT INTO station_redeem_log (idempotency_key, voucher_id, station_id, payload, "
    "status_code, created_at) SELECT key, (payload->>'voucherId')::uuid, "
    "(payload->>'stationId')::uuid, payload, 200, created_at FROM idempotency_keys",
    # The running campaign: 30 targets sent, 20 queued, the latest moved a minute ago.
    "INSERT INTO campaign_targets (campaign_id, msisdn, status, message_id, last_update_at) "
    f"SELECT {CAMPAIGN.format(RUNNING)}, '+2507880' || lpad(n::text, 5, '0'), "
    "CASE WHEN n <= 30 THEN 'sent' ELSE 'queued' END, "
    "CASE WHEN n <= 30 THEN 'wamid.' || n END, now() - (1 + n % 30) * interval '1 minute' "
    "FROM generate_series(1, 50) n",
    "INSERT INTO campaign_targets (campaign_id, msisdn, status, last_update_at) "
    f"SELECT {CAMPAIGN.format(DONE)}, '+2507881' || lpad(n::text, 5, '0'), 'sent', "
    "now() - interval '3 days' FROM generate_series(1, 20) n",
    # The queue: 30 sent, 20 pending and claimed (next attempt in the future), one old failure.
    "INSERT INTO send_queue (campaign_id, msisdn, status, attempts, next_attempt_at, "
    f"updated_at) SELECT {CAMPAIGN.format(RUNNING)}, '+2507880' || lpad(n::text, 5, '0'), "
    "CASE WHEN n <= 30 THEN 'SENT' ELSE 'PENDING' END, CASE WHEN n <= 30 THEN 1 ELSE 0 END, "
    "now() + interval '2 minutes', now() - (1 + n % 30) * interval '1 minute' "
    "FROM generate_series(1, 50) n",
    "INSERT INTO send_queue (campaign_id, msisdn, status, attempts, next_attempt_at, "
    f"updated_at) VALUES ({CAMPAIGN.format(DONE)}, '+250788199999', 'FAILED', 5, "
    "now() - interval '3 days', now() - interval '3 days')",
    "INSERT INTO send_logs (queue_id, campaign_id, msisdn, delivery_status, provider_msg_id, "
    "error, created_at) SELECT id, campaign_id, msisdn, status, CASE WHEN status = 'SENT' "
    "THEN 'wamid.' || id END, CASE WHEN status = 'FAILED' THEN '(#131026) Message "
    "undeliverable' END, updated_at FROM send_queue WHERE status <> 'PENDING'",
    # The last hour's notifications: 98 sent, 2 rejected numbers.
    "INSERT INTO notifications (to_role, type, status, msisdn, sent_at, created_at, metadata) "
    "SELECT 'customer', 'voucher_send', CASE WHEN n <= 98 THEN 'sent' ELSE 'failed' END, "
    "'+2507882' || lpad(n::text, 5, '0'), CASE WHEN n <= 98 THEN now() - n * interval "
    "'30 seconds' END, now() - n * interval '30 seconds', CASE WHEN n <= 98 THEN '{}'::jsonb "
    "ELSE '{\"error\": \"send_failed\", \"http_status\": 400}'::jsonb END "
    "FROM generate_series(1, 100) n",
    "INSERT INTO settings (key, value) VALUES "
    "('quiet_hours.rw', '{\"start\": \"22:00\", \"end\": \"06:00\"}'), "
    "('send_throttle.whatsapp.per_minute', '60'), ('opt_out.list', '[]')",
    # The last incident: campaigns stopped, the dispatcher replayed (stop, then start), and
    # the incident closed with a summary.
    "INSERT INTO audit_log (actor_id, action, target_table, target_id, diff, created_at) "
    f"VALUES ({ACTOR}, 'campaign_stop', 'campaigns', {CAMPAIGN.format(RUNNING)}::text, "
    "'{\"action\": \"stop\", \"state\": \"done\", \"integrationStatus\": \"ok\"}', "
    "now() - interval '2 hours 5 minutes'), "
    f"({ACTOR}, 'campaign_start', 'campaigns', {CAMPAIGN.format(RUNNING)}::text, "
    "'{\"action\": \"start\", \"state\": \"running\", \"integrationStatus\": \"ok\"}', "
    "now() - interval '2 hours'), "
    f"({ACTOR}, 'incident_resolution', 'campaigns', {CAMPAIGN.format(RUNNING)}::text, "
    "'{\"summary\": \"WhatsApp sends throttled 20 min; campaign replayed\"}', "
    "now() - interval '1 hour 50 minutes')",
]

_FAULTS: dict[str, list[str]] = {
    QUIET_HOURS_INVALID: ["UPDATE settings SET value = '{\"start\": \"25:00\", \"end\": "
                          "\"06:00\"}' WHERE key = 'quiet_hours.rw'"],
    THROTTLE_ZERO: ["UPDATE settings SET value = '0' "
                    "WHERE key = 'send_throttle.whatsapp.per_minute'"],
    RATE_LIMITED: ["UPDATE notifications SET status = 'failed', sent_at = NULL, metadata = "
                   "'{\"error\": \"send_failed\", \"http_status\": 429, \"retry_after\": "
                   "\"30\"}' WHERE id % 3 = 0"],
    PROVIDER_DOWN: ["UPDATE notifications SET status = 'failed', sent_at = NULL, metadata = "
                    "'{\"error\": \"send_failed\", \"http_status\": 503}' WHERE id % 3 = 0"],
    SUMMARY_MISSING: ["DELETE FROM audit_log WHERE action = 'incident_resolution'"],
    STALLED: [f"UPDATE campaign_targets SET last_update_at = now() - interval '20 minutes' "
              f"WHERE campaign_id = {CAMPAIGN.format(RUNNING)}",
              "UPDATE send_queue SET next_attempt_at = now() - interval '15 minutes' "
              "WHERE status = 'PENDING'"],
    FAILED_SENDS: ["UPDATE send_queue SET status = 'FAILED', attempts = 5, updated_at = "
                   "now() - interval '10 minutes' WHERE status = 'PENDING' AND id % 7 = 0",
                   "INSERT INTO send_logs (queue_id, campaign_id, msisdn, delivery_status, "
                   "error, created_at) SELECT id, campaign_id, msisdn, 'FAILED', "
                   "'(#131049) This message was not delivered to maintain healthy ecosystem "
                   "engagement', updated_at FROM send_queue WHERE status = 'FAILED' "
                   "AND updated_at > now() - interval '1 hour'"],
    REPLAY_UNLOGGED: ["DELETE FROM audit_log WHERE action = 'campaign_start'"],
    DOUBLE: ["INSERT INTO voucher_events (voucher_id, event_type, station_id, created_at) "
             f"VALUES ({VOUCHER.format(5)}, 'redeemed', {STATION.format(2)}, "
             "now() - interval '7 hours')"],
    AFTER_VOID: ["INSERT INTO voucher_events (voucher_id, event_type, station_id, created_at) "
                 f"VALUES ({VOUCHER.format(13)}, 'redeemed', {STATION.format(2)}, "
                 "now() - interval '3 hours')"],
    KEY_REUSED: ["INSERT INTO station_redeem_log (idempotency_key, voucher_id, station_id, "
                 f"payload, status_code, created_at) SELECT 'redeem-3', {VOUCHER.format(20)}, "
                 f"{STATION.format(1)}, jsonb_build_object('voucherId', {VOUCHER.format(20)}, "
                 f"'stationId', {STATION.format(1)}), 200, now() - interval '1 hour'"],
    SCOPE: ["INSERT INTO voucher_events (voucher_id, event_type, station_id, created_at) "
            f"VALUES ({VOUCHER.format(21)}, 'redeemed', {STATION.format(4)}, "
            "now() - interval '30 minutes')",
            f"UPDATE vouchers SET status = 'redeemed', redeemed_at = now() - interval "
            f"'30 minutes' WHERE id = {VOUCHER.format(21)}"],
}


def build_app_db(pg: Postgres, *, password: str, faults: Set[str]) -> dict[str, Any]:
    """The database and its read-only operations role; returns where the role connects."""
    pg.create_role(OPS, password)
    pg.create_database(DATABASE, owner="postgres")
    with pg.superuser(DATABASE) as conn, conn.transaction():
        for table, columns in TABLES.items():
            conn.execute(sql.SQL("CREATE TABLE {} ({})").format(sql.Identifier(table),
                                                                 sql.SQL(columns)))
        for statement in _SEED + [s for f in sorted(faults) for s in _FAULTS.get(f, [])]:
            conn.execute(statement)
        conn.execute(sql.SQL("GRANT SELECT ON ALL TABLES IN SCHEMA public TO {}").format(
            sql.Identifier(OPS)))
    pg.make_read_only(OPS)
    return {"host": pg.host, "user": OPS, "dbname": DATABASE, "port": pg.port}


# How often the dispatcher moves; the checks allow five minutes without movement.
DISPATCH_EVERY = 30.0
_DISPATCH = [
    "UPDATE campaign_targets SET last_update_at = now() - interval '1 minute' WHERE id = "
    f"(SELECT id FROM campaign_targets WHERE campaign_id = {CAMPAIGN.format(RUNNING)} "
    "ORDER BY last_update_at DESC LIMIT 1)",
    "UPDATE send_queue SET next_attempt_at = now() + interval '2 minutes' "
    "WHERE status = 'PENDING'",
]


class Dispatcher:
    """The app's dispatcher, as far as the dispatch checks see it: the running campaign's
    newest target keeps moving and pending sends keep being claimed. Rows seeded once
    would age past the checks' limits in a run longer than a few minutes (a 1,000-tenant
    run found the campaign stalled after 6.5). Writes as the superuser, whose statements
    the query log does not show; not started under the stall fault."""

    def __init__(self, pg: Postgres) -> None:
        self._pg = pg
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sandbox-voucher-dispatch",
                                        daemon=True)

    def start(self) -> Dispatcher:
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._done.wait(DISPATCH_EVERY):
            with (contextlib.suppress(psycopg.Error), self._pg.superuser(DATABASE) as conn,
                  conn.transaction()):
                for statement in _DISPATCH:
                    conn.execute(statement)

    def stop(self) -> None:
        self._done.set()
        if self._thread.is_alive():
            self._thread.join(10)

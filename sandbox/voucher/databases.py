"""The databases a DR rehearsal looks at, in the shared PostgreSQL cluster.

``voucher_primary`` and ``voucher_restored`` hold the voucher stack's tables, built the
same way, so they agree until a fault drifts the restore: a table a few rows short, a
table missing, a column of another type. A read-only role reads both, as the
diagnostics would on a real primary and its restore.
"""

from __future__ import annotations

from collections.abc import Set
from typing import Any

from psycopg import sql

from sandbox.parts.http import refused_port
from sandbox.parts.postgres import Postgres

READER = "voucher_reader"
PRIMARY, RESTORED = "voucher_primary", "voucher_restored"

MISMATCH, MISSING_TABLE, DRIFT = "dr_rowcount_mismatch", "dr_restore_missing_table", \
    "dr_column_drift"
REDEEMS_LOST = "dr_restore_redeems_lost"
MISMATCH_TABLE, MISMATCH_SHORT = "station_redeems", 3
DROPPED_TABLE = "campaign_sends"
DRIFTED = ("vouchers", "value_cents", "bigint")

# In creation order, so every foreign key points at a table that already exists.
TABLES: dict[str, str] = {
    "stations": "id int PRIMARY KEY, name text NOT NULL",
    "campaigns": "id int PRIMARY KEY, name text NOT NULL, created_at timestamptz NOT NULL",
    "vouchers": "id bigint PRIMARY KEY, code text NOT NULL UNIQUE, "
                "campaign_id int NOT NULL REFERENCES campaigns, value_cents integer NOT NULL, "
                "issued_at timestamptz NOT NULL, redeemed_at timestamptz",
    "campaign_sends": "id bigint PRIMARY KEY, campaign_id int NOT NULL REFERENCES campaigns, "
                      "recipient text NOT NULL, sent_at timestamptz NOT NULL",
    "station_redeems": "id bigint PRIMARY KEY, station_id int NOT NULL REFERENCES stations, "
                       "voucher_id bigint NOT NULL REFERENCES vouchers, "
                       "redeemed_at timestamptz NOT NULL",
}
ROWS = {"stations": 12, "campaigns": 6, "vouchers": 600, "campaign_sends": 900,
        "station_redeems": 240}
_FILL = {
    "stations": "SELECT n, 'Station ' || n FROM generate_series(1, %s) n",
    "campaigns": "SELECT n, 'Campaign ' || n, now() - n * interval '7 days' "
                 "FROM generate_series(1, %s) n",
    "vouchers": "SELECT n, 'V' || lpad(n::text, 8, '0'), 1 + n %% 6, 500 + n %% 5 * 250, "
                "now() - n * interval '1 hour', "
                "CASE WHEN n <= 240 THEN now() - n * interval '30 minutes' END "
                "FROM generate_series(1, %s) n",
    "campaign_sends": "SELECT n, 1 + n %% 6, 'guest' || n || '@voucher.test', "
                      "now() - n * interval '20 minutes' FROM generate_series(1, %s) n",
    "station_redeems": "SELECT n, 1 + n %% 12, n, now() - n * interval '30 minutes' "
                       "FROM generate_series(1, %s) n",
}



def restored_counts(faults: Set[str]) -> dict[str, int]:
    """What the restore holds per table (a dropped table is absent)."""
    counts = dict(ROWS)
    if MISMATCH in faults:
        counts[MISMATCH_TABLE] -= MISMATCH_SHORT
    if MISSING_TABLE in faults:
        del counts[DROPPED_TABLE]
    return counts


def build_voucher_dbs(pg: Postgres, *, password: str, faults: Set[str]) -> dict[str, Any]:
    """Both databases and the reader role; returns where the reader connects to each."""
    pg.create_role(READER, password)
    for dbname in (PRIMARY, RESTORED):
        pg.create_database(dbname, owner="postgres")
        with pg.superuser(dbname) as conn, conn.transaction():
            for table, columns in TABLES.items():
                conn.execute(sql.SQL("CREATE TABLE {} ({})").format(sql.Identifier(table),
                                                                     sql.SQL(columns)))
                conn.execute(sql.SQL("INSERT INTO {} ").format(sql.Identifier(table))
                             + sql.SQL(_FILL[table]), (ROWS[table],))
            if dbname == RESTORED:
                _drift(conn, faults)
            conn.execute(sql.SQL("GRANT SELECT ON ALL TABLES IN SCHEMA public TO {}").format(
                sql.Identifier(READER)))
    pg.make_read_only(READER)
    where = {"host": pg.host, "user": READER}
    return {
        "dr_primary": {**where, "dbname": PRIMARY,
                       "port": refused_port() if "dr_primary_port_closed" in faults
                       else pg.port},
        "dr_restored": {**where, "dbname": RESTORED,
                        "port": refused_port() if "dr_restored_port_closed" in faults
                        else pg.port},
    }


def _drift(conn: Any, faults: Set[str]) -> None:
    if MISMATCH in faults:
        conn.execute(sql.SQL("DELETE FROM {} WHERE id > %s").format(
            sql.Identifier(MISMATCH_TABLE)), (ROWS[MISMATCH_TABLE] - MISMATCH_SHORT,))
    if MISSING_TABLE in faults:
        conn.execute(sql.SQL("DROP TABLE {}").format(sql.Identifier(DROPPED_TABLE)))
    if REDEEMS_LOST in faults:  # every row still there, so only the flows' reads notice
        conn.execute("UPDATE vouchers SET redeemed_at = NULL")
    if DRIFT in faults:
        table, column, kind = DRIFTED
        conn.execute(sql.SQL("ALTER TABLE {} ALTER COLUMN {} TYPE {}").format(
            sql.Identifier(table), sql.Identifier(column), sql.SQL(kind)))

"""Observations for station redeem anomalies, from the app database: the voucher events,
the idempotency keys and the station redeem log. Read from the tables, they hold whether
or not the station redeem API exists."""

from __future__ import annotations

import pytest

from fixtures.context import Context
from fixtures.evidence import record_table

DEFAULTS = {"window_days": 7, "redeem_event": "redeemed", "void_event": "void"}
_WHEN = "to_char({}, 'YYYY-MM-DD\"T\"HH24:MI:SS')"


@pytest.fixture
def redeem_settings(diag: Context) -> dict:
    return diag.settings("redeem", DEFAULTS)


def _params(settings: dict) -> tuple[str, str, int]:
    return str(settings["redeem_event"]), str(settings["void_event"]), int(settings["window_days"])


@pytest.fixture
def double_redeems(app_rows, redeem_settings: dict) -> list[tuple]:
    """Vouchers redeemed in the window that were redeemed more than once, or after they
    were voided: the voucher, its events in order, and the stations."""
    redeem, void, days = _params(redeem_settings)
    rows = app_rows(
        "select e.voucher_id::text, v.status, "
        f"string_agg(e.event_type || ' ' || {_WHEN.format('e.created_at')} || "
        "coalesce(' at ' || e.station_id::text, ''), '; ' order by e.created_at), "
        "count(*) filter (where e.event_type = %s), "
        "bool_or(e.event_type = %s and exists (select 1 from voucher_events p "
        " where p.voucher_id = e.voucher_id and p.event_type = %s "
        " and p.created_at < e.created_at)) "
        "from voucher_events e join vouchers v on v.id = e.voucher_id "
        "where e.voucher_id in (select voucher_id from voucher_events where event_type = %s "
        " and created_at > now() - make_interval(days => %s)) "
        "group by e.voucher_id, v.status", (redeem, redeem, void, redeem, days))
    found = [r for r in rows if r[3] > 1 or r[4]]
    record_table("vouchers redeemed twice or after void",
                 ("voucher", "status", "events", "redeems", "after_void"), found)
    return found


@pytest.fixture
def reused_keys(app_rows, redeem_settings: dict) -> list[tuple]:
    """Idempotency keys in the redeem log whose payload differs from the one stored under
    the key, or that came with more than one payload."""
    rows = app_rows(
        "select l.idempotency_key, string_agg(distinct l.voucher_id::text, ', '), "
        "string_agg(distinct l.station_id::text, ', '), "
        "coalesce(max(k.payload::text), 'no stored key') "
        "from station_redeem_log l left join idempotency_keys k on k.key = l.idempotency_key "
        "where l.created_at > now() - make_interval(days => %s) group by l.idempotency_key "
        "having count(distinct l.payload) > 1 or bool_or(l.payload <> k.payload)",
        (int(redeem_settings["window_days"]),))
    record_table("idempotency keys reused with different payloads",
                 ("key", "vouchers", "stations", "stored_payload"), rows)
    return rows


@pytest.fixture
def out_of_scope(app_rows, redeem_settings: dict) -> list[tuple]:
    """Redeems at a station other than the voucher's ``station_scope``."""
    redeem, _void, days = _params(redeem_settings)
    rows = app_rows(
        f"select e.voucher_id::text, v.station_scope::text, e.station_id::text, "
        f"{_WHEN.format('e.created_at')} from voucher_events e "
        "join vouchers v on v.id = e.voucher_id where e.event_type = %s "
        "and v.station_scope is not null and e.station_id is distinct from v.station_scope "
        "and e.created_at > now() - make_interval(days => %s) order by e.created_at",
        (redeem, days))
    record_table("redeems outside station_scope",
                 ("voucher", "station_scope", "redeemed_at_station", "at"), rows)
    return rows

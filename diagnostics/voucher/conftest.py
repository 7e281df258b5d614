"""Observations the voucher app's incident areas share: the admin app's Integrations
Status (one read serves the four probes) and the app database, read by a read-only
operations role."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from fixtures.context import Context
from fixtures.probes.http import ProbeError, Response
from fixtures.shared import rows_from

STATUS_PATH = "/api/integrations/status"
# The Edge Functions' slugs and where the platform keeps them ([voucher.functions]).
FUNCTIONS = {"project_ref": "", "preview": "voucher-preview", "send": "voucher-send",
             "dispatch": "campaign-dispatch"}


def bearer(diag: Context, env_key: str) -> dict[str, str]:
    """An ``Authorization`` header from the ``[voucher.functions]`` secret ``env_key``."""
    token = diag.profile.secret(str(diag.profile.area("functions").get(env_key, "")))
    return {"Authorization": f"Bearer {token}"} if token else {}


@pytest.fixture
def functions_settings(diag: Context) -> dict:
    return diag.settings("functions", FUNCTIONS)


def admin_headers(diag: Context) -> dict[str, str]:
    """The ``admin_session`` cookie the admin app's middleware asks of every /api/ route."""
    session = diag.profile.secret(diag.profile.area("admin").get("session_env", ""))
    return {"Cookie": f"admin_session={session}"} if session else {}


@pytest.fixture
def integrations(diag: Context) -> Response:
    """``GET /api/integrations/status``, once per run: the real app probes on every call
    and has no cache, so ``?force=true`` would change nothing and is not sent."""
    return diag.http.get("admin", STATUS_PATH, headers=admin_headers(diag))


def probe_state(integrations: Response, key: str) -> tuple[str, str]:
    """A probe's ``(status, message)``, or why the answer holds none."""
    if integrations.status != 200:
        return f"HTTP {integrations.outcome}", str(_safe(integrations, "message") or "")
    entry = _safe(integrations, key)
    if not isinstance(entry, dict):
        return "missing", f"the answer has no '{key}' probe"
    return str(entry.get("status")), str(entry.get("message", ""))


def _safe(response: Response, path: str):
    try:
        return response.body(path)
    except ProbeError as exc:
        return str(exc)


@pytest.fixture
def app_rows(diag: Context) -> Callable[..., list[tuple]]:
    """Queries on ``[voucher.dsn] app``, in read-only sessions; a failure fails the check
    with the database's one-line error."""
    return rows_from(diag, "app")

"""Observations for voucher preview failures: the preview function as the platform's
functions API describes it (read-only, with the platform's access token)."""

from __future__ import annotations

import pytest

from diagnostics.voucher.conftest import bearer
from fixtures.context import Context
from fixtures.probes.http import Response

DEFAULTS = {"test_voucher_id": ""}


@pytest.fixture
def preview_settings(diag: Context) -> dict:
    settings = diag.settings("preview", DEFAULTS)
    if not settings["test_voucher_id"]:
        pytest.skip("not run: the target profile names no [voucher.preview] test_voucher_id")
    return settings


@pytest.fixture
def preview_function(diag: Context, functions_settings: dict) -> Response:
    """``GET /v1/projects/<ref>/functions/<slug>``: deployed, and its status."""
    ref, slug = functions_settings["project_ref"], functions_settings["preview"]
    if not ref:
        pytest.skip("not run: the target profile names no [voucher.functions] project_ref")
    return diag.http.get("platform", f"/v1/projects/{ref}/functions/{slug}",
                         headers=bearer(diag, "access_token_env"))

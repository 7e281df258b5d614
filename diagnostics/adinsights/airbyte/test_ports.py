"""Port profile alignment: Airbyte answers on the profile's ports, and the backend agrees."""

from urllib.parse import urlsplit

from fixtures.catalog import check, upstream_check
from fixtures.expect import expect

test_api_port = upstream_check(
    "adinsights.airbyte.ports.api", "airbyte_api", "[AIRBYTE ON API PORT]", severity="critical",
    runbook="airbyte.md#port-collision")


@check("adinsights.airbyte.ports.ui", severity="high", runbook="airbyte.md#port-collision")
def test_ui_port(airbyte_ui_page):
    expect("[STATUS]", airbyte_ui_page.outcome, "in", ("200", "401"),
           note="the UI port refuses connections or errors")
    names_airbyte = airbyte_ui_page.status == 401 or "airbyte" in airbyte_ui_page.text.lower()
    expect("[BODY] is the Airbyte UI", names_airbyte, "==", True,
           note=f"{airbyte_ui_page.url} serves something else")


@check("adinsights.airbyte.ports.backend_env", severity="high",
       runbook="airbyte.md#backend-airbyte-api-url")
def test_backend_points_at_airbyte(backend_env, diag):
    url = backend_env.get("AIRBYTE_API_URL", "")
    expect("AIRBYTE_API_URL", url, "not in", ("",))
    profile_api = diag.profile.urls.get("airbyte_api", "")
    expect("AIRBYTE_API_URL port", urlsplit(url).port, "==", urlsplit(profile_api).port,
           note=f"backend uses {url}, the profile's Airbyte API is {profile_api}; "
                "update all related env vars together")

"""Port profile alignment: Airbyte answers on the profile's ports, and the backend agrees."""

from urllib.parse import urlsplit

from fixtures.catalog import check, upstream_check
from fixtures.compose import published_port
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


LOOPBACK = {"localhost", "127.0.0.1", "::1"}


@check("adinsights.airbyte.ports.backend_env", severity="high",
       runbook="airbyte.md#backend-airbyte-api-url")
def test_backend_points_at_airbyte(backend_env, diag, settings):
    """Host and port: a backend in a container that says `localhost` calls itself, and
    one on the host cannot resolve `host.docker.internal`."""
    url = backend_env.get("AIRBYTE_API_URL", "")
    expect("AIRBYTE_API_URL", url, "not in", ("",))
    profile_api = diag.profile.urls.get("airbyte_api", "")
    note = (f"backend uses {url}, the profile's Airbyte API is {profile_api}; "
            "update all related env vars together")
    expect("AIRBYTE_API_URL port", urlsplit(url).port, "==", urlsplit(profile_api).port,
           note=note)
    in_container = settings["backend_in_container"]
    host = settings["container_host_name"] if in_container else urlsplit(profile_api).hostname
    where = "a container" if in_container else "the host"
    seen = urlsplit(url).hostname
    if not in_container and {seen, host} <= LOOPBACK:
        seen = host  # on the host, every loopback name reaches the same Airbyte
    expect(f"AIRBYTE_API_URL host (the backend runs on {where})", seen, "==", host, note=note)


@check("adinsights.airbyte.ports.compose", severity="high",
       runbook="airbyte.md#compose-published-ports")
def test_compose_publishes_profile_ports(compose, diag):
    """Read as `docker compose --env-file .env config` renders it: the `.env` decides the
    published ports, whatever defaults the file spells."""
    expect("compose file renders", compose.get("__error__"), "==", None)
    services = compose.get("services") or {}
    for service, target, key in (("server", 8001, "airbyte_api"), ("webapp", 80, "airbyte_ui")):
        profile_url = diag.profile.urls.get(key, "")
        if not profile_url:
            continue
        expect(f"services.{service} publishes {target} on", published_port(
            services.get(service) or {}, target), "==", urlsplit(profile_url).port,
            note=f"the profile's [adinsights.urls] {key} is {profile_url}")

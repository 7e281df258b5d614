"""OAuth configuration for the browser-redirect flow, and the authorize URL OAuth start
hands out."""

import pytest

from fixtures.catalog import check, upstream_check
from fixtures.expect import expect

PIECES = {
    "app_id": "meta-app-id",
    "app_secret": "meta-app-secret",
    "login_config": "login-configuration",
    "redirect": ("redirect-uri", "misconfiguration"),
    "scopes": ("oauth-scopes", "credentials"),
}

test_graph_reachable = upstream_check(
    "adinsights.meta.graph.reachable", "meta_graph", "[GRAPH ANSWERS]", severity="high",
    runbook="meta.md#graph-api-reachable")


@pytest.mark.parametrize("piece", list(PIECES))
@check("adinsights.meta.oauth.config", severity="high", runbook="meta.md#oauth-configuration",
       needs=("api", "tenant"), states=PIECES)
def test_oauth_config(meta_setup, oauth_config, piece):
    expect("[SETUP STATUS]", meta_setup.outcome, "==", "200", state=piece)
    seen = oauth_config[piece]
    expect(f"setup {piece}", seen.setup_ok, "==", True, state=piece, note=seen.setup_seen)
    if seen.env_ok is not None:
        expect(f"env file {piece}", seen.env_ok, "==", True, state=piece, note=seen.env_seen)


@check("adinsights.meta.oauth.start", severity="high", runbook="meta.md#oauth-start",
       needs=("api", "tenant"), intrusive=True)
def test_oauth_start(oauth_start, meta_setup, authorize_url):
    expect("[STATUS]", oauth_start.outcome, "==", "200",
           note=oauth_start.body("detail") if oauth_start.ok else None)
    url = authorize_url.params
    expect("authorize_url client_id", url.get("client_id"), "==",
           authorize_url.expected_client_id)
    expect("authorize_url redirect_uri", url.get("redirect_uri"), "==",
           meta_setup.body("redirect_uri"), note="must equal the setup report's redirect_uri")
    if authorize_url.expected_config_id:
        expect("authorize_url config_id", url.get("config_id"), "==",
               authorize_url.expected_config_id)
    else:
        expect("authorize_url scope", sorted((url.get("scope") or "").split(",")), "==",
               sorted(meta_setup.body("oauth_scopes") or []))

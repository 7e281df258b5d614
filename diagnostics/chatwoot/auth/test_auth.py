"""Auth loop / unauthorized: the API answers, a sign-in yields a session a browser on the
UI's origin would send back, CSRF is enforced, CORS allows the UI, and the reverse proxy
leaves the cookies alone."""

from urllib.parse import urlsplit

import pytest

from diagnostics.chatwoot import mvp
from diagnostics.chatwoot.mvp import one_project
from fixtures.catalog import check, upstream_check
from fixtures.evidence import Entry, record
from fixtures.expect import expect

test_app_reachable = upstream_check(
    "chatwoot.auth.app.reachable", "app", "the MVP's API answers GET /health",
    severity="critical", runbook="auth.md#api-reachable")


@check("chatwoot.auth.session", severity="critical", runbook="auth.md#session",
       needs=("app", "session"), category="credentials")
def test_session(gate, project):
    verdict = gate(f"session:{project}")
    expect("[SIGNED IN, PROJECT SELECTED]", verdict.ok, "==", True, note=verdict.reason)


def _show(cookies: list[mvp.Cookie], where: str) -> None:
    record(Entry("http", where, f"Set-Cookie from {where}: {len(cookies)} cookies",
                 {"cookies": [c.described() for c in cookies]}))


@one_project
@check("chatwoot.auth.cookie.attributes", severity="high", runbook="auth.md#cookie-attributes",
       needs=("session",))
def test_cookie_attributes(diag, session):
    cookies = mvp.parse_set_cookie(session.set_cookie)
    _show(cookies, "POST /auth/login")
    ui = urlsplit(str(mvp.settings(diag)["ui_origin"]))
    for cookie in cookies:
        attrs = cookie.attributes
        expect(f"Path of cookie {cookie.name}", attrs.get("path"), "==", "/")
        expect(f"SameSite of cookie {cookie.name}", attrs.get("samesite", "").lower(), "in",
               ("lax", "strict", "none"))
        if ui.scheme == "https" or attrs.get("samesite", "").lower() == "none":
            expect(f"Secure on cookie {cookie.name}", "secure" in attrs, "==", True,
                   note=f"the UI is served from {ui.scheme}://{ui.hostname}")
        domain = attrs.get("domain", "").lstrip(".").lower()
        if domain:
            host = (ui.hostname or "").lower()
            expect(f"Domain of cookie {cookie.name} covers the UI host {host}",
                   host == domain or host.endswith("." + domain), "==", True,
                   note=f"Domain={domain}")


@one_project
@check("chatwoot.auth.csrf.enforced", severity="high", runbook="auth.md#csrf-enforced",
       needs=("session",), intrusive=True)
def test_csrf_enforced(diag, session):
    path = f"/projects/{session.project_id}/select"
    bare = diag.http.post(mvp.APP, path, headers=session.headers)
    expect("[STATUS] of a protected POST without x-csrf-token", bare.outcome, "==", "403")
    expect("[BODY].error", bare.body("error"), "==", "csrf_invalid")
    sent = diag.http.post(mvp.APP, path,
                          headers={**session.headers, "x-csrf-token": session.csrf})
    expect("[STATUS] of the same POST with x-csrf-token", sent.outcome, "==", "200")


@check("chatwoot.auth.cors.origin", severity="high", runbook="auth.md#cors-origin")
def test_cors_origin(diag, env_file):
    origin = str(mvp.settings(diag)["ui_origin"])
    expect(f"CORS_ORIGIN in {env_file.where}", env_file.shown("CORS_ORIGIN"), "==",
           origin, note=env_file.error or None)


@check("chatwoot.auth.cors.preflight", severity="high", runbook="auth.md#cors-preflight",
       needs=("app",))
def test_cors_preflight(diag):
    origin = str(mvp.settings(diag)["ui_origin"])
    answer = diag.http.send("OPTIONS", mvp.APP, "/auth/me", headers={
        "Origin": origin, "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "x-csrf-token"})
    expect("[STATUS] of the preflight", answer.outcome, "in", ("200", "204"))
    expect("Access-Control-Allow-Origin", answer.header("access-control-allow-origin"), "==",
           origin)
    expect("Access-Control-Allow-Credentials",
           answer.header("access-control-allow-credentials"), "==", "true")


@one_project
@check("chatwoot.auth.proxy.cookie", severity="medium", runbook="auth.md#cookies-through-the-proxy",
       needs=("session",))
def test_cookies_survive_proxy(diag, session):
    if not diag.profile.urls.get("proxy"):
        pytest.skip("not run: the target profile names no [chatwoot.urls] proxy")
    app = mvp.settings(diag)
    login = diag.http.post("proxy", "/auth/login", json_body={
        "username": app["username"], "password": diag.profile.secret(str(app["password_env"]))})
    expect("[STATUS] of POST /auth/login through the proxy", login.outcome, "==", "200")
    through = mvp.parse_set_cookie(login.header("set-cookie"))
    for cookie in through:
        diag.redactor.add(cookie.value)
    direct = mvp.parse_set_cookie(session.set_cookie)
    _show(through, "the proxy")
    expect("cookies set through the proxy (name and attributes)",
           sorted(c.described() for c in through), "==",
           sorted(c.described() for c in direct))

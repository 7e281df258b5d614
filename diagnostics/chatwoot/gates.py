"""The MVP's upstreams: its API, the diagnostics' session on each project, and its
database, read by a read-only role."""

from __future__ import annotations

from diagnostics.chatwoot import mvp
from fixtures import upstreams
from fixtures.context import Context
from fixtures.gates import Verdict, register
from fixtures.probes.http import Response

SYSTEM = "chatwoot"

upstreams.register_databases(SYSTEM, {"cw_db": "chatwoot.search.db.reachable"})


@register("app", "chatwoot.auth.app.reachable")
def app_gate(ctx: Context, _key: str) -> Verdict:
    """The MVP keeps its sessions and settings in its database: where that database
    cannot exist here (no PostgreSQL server), the API's checks are not run, not failed."""
    missing = ctx.profile.dsn.get("cw_db_unavailable", "")
    if missing:
        return Verdict(False, f"the MVP's API needs its database, which cannot run here: "
                              f"{missing}", unavailable=True)
    return upstreams.http(ctx, mvp.APP, "/health")


@register("session", "chatwoot.auth.session[{key}]", needs=("app",), keyed="project")
def session_gate(ctx: Context, project: str) -> Verdict:
    """Sign in as the profile's user, then make the project the session's active one
    (``POST /projects/:id/select``, with the CSRF header): the session set-up every
    project-scoped read needs. It changes only the diagnostics' own session row."""
    app = mvp.settings(ctx)
    username, env = str(app["username"]), str(app["password_env"])
    if not username or not env:
        return Verdict(False, f"the target profile names no {ctx.profile.table('app')} "
                              "username and password_env")
    login = ctx.http.post(mvp.APP, "/auth/login", json_body={
        "username": username, "password": ctx.profile.secret(env)})
    what = f"sign-in as {username} with the password from {env}"
    if login.status != 200:
        return Verdict(False, f"{what} answered {login.outcome}{_error(login)}")
    cookies = {c.name: c.value for c in mvp.parse_set_cookie(login.header("set-cookie"))}
    for value in cookies.values():
        ctx.redactor.add(value)
    csrf_name = str(_body(login, "csrf_cookie_name") or "csrf_token")
    csrf = cookies.get(csrf_name, "")
    if not cookies or not csrf:
        return Verdict(False, f"{what} answered 200 without the session and {csrf_name} "
                              "cookies (Set-Cookie missing)")
    session = mvp.Session(project, "", cookies, csrf, login.header("set-cookie"))
    listed = ctx.http.get(mvp.APP, "/projects", headers=session.headers)
    found = [p for p in (_body(listed, "projects") or []) if isinstance(p, dict)
             and p.get("name") == project]
    if not found:
        return Verdict(False, f"GET /projects answered {listed.outcome} without a project "
                              f"named {project}{_error(listed)}")
    session.project_id = str(found[0].get("id"))
    selected = ctx.http.post(mvp.APP, f"/projects/{session.project_id}/select",
                             headers={**session.headers, "x-csrf-token": csrf})
    if selected.status != 200:
        return Verdict(False, f"selecting project {project} answered "
                              f"{selected.outcome}{_error(selected)}")
    mvp.sessions(ctx)[project] = session
    return Verdict(True, f"{what} accepted; the session's active project is {project} "
                         f"({session.project_id})")


def _body(response: Response, key: str):
    try:
        body = response.json
    except Exception:  # noqa: BLE001 - an unreadable answer holds nothing
        return None
    return body.get(key) if isinstance(body, dict) else None


def _error(response: Response) -> str:
    code = _body(response, "error")
    return f" ({code})" if code else ""

"""The MVP's HTTP API as the reference contract describes it: cookie sessions kept in the
``sessions`` table, the CSRF header on mutating routes, CORS for one origin, the project
scope, and the read routes the runbooks use (jobs status, scheduler, outbound, sign-up
status) plus ``POST /search``. Everything is read from the real database."""

from __future__ import annotations

import json
import re
import secrets
import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

from sandbox.chatwoot.world import WRONG_ORIGIN, World
from sandbox.parts.http import Request, Response, json_response

Connect = Callable[[], AbstractContextManager[Any]]
PUBLIC = ("/health", "/metrics")
READ_METHODS = ("GET", "HEAD", "OPTIONS")
MAX_AGE = 14 * 24 * 3600
_SELECT = re.compile(r"^/projects/([0-9a-f-]{36})/select$")


class App:
    """``openai_ok()`` says whether OpenAI would embed the query with the server's key
    (None when it would, else the error the server logs)."""

    def __init__(self, world: World, env: dict[str, str], connect: Connect,
                 openai_error: Callable[[], str | None]) -> None:
        self.world = world
        self.env = env
        self.connect = connect
        self.openai_error = openai_error

    def __call__(self, request: Request) -> Response:
        path = request.path.removeprefix("/v1") or "/"
        request_id = request.headers.get("x-request-id") or f"req-{uuid.uuid4().hex[:12]}"
        if request.method == "OPTIONS":
            return self._preflight(request)
        try:
            response = self._route(request, path)
        except Exception as exc:  # noqa: BLE001 - the server's 500 envelope
            response = _error(500, "internal_error", str(exc))
        if response.content_type == "application/json" and response.body:
            payload = json.loads(response.body)
            payload["request_id"] = request_id
            response.body = json.dumps(payload, separators=(",", ":")).encode()
        response.headers.setdefault("x-request-id", request_id)
        response.headers.update(self._cors(request))
        return response

    # --- the edges: CORS, sessions, CSRF -------------------------------------------------

    def _cors(self, request: Request) -> dict[str, str]:
        """@fastify/cors with a string origin sends that origin, whoever asks."""
        if not request.headers.get("Origin"):
            return {}
        return {"Access-Control-Allow-Origin": self.env["CORS_ORIGIN"],
                "Access-Control-Allow-Credentials": "true", "Vary": "Origin"}

    def _preflight(self, request: Request) -> Response:
        response = Response(204, b"", "text/plain")
        response.headers.update(self._cors(request))
        response.headers["Access-Control-Allow-Methods"] = "GET,HEAD,PUT,PATCH,POST,DELETE"
        asked = request.headers.get("Access-Control-Request-Headers")
        if asked:
            response.headers["Access-Control-Allow-Headers"] = asked
        return response

    def _session(self, request: Request) -> dict[str, Any] | None:
        sid = _cookies(request).get(self.env["SESSION_COOKIE_NAME"], "")
        if not sid:
            return None
        with self.connect() as conn:
            row = conn.execute("SELECT s.username, s.active_project_id::text, s.csrf_token, "
                               "p.account_scope_id::text, s.created_at, s.last_seen_at "
                               "FROM sessions s LEFT JOIN projects p ON p.id = "
                               "s.active_project_id WHERE s.session_id = %s", (sid,)).fetchone()
        if row is None:
            return None
        keys = ("username", "active_project_id", "csrf_token", "account_scope_id",
                "created_at", "last_seen_at")
        return {"sid": sid, **dict(zip(keys, row, strict=True))}

    def _csrf_ok(self, request: Request, session: dict[str, Any]) -> bool:
        if self.world.has("cwapp_csrf_not_enforced"):
            return True
        sent = request.headers.get("x-csrf-token", "")
        return bool(sent) and secrets.compare_digest(sent, session["csrf_token"])

    def _set_cookies(self, sid: str, csrf: str) -> list[str]:
        attrs = f"Max-Age={MAX_AGE}; Path=/; SameSite=Lax"
        if self.env.get("NODE_ENV") == "production":
            attrs += "; Secure"
        if self.world.has("cwapp_cookie_domain_wrong"):
            attrs += f"; Domain={WRONG_ORIGIN.split('//', 1)[1]}"
        return [f"{self.env['SESSION_COOKIE_NAME']}={sid}; {attrs}; HttpOnly",
                f"{self.env['CSRF_COOKIE_NAME']}={csrf}; {attrs}"]

    # --- routes ---------------------------------------------------------------------------

    def _route(self, request: Request, path: str) -> Response:
        method = request.method
        if path == "/health" and method == "GET":
            return _ok({"service": "server"})
        if path.startswith("/auth/"):
            return self._auth(request, path)
        if path in PUBLIC:
            return _error(404, "not_found", "Route not found")
        session = self._session(request)
        if session is None:
            return _error(401, "unauthorized", "Unauthorized")
        if method not in READ_METHODS and not self._csrf_ok(request, session):
            return _error(403, "csrf_invalid", "Invalid CSRF token")
        if path == "/projects" and method == "GET":
            return self._projects()
        selected = _SELECT.match(path)
        if selected and method == "POST":
            return self._select(session, selected.group(1))
        if not (session["active_project_id"] and session["account_scope_id"]):
            return _error(409, "active_project_required", "Select an active project first")
        project = session["active_project_id"]
        routes = {("GET", "/jobs/status"): lambda: self._jobs_status(project),
                  ("GET", "/jobs/scheduler"): lambda: self._scheduler(project),
                  ("GET", "/outbound"): lambda: self._outbound(project, request.query),
                  ("POST", "/search"): lambda: self._search(project, request.body)}
        handler = routes.get((method, path))
        return handler() if handler else _error(404, "not_found", "Route not found")

    def _auth(self, request: Request, path: str) -> Response:
        if path == "/auth/login" and request.method == "POST":
            return self._login(request)
        if path == "/auth/me" and request.method == "GET":
            session = self._session(request)
            if session is None:
                return _ok({"authenticated": False})
            return _ok({"authenticated": True, "username": session["username"],
                        "active_project_id": session["active_project_id"],
                        "account_scope_id": session["account_scope_id"],
                        "csrf_cookie_name": self.env["CSRF_COOKIE_NAME"],
                        "created_at": session["created_at"].isoformat(),
                        "last_seen_at": session["last_seen_at"].isoformat()})
        if path == "/auth/signup/status" and request.method == "GET":
            return self._signup_status()
        return _error(404, "not_found", "Route not found")

    def _login(self, request: Request) -> Response:
        try:
            body = json.loads(request.body or b"{}")
        except ValueError:
            body = {}
        username, password = str(body.get("username") or ""), str(body.get("password") or "")
        if not username or not password:
            return _error(400, "missing_credentials", "Username and password are required")
        known = (self.env["AUTH_USERNAME"], self.env["AUTH_PASSWORD"])
        if self.world.has("cwapp_login_rejected") or not (
                secrets.compare_digest(username, known[0])
                and secrets.compare_digest(password, known[1])):
            return _error(401, "invalid_credentials", "Invalid credentials")
        sid, csrf = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
        with self.connect() as conn:
            conn.execute("INSERT INTO sessions (session_id, username, csrf_token) VALUES "
                         "(%s, %s, %s)", (sid, username, csrf))
        response = _ok({"username": username, "active_project_id": None,
                        "csrf_cookie_name": self.env["CSRF_COOKIE_NAME"]})
        response.headers["Set-Cookie"] = self._set_cookies(sid, csrf)
        return response

    def _signup_status(self) -> Response:
        with self.connect() as conn:
            owners = conn.execute("SELECT count(*) FROM app_settings WHERE key IN "
                                  "('telegram_owner_user_id', 'telegram_owner_chat_id')"
                                  ).fetchone()[0]
        token = bool(self.env.get("TELEGRAM_BOT_TOKEN"))
        return _ok({"enabled": token and owners == 2, "has_telegram_token": token,
                    "owner_bound": owners == 2})

    def _projects(self) -> Response:
        with self.connect() as conn:
            rows = conn.execute("SELECT id::text, name, account_scope_id::text FROM projects "
                                "ORDER BY name").fetchall()
        return _ok({"projects": [{"id": i, "name": n, "account_scope_id": s}
                                 for i, n, s in rows]})

    def _select(self, session: dict[str, Any], project: str) -> Response:
        with self.connect() as conn:
            found = conn.execute("SELECT id::text, name, account_scope_id::text FROM projects "
                                 "WHERE id = %s", (project,)).fetchone()
            if found is None:
                return _error(404, "project_not_found", "Project not found")
            conn.execute("UPDATE sessions SET active_project_id = %s, last_seen_at = now() "
                         "WHERE session_id = %s", (project, session["sid"]))
        return _ok({"project": {"id": found[0], "name": found[1],
                                "account_scope_id": found[2]}})

    def _jobs_status(self, project: str) -> Response:
        with self.connect() as conn:
            jobs = conn.execute(
                "SELECT DISTINCT ON (job_name) id, job_name, status, started_at, finished_at, "
                "processed_count, error, meta FROM job_runs WHERE project_id = %s "
                "ORDER BY job_name, started_at DESC", (project,)).fetchall()
            counts = dict(conn.execute(
                "SELECT embedding_status, count(*) FROM rag_chunks WHERE project_id = %s "
                "GROUP BY 1", (project,)).fetchall())
            messages = conn.execute("SELECT count(*) FROM cw_messages WHERE project_id = %s",
                                    (project,)).fetchone()[0]
        keys = ("id", "job_name", "status", "started_at", "finished_at", "processed_count",
                "error", "meta")
        return _ok({
            "jobs": [_jsonable(dict(zip(keys, row, strict=True))) for row in jobs],
            "rag_counts": {s: counts.get(s, 0) for s in ("pending", "processing", "ready",
                                                         "failed")},
            "entities": {"contacts": 5, "conversations": 8, "messages": messages,
                         "rag_chunks": sum(counts.values())},
            "storage": {"database_bytes": 9_000_000, "scoped_logical_bytes": 1_200_000,
                        "budget_bytes": 20 * 1024 ** 3, "usage_percent": 0.04,
                        "table_bytes": {}},
            "watermarks": [],
        })

    def _scheduler(self, project: str) -> Response:
        with self.connect() as conn:
            rows = conn.execute(
                "SELECT id::text, job_type, status, cadence_seconds, next_run_at, last_run_at, "
                "last_status, last_error, payload FROM scheduled_jobs WHERE project_id = %s "
                "ORDER BY job_type", (project,)).fetchall()
        keys = ("id", "job_type", "status", "cadence_seconds", "next_run_at", "last_run_at",
                "last_status", "last_error", "payload")
        return _ok({"jobs": [_jsonable(dict(zip(keys, row, strict=True))) for row in rows]})

    def _outbound(self, project: str, query: str) -> Response:
        from urllib.parse import parse_qs

        wanted = parse_qs(query).get("status", [""])[0]
        with self.connect() as conn:
            cursor = conn.execute(
                "SELECT id::text, channel, recipient_ref, status, retry_count, max_retries, "
                "next_attempt_at, last_error, created_at, updated_at, sent_at "
                "FROM outbound_messages WHERE project_id = %s AND (%s = '' OR status = %s) "
                "ORDER BY created_at DESC LIMIT 100", (project, wanted, wanted))
            names = [c.name for c in cursor.description]
            rows = [_jsonable(dict(zip(names, row, strict=True))) for row in cursor.fetchall()]
        return _ok({"outbound": rows})

    def _search(self, project: str, raw: bytes) -> Response:
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            body = {}
        query = str(body.get("query") or "").strip()
        if not query:
            return _error(400, "query_required", "query is required")
        top_k = max(1, min(50, int(body.get("topK") or 10)))
        if not self.env.get("OPENAI_API_KEY"):
            return _error(500, "internal_error", "Missing env var: OPENAI_API_KEY")
        failure = self.openai_error()
        if failure:
            return _error(500, "internal_error", failure)
        words = [f"%{w}%" for w in query.split()]
        with self.connect() as conn:
            rows = conn.execute(
                "SELECT id::text, conversation_global_id, message_global_id, chunk_index, "
                "left(text, 500), created_at FROM rag_chunks WHERE project_id = %s AND "
                "embedding_status = 'ready' AND text ILIKE ANY(%s) ORDER BY created_at DESC "
                "LIMIT %s", (project, words, top_k)).fetchall()
        keys = ("id", "conversation_global_id", "message_global_id", "chunk_index", "text",
                "created_at")
        results = [_jsonable(dict(zip(keys, row, strict=True))) | {"distance": 0.2}
                   for row in rows]
        return _ok({"query": query, "topK": top_k, "project_id": project,
                    "embedding_model": self.env.get("EMBEDDING_MODEL"), "results": results})


def _cookies(request: Request) -> dict[str, str]:
    found = {}
    for part in (request.headers.get("Cookie") or "").split(";"):
        name, _, value = part.strip().partition("=")
        if name:
            found[name] = value
    return found


def _jsonable(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in row.items()}


def _ok(payload: dict[str, Any], status: int = 200) -> Response:
    return json_response(status, {"ok": True, **payload})


def _error(status: int, code: str, message: str) -> Response:
    return json_response(status, {"ok": False, "error": code, "message": message})

"""Airbyte 0.50's server (`airbyte-server`, :8001): its health probe and the read side of
the Config API that the runbook and the backend call.

It reads the World the backend serves, so a fault (a stale sync, a failed job, an orphaned
connection) shows the same way on both sides. Shapes follow 0.50: POST-only endpoints with
JSON bodies, epoch-second times, integer job ids, and Micronaut's error bodies, because a
check written against the sandbox must not trip over the real server's quirks later.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import datetime

from sandbox.adinsights import airbyte_proxy
from sandbox.adinsights.airbyte_objects import (
    Body,
    airbyte_jobs,
    attempt_read,
    connection_read,
    job_read,
    job_status,
    log_lines,
    web_backend_item,
    workspace_read,
)
from sandbox.adinsights.state import Connection, Job, utc_now
from sandbox.adinsights.world import World
from sandbox.parts.http import (
    DownService,
    HttpService,
    Request,
    RequestLog,
    Response,
    json_response,
)

PREFIX = "/api/v1/"
HEALTH_PATH = "/api/v1/health"
DOWN_FAULT = "airbyte_api_down"
UNAVAILABLE_FAULT = "airbyte_unavailable"
CONFIG_TYPES = (
    "check_connection_source",
    "check_connection_destination",
    "discover_schema",
    "get_spec",
    "sync",
    "reset_connection",
)
DEFAULT_PAGE_SIZE = 200


# --- views: each takes the World, the request body and the time, and returns a Response


def _connections(world: World) -> dict[str, Connection]:
    return {c.connection_id: c for c in world.airbyte_connections()}


def _workspaces(world: World, body: Body, now: datetime) -> Response:
    workspaces = sorted((workspace_read(t) for t in world.tenants), key=lambda w: w["name"])
    return json_response(200, {"workspaces": workspaces})


def _in_workspace(world: World, workspace_id: str) -> list[Connection]:
    found = [c for c in world.airbyte_connections() if c.workspace_id == workspace_id]
    return sorted(found, key=lambda c: (c.name, c.connection_id))


def _connection_list(world: World, body: Body, now: datetime) -> Response:
    rows = [connection_read(c) for c in _in_workspace(world, body["workspaceId"])]
    return json_response(200, {"connections": rows})


def _web_backend_list(world: World, body: Body, now: datetime) -> Response:
    items = [web_backend_item(c, now) for c in _in_workspace(world, body["workspaceId"])]
    return json_response(200, {"connections": items})


def _jobs_list(world: World, body: Body, now: datetime) -> Response:
    connection = _connections(world).get(body["configId"])
    jobs = airbyte_jobs(connection) if connection and "sync" in body["configTypes"] else []
    statuses = body.get("statuses")
    if isinstance(statuses, list) and statuses:
        jobs = [job for job in jobs if job_status(job) in statuses]
    field_name = "updatedAt" if body.get("orderByField") == "updatedAt" else "createdAt"
    newest_first = str(body.get("orderByMethod", "DESC")).upper() != "ASC"
    rows = [
        {"job": job_read(job, connection, now), "attempts": _attempts(job, now)} for job in jobs
    ]
    rows.sort(key=lambda row: (row["job"][field_name], row["job"]["id"]), reverse=newest_first)
    page = body.get("pagination") or {}
    size, offset = page.get("pageSize", DEFAULT_PAGE_SIZE), page.get("rowOffset", 0)
    return json_response(200, {"jobs": rows[offset : offset + size], "totalJobCount": len(rows)})


def _attempts(job: Job, now: datetime) -> list[Body]:
    attempt = attempt_read(job, now)
    return [attempt] if attempt else []


def _last_replication(world: World, body: Body, now: datetime) -> Response:
    """Sync and reset jobs only, never a cancelled one, and no attempts; `{}` if none."""
    connection = _connections(world).get(body["connectionId"])
    jobs = airbyte_jobs(connection) if connection else []
    latest = next((job for job in jobs if job_status(job) != "cancelled"), None)
    if latest is None:
        return json_response(200, {})
    return json_response(200, {"job": job_read(latest, connection, now)})


def _job_get(world: World, body: Body, now: datetime) -> Response:
    for connection in world.airbyte_connections():
        for job in airbyte_jobs(connection):
            if int(job.job_id) == body["id"]:
                attempt = attempt_read(job, now)
                logs = {"logLines": log_lines(job, attempt, now)} if attempt else {}
                attempts = [{"attempt": attempt, "logs": logs}]
                return json_response(
                    200,
                    {
                        "job": job_read(job, connection, now),
                        "attempts": attempts if attempt else [],
                    },
                )
    message = f"Could not find configuration for JOB: {body['id']}."
    return json_response(
        404,
        {
            "id": str(body["id"]),
            "message": message,
            "exceptionClassName": "io.airbyte.commons.server.errors.IdNotFoundKnownException",
            "exceptionStack": [],
            "rootCauseExceptionClassName": "io.airbyte.data.exceptions.ConfigNotFoundException",
            "rootCauseExceptionStack": [],
        },
    )


# --- request checking: Micronaut binds the body and validates it before any view runs


def _uuid(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError("must be a UUID string")
    return str(uuid.UUID(value))


def _text(value: object) -> str:
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise ValueError("must be a string")
    return str(value)


def _integer(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError("must be an integer")
    try:
        return int(value)
    except ValueError:
        raise ValueError("must be an integer") from None


def _config_types(value: object) -> list[str]:
    if not isinstance(value, list) or not all(item in CONFIG_TYPES for item in value):
        raise ValueError(f"must be a list of {', '.join(CONFIG_TYPES)}")
    return value


def _pagination(value: object) -> dict[str, int]:
    if not isinstance(value, dict):
        raise ValueError("must be an object")
    size = _integer(value.get("pageSize", DEFAULT_PAGE_SIZE))
    offset = _integer(value.get("rowOffset", 0))
    if size < 1 or offset < 0:
        raise ValueError("pageSize must be at least 1 and rowOffset at least 0")
    return {"pageSize": size, "rowOffset": offset}


View = Callable[[World, Body, datetime], Response]
Field = tuple[bool, Callable[[object], object]]  # (required, parse)

# path -> (the Java operation, which names validation errors, body fields, view)
ENDPOINTS: dict[str, tuple[str, dict[str, Field], View]] = {
    "workspaces/list": ("listWorkspaces", {}, _workspaces),
    "connections/list": (
        "listConnectionsForWorkspace",
        {"workspaceId": (True, _uuid)},
        _connection_list,
    ),
    "jobs/list": (
        "listJobsFor",
        {
            "configTypes": (True, _config_types),
            "configId": (True, _text),
            "pagination": (False, _pagination),
        },
        _jobs_list,
    ),
    "jobs/get_last_replication_job": (
        "getLastReplicationJob",
        {"connectionId": (True, _uuid)},
        _last_replication,
    ),
    "jobs/get": ("getJobInfo", {"id": (True, _integer)}, _job_get),
    "web_backend/connections/list": (
        "webBackendListConnectionsForWorkspace",
        {"workspaceId": (True, _uuid)},
        _web_backend_list,
    ),
}


def _error(status: int, message: str, exception: str, **extra: object) -> Response:
    body = {"message": message, "exceptionClassName": exception, "exceptionStack": [], **extra}
    return json_response(status, body)


def _route_error(status: int, message: str, request: Request, detail: str) -> Response:
    """Micronaut's own errors (no route, wrong method) carry HAL links, not Airbyte's shape."""
    body = {
        "message": message,
        "_links": {"self": {"href": request.path, "templated": False}},
        "_embedded": {"errors": [{"message": detail}]},
    }
    return json_response(status, body)


def _bind(operation: str, fields: dict[str, Field], raw: bytes) -> Body | Response:
    try:
        body = json.loads(raw or b"{}")
    except (ValueError, UnicodeDecodeError) as exc:
        exception = "com.fasterxml.jackson.core.JsonParseException"
        return _error(422, f"Invalid json. {exc}", exception)
    if not isinstance(body, dict):
        exception = "com.fasterxml.jackson.databind.exc.MismatchedInputException"
        return _error(422, "Invalid json input. Expected a JSON object.", exception)
    problems = []
    for name, (required, parse) in fields.items():
        value = body.get(name)
        if value is None:
            if required:
                problems.append((name, "null", "must not be null"))
            continue
        try:
            body[name] = parse(value)
        except ValueError as exc:
            problems.append((name, json.dumps(value), str(exc)))
    if not problems:
        return body
    errors = [
        {"propertyPath": f"{operation}.arg0.{name}", "invalidValue": value, "message": message}
        for name, value, message in problems
    ]
    return _error(
        422,
        "Some properties contained invalid input.",
        "javax.validation.ConstraintViolationException",
        validationErrors=errors,
    )


def _database_down() -> Response:
    """What every config call gets while the server cannot reach airbyte-db."""
    return _error(
        500,
        "Internal Server Error: Unable to connect to the database.",
        "org.jooq.exception.DataAccessException",
        rootCauseExceptionClassName="org.postgresql.util.PSQLException",
        rootCauseExceptionStack=[],
    )


class AirbyteApi:
    """The server as one callable app, reading the shared World."""

    def __init__(self, world: World) -> None:
        self.world = world

    def __call__(self, request: Request) -> Response:
        available = UNAVAILABLE_FAULT not in self.world.faults
        if request.path == HEALTH_PATH:
            if request.method not in ("GET", "HEAD"):
                return self._not_allowed(request, "GET")
            return json_response(200, {"available": available})
        name = request.path[len(PREFIX) :] if request.path.startswith(PREFIX) else ""
        if name not in ENDPOINTS:
            return _route_error(404, "Not Found", request, "Page Not Found")
        if request.method != "POST":
            return self._not_allowed(request, "POST")
        operation, fields, view = ENDPOINTS[name]
        body = _bind(operation, fields, request.body)
        if isinstance(body, Response):
            return body
        return view(self.world, body, utc_now()) if available else _database_down()

    @staticmethod
    def _not_allowed(request: Request, allowed: str) -> Response:
        detail = (
            f"Method [{request.method}] not allowed for URI [{request.path}]. "
            f"Allowed methods: [{allowed}]"
        )
        response = _route_error(405, "Method Not Allowed", request, detail)
        response.headers["Allow"] = allowed
        return response


def service(world: World, log: RequestLog) -> HttpService | DownService:
    return airbyte_proxy.serve("airbyte_api", AirbyteApi(world), world, log, down=DOWN_FAULT)

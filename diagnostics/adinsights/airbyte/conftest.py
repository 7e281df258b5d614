"""Observations for the Airbyte checks: Airbyte's own API, the backend's view of it,
the containers, the config database and the deployment files.

Container names, mount names and thresholds default to the runbook's local profile and
can be overridden in the target profile's ``[adinsights.airbyte]`` table.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from diagnostics.adinsights.conftest import deployment_file
from diagnostics.adinsights.gates import airbyte_auth
from fixtures import shared
from fixtures.compose import RenderError, render
from fixtures.context import Context
from fixtures.probes import files
from fixtures.probes.db import DbError
from fixtures.probes.engine import Container, EngineError
from fixtures.probes.http import Response

DEFAULTS = {
    "bootloader_container": "airbyte-bootloader",
    "server_container": "airbyte-server",
    "worker_container": "airbyte-worker",
    "scheduler_container": "airbyte-scheduler",
    "db_container": "airbyte-db",
    "workspace_mount": "airbyte-workspace",
    "local_mount": "airbyte-local",
    "max_sync_age_minutes": 60,
    "running_stale_minutes": 120,
    "webhook_silence_minutes": 30,
    # where the backend runs: in a container it reaches Airbyte on the host by this name
    "backend_in_container": False,
    "container_host_name": "host.docker.internal",
}


@pytest.fixture
def settings(diag: Context) -> dict:
    return diag.settings("airbyte", DEFAULTS)


def _url_or_skip(diag: Context, key: str) -> None:
    if not diag.profile.urls.get(key):
        pytest.skip(f"not run: the target profile names no [adinsights.urls] {key}")


@pytest.fixture
def airbyte_health(diag: Context) -> Response:
    return diag.http.get("airbyte_api", "/api/v1/health", headers=airbyte_auth(diag))


@pytest.fixture
def airbyte_ui_page(diag: Context) -> Response:
    _url_or_skip(diag, "airbyte_ui")
    return diag.http.get("airbyte_ui", "/", headers=airbyte_auth(diag))


@pytest.fixture
def config_api(diag: Context):
    """POST-shaped reads against Airbyte's config API, memoised for the run."""

    def call(path: str, body: dict) -> Response:
        return diag.http.post("airbyte_api", f"/api/v1/{path}", json_body=body,
                              headers=airbyte_auth(diag), memo=True)

    return call


@pytest.fixture
def env_sample(diag: Context) -> dict[str, str]:
    read = deployment_file(diag, "env_sample")
    if not read.exists:
        pytest.fail(f"{read.path} is missing", pytrace=False)
    return files.parse_env(read.data)


@pytest.fixture
def compose(diag: Context) -> dict:
    """The compose file as `docker compose --env-file .env config` renders it: the env
    file is ``[adinsights.paths] compose_env_file``, else the `.env` beside the file."""
    import yaml

    read = deployment_file(diag, "compose_file")
    if not read.exists:
        return {}
    env_path = diag.profile.paths.get("compose_env_file") or \
        str(Path(diag.profile.paths["compose_file"]).parent / ".env")
    env_read = files.read_text(Path(env_path), diag.redactor)
    try:
        document = yaml.safe_load(read.data) or {}
        return render(document, files.parse_env(env_read.data) if env_read.exists else {})
    except (yaml.YAMLError, RenderError) as exc:
        return {"__error__": str(exc).splitlines()[0]}


@pytest.fixture
def backend_connections(diag: Context, tenant: str) -> Response:
    return diag.http.get("api", "/api/airbyte/connections/", headers=diag.auth(tenant))


@pytest.fixture
def telemetry(diag: Context, tenant: str) -> Response:
    return diag.http.get("api", "/api/airbyte/telemetry/", headers=diag.auth(tenant))


@pytest.fixture
def webhook_audit(diag: Context, tenant: str) -> Response:
    return diag.http.get("api", "/api/audit-logs/", headers=diag.auth(tenant),
                         params={"action": "airbyte_job_webhook"})


@pytest.fixture
def last_jobs(backend_connections: Response, config_api) -> list[tuple[dict, dict | None]]:
    """Each active backend connection with Airbyte's last replication job for it."""
    rows = backend_connections.json if isinstance(backend_connections.json, list) else \
        backend_connections.body("results", [])
    pairs = []
    for row in rows:
        if row.get("is_active") is False:
            continue
        answer = config_api("jobs/get_last_replication_job",
                            {"connectionId": row.get("connection_id")})
        pairs.append((row, (answer.json or {}).get("job") if answer.status == 200 else None))
    return pairs


@pytest.fixture
def container(diag: Context, settings: dict):
    def inspect(role: str) -> Container:
        return shared.container(diag, settings[f"{role}_container"])

    return inspect


@dataclass
class Relations:
    tables: list[str]
    via: str


_DT_ROW = re.compile(r"^\s*(\w+)\s*\|\s*(\w+)\s*\|\s*(table|view)", re.MULTILINE)


@pytest.fixture
def airbyte_relations(diag: Context, settings: dict) -> Relations:
    """The tables of the ``airbyte`` database: over psycopg when the DSN answers, else
    by running ``psql -c '\\dt'`` inside the ``airbyte-db`` container, as the runbook does."""
    if diag.gates.verdict("airbyte_db").ok:
        try:
            rows = diag.db.query(diag.database("airbyte_db"),
                                 "select tablename from pg_tables where schemaname = 'public' "
                                 "order by 1")
        except DbError as exc:
            pytest.fail(str(exc), pytrace=False)
        return Relations([r[0] for r in rows], "psycopg")
    try:
        code, output = diag.engine.exec(settings["db_container"],
                                        ["psql", "-U", "airbyte", "-d", "airbyte", "-c", r"\dt"])
    except EngineError as exc:
        pytest.fail(str(exc), pytrace=False)
    if code != 0:
        pytest.fail(f"psql in {settings['db_container']} exited {code}: {output.strip()[:200]}",
                    pytrace=False)
    return Relations([m.group(2) for m in _DT_ROW.finditer(output)], "docker exec psql")

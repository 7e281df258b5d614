"""Deployment files the checks read from disk: the backend's env file and the Airbyte
compose file (external-apis 1.3), plus the backend's settings module, its deployment
manifests (`deploy_files`) and the Celery task log (`task_logs`).

They are written from the settings the simulated services actually run with, so a check
comparing a file with what answers on a port finds them in agreement unless a fault makes
the file wrong, the way a hand-edited file goes wrong in a real deployment.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from urllib.parse import urlsplit

from sandbox.adinsights import api_logs, deploy_files, meta_graph, task_logs
from sandbox.adinsights.deploy_files import Layout, core_settings, shared_settings
from sandbox.adinsights.state import utc_now
from sandbox.adinsights.world import World
from sandbox.parts.http import HOST, refused_port

ENV_MISMATCH_FAULT = "airbyte_env_mismatch"
COMPOSE_ORDER_FAULT = "airbyte_compose_order"
COMPOSE_PORT_FAULT = "airbyte_compose_env_port"
WRONG_HOST_FAULT = "airbyte_env_wrong_host"
AIRBYTE_VERSION = "0.50.22"
# The upstream defaults: a server without the proxy ignores them, as the local profile does.
DEFAULT_AIRBYTE_CREDENTIALS = ("airbyte", "password")


def _port(url: str) -> int:
    return urlsplit(url).port or 80


def _other_port(taken: int) -> int:
    while (port := refused_port()) == taken:
        pass
    return port


def env_text(world: World, airbyte_url: str) -> str:
    if ENV_MISMATCH_FAULT in world.faults:
        airbyte_url = f"http://{HOST}:{_other_port(_port(airbyte_url))}"
    if WRONG_HOST_FAULT in world.faults:  # a container's name for the host, on the host
        airbyte_url = f"http://host.docker.internal:{_port(airbyte_url)}"
    user, password = world.airbyte_auth or DEFAULT_AIRBYTE_CREDENTIALS
    if "airbyte_misconfigured" in world.faults:
        user = password = ""
    settings = {
        **core_settings(world),
        **shared_settings(world),
        "AIRBYTE_API_URL": airbyte_url,
        "AIRBYTE_USERNAME": user,
        "AIRBYTE_PASSWORD": password,
        "AIRBYTE_WEBHOOK_SECRET_REQUIRED": "1" if world.webhook_secret_required else "0",
        "AIRBYTE_WEBHOOK_SECRET": world.webhook_secret,
        "AIRBYTE_DEFAULT_WORKSPACE_ID": world.tenants[0].connections[0].workspace_id,
        **world.mail.settings,  # EMAIL_PROVIDER, EMAIL_FROM_ADDRESS, SES_*, AWS_REGION
    }
    lines = ["# ADinsights backend settings (backend/.env)"]
    lines += [f"{key}={value}" for key, value in settings.items()]
    return "\n".join(lines) + "\n"


COMPOSE = Layout("""\
# infrastructure/airbyte/docker-compose.yml: the runbook's local Airbyte profile.
# No proxy and no basic auth: the server and the webapp publish their ports directly.
name: airbyte

services:
  db:
    image: airbyte/db:@version
    container_name: airbyte-db
    restart: unless-stopped
    environment:
      POSTGRES_USER: ${AIRBYTE_DB_USER:-airbyte}
      POSTGRES_PASSWORD: ${AIRBYTE_DB_PASSWORD:-airbyte}
      POSTGRES_DB: ${AIRBYTE_DB_NAME:-airbyte}
    volumes:
      - airbyte-db:/var/lib/postgresql/data
    healthcheck:
      test: ["CMD-SHELL", "pg_isready -U $${POSTGRES_USER}"]
      interval: 10s
      timeout: 5s
      retries: 10

  bootloader:
    image: airbyte/bootloader:@version
    container_name: airbyte-bootloader
    restart: "no"
    environment:@database
      RUN_DATABASE_MIGRATION_ON_STARTUP: "true"
    depends_on:
      db:
        condition: service_healthy

  server:
    image: airbyte/server:@version
    container_name: airbyte-server
    restart: unless-stopped
    ports:
      - "${AIRBYTE_SERVER_PORT:-18001}:8001"
    environment:@database
      CONFIG_ROOT: /data
      WORKSPACE_ROOT: /tmp/workspace
      TEMPORAL_HOST: airbyte-temporal:7233
      WEBAPP_URL: http://localhost:${AIRBYTE_WEBAPP_PORT:-18000}/
    volumes:
      - airbyte-data:/data
      - airbyte-workspace:/tmp/workspace
    depends_on:@after_bootloader
    healthcheck:
      test: ["CMD-SHELL", "curl -fsS http://localhost:8001/api/v1/health"]
      interval: 10s
      timeout: 5s
      retries: 10

  webapp:
    image: airbyte/webapp:@version
    container_name: airbyte-webapp
    restart: unless-stopped
    ports:
      - "${AIRBYTE_WEBAPP_PORT:-18000}:80"
    environment:
      INTERNAL_API_HOST: airbyte-server:8001
      CONNECTOR_BUILDER_API_HOST: airbyte-server:8001
    depends_on:
      server:
        condition: service_started

  worker:
    image: airbyte/worker:@version
    container_name: airbyte-worker
    restart: unless-stopped
    environment:@database
      WORKSPACE_ROOT: /tmp/workspace
      WORKSPACE_DOCKER_MOUNT: airbyte-workspace
      LOCAL_ROOT: /tmp/airbyte_local
      LOCAL_DOCKER_MOUNT: airbyte-local
      TEMPORAL_HOST: airbyte-temporal:7233
      INTERNAL_API_HOST: airbyte-server:8001
    volumes:
      - /var/run/docker.sock:/var/run/docker.sock
      - airbyte-workspace:/tmp/workspace
      - airbyte-local:/tmp/airbyte_local
    depends_on:@after_bootloader
    healthcheck:
      test: ["CMD-SHELL", "curl -fsS http://airbyte-server:8001/api/v1/health"]
      interval: 10s
      timeout: 5s
      retries: 10

  temporal:
    image: temporalio/auto-setup:1.25.0
    container_name: airbyte-temporal
    restart: unless-stopped
    environment:
      DB: postgres12
      DB_PORT: 5432
      POSTGRES_USER: ${AIRBYTE_DB_USER:-airbyte}
      POSTGRES_PWD: ${AIRBYTE_DB_PASSWORD:-airbyte}
      POSTGRES_SEEDS: db
    depends_on:
      db:
        condition: service_healthy

volumes:
  airbyte-db:
    name: airbyte-db
  airbyte-data:
    name: airbyte-data
  airbyte-workspace:
    name: airbyte-workspace
  airbyte-local:
    name: airbyte-local
""")
# Blocks shared by several services; filled in before the whole file.
_DATABASE = Layout("""
      DATABASE_USER: ${AIRBYTE_DB_USER:-airbyte}
      DATABASE_PASSWORD: ${AIRBYTE_DB_PASSWORD:-airbyte}
      DATABASE_URL: jdbc:postgresql://db:5432/${AIRBYTE_DB_NAME:-airbyte}
      AIRBYTE_VERSION: @version""")
_AFTER_BOOTLOADER = Layout("""
      bootloader:
        condition: @condition
      db:
        condition: service_healthy""")


def compose_text(world: World) -> str:
    """The ports are the runbook's defaults; the `.env` beside the file sets the real ones,
    so only a rendered file shows what is published."""
    ordered = COMPOSE_ORDER_FAULT not in world.faults
    condition = "service_completed_successfully" if ordered else "service_started"
    return COMPOSE.substitute(
        version=AIRBYTE_VERSION,
        database=_DATABASE.substitute(version=AIRBYTE_VERSION),
        after_bootloader=_AFTER_BOOTLOADER.substitute(condition=condition),
    )


def compose_env_text(world: World, server_url: str, webapp_url: str) -> str:
    """infrastructure/airbyte/.env: the ports the sandbox serves on, so the rendered file
    and the ports agree unless a fault edits the file."""
    server_port = _port(server_url)
    if COMPOSE_PORT_FAULT in world.faults:
        server_port = _other_port(server_port)
    return (f"# infrastructure/airbyte/.env\nAIRBYTE_SERVER_PORT={server_port}\n"
            f"AIRBYTE_WEBAPP_PORT={_port(webapp_url)}\nAIRBYTE_DB_USER=airbyte\n")


SAMPLE_SECRET_FAULT = "airbyte_env_sample_real_secret"


def env_sample_text(world: World) -> str:
    """backend/.env.sample: placeholders only, unless someone committed a real value."""
    secret = secrets.token_hex(32) if SAMPLE_SECRET_FAULT in world.faults else "change-me"
    return ("# Copy to .env and fill in. Never commit real values.\n"
            "AIRBYTE_API_URL=http://localhost:8001\nAIRBYTE_USERNAME=\nAIRBYTE_PASSWORD=\n"
            f"AIRBYTE_WEBHOOK_SECRET={secret}\nAIRBYTE_WEBHOOK_SECRET_REQUIRED=1\n")


def write(root: Path, world: World, urls: dict[str, str]) -> dict[str, str]:
    """Write every file under `root`; returns them as placeholder entries (the StandIn's paths)."""
    env_file, compose_file = root / "backend.env", root / "docker-compose.yml"
    env = meta_graph.with_meta_env(env_text(world, urls["airbyte_api"]), world.meta)
    env_file.write_text(env, encoding="utf-8")
    compose_file.write_text(compose_text(world), encoding="utf-8")
    (root / ".env").write_text(compose_env_text(world, urls["airbyte_api"], urls["airbyte_ui"]),
                               encoding="utf-8")
    (root / "backend.env.sample").write_text(env_sample_text(world), encoding="utf-8")
    task_log = root / "logs" / "celery-tasks.jsonl"
    task_logs.write(task_log, world, utc_now())
    api_log = root / "logs" / "api.jsonl"
    api_logs.write(api_log, world, utc_now())
    return {
        "env_file": str(env_file),
        "compose_file": str(compose_file),
        "env_sample": str(root / "backend.env.sample"),
        **deploy_files.write(root, world),
        "task_log": str(task_log),
        "api_log": str(api_log),
    }

"""The backend's settings module and deployment manifests, for the tenant safety
checklist's settings guardrail: ENABLE_TENANCY defaults to True in
`backend/core/settings.py`, and every deployment sets it explicitly.

The manifests carry the same settings the backend env file does, taken from what the
simulated services run with, so the files only disagree with the services (or with each
other) where a fault edits one of them.
"""

from __future__ import annotations

import json
from pathlib import Path
from string import Template

from sandbox.adinsights import api
from sandbox.adinsights.metrics_cache import STALE_TTL_SECONDS
from sandbox.adinsights.throttle import ENV_NAMES
from sandbox.adinsights.world import World

MANIFEST_OFF_FAULT = "tenancy_manifest_off"
SETTINGS_OFF_FAULT = "tenancy_settings_default_off"
BEAT_MISSING_FAULT = "airbyte_beat_entry_missing"
BEAT_UTC_FAULT = "beat_timezone_utc"
BEAT_HOURLY_FAULT = "beat_snapshot_hourly"
BEAT_DISABLED_FAULT = "beat_meta_insights_disabled"
DISABLED_FLAG = '\n        "enabled": False,'

IMAGE = f"adinsights/backend:{api.VERSION}"


def shared_settings(world: World) -> dict[str, str]:
    """Tenancy, CORS, throttle and metrics settings, as every deployment file sets them."""
    policy = world.cors
    return {
        "ENABLE_TENANCY": "1",
        "FRONTEND_BASE_URL": policy.frontend_base_url,
        "CORS_ALLOWED_ORIGINS": ",".join(policy.allowed_origins),
        "CORS_ALLOW_ALL_ORIGINS": "1" if policy.allow_all else "0",
        **{ENV_NAMES[scope]: rate for scope, rate in world.throttles.texts.items()},
        "ENABLE_WAREHOUSE_ADAPTER": "1",
        "METRICS_SNAPSHOT_STALE_TTL_SECONDS": str(STALE_TTL_SECONDS),
    }


class Layout(Template):
    """Placeholders spelled @name, because compose's own ${VAR:-default} uses the `$`."""

    delimiter = "@"


SETTINGS = Layout('''\
"""Django settings for the ADinsights backend (excerpt: core, tenancy, API edge, metrics)."""

from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env")

DEBUG = env.bool("DEBUG", default=False)
APP_VERSION = env("APP_VERSION", default="0.0.0-dev")
TIME_ZONE = env("TIME_ZONE", default="America/Jamaica")
USE_TZ = True

# Tenant isolation: querysets, tasks and the database session are scoped per tenant.
ENABLE_TENANCY = env.bool("ENABLE_TENANCY", default=@tenancy_default)

MIDDLEWARE = [
    "core.middleware.CorrelationIdMiddleware",
    "core.middleware.CorsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "accounts.middleware.TenantMiddleware",
]

FRONTEND_BASE_URL = env("FRONTEND_BASE_URL", default="http://localhost:5173")
CORS_ALLOW_ALL_ORIGINS = env.bool("CORS_ALLOW_ALL_ORIGINS", default=False)
CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", default=[])
CORS_ALLOWED_METHODS = env.list(
    "CORS_ALLOWED_METHODS", default=["DELETE", "GET", "OPTIONS", "PATCH", "POST", "PUT"]
)
CORS_ALLOW_CREDENTIALS = env.bool("CORS_ALLOW_CREDENTIALS", default=True)
CORS_PREFLIGHT_MAX_AGE = env.int("CORS_PREFLIGHT_MAX_AGE", default=86400)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework_simplejwt.authentication.JWTAuthentication",
    ],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_THROTTLE_RATES": {
        "auth_burst": env("DRF_THROTTLE_AUTH_BURST", default="10/min"),
        "auth_sustained": env("DRF_THROTTLE_AUTH_SUSTAINED", default="100/day"),
        "public": env("DRF_THROTTLE_PUBLIC", default="120/min"),
    },
}
SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=30),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=1),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
}

ENABLE_WAREHOUSE_ADAPTER = env.bool("ENABLE_WAREHOUSE_ADAPTER", default=False)
METRICS_SNAPSHOT_TTL = env.int("METRICS_SNAPSHOT_TTL", default=300)
METRICS_SNAPSHOT_STALE_TTL_SECONDS = env.int("METRICS_SNAPSHOT_STALE_TTL_SECONDS", default=3600)

CELERY_TIMEZONE = @celery_timezone
CELERY_BEAT_SCHEDULE = {
    "metrics-snapshot-sync": {
        "task": "analytics.sync_metrics_snapshots",
        "schedule": crontab(@snapshot_schedule),
    },@airbyte_beat
    "rotate-tenant-deks-weekly": {
        "task": "core.tasks.rotate_deks",
        "schedule": crontab(minute=30, hour=3, day_of_week="sun"),
    },
    "meta-refresh-tokens": {
        "task": "integrations.tasks.refresh_meta_tokens",
        "schedule": crontab(minute=0, hour="6-22"),
    },
    "meta-sync-accounts": {
        "task": "integrations.tasks.sync_meta_accounts",
        "schedule": crontab(minute=0, hour="6-22"),
    },
    "meta-sync-insights-incremental": {
        "task": "integrations.tasks.sync_meta_insights_incremental",
        "schedule": crontab(minute=0, hour="6-22"),@meta_insights_enabled
    },
    "meta-sync-hierarchy": {
        "task": "integrations.tasks.sync_meta_hierarchy",
        "schedule": crontab(minute=15, hour=2),
    },
}
''')
AIRBYTE_BEAT = '''
    "airbyte-scheduled-syncs-hourly": {
        "task": "integrations.tasks.trigger_scheduled_airbyte_syncs",
        "schedule": crontab(minute=0, hour="6-22"),
    },'''

K8S = Layout("""\
# deploy/k8s/backend-deployment.yaml: the API and its Celery worker share one ConfigMap.
apiVersion: v1
kind: ConfigMap
metadata:
  name: adinsights-backend-env
  labels:
    app: adinsights-backend
data:
@data
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: adinsights-backend
  labels:
    app: adinsights-backend
spec:
  replicas: 2
  selector:
    matchLabels:
      app: adinsights-backend
  template:
    metadata:
      labels:
        app: adinsights-backend
    spec:
      containers:
        - name: api
          image: @image
          command: ["gunicorn", "core.wsgi:application", "--bind", "0.0.0.0:8000"]
          ports:
            - containerPort: 8000
          envFrom:
            - configMapRef:
                name: adinsights-backend-env
            - secretRef:
                name: adinsights-backend-secrets
          readinessProbe:
            httpGet:
              path: /api/health/
              port: 8000
        - name: worker
          image: @image
          command: ["celery", "-A", "core", "worker", "--loglevel", "info"]
          envFrom:
            - configMapRef:
                name: adinsights-backend-env
            - secretRef:
                name: adinsights-backend-secrets
""")

COMPOSE = Layout("""\
# deploy/docker-compose.yml: the backend, its Celery worker and beat on one host.
name: adinsights

services:
  backend:
    image: @image
    command: gunicorn core.wsgi:application --bind 0.0.0.0:8000
    ports:
      - "8000:8000"
    env_file:
      - ../backend.env
    environment: &backend-environment
@environment
  worker:
    image: @image
    command: celery -A core worker --loglevel info
    env_file:
      - ../backend.env
    environment: *backend-environment
    depends_on:
      - backend
  beat:
    image: @image
    command: celery -A core beat --loglevel info
    env_file:
      - ../backend.env
    environment: *backend-environment
    depends_on:
      - worker
""")


def core_settings(world: World) -> dict[str, str]:
    """DEBUG, APP_VERSION (absent when the deployment never set it) and TIME_ZONE."""
    values = {"DEBUG": "0", "APP_VERSION": api.VERSION, "TIME_ZONE": "America/Jamaica"}
    if "version_unset" in world.faults:
        del values["APP_VERSION"]
    return values


def settings_text(world: World) -> str:
    off = SETTINGS_OFF_FAULT in world.faults
    beat = "" if BEAT_MISSING_FAULT in world.faults else AIRBYTE_BEAT
    faults = world.faults
    return SETTINGS.substitute(
        tenancy_default="False" if off else "True", airbyte_beat=beat,
        celery_timezone='"UTC"' if BEAT_UTC_FAULT in faults else "TIME_ZONE",
        snapshot_schedule="minute=0" if BEAT_HOURLY_FAULT in faults else 'minute="*/30"',
        meta_insights_enabled=DISABLED_FLAG if BEAT_DISABLED_FAULT in faults else "")


def k8s_text(world: World) -> str:
    values = {**core_settings(world), **shared_settings(world)}
    if MANIFEST_OFF_FAULT in world.faults:
        values["ENABLE_TENANCY"] = "0"
    data = "\n".join(f"  {key}: {json.dumps(value)}" for key, value in values.items())
    return K8S.substitute(data=data, image=IMAGE)


def compose_text(world: World) -> str:
    values = {**core_settings(world), **shared_settings(world)}
    environment = "\n".join(f"      - {key}={value}" for key, value in values.items())
    return COMPOSE.substitute(environment=environment, image=IMAGE)


def write(root: Path, world: World) -> dict[str, str]:
    """Write the settings module and both manifests; returns them as placeholder entries."""
    settings = root / "backend" / "core" / "settings.py"
    manifests = root / "deploy"
    files = {
        settings: settings_text(world),
        manifests / "k8s" / "backend-deployment.yaml": k8s_text(world),
        manifests / "docker-compose.yml": compose_text(world),
    }
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return {"settings_file": str(settings), "manifests": str(manifests)}

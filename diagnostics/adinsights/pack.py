"""ADinsights: the multi-tenant analytics stack (Django API, Superset, Airbyte, dbt,
Celery, Meta, SES) and its audit trail."""

from __future__ import annotations

from diagnostics.adinsights import (
    gates,  # noqa: F401 - registers ADinsights' upstreams
    meta_validation,
)
from fixtures.packs import Pack

# Which heavy stand-in parts each area's checks look at; the rest is always served.
RUNTIME_PARTS = {"airbyte": {"database", "containers"}, "tenancy": {"database"},
                 "meta": {"database"}, "ses": {"aws", "dns"}, "dr": {"database", "aws", "dr"}}


def stand_in(section, faults: frozenset[str], areas: set[str]):
    """ADinsights' sandbox stand-in, given the very credentials the section's env vars
    hold, so the suite signs in to it as it would to a real deployment."""
    from sandbox.adinsights import Account, StandIn

    secret = section.secret
    accounts = [
        Account(name=t.name, username=t.username, password=secret(t.password_env))
        if t.password_env else Account(name=t.name, token=secret(t.token_env or ""))
        for t in section.tenants
    ]
    airbyte, dsn = section.area("airbyte"), section.dsn
    auth = (airbyte["username"], secret(airbyte.get("password_env", ""))) \
        if airbyte.get("username") else None
    return StandIn(
        accounts=accounts,
        faults=faults,
        airbyte_auth=auth,
        webhook_secret=secret(airbyte.get("webhook_secret_env", "")) or None,
        previous_webhook_secret=secret(airbyte.get("previous_webhook_secret_env", "")) or None,
        runtime=set().union(*(RUNTIME_PARTS.get(area, set()) for area in areas)),
        airbyte_db_password=secret(dsn.get("airbyte_db_password_env", "")),
        app_db_password=secret(dsn.get("app_db_password_env", "")),
        meta_app_secret=secret(section.area("meta").get("app_secret_env", "")) or None,
        meta_token=secret(section.area("meta").get("token_env", "")) or None,
        meta_ops_db_password=secret(dsn.get("meta_ops_db_password_env", "")),
        audit_db_password=secret(dsn.get("audit_db_password_env", "")),
        expired_token=secret(section.area("edge").get("expired_token_env", "")) or None,
    )


def faults() -> dict[str, str]:
    from sandbox.adinsights.faults import FAULTS

    return FAULTS


PACK = Pack(
    name="adinsights",
    title="ADinsights: the multi-tenant analytics stack (API, Airbyte, dbt, Celery, Meta, "
          "SES) and its audit trail",
    areas={
        "health": "API, Airbyte, dbt, Superset and metrics health rows, plus the "
                  "observability baselines",
        "airbyte": "Airbyte runtime, ports, containers, config database, syncs and webhooks",
        "meta": "Meta connector lifecycle: OAuth configuration, social status, tokens, scopes, "
                "rate limits",
        "tenancy": "tenant isolation: settings guardrail, traversal, audit trail, row-level "
                   "security",
        "cache": "metrics snapshot cache behaviour, latency and freshness",
        "ses": "SES readiness: identity, DKIM, SPF/DMARC, production access",
        "dr": "audit retention and archival",
        "edge": "API edge controls: CORS and throttles",
    },
    required_urls=("api",),
    needs_tenants=True,
    thresholds={"airbyte_max_age_minutes": 60, "dbt_max_age_hours": 24,
                "freshness_warn_hours": 2, "freshness_error_hours": 4},
    ungated_http={"airbyte_ui": "airbyte"},
    stand_in=stand_in,
    faults=faults,
    writers=(meta_validation.write,),
)

"""ADinsights' stand-in: its HTTP services, files, databases, containers, SES, DNS and
audit archive, started on the run's shared parts."""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from sandbox.adinsights import (
    airbyte_api,
    airbyte_ui,
    api,
    archive,
    audit,
    backend_files,
    dbt,
    meta_graph,
    ses,
    superset,
)
from sandbox.adinsights.auth import ACCESS_LIFETIME, EXPIRY_IGNORED_FAULT, Sessions
from sandbox.adinsights.cors import CorsPolicy
from sandbox.adinsights.faults import check_faults
from sandbox.adinsights.meta_graph import MetaApp
from sandbox.adinsights.runtime import Runtime
from sandbox.adinsights.ses_dns import ses_records
from sandbox.adinsights.state import (
    Account,
    Tenant,
    airbyte_only_connections,
    build_tenants,
    utc_now,
    webhook_settings,
)
from sandbox.adinsights.throttle import check_rates, throttles_for
from sandbox.adinsights.world import World
from sandbox.parts.http import RequestLog, refused_port
from sandbox.parts.shared import Parts
from sandbox.parts.standin import Service, Services, Workdir

SERVICES: tuple[Callable[[World, RequestLog], Service], ...] = (
    api.service,
    superset.service,
    airbyte_api.service,
    airbyte_ui.service,
    meta_graph.service,
)

# The AWS part: SES's overrides answer the calls moto lacks, and the seeds put SES and
# the audit archive into the state the faults ask for, before the request log starts.
AWS_PART = "aws"
# The DNS part: a nameserver on loopback for the sending domain's mail records, handed to
# the profile as {sandbox.dns_host} and {sandbox.dns_port}.
DNS_PART = "dns"
DNS_DOWN_FAULT = "ses_dns_down"


class StandIn:
    """A faithful, faultable ADinsights stack on 127.0.0.1, for demos and self-tests.

    `airbyte_auth` is the (username, password) the Airbyte proxy demands on every path;
    None serves Airbyte without auth, as the runbook's local compose profile does.
    `webhook_secret` is the backend's AIRBYTE_WEBHOOK_SECRET; None leaves it unset, which
    with the backend's AIRBYTE_WEBHOOK_SECRET_REQUIRED=1 makes the webhook answer 503.
    `tenants` keeps the state the sandbox started in; webhook reports change only what
    the services serve.
    `cors_allowed_origins` and `frontend_base_url` are the backend's CORS_ALLOWED_ORIGINS
    and FRONTEND_BASE_URL (None: the .env.sample values); `throttle_rates` overrides DRF
    throttle rates by scope ("auth_burst", "auth_sustained", "public"), as the
    DRF_THROTTLE_* variables do.
    `previous_webhook_secret` is the webhook secret before the last rotation.
    `expired_token` is an access token the backend signed and that has expired.
    `runtime` names the heavier parts to build: "database", "containers", "dr" (the
    audit history role), "aws" and "dns".
    """

    name = "adinsights"

    def __init__(
        self,
        accounts: Sequence[Account],
        faults: Iterable[str] = (),
        workdir: Path | str | None = None,
        *,
        airbyte_auth: tuple[str, str] | None = None,
        webhook_secret: str | None = None,
        runtime: Collection[str] = (),
        airbyte_db_password: str | None = None,
        app_db_password: str | None = None,
        cors_allowed_origins: Iterable[str] | None = None,
        frontend_base_url: str | None = None,
        throttle_rates: Mapping[str, str] | None = None,
        meta_app_secret: str | None = None,
        meta_token: str | None = None,
        meta_ops_db_password: str | None = None,
        audit_db_password: str | None = None,
        expired_token: str | None = None,
        previous_webhook_secret: str | None = None,
    ) -> None:
        self.faults = check_faults(faults)
        self.tenants: list[Tenant] = list(build_tenants(list(accounts), self.faults))
        if airbyte_auth is not None:
            user, password = airbyte_auth
            if not user or ":" in user or not isinstance(password, str):
                raise ValueError("airbyte_auth needs a username without ':' and a password")
        self.urls: dict[str, str] = {}
        self.paths: dict[str, str] = {}
        self.dsn: dict[str, str] = {}
        self._runtime_parts = frozenset(runtime)
        self._airbyte_db_password = airbyte_db_password or secrets.token_hex(12)
        self._app_db_password = app_db_password or secrets.token_hex(12)
        self._runtime: Runtime | None = None
        self._airbyte_auth = airbyte_auth
        self._webhook_secret = webhook_secret
        self._previous_webhook_secret = previous_webhook_secret or ""
        self._cors = CorsPolicy.build(cors_allowed_origins, frontend_base_url, self.faults)
        self._throttle_rates = check_rates(throttle_rates)  # a bad rate fails here
        self._dir = Workdir(workdir, "adinsights-sandbox-")
        self._services = Services()
        # The Meta app's secret and the token the diagnostics may debug (meta_graph).
        self._meta_app_secret = meta_app_secret or secrets.token_hex(16)
        self._meta_token = meta_token or "EAAB" + secrets.token_urlsafe(24)
        self._meta_ops_db_password = meta_ops_db_password or secrets.token_hex(12)
        # The audit history reader's password.
        self._audit_db_password = audit_db_password or secrets.token_hex(12)
        # An access token this backend signed for the first tenant, expired at boot.
        self._expired_token = expired_token
        self._started = False

    def placeholders(self) -> dict[str, str]:
        """What ``{sandbox.<name>}`` stands for in the profile, for this system."""
        return dict(self.urls) | dict(self.paths) | dict(self.dsn)

    def start(self, parts: Parts) -> None:
        if self._started:
            raise RuntimeError("sandbox already started")
        self._started = True
        root = self._dir.open()
        target = root / "dbt" / "target"
        dbt.write_artifacts(target, self.faults, utc_now())
        world = self._world(target)
        aside: Future[dict[str, str]] | None = None
        try:
            for factory in SERVICES:
                service = factory(world, parts.log)
                self.urls[service.name] = self._services.start(service)
            files = backend_files.write(root, world, self.urls)
            # AWS and DNS boot beside the runtime: neither waits on the other.
            pool = ThreadPoolExecutor(1, thread_name_prefix="sandbox-aws")
            aside = pool.submit(self._start_aws_and_dns, world, parts)
            pool.shutdown(wait=False)
            if self._runtime_parts - {AWS_PART, DNS_PART}:
                self._runtime = Runtime(root / "runtime", self.faults, self._runtime_parts,
                                        self._airbyte_db_password, self._app_db_password,
                                        meta_ops_db_password=self._meta_ops_db_password,
                                        audit_db_password=self._audit_db_password)
                self._runtime.start(world, parts)
                self.urls.update(self._runtime.urls)
                self.dsn = dict(self._runtime.dsn)
            self.urls.update(aside.result())
        except BaseException:
            if aside is not None:
                with contextlib.suppress(BaseException):
                    aside.result(timeout=60)
            raise
        self.paths = {"dbt_target": str(target), **files}

    def _start_aws_and_dns(self, world: World, parts: Parts) -> dict[str, str]:
        """Returns their URLs, for the caller to publish once everything is up."""
        urls: dict[str, str] = {}
        if AWS_PART in self._runtime_parts:
            state = archive.ArchiveState(self.faults, utc_now())
            aws = parts.aws(
                overrides=[ses.override(world.ses)], outages=[archive.override(self.faults)],
                seeds=[lambda server: ses.seed(server, world.ses, world.mail),
                       lambda server: archive.seed(server, state)])
            urls[AWS_PART] = aws.url
        if DNS_PART in self._runtime_parts:
            # after SES is seeded: the DKIM CNAMEs carry SES's tokens
            urls["dns_host"] = "127.0.0.1"
            if DNS_DOWN_FAULT in self.faults:
                urls["dns_port"] = str(refused_port())
            else:
                dns = parts.dns(ses_records(world.ses, self.faults))
                urls["dns_port"] = str(dns.port)
        return urls

    def _world(self, dbt_target: Path) -> World:
        tenants = tuple(self.tenants)
        secret, required = webhook_settings(self._webhook_secret, self.faults)
        return World(
            tenants,
            self.faults,
            dbt_target,
            Sessions(tenants, expired=self._expired_token,
                     expired_at=utc_now() - ACCESS_LIFETIME,
                     ignore_expiry=EXPIRY_IGNORED_FAULT in self.faults),
            audit=audit.AuditLog(audit.seed(tenants, self.faults)),
            airbyte_only=airbyte_only_connections(tenants, self.faults),
            airbyte_auth=self._airbyte_auth,
            webhook_secret=secret,
            webhook_secret_required=required,
            webhook_previous_secret=self._previous_webhook_secret,
            throttles=throttles_for(self._throttle_rates, self.faults),
            cors=self._cors,
            meta=MetaApp.build(self.faults, self._meta_app_secret, self._meta_token,
                               self._cors.frontend_base_url),
        )

    def stop(self) -> None:
        """Safe to call twice or after a failed start: each step only undoes what exists.
        The shared parts (databases, engine, AWS, DNS) are stopped by their owner."""
        runtime, self._runtime = self._runtime, None
        if runtime is not None:
            runtime.stop()
        self._services.stop()
        self.urls = {}
        self.paths = {}
        self.dsn = {}
        self._dir.remove()
        self._started = False

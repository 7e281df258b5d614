"""The Sandbox: boots the simulated services on loopback and tears them down again.

Services are listed in SERVICES; adding one (a database, say) means adding a factory
there, and its URL then shows up in `Sandbox.urls` under the service's name.
"""

from __future__ import annotations

import contextlib
import secrets
import shutil
import tempfile
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Protocol

from sandbox import (
    airbyte_api,
    airbyte_ui,
    api,
    audit,
    backend_files,
    dbt,
    dr,
    meta_graph,
    ses,
    superset,
)
from sandbox.auth import Sessions
from sandbox.aws import AwsServer, Override
from sandbox.cors import CorsPolicy
from sandbox.dns import DnsServer, ses_records
from sandbox.dr import DrState
from sandbox.faults import check_faults
from sandbox.http import RequestLog, refused_port
from sandbox.lifecycle import Managed
from sandbox.meta_graph import MetaApp
from sandbox.runtime import Runtime
from sandbox.state import (
    Account,
    Tenant,
    World,
    airbyte_only_connections,
    build_tenants,
    utc_now,
    webhook_settings,
)
from sandbox.throttle import DISABLED_FAULT, Throttles, check_rates


class Service(Protocol):
    name: str

    def start(self) -> str: ...

    def stop(self) -> None: ...


SERVICES: tuple[Callable[[World, RequestLog], Service], ...] = (
    api.service,
    superset.service,
    airbyte_api.service,
    airbyte_ui.service,
    meta_graph.service,
    dr.manifest_service,
)


# The AWS part: overrides answer the calls moto lacks, and seeds put the account into the
# state the faults ask for, before the request log starts. Areas append their own.
AWS_PART = "aws"
AWS_OVERRIDES: tuple[Callable[[World], Override], ...] = ()
AWS_SEEDS: tuple[Callable[[AwsServer, World], None], ...] = ()
AWS_OVERRIDES += (ses.override, dr.override)
AWS_SEEDS += (ses.seed, dr.seed)

# The DNS part: a nameserver on loopback for the sending domain's mail records, handed to
# the profile as {sandbox.dns_host} and {sandbox.dns_port}.
DNS_PART = "dns"
DNS_DOWN_FAULT = "ses_dns_down"


class Sandbox(Managed):
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
    """

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
        dr_db_password: str | None = None,
        audit_db_password: str | None = None,
        dr_manifest_token: str | None = None,
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
        self._aws: AwsServer | None = None
        self._dns: DnsServer | None = None
        self._airbyte_auth = airbyte_auth
        self._webhook_secret = webhook_secret
        self._cors = CorsPolicy.build(cors_allowed_origins, frontend_base_url, self.faults)
        self._throttle_rates = check_rates(throttle_rates)  # a bad rate fails here
        self._workdir = Path(workdir).resolve() if workdir is not None else None
        self._tempdir: Path | None = None
        self._log = RequestLog()
        self._services: list[Service] = []
        # The Meta app's secret and the token the diagnostics may debug (meta_graph).
        self._meta_app_secret = meta_app_secret or secrets.token_hex(16)
        self._meta_token = meta_token or "EAAB" + secrets.token_urlsafe(24)
        self._meta_ops_db_password = meta_ops_db_password or secrets.token_hex(12)
        # The DR reader roles' passwords, and the snapshot manifest's access token.
        self._dr_db_password = dr_db_password or secrets.token_hex(12)
        self._audit_db_password = audit_db_password or secrets.token_hex(12)
        self._dr_manifest_token = dr_manifest_token or secrets.token_urlsafe(24)

    @property
    def request_log(self) -> list[tuple[str, str]]:
        return self._log.entries

    @property
    def query_log(self) -> list[tuple[str, str]]:
        """(role, statement) the databases received after boot: the proof, beside the
        request log, that a run stayed read-only."""
        return self._runtime.statements() if self._runtime is not None else []

    def start(self) -> Sandbox:
        if self._services:
            raise RuntimeError("sandbox already started")
        root = self._workdir
        if root is None:
            root = self._tempdir = Path(tempfile.mkdtemp(prefix="adinsights-sandbox-"))
        target = root / "dbt" / "target"
        dbt.write_artifacts(target, self.faults, utc_now())
        world = self._world(target)
        try:
            for factory in SERVICES:
                service = factory(world, self._log)
                self._services.append(service)
                self.urls[service.name] = service.start()
            files = backend_files.write(root, world, self.urls)
            files.update(dr.write_files(root, world.dr))
            # AWS and DNS boot beside the runtime: neither waits on the other.
            pool = ThreadPoolExecutor(1, thread_name_prefix="sandbox-aws")
            aside = pool.submit(self._start_aws_and_dns, world)
            pool.shutdown(wait=False)
            if self._runtime_parts - {AWS_PART, DNS_PART}:
                self._runtime = Runtime(root / "runtime", self.faults, self._runtime_parts,
                                        self._airbyte_db_password, self._app_db_password,
                                        meta_ops_db_password=self._meta_ops_db_password,
                                        dr_db_password=self._dr_db_password,
                                        audit_db_password=self._audit_db_password)
                self._runtime.start(world)
                self.urls.update(self._runtime.urls)
                self.dsn = dict(self._runtime.dsn)
            self.urls.update(aside.result())
        except BaseException:
            if "aside" in locals():
                with contextlib.suppress(BaseException):
                    aside.result(timeout=60)
            self.stop()
            raise
        self.paths = {"dbt_target": str(target), **files}
        return self

    def _start_aws_and_dns(self, world: World) -> dict[str, str]:
        """Returns their URLs, for the caller to publish once everything is up."""
        urls: dict[str, str] = {}
        if AWS_PART in self._runtime_parts:
            self._aws = AwsServer(self._log, [make(world) for make in AWS_OVERRIDES]).start()
            for seed in AWS_SEEDS:
                seed(self._aws, world)
            self._aws.start_logging()
            urls[AWS_PART] = self._aws.url
        if DNS_PART in self._runtime_parts:
            # after SES is seeded: the DKIM CNAMEs carry SES's tokens
            urls["dns_host"] = "127.0.0.1"
            if DNS_DOWN_FAULT in self.faults:
                urls["dns_port"] = str(refused_port())
            else:
                self._dns = DnsServer(ses_records(world.ses, self.faults), self._log).start()
                urls["dns_port"] = str(self._dns.port)
        return urls

    def _world(self, dbt_target: Path) -> World:
        tenants = tuple(self.tenants)
        secret, required = webhook_settings(self._webhook_secret, self.faults)
        return World(
            tenants,
            self.faults,
            dbt_target,
            Sessions(tenants),
            audit=audit.AuditLog(audit.seed(tenants, self.faults)),
            airbyte_only=airbyte_only_connections(tenants, self.faults),
            airbyte_auth=self._airbyte_auth,
            webhook_secret=secret,
            webhook_secret_required=required,
            throttles=Throttles(self._throttle_rates, enabled=DISABLED_FAULT not in self.faults),
            cors=self._cors,
            meta=MetaApp.build(self.faults, self._meta_app_secret, self._meta_token,
                               self._cors.frontend_base_url),
            dr=DrState.build(self.faults, self._dr_manifest_token, utc_now()),
        )

    def stop(self) -> None:
        """Safe to call twice or after a failed start: each step only undoes what exists."""
        runtime, self._runtime = self._runtime, None
        if runtime is not None:
            runtime.stop()
        aws, self._aws = self._aws, None
        if aws is not None:
            aws.stop()
        dns, self._dns = self._dns, None
        if dns is not None:
            dns.stop()
        services, self._services = self._services, []
        for service in reversed(services):
            service.stop()
        self.urls = {}
        self.paths = {}
        self.dsn = {}
        tempdir, self._tempdir = self._tempdir, None
        if tempdir is not None:
            shutil.rmtree(tempdir, ignore_errors=True)


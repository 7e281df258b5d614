"""The world every ADinsights request handler reads: the tenants, the faults, and the
edge, cache, Meta, mail and audit parts built from them.

It lives above ``state`` and the modules that hold those parts, so each of them can be
built on the plain tenant types without knowing the whole.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

from sandbox.adinsights.audit import AuditLog
from sandbox.adinsights.auth import Sessions
from sandbox.adinsights.cors import CorsPolicy
from sandbox.adinsights.latency import LatencyStore
from sandbox.adinsights.mail import Mailer
from sandbox.adinsights.meta_graph import MetaApp
from sandbox.adinsights.metrics_cache import SnapshotStore
from sandbox.adinsights.ses import SesState, email_settings
from sandbox.adinsights.state import Connection, Job, Tenant, utc_now
from sandbox.adinsights.throttle import Throttles, throttles_for
from sandbox.adinsights.tokens import TokenPairs


@dataclass
class World:
    """Everything a request handler may read. GET handlers never change it, with one
    exception the backend also makes: viewing telemetry writes an audit row. POSTs may:
    a login or a webhook adds audit rows, and a webhook records its job.

    `tenants` is replaced whole (never mutated) when a job is recorded, so a handler that
    read it once sees one consistent snapshot. `airbyte_only` holds connections Airbyte
    lists that no tenant's backend knows.

    The edge and cache parts (throttle counters, CORS policy, issued token pairs, metrics
    snapshots) are built from the tenants and faults when not given, so a World made
    without them still behaves like the backend's defaults. A metrics request with
    `cache=false` rewrites its tenant's snapshot, as the backend's does."""

    tenants: tuple[Tenant, ...]
    faults: frozenset[str]
    dbt_target: Path
    sessions: Sessions
    audit: AuditLog = field(default_factory=AuditLog)
    airbyte_only: tuple[Connection, ...] = ()
    airbyte_auth: tuple[str, str] | None = None
    webhook_secret: str = ""
    webhook_secret_required: bool = True
    # The value before the last rotation: refused, unless a replica still holds it (fault).
    webhook_previous_secret: str = ""
    # None means "the default": __post_init__ fills each in.
    throttles: Throttles | None = None
    cors: CorsPolicy | None = None
    tokens: TokenPairs | None = None
    snapshots: SnapshotStore | None = None
    meta: MetaApp | None = None
    ses: SesState | None = None
    mail: Mailer | None = None
    latency: LatencyStore | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        if self.throttles is None:
            self.throttles = throttles_for(None, self.faults)
        if self.cors is None:
            self.cors = CorsPolicy.build(None, None, self.faults)
        if self.tokens is None:
            self.tokens = TokenPairs()
        if self.snapshots is None:
            self.snapshots = SnapshotStore(self.tenants, self.faults, utc_now())
        if self.latency is None:
            self.latency = LatencyStore(self.faults)
        if self.meta is None:
            self.meta = MetaApp.build(self.faults, "sandbox-app-secret", "sandbox-meta-token",
                                      self.cors.frontend_base_url)
        if self.ses is None or self.mail is None:
            self.ses = self.ses or SesState.build(self.faults)
            self.mail = self.mail or Mailer(email_settings(self.faults))

    def tenant(self, tenant_id: str) -> Tenant | None:
        return next((t for t in self.tenants if t.tenant_id == tenant_id), None)

    def neighbour(self, tenant: Tenant) -> Tenant | None:
        """The tenant whose rows a leak fault shows the first tenant: the second one. None
        for every other tenant, and when there is no second tenant to leak from."""
        first = len(self.tenants) > 1 and tenant.tenant_id == self.tenants[0].tenant_id
        return self.tenants[1] if first else None

    def backend_connection(self, connection_id: str) -> tuple[Tenant, Connection] | None:
        """Find a connection by its Airbyte UUID among the rows the backend stores."""
        for tenant in self.tenants:
            for connection in tenant.connections:
                if connection.connection_id == connection_id:
                    return tenant, connection
        return None

    def airbyte_connections(self) -> list[Connection]:
        """What Airbyte itself has: the backend's connections it still knows, plus its own."""
        known = [c for t in self.tenants for c in t.connections if c.in_airbyte]
        return known + list(self.airbyte_only)

    def record_job(self, connection_id: str, job: Job, now: datetime) -> Connection:
        """Store a reported job on its connection, replacing an earlier report of the same
        job (a running job that has since finished), newest first as everywhere else."""
        with self._lock:
            tenants = list(self.tenants)
            for t_index, tenant in enumerate(tenants):
                for c_index, connection in enumerate(tenant.connections):
                    if connection.connection_id != connection_id:
                        continue
                    jobs = [j for j in connection.jobs if j.job_id != job.job_id] + [job]
                    jobs.sort(key=lambda j: j.started_at(now), reverse=True)
                    updated = replace(connection, jobs=tuple(jobs))
                    connections = list(tenant.connections)
                    connections[c_index] = updated
                    tenants[t_index] = replace(tenant, connections=tuple(connections))
                    self.tenants = tuple(tenants)
                    return updated
        raise KeyError(connection_id)

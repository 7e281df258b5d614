"""Tenants, accounts and sync history of the simulated stack, with the faults applied.

Times are stored as ages rather than instants: a demo left running for hours must stay
in the state it was started in, so every endpoint turns ages into timestamps when it serves.
Identifiers are uuid5 values so that two runs with the same accounts produce the same ids,
which keeps evidence from different runs comparable.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

NAMESPACE = uuid.uuid5(uuid.NAMESPACE_DNS, "sandbox.adinsights.test")

SUCCESS_STATUSES = frozenset({"succeeded", "success"})
FAILED_STATUSES = frozenset({"failed", "error", "errored", "cancelled", "canceled"})
RUNNING_STATUSES = frozenset({"running", "pending", "incomplete"})

SYNC_ERROR = (
    "Source Meta Ads failed: (#80000) There have been too many calls from this ad-account. "
    "Wait a bit and try again."
)


def stable_id(*parts: str) -> str:
    """Deterministic uuid for a named thing, so reruns yield identical ids."""
    return str(uuid.uuid5(NAMESPACE, "/".join(parts)))


def utc_now() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime | None) -> str | None:
    """Health and ops views render UTC with an explicit +00:00 offset and whole seconds."""
    if moment is None:
        return None
    return moment.astimezone(UTC).replace(microsecond=0).isoformat()


@dataclass(frozen=True)
class Account:
    """A login for one tenant: username+password goes through the login endpoint, a token
    is presented directly as a bearer (the shape of a service account)."""

    name: str
    username: str | None = None
    password: str | None = None
    token: str | None = None

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("account name must not be empty")
        if not (self.username and self.password) and not self.token:
            raise ValueError(f"account {self.name!r} needs username and password, or a token")


@dataclass(frozen=True)
class Job:
    """One Airbyte job; `ended_ago` is the age of its last update (its end once terminal).

    A seeded job has no `as_of`, so its age stays fixed however long the demo runs; a job
    reported through the webhook happened at a real instant and sets `as_of` to it."""

    job_id: str
    status: str
    ended_ago: timedelta
    duration_seconds: int
    records_synced: int
    bytes_synced: int
    error: str | None = None
    as_of: datetime | None = None

    def updated_at(self, now: datetime) -> datetime:
        return (self.as_of or now) - self.ended_ago

    def started_at(self, now: datetime) -> datetime:
        return self.updated_at(now) - timedelta(seconds=self.duration_seconds)

    def completed_at(self, now: datetime) -> datetime | None:
        return None if self.status in RUNNING_STATUSES else self.updated_at(now)


@dataclass(frozen=True)
class Connection:
    id: str
    name: str
    provider: str
    connection_id: str
    workspace_id: str
    schedule_type: str
    interval_minutes: int
    is_active: bool
    jobs: tuple[Job, ...]  # newest first
    in_airbyte: bool = True  # False: Airbyte has no connection with this UUID any more

    @property
    def latest_job(self) -> Job | None:
        return self.jobs[0] if self.jobs else None

    def last_succeeded_at(self, now: datetime) -> datetime | None:
        done = [job.updated_at(now) for job in self.jobs if job.status in SUCCESS_STATUSES]
        return max(done, default=None)

    def last_synced_at(self, now: datetime) -> datetime | None:
        """A sync counts once its job has finished, whatever the outcome."""
        finished = [job for job in self.jobs if job.status not in RUNNING_STATUSES]
        return finished[0].updated_at(now) if finished else None

    def is_due(self, now: datetime) -> bool:
        """The scheduler does not consider a connection due while a job is still running,
        which is what lets a stuck job surface as running_stale rather than stale."""
        last = self.last_synced_at(now)
        running = self.latest_job is not None and self.latest_job.status in RUNNING_STATUSES
        if not self.is_active or running or self.schedule_type != "interval":
            return False
        return last is None or now - last >= timedelta(minutes=self.interval_minutes)


@dataclass(frozen=True)
class Tenant:
    name: str
    tenant_id: str
    account: Account
    user_id: str
    email: str
    ad_account_id: str
    connections: tuple[Connection, ...]
    social: str  # active | not_connected | reauth_required | complete | paused


# (status of the latest job, its age, error) per sync profile; None means never synced.
_PROFILES: dict[str, tuple[str, timedelta, str | None] | None] = {
    "fresh": ("succeeded", timedelta(minutes=10), None),
    "stale": ("succeeded", timedelta(hours=3), None),
    "failed": ("failed", timedelta(minutes=10), SYNC_ERROR),
    "failed_2h": ("failed", timedelta(hours=2), SYNC_ERROR),
    "running_stale": ("running", timedelta(hours=3), None),
    "never": None,
}

_ALL_TENANTS = {
    "airbyte_no_recent_sync": "never",
    "airbyte_stale": "stale",
    "airbyte_sync_failed": "failed",
    "airbyte_running_stale": "running_stale",
}
_FIRST_TENANT = {
    "tenant_sync_stale": "stale",
    "tenant_sync_failed": "failed_2h",
    "tenant_sync_missing": "never",
}
_SOCIAL = {
    "social_not_connected": "not_connected",
    "social_reauth_required": "reauth_required",
    "social_complete": "complete",
    "social_connection_paused": "paused",
}

# Every stored Meta credential was marked reauth_required (the app secret was rotated).
META_REAUTH_ALL = "meta_token_reauth_required"


ORPHAN_FAULT = "airbyte_orphan_connection"


@dataclass(frozen=True)
class _Spec:
    """One connection a tenant can have. `key` is empty for the original Meta sync, whose
    ids predate the others and must not change."""

    key: str
    name: str
    provider: str
    job_offset: int
    in_airbyte: bool = True


_META_SYNC = _Spec("", "Meta sync", "META", 0)
# Under the orphan fault the first tenant's Google Ads connection was re-created in the
# Airbyte UI: the backend still holds the deleted UUID, and only Airbyte has the new one.
_GOOGLE_DELETED = _Spec("google-deleted", "Google Ads sync", "GOOGLE", 100, in_airbyte=False)
_GOOGLE_RECREATED = _Spec("google", "Google Ads sync", "GOOGLE", 200)


def _jobs(index: int, profile: str, offset: int = 0) -> tuple[Job, ...]:
    """Three jobs an hour apart, newest first; ids are index*1000+1001.. (plus the
    connection's offset, below 1000) so no two tenants share one, which the
    tenant-isolation checks rely on."""
    spec = _PROFILES[profile]
    if spec is None:
        return ()
    status, age, error = spec
    base = (index + 1) * 1000 + offset
    jobs = []
    # A running job started when the previous one finished, so that one is the last sync.
    shift = 1 if status in RUNNING_STATUSES else 0
    for step in range(3):
        number = base + 3 - step
        latest = step == 0
        jobs.append(
            Job(
                job_id=str(number),
                status=status if latest else "succeeded",
                ended_ago=age + timedelta(hours=max(step - shift, 0)),
                duration_seconds=0 if latest and status == "running" else 75 + number % 7 * 6,
                records_synced=0 if latest and status != "succeeded" else 380 + number % 9 * 17,
                bytes_synced=0 if latest and status != "succeeded" else 15_200 + number % 9 * 680,
                error=error if latest else None,
            )
        )
    return tuple(jobs)


def _profile(index: int, faults: frozenset[str]) -> str:
    profile = next((p for f, p in _ALL_TENANTS.items() if f in faults), "fresh")
    if index == 0:
        profile = next((p for f, p in _FIRST_TENANT.items() if f in faults), profile)
    return profile


def _connection(tenant_name: str, index: int, faults: frozenset[str], spec: _Spec,
                paused: bool = False) -> Connection:
    """Every connection of a tenant follows the tenant's sync profile, so a connection
    fault changes which connections exist, never how fresh they are."""
    extra = (spec.key,) if spec.key else ()
    return Connection(
        id=stable_id(tenant_name, "airbyte-connection-row", *extra),
        name=spec.name,
        provider=spec.provider,
        connection_id=stable_id(tenant_name, "airbyte-connection", *extra),
        workspace_id=stable_id(tenant_name, "airbyte-workspace"),
        schedule_type="interval",
        interval_minutes=60,
        is_active=not paused,
        jobs=_jobs(index, _profile(index, faults), spec.job_offset),
        in_airbyte=spec.in_airbyte,
    )


def _tenant(index: int, account: Account, faults: frozenset[str]) -> Tenant:
    social = "active"
    if index == 0:
        social = next((s for f, s in _SOCIAL.items() if f in faults), social)
    if META_REAUTH_ALL in faults:
        social = "reauth_required"
    name = account.name
    specs = [_META_SYNC]
    if index == 0 and ORPHAN_FAULT in faults:
        specs.append(_GOOGLE_DELETED)
    digits = uuid.UUID(stable_id(name, "meta-ad-account")).int % 10**15
    return Tenant(
        name=name,
        tenant_id=str(uuid.uuid5(NAMESPACE, name)),
        account=account,
        user_id=stable_id(name, "user"),
        email=account.username or f"ops@{name}.test",
        ad_account_id=f"act_{digits:015d}",
        connections=tuple(_connection(name, index, faults, spec, paused=social == "paused")
                          for spec in specs),
        social=social,
    )


def airbyte_only_connections(
    tenants: tuple[Tenant, ...], faults: frozenset[str]
) -> tuple[Connection, ...]:
    """Connections Airbyte lists in a tenant's workspace that the backend never stored."""
    if ORPHAN_FAULT not in faults:
        return ()
    return (_connection(tenants[0].name, 0, faults, _GOOGLE_RECREATED),)


def build_tenants(accounts: list[Account], faults: frozenset[str]) -> tuple[Tenant, ...]:
    """Tenant-scoped faults land on the first account only, so the second one can prove
    that a check sees its own tenant and not a neighbour's."""
    if not accounts:
        raise ValueError("the sandbox needs at least one account")
    names = [account.name for account in accounts]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f"duplicate account names: {', '.join(duplicates)}")
    return tuple(_tenant(i, account, faults) for i, account in enumerate(accounts))


def webhook_settings(secret: str | None, faults: frozenset[str]) -> tuple[str, bool]:
    """(AIRBYTE_WEBHOOK_SECRET, AIRBYTE_WEBHOOK_SECRET_REQUIRED) as the backend would hold
    them: the faults are settings mistakes, so the env file can show them too."""
    if "airbyte_webhook_open" in faults:
        return "", False
    if "airbyte_webhook_secret_unset" in faults:
        return "", True
    return secret or "", True

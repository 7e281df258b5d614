"""Finding one tenant's identifiers in another tenant's responses.

Identifiers are learned from each tenant's own responses, never configured: UUIDs, ad
account ids (``act_…``), external and job ids, taken from the fields that carry them.
Names are left out on purpose: two tenants may both call a connection "Meta sync", so a
name can never prove whose it is. A value
seen by only one tenant belongs to it. A value seen by several tenants either leaked or
is shared by design; it is attributed to the tenant whose responses carry it at the most
endpoints (the owner sees its campaign in lists, metrics and detail pages, a victim only
where it leaked), and a tie is taken as sharing by design. Tenant ids are exact: they
come from each tenant's own ``/api/me/``, so a row that names its tenant always tells.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

ID_KEYS = re.compile(
    r"(^|_)(id|tenant|tenant_id|external_id|connection_id|workspace_id|job_id|resource_id|"
    r"credential_account_id|account_external_id)$"
)
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)


def walk(node: Any, path: str = "") -> Iterator[tuple[str, str, Any]]:
    """Every (json path, key, value) leaf of a decoded JSON document."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield from walk(value, f"{path}.{key}" if path else str(key))
            if not isinstance(value, dict | list):
                yield (f"{path}.{key}" if path else str(key)), str(key), value
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from walk(value, f"{path}[{index}]")


def is_identifier(key: str, value: Any) -> bool:
    if not isinstance(value, str | int) or isinstance(value, bool):
        return False
    text = str(value)
    if _UUID.match(text) or text.startswith("act_"):
        return True
    return bool(ID_KEYS.search(key)) and len(text) >= 4 and text.isdigit()


@dataclass
class Sighting:
    tenant: str
    endpoint: str
    path: str


@dataclass
class Traversal:
    """Every identifier each tenant saw, and where.

    Built once per process and read by every tenant's check, so what each check asks is
    answered from indexes made on first use: a 1,000-tenant fleet must not rescan every
    response for every tenant.
    """

    tenant_ids: dict[str, str]
    seen: dict[str, list[Sighting]] = field(default_factory=lambda: defaultdict(list))
    texts: dict[tuple[str, str], str] = field(default_factory=dict)
    entries: dict[str, list[Any]] = field(default_factory=dict)  # each tenant's exchanges
    _owners: dict[str, str | None] | None = field(default=None, repr=False)
    _mine: dict[str, list[tuple[str, Sighting]]] = field(default_factory=dict, repr=False)
    # tenant: [(endpoint, tenants whose id its page shows)]
    _text_hits: dict[str, list[tuple[str, set[str]]]] = field(default_factory=dict, repr=False)

    def add_json(self, tenant: str, endpoint: str, body: Any) -> None:
        for path, key, value in walk(body):
            if is_identifier(key, value):
                self.seen[str(value)].append(Sighting(tenant, endpoint, path))

    def add_text(self, tenant: str, endpoint: str, text: str) -> None:
        self.texts[(tenant, endpoint)] = text

    def owner(self, value: str) -> str | None:
        """The tenant an identifier belongs to, or None when that cannot be told."""
        self._index()
        return self._owners.get(value) if value in self._owners else self._owner(value)

    def _owner(self, value: str) -> str | None:
        for tenant, tenant_id in self.tenant_ids.items():
            if value == tenant_id:
                return tenant
        return self._shared_owner(value)

    def _shared_owner(self, value: str) -> str | None:
        """The owner of a value that is no tenant's id."""
        endpoints: dict[str, set[str]] = defaultdict(set)
        for sighting in self.seen[value]:
            endpoints[sighting.tenant].add(sighting.endpoint)
        if len(endpoints) < 2:
            return next(iter(endpoints), None)
        ranked = sorted(endpoints.items(), key=lambda kv: len(kv[1]), reverse=True)
        return ranked[0][0] if len(ranked[0][1]) > len(ranked[1][1]) else None

    def _index(self) -> None:
        if self._owners is not None:
            return
        by_id = {tenant_id: tenant for tenant, tenant_id in self.tenant_ids.items()}
        owners: dict[str, str | None] = {}
        for value, sightings in self.seen.items():
            owners[value] = by_id.get(value) or self._shared_owner(value)
            for s in sightings:
                self._mine.setdefault(s.tenant, []).append((value, s))
        scanned: dict[str, set[str]] = {}  # a page every tenant sees is scanned once
        for (tenant, endpoint), text in self.texts.items():
            if text not in scanned:
                scanned[text] = _ids_in(text, by_id)
            self._text_hits.setdefault(tenant, []).append((endpoint, scanned[text]))
        self._owners = owners

    def foreign(self, tenant: str, accepted: list[dict]) -> list[str]:
        """Where ``tenant`` saw an identifier owned by another tenant."""
        return self._sightings(tenant, accepted, want_accepted=False)

    def accepted(self, tenant: str, accepted: list[dict]) -> list[str]:
        """The same, but only the exposures the profile accepts, for the evidence."""
        return self._sightings(tenant, accepted, want_accepted=True)

    def _sightings(self, tenant: str, accepted: list[dict], want_accepted: bool) -> list[str]:
        self._index()
        found = []
        for value, s in self._mine.get(tenant, []):
            owner = self._owners[value]
            if owner is None or owner == tenant:
                continue  # its own, or shared by design (e.g. the same connection name)
            if _accepted(s.endpoint, s.path, accepted) == want_accepted:
                found.append(f"{owner}'s {value} at {s.endpoint} {s.path}")
        for endpoint, others in self._text_hits.get(tenant, []):
            if _accepted(endpoint, "", accepted) != want_accepted:
                continue
            found += [f"{other}'s tenant id {self.tenant_ids[other]} in {endpoint}"
                      for other in others if other != tenant]
        return sorted(set(found))


_UUID_IN_TEXT = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
                           r"[0-9a-fA-F]{12}")


def _ids_in(text: str, by_id: dict[str, str]) -> set[str]:
    """The tenants whose id appears in ``text``: UUIDs are found in one pass; any other
    shape of id is searched for as it is."""
    found = {by_id[m] for m in _UUID_IN_TEXT.findall(text) if m in by_id}
    found |= {tenant for tenant_id, tenant in by_id.items()
              if not _UUID.match(tenant_id) and tenant_id in text}
    return found


def _accepted(endpoint: str, path: str, accepted: list[dict]) -> bool:
    return any(a.get("endpoint") == endpoint and path.startswith(a.get("path", ""))
               for a in accepted)

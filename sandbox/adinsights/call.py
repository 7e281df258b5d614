"""One API request as a view sees it: the request, the world it reads, the tenant it
authenticated as, and the instant it is served at.

Its own module so that the views (in their modules) and the router (``api``) both build
on it without importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sandbox.adinsights.state import Tenant
from sandbox.adinsights.world import World
from sandbox.parts.http import Request


@dataclass(frozen=True)
class Call:
    request: Request
    world: World
    tenant: Tenant | None
    now: datetime
    params: dict[str, str] = field(default_factory=dict)  # named parts of the path

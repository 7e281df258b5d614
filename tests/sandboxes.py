"""The whole sandbox as the self-tests drive it: every system's stand-in on one Stack,
built from one list of faults, with ADinsights' settings and the union of what the
stand-ins publish (urls, paths, dsn) at hand."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from pathlib import Path

from sandbox import faults_by_system
from sandbox.adinsights import Account, StandIn
from sandbox.adinsights.state import Tenant
from sandbox.stack import Stack
from sandbox.voucher import StandIn as Voucher


class Sandbox(Stack):
    """ADinsights (with `settings`, its StandIn's keywords) and the voucher rehearsal."""

    def __init__(self, accounts: Sequence[Account], faults: Iterable[str] = (),
                 workdir: Path | str | None = None, *, runtime: Collection[str] = (),
                 **settings: object) -> None:
        chosen = faults_by_system(faults)
        self.adinsights = StandIn(accounts, chosen["adinsights"], workdir, runtime=runtime,
                                  **settings)
        self.voucher = Voucher(chosen["voucher"], workdir, runtime=runtime)
        super().__init__([self.adinsights, self.voucher])

    @property
    def faults(self) -> frozenset[str]:
        return self.adinsights.faults | self.voucher.faults

    @property
    def tenants(self) -> list[Tenant]:
        return self.adinsights.tenants

    @property
    def urls(self) -> dict[str, str]:
        return self.adinsights.urls | self.voucher.urls

    @property
    def paths(self) -> dict[str, str]:
        return self.adinsights.paths | self.voucher.paths

    @property
    def dsn(self) -> dict[str, str]:
        return self.adinsights.dsn | self.voucher.dsn

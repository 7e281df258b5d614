"""The voucher app: its DR tabletop (backups, restore parity, the drill calendar)."""

from __future__ import annotations

from diagnostics.voucher import gates  # noqa: F401 - registers the voucher's upstreams
from fixtures.packs import Pack

# Which heavy stand-in parts each area's checks look at; the rest is always served.
RUNTIME_PARTS = {"dr": {"database", "aws", "dr"}}


def stand_in(section, faults: frozenset[str], areas: set[str]):
    """The voucher's sandbox stand-in, with the credentials the section's env vars hold."""
    from sandbox.voucher import StandIn

    return StandIn(
        faults=faults,
        runtime=set().union(*(RUNTIME_PARTS.get(area, set()) for area in areas)),
        db_password=section.secret(section.dsn.get("dr_primary_password_env", "")),
        manifest_token=section.secret(section.area("dr").get("manifest_token_env", "")),
    )


def faults() -> dict[str, str]:
    from sandbox.voucher.faults import FAULTS

    return FAULTS


PACK = Pack(
    name="voucher",
    title="the voucher app: its DR tabletop (backups, restore parity, drill cadence)",
    areas={"dr": "backups, restore parity and the tabletop's cadence"},
    ungated_http={"dr_manifest": "dr"},
    stand_in=stand_in,
    faults=faults,
)

"""The voucher app: its DR tabletop (backups, restore parity, the drill calendar) and its
incident runbooks (previews, WhatsApp sends, the campaign dispatcher, station redeems)."""

from __future__ import annotations

from diagnostics.voucher import gates  # noqa: F401 - registers the voucher's upstreams
from fixtures.packs import Pack

# Which heavy stand-in parts each area's checks look at; the rest is always served.
RUNTIME_PARTS = {"dr": {"database", "aws", "dr"},
                 **dict.fromkeys(("whatsapp", "dispatch", "redeem"), {"database", "incidents"})}


def stand_in(section, faults: frozenset[str], areas: set[str]):
    """The voucher's sandbox stand-in, with the credentials the section's env vars hold."""
    from sandbox.voucher import StandIn

    return StandIn(
        faults=faults,
        runtime=set().union(*(RUNTIME_PARTS.get(area, set()) for area in areas)),
        db_password=section.secret(section.dsn.get("dr_primary_password_env", "")),
        manifest_token=section.secret(section.area("dr").get("manifest_token_env", "")),
        incident_secrets={
            "app_db": section.secret(section.dsn.get("app_password_env", "")),
            "session": section.secret(section.area("admin").get("session_env", "")),
            "access_token": section.secret(section.area("functions").get("access_token_env",
                                                                         "")),
            "service_key": section.secret(section.area("functions").get("service_key_env",
                                                                        "")),
        },
    )


def faults() -> dict[str, str]:
    from sandbox.voucher.faults import FAULTS

    return FAULTS


PACK = Pack(
    name="voucher",
    title="the voucher app: its DR tabletop (backups, restore parity, drill cadence) and its "
          "incident runbooks (previews, WhatsApp sends, the dispatcher, station redeems)",
    areas={
        "dr": "backups, restore parity and the tabletop's cadence",
        "preview": "voucher preview failures: Integrations Status (voucherPreview, "
                   "storageSignedUrl), the preview Edge Function deployed and active, a "
                   "test voucher's preview (intrusive)",
        "whatsapp": "WhatsApp send failures: Integrations Status (whatsappSend), the share "
                    "of failed sends and their status codes, quiet hours and throttle, a "
                    "dry send (intrusive), the incident summary in audit_log",
        "dispatch": "campaign dispatcher stalls: Integrations Status (campaignDispatcher), "
                    "running campaigns whose targets stopped moving, the send queue, "
                    "FAILED sends, the replay's audit_log entries",
        "redeem": "station redeem anomalies, read from the app database: double redeems, "
                  "redeems after void, reused idempotency keys, redeems outside "
                  "station_scope",
    },
    ungated_http={"dr_manifest": "dr", "functions": "whatsapp"},
    stand_in=stand_in,
    faults=faults,
)

"""The deployment's compose file: server and worker wait for a successful bootloader."""

from fixtures.catalog import check
from fixtures.expect import expect


@check("adinsights.airbyte.compose.ordering",
       severity="high", runbook="airbyte.md#compose-start-order")
def test_services_wait_for_bootloader(compose):
    expect("compose file parses", compose.get("__error__"), "==", None)
    services = compose.get("services") or {}
    for name in ("server", "worker"):
        depends = (services.get(name) or {}).get("depends_on") or {}
        condition = depends.get("bootloader", {}).get("condition") if isinstance(
            depends, dict) else ("service_started" if "bootloader" in depends else None)
        expect(f"services.{name}.depends_on.bootloader.condition", condition, "==",
               "service_completed_successfully")

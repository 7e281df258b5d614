"""Backend API rows of the Health Checks table, and the gates other checks wait on."""

from fixtures.catalog import check, upstream_check
from fixtures.expect import expect

test_api_reachable = upstream_check(
    "adinsights.health.api.reachable", "api", "[CONNECTED]", severity="critical",
    runbook="health.md#api-reachable")


@check("adinsights.health.api.health", severity="critical", runbook="health.md#api-health-endpoint",
       needs=("api",), category="service unhealthy")
def test_api_health(api_health):
    expect("[STATUS]", api_health.outcome, "==", "200")
    expect("[BODY].status", api_health.body("status"), "==", "ok")


@check("adinsights.health.api.version", severity="medium", runbook="health.md#api-version",
       needs=("api",), states={"throttled": ("api-version-throttled", "throttled")})
def test_api_version(api_version, diag):
    expect("[STATUS]", api_version.outcome, "!=", "429", state="throttled",
           note=f"Retry-After {api_version.header('Retry-After') or '?'} s")
    expect("[STATUS]", api_version.outcome, "==", "200")
    version = api_version.body("version")
    expect("[BODY].version", version, "not in", ("", None))
    if not diag.profile.health.get("allow_dev_version", False):
        expect("[BODY].version", version, "!=", "0.0.0-dev", note="APP_VERSION is not set")


@check("adinsights.health.auth.tenant", severity="critical", runbook="health.md#tenant-sign-in",
       needs=("api", "tenant"), category="credentials")
def test_tenant_sign_in(gate, tenant):
    verdict = gate(f"tenant:{tenant}")
    expect("[SIGNED IN]", verdict.ok, "==", True, note=verdict.reason)

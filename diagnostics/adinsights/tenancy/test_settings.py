"""Settings guardrail: tenancy on by default, and switched on in every deployment."""

import re

from fixtures.catalog import check
from fixtures.expect import expect

TRUE = ("1", "true", "True", "yes", "on")
_DEFAULT = re.compile(r"ENABLE_TENANCY\W.*?default\s*=\s*([\w\"']+)|"
                      r"getenv\(\s*[\"']ENABLE_TENANCY[\"']\s*,\s*([\w\"']+)")
_ASSIGN = re.compile(r"ENABLE_TENANCY[\"']?\s*[:=]\s*[\"']?(\w+)|"
                     r"name:\s*[\"']?ENABLE_TENANCY[\"']?\s*\n\s*value:\s*[\"']?(\w+)")


@check("adinsights.tenancy.settings.default",
       severity="critical", runbook="tenancy.md#settings-default")
def test_tenancy_default_on(settings_source):
    expect("settings file", settings_source.exists, "==", True, note=str(settings_source.path))
    found = [next(g for g in m.groups() if g) for m in _DEFAULT.finditer(settings_source.data)]
    expect("ENABLE_TENANCY default in settings", [v.strip("\"'") for v in found], "contains",
           "True", note=f"defaults found: {found or 'none'}")


@check("adinsights.tenancy.settings.manifests",
       severity="critical", runbook="tenancy.md#manifest-override")
def test_tenancy_on_in_manifests(manifests):
    values = {str(m.path): [next(g for g in hit.groups() if g)
                            for hit in _ASSIGN.finditer(m.data or "")] for m in manifests}
    setting = {path: found for path, found in values.items() if found}
    expect("manifests that set ENABLE_TENANCY", sorted(setting), "!=", [],
           note=f"none of {len(manifests)} manifests sets it")
    off = [f"{path}: ENABLE_TENANCY={v}" for path, found in setting.items() for v in found
           if v not in TRUE]
    expect("manifests that turn tenancy off", off, "is empty")

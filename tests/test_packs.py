"""Systems as packs: the framework names no system, markers select what they name, and a
profile that leaves a system out reports it in one line instead of failing."""

from __future__ import annotations

import re

from conftest import ROOT, assert_usage_error

SANDBOX = (ROOT / "targets" / "sandbox.toml").read_text()
SYSTEM_NAMES = ("adinsights", "voucher", "chatwoot", "author", "airbyte", "superset", "dbt",
                "meta", "ses", "celery", "supabase", "graph api")


def without(system: str) -> str:
    """The sandbox profile minus one system's tables (each starts a banner comment)."""
    lines, skipping = [], False
    for line in SANDBOX.splitlines():
        table = re.match(r"^\[\[?([a-z_]+)", line)
        if table:
            skipping = table.group(1) == system
        if not skipping:
            lines.append(line)
    return "\n".join(lines) + "\n"


def test_framework_names_no_system():
    """Adding a system touches no file of fixtures/ (its probes are generic clients)."""
    found = []
    for path in sorted((ROOT / "fixtures").glob("*.py")):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            for name in SYSTEM_NAMES:
                if re.search(rf"\b{name}\b", line, re.IGNORECASE):
                    found.append(f"{path.name}:{number}: {name}")
    assert found == []


def test_markers_name_systems_and_areas(diag_run):
    run = diag_run("--markers")
    lines = {line.split(":", 1)[0].removeprefix("@pytest.mark."): line
             for line in run.output.splitlines() if line.startswith("@pytest.mark.")}
    assert {"adinsights", "voucher", "airbyte", "dr", "health", "intrusive"} <= set(lines)
    assert "adinsights: audit retention" in lines["dr"] and "voucher: backups" in lines["dr"]


def test_list_checks_groups_by_system_and_area(diag_run):
    out = diag_run("--list-checks").output
    assert out.index("== adinsights") < out.index("-- adinsights / airbyte") < out.index(
        "== voucher") < out.index("-- voucher / dr")
    assert re.search(r"^voucher\.dr\.backup\.fresh\s+dr\s", out, re.MULTILINE)


def test_system_markers_select_their_own_checks(diag_run):
    voucher = diag_run("-m", "voucher", "--no-reports", "-q", "--co")
    assert "voucher/dr/test_backup.py" in voucher.output
    assert "adinsights/" not in voucher.output
    adinsights_dr = diag_run("-m", "adinsights and dr", "--co", "-q").output
    assert "adinsights/dr/test_audit.py" in adinsights_dr and "voucher/" not in adinsights_dr


def voucher_checks(diag_run) -> int:
    """How many voucher checks the catalog lists when the profile describes the system."""
    listed = diag_run("--list-checks", "-m", "voucher").output
    return len(re.findall(r"^voucher\.\S+\s+[a-z]+\s+(?:critical|high|medium|low)\s", listed,
                          re.MULTILINE))


def test_a_system_the_profile_leaves_out_is_one_line(diag_run, profile_file):
    target = profile_file(without("voucher"), name="no-voucher.toml")
    run = diag_run(f"--target-file={target}", "-m", "dr")
    assert run.result.ret == 0, run.output
    count = voucher_checks(diag_run)
    assert count > 10
    assert (f"profile sandbox describes no voucher system: {count} checks not collected"
            in run.output)
    ids = {c["id"] for c in run.summary["checks"]}
    assert ids and all(i.startswith("adinsights.dr.") for i in ids)


def test_selecting_only_a_left_out_system_exits_4(diag_run, profile_file):
    target = profile_file(without("voucher"), name="no-voucher.toml")
    assert_usage_error(diag_run(f"--target-file={target}", "-m", "voucher"),
                       f"describes no voucher system: {voucher_checks(diag_run)} checks not "
                       "collected", "choose a --target")


def test_the_old_flat_profile_shape_is_a_usage_error(diag_run, profile_file):
    target = profile_file('name = "flat"\n[urls]\napi = "http://127.0.0.1:9"\n')
    assert_usage_error(diag_run(f"--target-file={target}"), "old one-system shape",
                       "[adinsights.urls]")


def test_an_unknown_system_table_is_a_usage_error(diag_run, profile_file):
    target = profile_file(SANDBOX + '\n[vouchr]\nx = 1\n')
    from fixtures.packs import packs

    assert_usage_error(diag_run(f"--target-file={target}"), "[vouchr]", ", ".join(packs()))

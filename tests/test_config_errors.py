"""Bad input gets a one-line usage error (exit 4) that names the problem, never a traceback."""

from __future__ import annotations

import pytest

from conftest import assert_usage_error

GOOD_TENANT = """
[[adinsights.tenants]]
name = "a"
username = "a@example.test"
password_env = "DIAG_TEST_A_PASSWORD"
"""


def test_missing_profile(diag_run):
    assert_usage_error(diag_run("--target", "nowhere"), "target 'nowhere' not found",
                       "sandbox")


def test_unset_secret_env_var(diag_run, profile_file):
    path = profile_file('name = "t"\n[adinsights.urls]\napi = "http://127.0.0.1:9"\n' + GOOD_TENANT)
    assert_usage_error(diag_run(f"--target-file={path}"), "DIAG_TEST_A_PASSWORD is not set",
                       "export DIAG_TEST_A_PASSWORD")


@pytest.mark.parametrize("url", ["127.0.0.1:8000", "ftp://host/", "http://", "http://h:99999"])
def test_malformed_url(diag_run, profile_file, url):
    path = profile_file(f'name = "t"\n[adinsights.urls]\napi = "{url}"\n' + GOOD_TENANT)
    assert_usage_error(diag_run(f"--target-file={path}"), "[adinsights.urls] api", "not a valid")


def test_invalid_toml(diag_run, profile_file):
    path = profile_file("name = \n")
    assert_usage_error(diag_run(f"--target-file={path}"), "not valid TOML")


def test_secret_written_in_profile(diag_run, profile_file):
    path = profile_file('name = "t"\n[adinsights.urls]\napi = "http://127.0.0.1:9"\n'
                        '[[adinsights.tenants]]\nname = "a"\nusername = "u"\n'
                        'password = "hunter2"\n')
    run = diag_run(f"--target-file={path}")
    assert_usage_error(run, "writes a password in the file", "password_env")
    assert "hunter2" not in run.output


def test_unknown_marker(diag_run):
    assert_usage_error(diag_run("-m", "airbyet"), "unknown marker 'airbyet'", "airbyte")


def test_unknown_fault(diag_run):
    assert_usage_error(diag_run("--sandbox-fault", "bogus"), "unknown sandbox fault 'bogus'")


def test_fault_against_a_real_target(diag_run, monkeypatch):
    monkeypatch.setenv("DIAG_LOCAL_TENANT_A_PASSWORD", "x")
    assert_usage_error(diag_run("--target", "local", "--sandbox-fault", "api_down"),
                       "--sandbox-fault only applies to the embedded sandbox")


def test_production_refuses_intrusive(diag_run):
    run = diag_run("--target", "production.example", "--allow-intrusive")
    assert_usage_error(run, "marked production", "--allow-production-intrusive")


def test_dangling_runbook_anchor_fails_collection(pytester):
    pytester.makepyfile(test_dangling="""
        from fixtures.catalog import check

        def test_dangling():
            pass

        # as if it lived in the ADinsights pack, where a check's module must be
        test_dangling.__module__ = "diagnostics.adinsights.health.test_dangling"
        test_dangling = check("adinsights.health.dangling", severity="low",
                              runbook="health.md#no-such-section")(test_dangling)
    """)
    result = pytester.runpytest_subprocess("-p", "fixtures.plugin", "--collect-only")
    assert result.ret == 4
    result.stderr.fnmatch_lines(["*check adinsights.health.dangling points at runbook anchor "
                                 "adinsights/health.md#no-such-section, which does not exist*"])

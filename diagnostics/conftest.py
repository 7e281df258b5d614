"""Fixtures every area shares: the run context, tenants and upstream gate verdicts."""

from __future__ import annotations

from pathlib import Path

import pytest

from fixtures.context import Context, gate_entry
from fixtures.gates import Verdict
from fixtures.plugin import run_state
from fixtures.probes import files
from fixtures.probes.files import FileRead


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Checks that take ``tenant`` run once per test tenant named in the profile."""
    if "tenant" in metafunc.fixturenames:
        profile = run_state(metafunc.config).profile
        metafunc.parametrize("tenant", [t.name for t in profile.tenants])


@pytest.fixture
def diag(request: pytest.FixtureRequest) -> Context:
    context = run_state(request.config).context
    if context is None:
        pytest.skip("not run: the run context was not built (listing mode)")
    return context


@pytest.fixture
def gate(diag: Context):
    """A gate's cached verdict, with its evidence attached to the asking check."""

    def verdict(need: str) -> Verdict:
        result = diag.gates.verdict(need)
        gate_entry(result)
        if result.unavailable:
            pytest.skip(f"not run: {result.reason}")
        return result

    return verdict


@pytest.fixture
def artifact(diag: Context):
    """Read a JSON artifact under a directory the profile names in ``[paths]``."""

    def read(path_key: str, name: str) -> FileRead:
        directory = diag.profile.paths.get(path_key, "")
        if not directory:
            pytest.skip(f"not run: the target profile names no [paths] {path_key}")
        return files.read_json(Path(directory) / name, diag.redactor)

    return read

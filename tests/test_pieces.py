"""The optional system pieces: a missing one skips naming it, fails under CI=true, and is
traced to checks through the catalog rather than through a list of check ids."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

import conftest
from conftest import PIECES, catalog_needs, pieces_for, require


@pytest.fixture
def absent(monkeypatch: pytest.MonkeyPatch) -> str:
    """The engine as a machine without podman would report it, whatever this one has."""
    reason = "podman and runc not installed: apt-get install podman runc"
    monkeypatch.setattr(conftest, "missing", lambda name: reason if name == "engine" else None)
    monkeypatch.delenv("CI", raising=False)
    return reason


def _item() -> SimpleNamespace:
    return SimpleNamespace(user_properties=[])


def test_a_missing_piece_skips_naming_it_and_is_counted(absent: str) -> None:
    item = _item()
    with pytest.raises(pytest.skip.Exception) as skipped:
        require(item, "engine", "postgres")
    assert str(skipped.value) == f"needs {PIECES['engine'].label}: {absent}"
    assert item.user_properties == [(conftest.NEEDS_PROPERTY, "engine")]


def test_a_missing_piece_fails_under_ci(absent: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception) as failed:
        require(_item(), "engine")
    assert "\n" not in str(failed.value)
    assert str(failed.value).startswith("CI=true") and absent in str(failed.value)


def test_pieces_present_change_nothing(absent: str) -> None:
    item = _item()
    require(item, "postgres", "psql")
    assert item.user_properties == []


def test_unknown_piece_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown system piece"):
        conftest.needs("docker")


def _checks_needing(predicate) -> list[str]:
    return [check for check, needs in catalog_needs().items() if predicate(needs)]


def test_checks_behind_the_engine_gate_need_the_engine() -> None:
    behind = _checks_needing(lambda needs: needs == ("engine",))
    assert behind and all(pieces_for(check) == {"engine"} for check in behind)


def test_a_database_read_through_the_engine_still_needs_the_database() -> None:
    """``airbyte_db|engine``: the engine is another route to the same database."""
    databases = PIECES["postgres"].upstreams()
    routes = _checks_needing(lambda needs: any(
        "|" in need and need.split("|")[0] in databases for need in needs))
    assert routes and all(pieces_for(check) == {"postgres"} for check in routes)


def test_checks_needing_no_upstream_need_no_piece() -> None:
    free = _checks_needing(lambda needs: not needs)
    assert free and all(pieces_for(check) == set() for check in free)

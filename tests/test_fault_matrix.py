"""Every check is proven able to fail: each fault fails exactly its listed checks."""

from __future__ import annotations

import html
import json
import re

import pytest

from conftest import PIECES, fault_matrix, leaks, needs, pieces_for
from fixtures import reporting, runbooks
from sandbox import all_exclusive, all_faults

MATRIX = fault_matrix()
BATCH = 4
# The pieces some upstream of the sandbox cannot exist without (psql alone backs none).
SANDBOX_PIECES = tuple(name for name, piece in PIECES.items() if piece.upstreams())


def _base(check_id: str) -> str:
    return check_id.split("[", 1)[0]


def _gates() -> set[str]:
    """Checks that gate others: an upstream's reachability, a tenant's sign-in, a
    tenant's served snapshot. Their failure blocks the checks behind them."""
    from fixtures.gates import GATES
    from fixtures.packs import packs

    packs()  # importing the packs registers their gates
    return {_base(g.check_id) for gates in GATES.values() for g in gates.values()}


def batches(matrix: dict[str, list[str]], size: int = BATCH) -> list[tuple[str, ...]]:
    """One run per batch of each system, with batches of other systems riding along: the
    stand-ins share only loopback parts, so a fault (even a gate's) in one system cannot
    move a verdict in another. Each run still needs exactly its pieces."""
    runs: list[list[tuple[str, ...]]] = []
    for group in _system_batches(matrix, size):
        for run in runs:
            if (group != ("healthy",) and run[0] != ("healthy",)
                    and not _reach(group) & set().union(*map(_reach, run))
                    and pieces(group) == pieces(run[0])):
                run.append(group)
                break
        else:
            runs.append([group])
    return [tuple(fault for group in run for fault in group) for run in runs]


def _reach(group: tuple[str, ...]) -> frozenset[str]:
    return frozenset().union(*(reach(fault) for fault in group))


def _system_batches(matrix: dict[str, list[str]], size: int) -> list[tuple[str, ...]]:
    """The faults grouped into runs that cannot disturb each other, so that a run with
    several faults fails exactly the union of their lists.

    Faults share a run only when they break different sandbox parts (the name's first
    word: ``airbyte``, ``dr``, ``ses``...), expect disjoint checks, are not mutually
    exclusive, need the same system pieces (so a missing piece skips no fault that could
    have run), and none of them fails a gate (a gate failure blocks other checks, which
    would hide theirs). Every other fault runs alone. Deterministic: sorted by name.
    """
    gates = _gates()
    alone, grouped = [], []
    for fault in sorted(matrix):
        expected = {_base(c) for c in matrix[fault]}
        if fault == "healthy" or any(c in gates or c.endswith(".reachable") for c in expected):
            alone.append((fault,))
            continue
        for group in grouped:
            if len(group) < size and _fits(fault, group, matrix):
                group.append(fault)
                break
        else:
            grouped.append([fault])
    return alone + [tuple(group) for group in grouped]


def reach(fault: str) -> frozenset[str]:
    """The systems whose checks the fault fails (a shared part, such as the AWS a backup
    and an archive both use, reaches two)."""
    return frozenset(check.split(".", 1)[0] for check in MATRIX[fault])


def _fits(fault: str, group: list[str], matrix: dict[str, list[str]]) -> bool:
    taken = {_base(c) for other in group for c in matrix[other]}
    return (not {_base(c) for c in matrix[fault]} & taken
            and reach(fault) == reach(group[0])
            and fault.split("_")[0] not in {o.split("_")[0] for o in group}
            and not any({fault, o} <= ex for ex in all_exclusive() for o in group)
            and needed(matrix[fault]) == needed(matrix[group[0]]))


def needed(checks: list[str]) -> frozenset[str]:
    """The system pieces without which some of these checks are reported as not run."""
    return frozenset().union(*(pieces_for(check) for check in checks))


def pieces(faults: tuple[str, ...]) -> tuple[str, ...]:
    """The system pieces a batch cannot be proven without: those of the checks it expects
    to fail (a missing piece reports them as not run). ``healthy`` asserts that nothing is
    skipped, so it needs them all. Checks a batch does not expect may be not run."""
    if faults == ("healthy",):
        return SANDBOX_PIECES
    return tuple(sorted(needed([check for fault in faults for check in MATRIX[fault]])))


def cases() -> list:
    return [pytest.param(group, marks=needs(*pieces(group)), id="+".join(group))
            for group in batches(MATRIX)]


@pytest.mark.parametrize("faults", cases())
def test_faults_fail_exactly_their_checks(diag_run, canaries, faults):
    """Also the canary sweep: every credential holds a planted value, and no run of the
    matrix may show one anywhere (terminal, HTML, JUnit, Allure, summaries, logs).

    A batch runs only the checks of the systems it reaches; the healthy run proves every
    other check green."""
    args = ["--allow-intrusive"]
    if faults != ("healthy",):
        args += ["-m", " or ".join(sorted(_reach(faults)))]
    for fault in faults:
        args += [] if fault == "healthy" else ["--sandbox-fault", fault]
    run = diag_run(*args)
    assert leaks(run, canaries) == []
    failed = run.ids("failed", "error")
    expected = {check for fault in faults for check in MATRIX[fault]}
    source = {check: fault for fault in faults for check in MATRIX[fault]}
    assert failed == expected, (
        f"missing: {sorted(f'{c} ({source[c]})' for c in expected - failed)}; "
        f"unexpected: {sorted(failed - expected)}"
    )
    assert run.result.ret == (0 if faults == ("healthy",) else 1)
    rows = run.html_results()
    for verdict in run.summary["checks"]:
        if verdict["status"] == "failed":
            steps = runbooks.sections()[verdict["anchor"]].body
            rendered = reporting.render_markdown(steps)
            assert json.dumps(rendered, ensure_ascii=False)[1:-1] in rows, (
                f"{verdict['id']}: fix steps not in the HTML")
            assert html.escape(verdict["link"]) in rows
    if faults == ("healthy",):
        assert run.ids("blocked", "skipped") == set()
        assert len(run.ids("passed")) == len(run.summary["checks"]) > 20


def test_batches_cover_every_fault_once():
    listed = [fault for group in batches(MATRIX) for fault in group]
    assert sorted(listed) == sorted(MATRIX)
    assert ("healthy",) in batches(MATRIX)
    alongside = next(group for group in batches(MATRIX) if "api_down" in group)
    assert [f for f in alongside if "adinsights" in reach(f)] == ["api_down"], (
        "a gate fault runs alone in its system")
    assert len(_reach(alongside)) > 1, "faults of other systems ride along"
    assert len(batches(MATRIX)) < len(MATRIX) / 2


def test_batches_needing_a_piece_are_derived_from_the_catalog():
    """Each piece is needed by some batch besides ``healthy``, and some need none: the
    catalog was read, and a missing piece skips only part of the matrix."""
    needed = {group: pieces(group) for group in batches(MATRIX)}
    assert needed.pop(("healthy",)) == SANDBOX_PIECES
    for piece in SANDBOX_PIECES:
        assert any(piece in each for each in needed.values()), piece
    assert () in needed.values()


def test_every_sandbox_fault_is_in_the_matrix():
    assert set(all_faults()) - set(MATRIX) == set()
    assert set(MATRIX) - set(all_faults()) == {"healthy"}


def test_every_check_can_fail(diag_run):
    """A check that no fault can fail is a defect."""
    run = diag_run("--list-checks")
    listed = set(re.findall(r"^([a-z]+\.\S+)\s+[a-z]+\s+(?:critical|high|medium|low)\s",
                            run.output, re.MULTILINE))
    failing = {re.sub(r"\[.*\]$", "", check) for checks in MATRIX.values() for check in checks}
    assert len(listed) >= 35
    assert listed - failing == set()


def test_failing_state_links_its_own_fix_steps(diag_run):
    run = diag_run("-m", "health", "--sandbox-fault", "airbyte_stale")
    by_id = {c["id"]: c for c in run.summary["checks"]}
    assert by_id["adinsights.health.airbyte.status"]["anchor"] == (
        "adinsights/health.md#airbyte-stale")
    assert by_id["adinsights.health.airbyte.status"]["category"] == "stale data"
    assert by_id["adinsights.health.sync.state[acme]"]["anchor"] == (
        "adinsights/health.md#sync-health-stale-connection")

"""Checking a choice of named faults against what a system offers.

A check is only trustworthy once it has been seen to fail for the right reason, so every
documented failure state gets a stable name; each system lists its own (FAULTS, with
EXCLUSIVE groups of which at most one may be chosen) and checks a choice here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence, Set


def check_faults(names: Iterable[str], known: Mapping[str, str],
                 exclusive: Sequence[Set[str]]) -> frozenset[str]:
    """Reject typos and contradictions up front, where the caller can still see which name."""
    chosen = frozenset(names)
    for name in sorted(chosen):
        if name not in known:
            listed = ", ".join(sorted(known))
            raise ValueError(f"unknown sandbox fault {name!r}; known: {listed}")
    for group in exclusive:
        clash = sorted(chosen & group)
        if len(clash) > 1:
            raise ValueError(f"sandbox faults {clash[0]!r} and {clash[1]!r} cannot be combined")
    return chosen

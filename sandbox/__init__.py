"""Simulated systems on loopback, with named faults, for demos and self-tests.

Each subpackage but ``parts`` simulates one system and offers FAULTS, EXCLUSIVE and a
StandIn; ``parts`` holds the real pieces they share (PostgreSQL, the container engine,
moto, DNS, HTTP plumbing). This module finds the systems by looking, so adding one means
adding a package, and it imports none of them by name.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterable
from types import ModuleType

SHARED = "parts"


def systems() -> dict[str, ModuleType]:
    """{system name: its package}, in name order."""
    found = sorted(info.name for info in pkgutil.iter_modules(__path__)
                   if info.ispkg and info.name != SHARED)
    return {name: importlib.import_module(f"{__name__}.{name}") for name in found}


def all_faults() -> dict[str, str]:
    """Every system's faults in one mapping; a name two systems share is a mistake, since
    a run names a fault without saying whose it is."""
    merged: dict[str, str] = {}
    owner: dict[str, str] = {}
    for system, module in systems().items():
        for name, text in module.FAULTS.items():
            if name in merged:
                raise ValueError(f"fault {name!r} is offered by both {owner[name]} and {system}")
            merged[name], owner[name] = text, system
    return merged


def all_exclusive() -> tuple[frozenset[str], ...]:
    """Every system's groups of faults that cannot be combined."""
    return tuple(group for module in systems().values() for group in module.EXCLUSIVE)


def faults_by_system(names: Iterable[str]) -> dict[str, list[str]]:
    """{system name: the chosen faults that are its own}, every system listed; an unknown
    name is rejected here, against every system's faults."""
    chosen = sorted(set(names))
    known = all_faults()
    for name in chosen:
        if name not in known:
            raise ValueError(f"unknown sandbox fault {name!r}; known: {', '.join(sorted(known))}")
    return {system: [name for name in chosen if name in module.FAULTS]
            for system, module in systems().items()}

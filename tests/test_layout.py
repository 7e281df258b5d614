"""The sandbox's layers, read from its source: no import circle, the shared parts know no
system, and no system reaches into a sibling.

Every Import and ImportFrom node counts, wherever it sits (a function body, an
``if TYPE_CHECKING:`` block), because a "lazy" import is still a dependency: it only
hides the circle until the day someone moves it to the top.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SANDBOX = "sandbox"
PARTS = "sandbox.parts"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules(package: str) -> dict[str, Path]:
    """Every module of a top-level package, by dotted name."""
    return {module_name(path): path for path in sorted((ROOT / package).rglob("*.py"))}


def _resolve(node: ast.ImportFrom, name: str, is_package: bool) -> str:
    if not node.level:
        return node.module or ""
    base = name.split(".") if is_package else name.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def imported(name: str, path: Path, known: set[str]) -> set[str]:
    """The known modules this module imports, anywhere in its text. ``from a import b``
    counts as importing ``a.b`` when that is a module, and ``a`` otherwise."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            source = _resolve(node, name, is_package)
            targets = [f"{source}.{alias.name}" if f"{source}.{alias.name}" in known
                       else source for alias in node.names]
        else:
            continue
        for target in targets:
            # `import a.b.c` also imports a and a.b; the nearest known module is the edge
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def graph(package: str) -> dict[str, set[str]]:
    found = modules(package)
    known = set(found)
    return {name: imported(name, path, known) for name, path in found.items()}


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """One import circle as a path that ends where it starts, or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for target in sorted(edges.get(node, ())):
            if state.get(target) == 1:
                return [*path[path.index(target):], target]
            if target not in state and (cycle := visit(target)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for node in sorted(edges):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def system_of(name: str) -> str | None:
    """The system package a sandbox module belongs to; None for the generic layer."""
    parts = name.split(".")
    if len(parts) < 2 or parts[0] != SANDBOX or parts[1] == "parts":
        return None
    is_package = (ROOT / SANDBOX / parts[1]).is_dir()
    return f"{SANDBOX}.{parts[1]}" if is_package else None


SANDBOX_GRAPH = graph(SANDBOX)


def test_the_graph_sees_the_packages():
    assert f"{PARTS}.shared" in SANDBOX_GRAPH
    systems = {system_of(name) for name in SANDBOX_GRAPH} - {None}
    assert systems >= {"sandbox.adinsights", "sandbox.voucher"}


@pytest.mark.parametrize("package", [SANDBOX, "fixtures"])
def test_no_import_cycle(package):
    cycle = find_cycle(graph(package))
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_parts_import_no_system():
    leaks = sorted(f"{name} -> {target}" for name, targets in SANDBOX_GRAPH.items()
                   if name == PARTS or name.startswith(PARTS + ".")
                   for target in targets
                   if not (target == PARTS or target.startswith(PARTS + ".")))
    assert not leaks, "sandbox.parts imports beyond itself: " + ", ".join(leaks)


def test_no_system_imports_a_sibling():
    leaks = sorted(f"{name} -> {target}" for name, targets in SANDBOX_GRAPH.items()
                   if (own := system_of(name)) is not None
                   for target in targets
                   if target.startswith(SANDBOX)
                   and not target.startswith(PARTS)
                   and system_of(target) != own)
    assert not leaks, "a system imports outside itself and the parts: " + ", ".join(leaks)

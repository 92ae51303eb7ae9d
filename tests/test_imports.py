"""The package's layers: no module imports, however late, a module that imports it back; the
kernels import nothing from the rest of fastgrad; problem.py imports nothing that computes a
gradient."""
import ast
from pathlib import Path

import pytest

import fastgrad

ROOT = Path(fastgrad.__file__).parent


def _module_name(path):
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(path): path for path in ROOT.rglob("*.py")}


def _imports(name, path):
    """The fastgrad modules that module ``name`` imports anywhere in its text (late imports
    inside functions included; ``if TYPE_CHECKING:`` blocks excluded: they never run)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    tree = ast.parse(path.read_text())
    skipped = {id(node) for block in ast.walk(tree) if isinstance(block, ast.If)
               and "TYPE_CHECKING" in ast.unparse(block.test) for node in ast.walk(block)}
    found = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.split(".")[0] == "fastgrad"}
        elif isinstance(node, ast.ImportFrom):
            base = package
            for _ in range(max(node.level - 1, 0)):
                base = base.rpartition(".")[0]
            target = (f"{base}.{node.module}" if node.module else base) if node.level else node.module or ""
            if target.split(".")[0] != "fastgrad":
                continue
            for alias in node.names:
                found.add(f"{target}.{alias.name}" if f"{target}.{alias.name}" in MODULES else target)
    return {module for module in found if module in MODULES and module != name}


GRAPH = {name: _imports(name, path) for name, path in MODULES.items()}


def _reaches(start):
    seen, stack = set(), [start]
    while stack:
        for nxt in GRAPH[stack.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return seen


def _is_package(name):
    return MODULES[name].name == "__init__.py"


@pytest.mark.parametrize("name", sorted(MODULES))
def test_no_import_cycle(name):
    # a package's __init__ may gather its modules (they import siblings, never the package itself)
    back = [m for m in GRAPH[name] if name in _reaches(m) and not _is_package(name) and not _is_package(m)]
    assert not back, f"{name} imports {back}, which import {name} back"


def test_the_walk_sees_imports():
    assert "fastgrad.problem" in GRAPH["fastgrad.gradients.numerical"]
    assert "fastgrad.kernels.jobs" in GRAPH["fastgrad.problem"]


def test_kernels_import_only_kernels():
    for name, imported in GRAPH.items():
        if name.startswith("fastgrad.kernels"):
            outside = sorted(m for m in imported if not m.startswith("fastgrad.kernels"))
            assert not outside, f"{name} imports {outside}"


def test_problem_is_below_the_gradients():
    above = {"fastgrad.gradients", "fastgrad.check", "fastgrad.train", "fastgrad.dask_backend",
             "fastgrad.derivatives", "fastgrad.bound"}
    for name in ("fastgrad.problem", "fastgrad.policy", "fastgrad.rules", "fastgrad.runtime"):
        reached = {m for m in _reaches(name) if any(m == a or m.startswith(a + ".") for a in above)}
        assert not reached, f"{name} reaches {sorted(reached)}"

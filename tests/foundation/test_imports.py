"""The packages depend on each other in one direction: no import cycle between modules of kam_warehouse,
ingest and expectations; the core (kam_warehouse.core) imports none of them; ingest and expectations use
nothing of kam_warehouse but the core.

The demo generator (sample_extracts) sits outside the runtime: the wheel does not ship it, it uses only
the extract contract (ingest.contract) and the core, and of the runtime only `kam demo-data` (in
kam_warehouse.cli) imports it, lazily.

The graph is read from the source with `ast`: every import a module makes at run time, at module level
or inside a function (a lazy import is still a dependency), counts; imports under `if TYPE_CHECKING:`
do not (they never run).
"""

from __future__ import annotations

import ast
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from kam_warehouse.settings import REPO_ROOT

PACKAGES = ("kam_warehouse", "ingest", "expectations", "sample_extracts")
#: the runtime packages (the wheel); sample_extracts, the demo generator, is a dev tool beside them
RUNTIME = ("kam_warehouse", "ingest", "expectations")
CORE = "kam_warehouse.core"
#: old paths of core modules, kept as re-exports of the core (they import only the core)
CORE_ALIASES = frozenset({"kam_warehouse.config", "kam_warehouse.settings"})


def _module_files(root: Path = REPO_ROOT) -> dict[str, Path]:
    out: dict[str, Path] = {}
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            out[".".join(parts)] = path
    return out


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imported(module: str, path: Path, known: set[str]) -> Iterator[str]:
    """First-party modules `module` imports at run time (`from pkg import sub` names the submodule)."""
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]

    def walk(node: ast.AST) -> Iterator[str]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                yield from (x for stmt in child.orelse for x in walk(ast.Module(body=[stmt], type_ignores=[])))
                continue
            if isinstance(child, ast.Import):
                yield from (a.name for a in child.names)
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    base = ".".join(package[: len(package) - child.level + 1] + ([base] if base else []))
                for alias in child.names:
                    yield f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base
            yield from walk(child)

    for target in walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if target in known and target != module:
            yield target


def import_graph(root: Path = REPO_ROOT) -> dict[str, set[str]]:
    files = _module_files(root)
    known = set(files)
    return {m: set(_imported(m, p, known)) for m, p in files.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def _in_core(module: str) -> bool:
    return module == CORE or module.startswith(CORE + ".")


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    return import_graph()


def test_there_is_no_import_cycle(graph: dict[str, set[str]]) -> None:
    """No two modules depend on each other, directly or through others (lazy imports included)."""
    assert cycles(graph) == []


def test_the_core_imports_nothing_of_the_other_packages(graph: dict[str, set[str]]) -> None:
    """Errors, settings and the configuration schema (and their old import paths) depend on no pipeline module."""
    core = {m for m in graph if _in_core(m)}
    assert {"kam_warehouse.core.errors", "kam_warehouse.core.settings", "kam_warehouse.core.configuration"} <= core
    leaks = {m: sorted(t for t in graph[m] if not _in_core(t)) for m in core | CORE_ALIASES}
    assert {m: t for m, t in leaks.items() if t} == {}


def test_ingest_and_expectations_use_only_the_core_of_kam_warehouse(graph: dict[str, set[str]]) -> None:
    """ingest and expectations sit below kam_warehouse: of it they import only the core."""
    outside = {
        m: sorted(t for t in targets if t.startswith("kam_warehouse") and not _in_core(t) and t not in CORE_ALIASES
                  and t != "kam_warehouse")
        for m, targets in graph.items() if m.split(".")[0] in ("ingest", "expectations")
    }
    assert {m: t for m, t in outside.items() if t} == {}


def test_the_demo_generator_is_outside_the_runtime(graph: dict[str, set[str]]) -> None:
    """The wheel lists the runtime packages only; sample_extracts imports only ingest.contract and the core;
    no runtime module but the `kam demo-data` command's imports it."""
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert project["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"] == list(RUNTIME)
    generator = {m for m in graph if m.split(".")[0] == "sample_extracts"}
    assert "sample_extracts.generate" in generator
    uses = {t for m in generator for t in graph[m] if t.split(".")[0] != "sample_extracts"}
    assert {t for t in uses if t != "ingest.contract" and not _in_core(t)} == set()
    importers = {m for m, targets in graph.items() if m.split(".")[0] in RUNTIME
                 and any(t.split(".")[0] == "sample_extracts" for t in targets)}
    assert importers == {"kam_warehouse.cli"}


def test_the_checker_finds_a_cycle_and_ignores_type_checking_imports(tmp_path: Path) -> None:
    """The graph sees a lazy import inside a function (a -> b -> a is a cycle) and skips TYPE_CHECKING-only
    imports (c -> a under TYPE_CHECKING is not a dependency)."""
    pkg = tmp_path / "kam_warehouse"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from kam_warehouse import b\n")
    (pkg / "b.py").write_text("def f():\n    from kam_warehouse.a import x\n    return x\n")
    (pkg / "c.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from kam_warehouse import a\n")
    for other in ("ingest", "expectations", "sample_extracts"):
        (tmp_path / other).mkdir()
    g = import_graph(tmp_path)
    assert cycles(g) == [["kam_warehouse.a", "kam_warehouse.b"]]
    assert g["kam_warehouse.c"] == set()

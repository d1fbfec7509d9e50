"""Structural checks of the package: no import cycle, no litellm outside its provider."""

from __future__ import annotations

import ast
from pathlib import Path

HARNESS = Path(__file__).resolve().parent.parent / "harness"


def _module(path: Path) -> str:
    parts = path.relative_to(HARNESS.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, known: set[str]) -> set[str]:
    """harness modules a file imports, at any level, outside `if TYPE_CHECKING:` blocks."""
    found: set[str] = set()

    class Visitor(ast.NodeVisitor):
        def visit_If(self, node: ast.If) -> None:
            if "TYPE_CHECKING" not in ast.unparse(node.test):
                self.generic_visit(node)

        def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
            if node.module and node.module.startswith("harness"):
                found.add(node.module)
                found.update(f"{node.module}.{a.name}" for a in node.names)

        def visit_Import(self, node: ast.Import) -> None:
            found.update(a.name for a in node.names)

    Visitor().visit(ast.parse(path.read_text(encoding="utf-8")))
    return found & known


def _graph() -> dict[str, set[str]]:
    files = {_module(p): p for p in HARNESS.rglob("*.py")}
    known = set(files)
    return {name: _imports(path, known) - {name} for name, path in files.items()}


def test_no_import_cycle_in_harness() -> None:
    graph = _graph()
    done: set[str] = set()
    cycle: list[str] = []

    def visit(node: str, path: list[str]) -> None:
        for dep in sorted(graph[node]):
            if cycle:
                return
            if dep in path:
                cycle.extend([*path[path.index(dep) :], dep])
            elif dep not in done:
                visit(dep, [*path, dep])
        done.add(node)

    for name in sorted(graph):
        if name not in done:
            visit(name, [name])
    assert not cycle, " -> ".join(cycle)


def test_only_the_litellm_provider_imports_litellm() -> None:
    importers = sorted(
        _module(path)
        for path in HARNESS.rglob("*.py")
        if any(
            isinstance(node, ast.Import) and any(a.name == "litellm" for a in node.names)
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        )
    )
    assert importers == ["harness.providers.litellm"]

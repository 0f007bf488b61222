"""The Python code's layout: each subpackage owns one capability and imports flow one way.

Read from the source (every import, those inside functions too), so it needs no build and no Spark.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = {"lakehouse": ROOT / "src" / "lakehouse", "lakehouse_ml": ROOT / "ml" / "lakehouse_ml"}


def _module_name(package: str, path: Path) -> str:
    parts = path.relative_to(PACKAGES[package]).with_suffix("").parts
    return ".".join((package, *parts[:-1])) if parts[-1] == "__init__" else ".".join((package, *parts))


def _imports() -> dict[str, set[str]]:
    """Each first-party module -> the first-party modules it imports (packages resolved to the module named)."""
    found: dict[str, set[str]] = {}
    for package, folder in PACKAGES.items():
        for path in sorted(folder.rglob("*.py")):
            name = _module_name(package, path)
            targets: set[str] = set()
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if isinstance(node, ast.Import):
                    targets.update(alias.name for alias in node.names)
                elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    # `from lakehouse.reports import eda` imports the module lakehouse.reports.eda
                    targets.update(f"{node.module}.{alias.name}" for alias in node.names)
                    targets.add(node.module)
            found[name] = {t for t in targets if t.split(".")[0] in PACKAGES}
    modules = set(found)
    # keep the names that are modules (drop `lakehouse.engine.runtime.get_spark`-style attribute names)
    return {name: {t for t in targets if t in modules and t != name} for name, targets in found.items()}


def _owner(module: str) -> str:
    """The capability a module belongs to: its subpackage (lakehouse.engine, ...), or the top-level module."""
    parts = module.split(".")
    return ".".join(parts[:2]) if len(parts) > 1 else module


def test_the_ml_package_never_imports_the_platform() -> None:
    # the Databricks job installs lakehouse_ml alone (its wheel): an import of `lakehouse` would fail there
    leaks = {m: sorted(t for t in ts if t.startswith("lakehouse.") or t == "lakehouse") for m, ts in _imports().items()}
    assert {m: ts for m, ts in leaks.items() if m.startswith("lakehouse_ml") and ts} == {}


def test_capabilities_import_one_way_without_cycles() -> None:
    graph: dict[str, set[str]] = {}
    for module, targets in _imports().items():
        if module in ("lakehouse", "lakehouse_ml"):
            continue
        graph.setdefault(_owner(module), set()).update(
            _owner(t) for t in targets if _owner(t) != _owner(module) and t not in ("lakehouse", "lakehouse_ml")
        )
    # the command line dispatches to every capability; none calls back into it
    assert sorted(owner for owner, targets in graph.items() if "lakehouse.cli" in targets) == []
    # the engine is the base: it uses no other capability
    assert graph["lakehouse.engine"] == set()
    order: list[str] = []
    state: dict[str, str] = {}

    def visit(node: str, path: tuple[str, ...]) -> None:
        if state.get(node) == "done":
            return
        assert state.get(node) != "open", f"import cycle: {' -> '.join((*path, node))}"
        state[node] = "open"
        for target in sorted(graph.get(node, ())):
            visit(target, (*path, node))
        state[node] = "done"
        order.append(node)

    for node in sorted(graph):
        visit(node, ())
    assert set(order) >= {f"lakehouse.{p}" for p in ("engine", "datagen", "reports", "access", "ops", "bench")}


def test_each_subpackage_says_in_one_line_what_it_owns() -> None:
    for folder in sorted(p for p in PACKAGES["lakehouse"].iterdir() if (p / "__init__.py").exists()):
        doc = ast.get_docstring(ast.parse((folder / "__init__.py").read_text()))
        assert doc and "\n" not in doc.strip(), folder.name

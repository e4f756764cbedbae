"""The layers hold: no import circle in bot/, nothing in bot/ imports cogs/, and the core (with what
lies below it: values, storage, render, config) imports no service, no adapter, nor the composition
root above it. Imports are read from the source (a late import inside a function counts; one made
only for type checking does not, since it never runs)."""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx

ROOT = Path(__file__).resolve().parents[1]
# What the core may import of bot/: itself, and what lies below it.
BELOW_CORE = ("bot.values", "bot.storage", "bot.render", "bot.config")


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path, known: set[str]) -> list[tuple[str, int]]:
    """What a module imports at run time (module names, each with its line), resolved to modules of `known`
    where it names one (`from bot.forms import view` is bot.forms.view) and kept as written otherwise."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                for statement in child.orelse:  # only the `else` of `if TYPE_CHECKING:` runs
                    visit(statement)
                continue
            if isinstance(child, ast.Import):
                found.extend((alias.name, child.lineno) for alias in child.names)
            elif isinstance(child, ast.ImportFrom) and child.level == 0 and child.module:
                for alias in child.names:
                    submodule = f"{child.module}.{alias.name}"
                    found.append((submodule if submodule in known else child.module, child.lineno))
            visit(child)

    visit(tree)
    return found


def graph() -> tuple[nx.DiGraph, dict[tuple[str, str], int]]:
    files = {module_name(p): p for p in sorted((ROOT / "bot").rglob("*.py"))}
    known = set(files)
    edges = nx.DiGraph()
    lines = {}
    for name, path in files.items():
        edges.add_node(name)
        for imported, line in imports(path, known):
            edges.add_edge(name, imported)
            lines.setdefault((name, imported), line)
    return edges, lines


def test_there_is_no_import_circle_in_bot():
    edges, lines = graph()
    inside = edges.subgraph([n for n in edges if n == "bot" or n.startswith("bot.")])
    circles = [c for c in nx.simple_cycles(inside) if len(c) > 1]
    described = [" -> ".join(f"{a} (line {lines[(a, b)]})" for a, b in zip(c, c[1:] + c[:1])) for c in circles[:5]]
    assert not circles, f"{len(circles)} import circles, e.g.:\n" + "\n".join(described)


def test_nothing_in_bot_imports_a_cog():
    edges, lines = graph()
    found = [f"{a} line {lines[(a, b)]}: {b}" for a, b in edges.edges if b == "cogs" or b.startswith("cogs.")]
    assert not found, "bot/ imports cogs/:\n" + "\n".join(found)


def test_the_core_imports_only_itself_and_what_lies_below_it():
    edges, lines = graph()
    allowed = ("bot.core", *BELOW_CORE)
    below = [n for n in edges if n.startswith(("bot.core", *BELOW_CORE))]
    found = [f"{a} line {lines[(a, b)]}: {b}" for a in below for b in edges.successors(a)
             if b.startswith("bot") and not b.startswith(allowed) and b != "bot"]
    assert not found, "the core (or what lies below it) imports from above it:\n" + "\n".join(found)
    under = [f"{a} line {lines[(a, b)]}: {b}" for a in below if not a.startswith("bot.core")
             for b in edges.successors(a) if b.startswith("bot.core")]
    assert not under, "below the core, a module imports the core:\n" + "\n".join(under)


def test_the_checks_see_a_circle_and_a_late_import(tmp_path):
    """The reading of imports itself: a late import counts, one made only for type checking does not."""
    module = tmp_path / "m.py"
    module.write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from bot.app import Bot\n"
                      "def f():\n    from bot.forms import view\n")
    assert imports(module, {"bot.forms.view"}) == [("typing", 1), ("bot.forms.view", 5)]

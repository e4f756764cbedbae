"""The names a cog uses to reach what is declared elsewhere, checked when it loads: the method an
option's suggestions come from (`option(autocomplete="partner_names")`), the queries it asks
(`self.bot.ask("partners.find", ...)`) and the actions of the buttons it shows
(`Button(label, "share:done")`). Each is a string, so a typo would fail quietly at run time (no
suggestions, the default answer, a button that only says it is unknown); found here, it stops the
start with the cog, the file and line, and the name.

Queries and actions are read from the cog's source (its modules' literal strings in those calls);
one built from variables is not checked.
"""

from __future__ import annotations

import ast
import functools
import importlib.util
import inspect
from dataclasses import dataclass
from pathlib import Path

from bot.core.cog import Cog


@dataclass(frozen=True)
class Reference:
    """A name used in a cog's source: a query asked (`kind` "query") or a button's action ("action")."""

    kind: str
    name: str
    where: str  # file:line, from the cog's folder


def unknown_methods(cog: Cog) -> list[str]:
    """Each option whose `autocomplete` names no async method of the cog, said as a problem."""
    problems = []
    for spec in cog.commands:
        for option in spec.options:
            if option.autocomplete is None:
                continue
            method = getattr(cog, option.autocomplete, None)
            if method is None or not inspect.iscoroutinefunction(method):
                problems.append(f"/{spec.name} {option.name}: its suggestions come from {option.autocomplete!r},"
                                f" which is not an async method of {type(cog).__name__}")
    return problems


def references(module_name: str) -> list[Reference]:
    """The queries and actions named by literal strings in a cog's modules (its package's .py files)."""
    spec = importlib.util.find_spec(module_name)
    if spec is None or spec.origin is None or not spec.origin.endswith(".py"):
        return []  # no source to read (a compiled-only install): nothing is checked
    origin = Path(spec.origin)
    root = origin.parent if spec.submodule_search_locations else origin
    found = []
    for path in sorted(root.rglob("*.py")) if root.is_dir() else [root]:
        shown = path.relative_to(root.parent) if root.is_dir() else path.name
        stat = path.stat()
        found += [Reference(kind, name, f"{shown}:{line}")
                  for kind, name, line in _named_in(path, stat.st_mtime_ns, stat.st_size)]
    return found


@functools.lru_cache(maxsize=512)
def _named_in(path: Path, mtime_ns: int, size: int) -> tuple[tuple[str, str, int], ...]:
    """The names used in one file, read once per version of it (a cog is loaded at every start)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    named = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            kind, name = _named(node)
            if name is not None:
                named.append((kind, name, node.lineno))
    return tuple(named)


def _named(call: ast.Call) -> tuple[str, str | None]:
    """A call `….ask("query", ...)` or `Button(label, "action", ...)` / `Button(..., action="...")`."""
    function = call.func
    called = function.attr if isinstance(function, ast.Attribute) else getattr(function, "id", "")
    if called == "ask" and call.args:
        return "query", _text(call.args[0])
    if called == "Button":
        given = call.args[1] if len(call.args) > 1 else next(
            (k.value for k in call.keywords if k.arg == "action"), None)
        return "action", _text(given)
    return "", None


def _text(node: ast.AST | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None

"""Every text the bot shows comes from a jinja2 template, and a community can replace any of them.

Templates live in `templates/` (shipped inside the package as `bot/templates`). A
community's own folder (`bot.templates_dir`) comes first: a file there with the same
relative path wins. Undefined variables are errors, never blank text.

Escaping is automatic: every `{{ value }}` is escaped for the platform being rendered
for (see bot.render.escape), unless the value is already-rendered template output or
is marked `|safe` in the template. So member text cannot format or ping by accident.

A message template names its parts with blocks — `{% block title %}`, `{% block text %}`,
`{% block button_done %}` — so a community overrides a button label the same way as a paragraph.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from bot.render.escape import ESCAPERS


def builtin_templates_dir() -> Path:
    """The shipped templates: inside the installed package, or at the top of a source checkout."""
    here = Path(__file__).resolve()
    packaged = here.parents[1] / "templates"
    return packaged if packaged.is_dir() else here.parents[2] / "templates"


def long_date(value: date) -> str:
    """25 November 2026 — the same on every machine, whatever its locale."""
    months = ("January", "February", "March", "April", "May", "June", "July",
              "August", "September", "October", "November", "December")
    return f"{value.day} {months[value.month - 1]} {value.year}"


class TemplateProblem(Exception):
    """A template is missing, does not compile, or lacks a part the bot needs."""


class Rendered:
    """A template rendered for one platform; its blocks are rendered when first asked for."""

    def __init__(self, template: jinja2.Template, variables: dict[str, Any]) -> None:
        self._template = template
        self._context = template.new_context(variables)
        self._variables = variables
        self._blocks: dict[str, Markup] = {}

    def __getitem__(self, block: str) -> Markup:
        if block not in self._blocks:
            render = self._template.blocks.get(block)
            if render is None:
                raise TemplateProblem(f"template {self._template.name} has no block {block!r}")
            self._blocks[block] = Markup("".join(render(self._context)).strip())
        return self._blocks[block]

    def get(self, block: str, default: str = "") -> str:
        return self[block] if block in self._template.blocks else default

    @property
    def body(self) -> Markup:
        """The whole template, for templates without blocks."""
        return Markup(self._template.render(self._variables).strip())


class Templates:
    """The template library: built-in templates under the community's overrides."""

    def __init__(self, overrides: Path | None = None) -> None:
        folders = [str(overrides)] if overrides else []
        folders.append(str(builtin_templates_dir()))
        self._loader = jinja2.FileSystemLoader(folders, encoding="utf-8")
        self._first_shipped = 1 if overrides else 0
        self._environments: dict[str, jinja2.Environment] = {}
        self._names: list[str] | None = None

    def environment(self, dialect: str) -> jinja2.Environment:
        """One jinja2 environment per platform: they differ only in how values are escaped."""
        env = self._environments.get(dialect)
        if env is None:
            escaper = ESCAPERS[dialect]

            def finalize(value: Any) -> Any:
                if isinstance(value, Markup):
                    return value
                return "" if value is None else escaper(str(value))

            env = jinja2.Environment(
                loader=self._loader,
                undefined=jinja2.StrictUndefined,
                finalize=finalize,
                autoescape=False,
                trim_blocks=True,
                lstrip_blocks=True,
                auto_reload=True,
            )
            env.filters["longdate"] = long_date
            self._environments[dialect] = env
        return env

    def render(self, name: str, dialect: str, /, **variables: Any) -> Rendered:
        try:
            template = self.environment(dialect).get_template(name)
        except jinja2.TemplateNotFound:
            raise TemplateProblem(f"template {name} not found (looked in {self._loader.searchpath})") from None
        return Rendered(template, variables)

    def names(self, prefix: str) -> list[str]:
        """Template names under a folder, e.g. every share text variant, overrides included."""
        if self._names is None:
            self._names = sorted(self._loader.list_templates())
        return [n for n in self._names if n.startswith(prefix)]

    def add_folder(self, folder: Path) -> None:
        """Templates shipped inside a cog's package: below the community's overrides, above the built-ins."""
        if folder.is_dir() and str(folder) not in self._loader.searchpath:
            self._loader.searchpath.insert(self._first_shipped, str(folder))
            self.refresh()

    def refresh(self) -> None:
        """Forget the list of template files (after files were added or removed)."""
        self._names = None

    def check(self) -> None:
        """Compile every template now, so a broken override is reported at start with its line."""
        env = self.environment("console")
        for name in self.names(""):
            if not name.endswith(".j2"):
                continue
            try:
                env.get_template(name)
            except jinja2.TemplateSyntaxError as exc:
                raise TemplateProblem(f"template {exc.filename or name}, line {exc.lineno}: {exc.message}") from None

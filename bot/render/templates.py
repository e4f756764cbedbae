"""Every text the bot shows comes from a jinja2 template, and a community can replace any of them.

Templates live in `templates/` (shipped inside the package as `bot/templates`). A
community's own folder (`bot.templates_dir`) comes first: a file there with the same
relative path wins, and must keep every block the bot uses from the file it replaces.
Undefined variables are errors, never blank text.

Escaping is automatic: every `{{ value }}` is escaped for the platform being rendered
for (see bot.render.escape), unless the value is already-rendered template output
(`Escaped`) or is marked `|safe` in the template. So member text cannot ping anyone or
use the platform's markup by accident. Jinja's own `|e` filter escapes for HTML, which
is wrong here, so it only marks a value as needing the usual escaping.

A message template names its parts with blocks (`{% block title %}`, `{% block text %}`,
`{% block button_done %}`), so a community overrides a button label the same way as a
paragraph. Each block is rendered on its own: a macro or `{% set %}` defined outside a
block is not visible inside it. Output of a macro or a `{% set %}` block is text you
wrote, whose values were already escaped: print it with `|safe`.
"""

from __future__ import annotations

import time
import weakref
from datetime import date
from pathlib import Path
from typing import Any, Callable

import jinja2

from bot.render.escape import ESCAPERS
from bot.render.times import LOCAL_TIMES, MONTHS, READERS_OWN_ZONE, clock_time, short_date

# Words kept by `Templates.unvarying` are looked up again (their file checked for a change) at most this often.
LOOK_AGAIN_AFTER = 1.0  # seconds


class Escaped(str):
    """Text already formatted for its platform: template output, or `|safe` in a template.

    Only this type passes through unescaped. Joining it with plain text (`+`, f-strings)
    gives plain text again, which is escaped when shown: the safe way to be wrong.
    """


def builtin_templates_dir() -> Path:
    """The shipped templates: inside the installed package, or at the top of a source checkout."""
    here = Path(__file__).resolve()
    packaged = here.parents[1] / "templates"
    return packaged if packaged.is_dir() else here.parents[2] / "templates"


def long_date(value: date) -> str:
    """25 November 2026: the same on every machine, whatever its locale."""
    return f"{value.day} {MONTHS[value.month - 1]} {value.year}"


class TemplateProblem(Exception):
    """A template is missing, does not compile, or lacks a part the bot needs."""


class Rendered:
    """A template rendered for one platform; its blocks are rendered when first asked for."""

    def __init__(self, template: jinja2.Template, variables: dict[str, Any]) -> None:
        self._template = template
        # shared=True skips copying the environment's globals into every context; they are
        # already merged into `variables` (see Templates.render): one dict, built once per render.
        self._context = template.new_context(variables, shared=True)
        self._variables = variables
        self._blocks: dict[str, Escaped] = {}

    def __getitem__(self, block: str) -> Escaped:
        if block not in self._blocks:
            render = self._template.blocks.get(block)
            if render is None:
                raise TemplateProblem(f"template {self._template.name} has no block {block!r}")
            self._blocks[block] = Escaped("".join(render(self._context)).strip())
        return self._blocks[block]

    def has(self, block: str) -> bool:
        return block in self._template.blocks

    def with_values(self, **variables: Any) -> Rendered:
        """The same template rendered again with more variables (or other values for some): the file is not
        looked up again, so what is said with both is in the words of one version of it."""
        return Rendered(self._template, {**self._variables, **variables})

    @property
    def compiled(self) -> jinja2.Template:
        """The compiled template: the same object until its file changes, so what is read from it can be
        kept until then."""
        return self._template

    @property
    def body(self) -> Escaped:
        """The whole template, for templates without blocks."""
        return Escaped(self._template.render(self._variables).strip())


class Templates:
    """The template library: built-in templates under the community's overrides."""

    def __init__(self, overrides: Path | None = None, services: list[Path] | tuple[()] = ()) -> None:
        """`services`: the folders of templates shipped with the services (bot/forms/templates, ...), found
        after the community's overrides and before the built-ins, as a cog's own folder is (`add_folder`)."""
        folders = [str(overrides)] if overrides else []
        folders += [str(folder) for folder in services if folder.is_dir()]
        folders.append(str(builtin_templates_dir()))
        self._loader = jinja2.FileSystemLoader(folders, encoding="utf-8")
        self._first_shipped = 1 if overrides else 0
        self._command_namer: Callable[[str, str], str] = lambda dialect, name: f"/{name}"
        self._environments: dict[str, jinja2.Environment] = {}
        self._names: list[str] | None = None
        self._kept: weakref.WeakKeyDictionary[jinja2.Template, Rendered] = weakref.WeakKeyDictionary()
        self._looked_up: dict[tuple[str, str], tuple[float, Rendered]] = {}  # by name and dialect: until when, what

    def environment(self, dialect: str) -> jinja2.Environment:
        """One jinja2 environment per platform: they differ in how values are escaped, and in
        how a command is written (`{{ "help" | command }}`: /help, or /smallstep help on Slack)."""
        if dialect not in self._environments:
            self._environments[dialect] = _environment(
                self._loader, ESCAPERS[dialect], lambda name: self._command_namer(dialect, name), dialect)
        return self._environments[dialect]

    def set_command_namer(self, namer: Callable[[str, str], str]) -> None:
        """How each platform writes a command: namer(dialect, "testimonial withdraw") -> "/testimonial withdraw"."""
        self._command_namer = namer

    def render(self, name: str, dialect: str, /, **variables: Any) -> Rendered:
        template = self._template(name, dialect)
        return Rendered(template, {**template.environment.globals, **variables})

    def unvarying(self, name: str, dialect: str, /, **variables: Any) -> Rendered:
        """`render` for words that are the same at every call (`variables` too: the program's settings, say):
        kept, with the blocks already rendered, until the template's file changes. The file is looked at again
        at most once every `LOOK_AGAIN_AFTER` (a form's words are asked for in every answer, and looking at
        their two files each time cost a tenth of the answer)."""
        now = time.monotonic()
        looked_up = self._looked_up.get((name, dialect))
        if looked_up is not None and now < looked_up[0]:
            return looked_up[1]
        template = self._template(name, dialect)
        kept = self._kept.get(template)
        if kept is None:
            kept = self._kept[template] = Rendered(template, {**template.environment.globals, **variables})
        self._looked_up[(name, dialect)] = (now + LOOK_AGAIN_AFTER, kept)
        return kept

    def _template(self, name: str, dialect: str) -> jinja2.Template:
        try:
            return self.environment(dialect).get_template(name)
        except jinja2.TemplateNotFound:
            raise TemplateProblem(f"template {name} not found (looked in {self._loader.searchpath})") from None

    def names(self, prefix: str) -> list[str]:
        """Template files (.j2) under a folder, e.g. every share text variant, overrides included."""
        if self._names is None:
            self._names = sorted(n for n in self._loader.list_templates() if n.endswith(".j2"))
        return [n for n in self._names if n.startswith(prefix)]

    def add_folder(self, folder: Path) -> None:
        """Templates shipped inside a cog's package: below the community's overrides, above the built-ins."""
        if folder.is_dir() and str(folder) not in self._loader.searchpath:
            self._loader.searchpath.insert(self._first_shipped, str(folder))
            self.refresh()
            self.check()

    def refresh(self) -> None:
        """Forget the list of template files (after files were added or removed)."""
        self._names = None
        self._looked_up.clear()

    def check(self) -> None:
        """Compile every template now, and check each override keeps the blocks of the file it
        replaces, so a broken override is reported at start with its file, not mid-conversation."""
        env = self.environment("console")
        shipped = _environment(jinja2.FileSystemLoader(self._loader.searchpath[self._first_shipped:]), str)
        for name in self.names(""):
            try:
                template = env.get_template(name)
            except jinja2.TemplateSyntaxError as exc:
                raise TemplateProblem(f"template {exc.filename or name}, line {exc.lineno}: {exc.message}") from None
            try:
                original = shipped.get_template(name)
            except jinja2.TemplateNotFound:
                continue
            missing = sorted(set(original.blocks) - set(template.blocks))
            if missing:
                raise TemplateProblem(
                    f"template {template.filename} replaces the built-in {name} but lacks its block"
                    f"{'s' if len(missing) > 1 else ''} {', '.join(missing)}: copy them from {original.filename}")


# Compiled templates, kept on disk between runs (jinja2 checks each against its source): a start, or a
# restart after a crash, compiles only what changed, instead of every template.
_COMPILED = jinja2.FileSystemBytecodeCache()


def _environment(loader: jinja2.BaseLoader, escaper: Callable[[str], str],
                 command: Callable[[str], str] = lambda name: f"/{name}", dialect: str = "plain") -> jinja2.Environment:
    def finalize(value: Any) -> str:
        if isinstance(value, Escaped):
            return value
        return "" if value is None else escaper(str(value))

    env = jinja2.Environment(
        loader=loader,
        undefined=jinja2.StrictUndefined,
        finalize=finalize,
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=True,
        bytecode_cache=_COMPILED,
    )
    env.filters["longdate"] = long_date
    env.filters["shortdate"] = short_date
    env.filters["clocktime"] = clock_time
    env.filters["zonename"] = lambda moment: moment.tzname() or ""
    # A moment (or a span, given its end) in each reader's own zone where the platform can show it so.
    local_time = LOCAL_TIMES[dialect]
    env.filters["when"] = lambda start, end=None, zone=True, relative=False: Escaped(
        local_time(start, end, zone=zone, relative=relative))
    env.globals["readers_own_zone"] = dialect in READERS_OWN_ZONE
    env.filters["safe"] = Escaped
    env.filters["command"] = lambda name: Escaped(escaper(command(str(name))))

    def sentence(value: Any) -> Escaped:
        """Text someone typed, ended as a sentence: `{{ reason | sentence }} Sorry` never reads
        "Venue flooded Sorry"."""
        text = (value if isinstance(value, Escaped) else escaper(str(value))).rstrip()
        return Escaped(text if not text or text.endswith((".", "!", "?", "…", ")", '"')) else f"{text}.")

    env.filters["sentence"] = sentence
    # Jinja's escape filters know only HTML; here a value is escaped once, by finalize.
    for name in ("e", "escape", "forceescape"):
        env.filters[name] = str
    return env

"""Loading, unloading and reloading cogs, and the index of what they declare.

A cog is a package (`cogs/share/`) whose `__init__.py` has `setup(bot, name)` returning
the Cog. Loading a cog imports it fresh, applies its migrations, calls `cog_load`, then
makes its commands, buttons, listeners and jobs live. A cog that fails is reported
with the reason and left out; the others carry on.
"""

from __future__ import annotations

import importlib
import importlib.resources
import inspect
import logging
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable

from bot.app.references import references, unknown_methods
from bot.config import ConfigError, available_cogs, cog_module_name
from bot.core.cog import Cog, CommandSpec
from bot.core.commands import closest
from bot.core.errors import UnknownName
from bot.core.events import CORE_EVENTS
from bot.forms import SubmitSpec
from bot.scheduler import PeriodicJob
from bot.storage import apply_migrations

if TYPE_CHECKING:
    from bot.app.bot import Bot

# Named as it was when this lived in bot/core/registry.py: operators' log filters know it.
log = logging.getLogger("bot.core.registry")


class CogLoadError(Exception):
    """A cog could not be loaded; the message says why in one line."""


@dataclass(frozen=True)
class Handler:
    """A declared command or action, bound to the cog instance that handles it."""

    spec: Any
    cog: Cog

    @property
    def callback(self) -> Any:
        return getattr(self.cog, self.spec.attribute)


class CogRegistry:
    def __init__(self, bot: Bot) -> None:
        self._bot = bot
        self.loaded: dict[str, Cog] = {}
        self.failed: dict[str, str] = {}
        self.commands: dict[str, Handler] = {}
        self.actions: dict[str, Handler] = {}
        self.queries: dict[str, Handler] = {}
        self.builtin: set[str] = set()

    def command_specs(self) -> dict[str, CommandSpec]:
        return {name: handler.spec for name, handler in self.commands.items()}

    async def load_enabled(self, names: list[str]) -> None:
        """Load the configured cogs; one that fails is reported and the rest still load.

        A ConfigError (a bad [cogs.NAME] table) is not swallowed: the bot must not start
        on a config it cannot honour.
        """
        for name in names:
            try:
                await self.load(name)
            except CogLoadError as exc:
                log.error("cog %r was not loaded: %s (the other cogs are running)", name, exc)

    def known_events(self) -> set[str]:
        """Every domain event some cog here could emit: the loaded ones, and those that may be loaded."""
        return set(CORE_EVENTS) | self._declared(lambda cog: cog.emits)

    def _declared(self, names: Callable[[type[Cog]], Iterable[str]]) -> set[str]:
        """What the cogs here declare (`names(cog class)`: its events, queries, actions), loaded or not."""
        found: set[str] = set()
        for name in set(self.loadable()) | set(self.loaded):
            if name in self.loaded:
                found |= set(names(type(self.loaded[name])))
                continue
            try:
                module = importlib.import_module(cog_module_name(name))
            except Exception:  # a broken cog declares nothing; loading it says why
                continue
            for value in vars(module).values():
                if isinstance(value, type) and issubclass(value, Cog):
                    found |= set(names(value))
        return found

    def loadable(self) -> list[str]:
        """The cogs a moderator may load: the built-in ones, and those named in the config."""
        return sorted(set(available_cogs()) | set(self._bot.config.cogs.enabled))

    async def load(self, name: str) -> Cog:
        if name in self.loaded:
            raise CogLoadError(f"{name} is already loaded")
        if name not in self.loadable():
            hint = closest(name, self.loadable())
            raise CogLoadError(f"there is no cog named {name!r}" + (f"; did you mean {hint!r}?" if hint else ""))
        cog = await self._prepare(name)
        await self._activate(name, cog)
        log.info("cog %s loaded (%d commands)", name, len(cog.commands))
        return cog

    async def unload(self, name: str) -> None:
        if name in self.builtin:
            raise CogLoadError(f"{name} is part of the core and always loaded")
        cog = self.loaded.get(name)
        if cog is None:
            raise CogLoadError(f"{name} is not loaded")
        await self._deactivate(name, cog)
        _forget_modules(cog_module_name(name))
        log.info("cog %s unloaded", name)

    async def reload(self, name: str) -> Cog:
        """Read the cog's files afresh. If the new version fails, the running one stays on."""
        old = self.loaded.get(name)
        if old is None:
            return await self.load(name)
        if name in self.builtin:
            raise CogLoadError(f"{name} is part of the core and cannot be reloaded")
        self._bot.templates.refresh()
        try:
            new = await self._prepare(name, replacing=old)
        except (CogLoadError, UnknownName) as exc:
            self.failed.pop(name, None)  # it is still loaded, in its previous version
            raise CogLoadError(f"{exc} (the version that was running stays on)") from exc
        await self._deactivate(name, old)
        await self._activate(name, new)
        log.info("cog %s reloaded", name)
        return new

    async def add_builtin(self, name: str, cog_class: type[Cog]) -> Cog:
        """Register a cog that is part of the core (help, cogs) rather than a module of its own."""
        cog = cog_class(self._bot, name)
        await cog.cog_load()
        await self._activate(name, cog)
        self.builtin.add(name)
        return cog

    # -- internals ---------------------------------------------------------------

    async def _prepare(self, name: str, replacing: Cog | None = None) -> Cog:
        """Import and set up a cog without making it live; a failure is recorded and explained."""
        try:
            return await self._set_up(name, cog_module_name(name), replacing)
        except ConfigError:
            raise
        except (CogLoadError, UnknownName) as exc:  # load_enabled lets an unknown name through: it stops the start
            self.failed[name] = str(exc)
            raise
        except Exception as exc:
            self.failed[name] = _one_line(exc)
            log.debug("cog %s failed:\n%s", name, traceback.format_exc())
            raise CogLoadError(self.failed[name]) from exc

    async def _set_up(self, name: str, module_name: str, replacing: Cog | None) -> Cog:
        _forget_modules(module_name)
        importlib.invalidate_caches()  # files added since the last import are found
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name and module_name.startswith(exc.name):
                raise CogLoadError(f"there is no cog named {name!r}") from None
            raise
        setup = getattr(module, "setup", None)
        if setup is None:
            raise CogLoadError(f"{module_name} has no setup(bot, name) function")
        cog = setup(self._bot, name)
        if inspect.isawaitable(cog):
            cog = await cog
        if not isinstance(cog, Cog):
            raise CogLoadError(f"{module_name}.setup returned {type(cog).__name__}, not a Cog")
        self._check_clashes(cog, replacing)
        self._check_names(name, module_name, cog)
        package = importlib.resources.files(module_name)
        await apply_migrations(self._bot.db, f"cog:{name}", package / "migrations")
        if isinstance(package, Path):
            self._bot.templates.add_folder(package / "templates")
        await cog.cog_load()
        return cog

    def _check_clashes(self, cog: Cog, replacing: Cog | None) -> None:
        for spec in cog.commands:
            owner = self.commands.get(spec.name)
            if owner and owner.cog is not replacing:
                raise CogLoadError(f"/{spec.name} is already a command of {owner.cog.name}")
        for action in cog.actions:
            owner = self.actions.get(action.action)
            if owner and owner.cog is not replacing:
                raise CogLoadError(f"button {action.action} is already handled by {owner.cog.name}")
        for spec in cog.queries:
            owner = self.queries.get(spec.name)
            if owner and owner.cog is not replacing:
                raise CogLoadError(f"the query {spec.name} is already answered by {owner.cog.name}")
        replaced_forms = {spec.form.name for spec in _submit_handlers(replacing)} if replacing else set()
        for spec in _submit_handlers(cog):
            if self._bot.forms.is_registered(spec.form.name) and spec.form.name not in replaced_forms:
                raise CogLoadError(f"the form {spec.form.name} is already handled by another cog")

    def _check_names(self, name: str, module_name: str, cog: Cog) -> None:
        """Every name the cog uses to reach something declared elsewhere exists (see references.py)."""
        problems = unknown_methods(cog)
        used = references(module_name)
        if used:
            known = {"query": self._declared(lambda c: (s.name for s in c.queries)),
                     "action": self._declared(lambda c: (s.action for s in c.actions))}
            known["query"] |= {s.name for s in cog.queries}  # its own, though another version is loaded
            known["action"] |= {s.action for s in cog.actions}
            for reference in used:
                if reference.name in known[reference.kind]:
                    continue
                hint = closest(reference.name, sorted(known[reference.kind]))
                what = "asks the query" if reference.kind == "query" else "shows a button for the action"
                nobody = "no cog answers" if reference.kind == "query" else "no cog handles"
                problems.append(f"{reference.where} {what} {reference.name!r}, which {nobody}"
                                + (f" (did you mean {hint!r}?)" if hint else ""))
        if problems:
            raise UnknownName(f"cog {name}: " + "; ".join(problems))

    async def _activate(self, name: str, cog: Cog) -> None:
        """Make a set-up cog live: its commands, buttons, listeners and jobs."""
        self.loaded[name] = cog
        self.failed.pop(name, None)
        for spec in cog.commands:
            self.commands[spec.name] = Handler(spec, cog)
        for action in cog.actions:
            self.actions[action.action] = Handler(action, cog)
        for spec in cog.queries:
            self.queries[spec.name] = Handler(spec, cog)
        for spec in cog.listeners:
            self._bot.events.subscribe(spec.event, getattr(cog, spec.attribute), owner=name)
        for event, handler in cog.listens_to():
            self._bot.events.subscribe(event, handler, owner=name)
        for job in cog.jobs:
            await self._bot.scheduler.add(
                PeriodicJob(f"cog:{name}", job.name, job.every, getattr(cog, job.attribute), job.at_start))
        for spec in _submit_handlers(cog):
            self._bot.forms.register(spec.form, getattr(cog, spec.attribute))

    async def _deactivate(self, name: str, cog: Cog) -> None:
        del self.loaded[name]
        self.commands = {k: h for k, h in self.commands.items() if h.cog is not cog}
        self.actions = {k: h for k, h in self.actions.items() if h.cog is not cog}
        self.queries = {k: h for k, h in self.queries.items() if h.cog is not cog}
        self._bot.events.unsubscribe_owner(name)
        self._bot.scheduler.remove_component(f"cog:{name}")
        for spec in _submit_handlers(cog):
            self._bot.forms.unregister(spec.form.name)
        try:
            await cog.cog_unload()
        except Exception:
            log.exception("cog %s failed while unloading; it is unloaded anyway", name)


def _submit_handlers(cog: Cog) -> list[SubmitSpec]:
    return [spec for spec in cog.declared if isinstance(spec, SubmitSpec)]


def _forget_modules(module_name: str) -> None:
    """Drop a cog's modules from the import cache so the next load reads the files afresh."""
    for loaded in [m for m in sys.modules if m == module_name or m.startswith(module_name + ".")]:
        del sys.modules[loaded]


def _one_line(exc: BaseException) -> str:
    """`ValueError: bad thing (in cog.py, line 12)`: enough to find it, short enough for a chat reply."""
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" (in {Path(frames[-1].filename).name}, line {frames[-1].lineno})" if frames else ""
    return f"{type(exc).__name__}: {exc}{where}"

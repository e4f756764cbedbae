"""The core: everything a cog stands on, and the one path every command takes.

An adapter turns a platform event into an `Invocation` and calls `run_line` (a typed
command line), `run_command` (a command with named options, as Discord sends them),
`press` (a button) or `receive_dm` (free text in a direct message). Each goes through
the same guard: moderator check, option checks, the handler, and a friendly private
reply for anything that goes wrong, so a member never sees a traceback.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import re
import time
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any, Awaitable, Callable

from bot.app.builtin import CoreCommands
from bot.app.cogs import CogRegistry, Handler
from bot.audit import AuditLog
from bot.config import Config, ConfigError
from bot.config import cog_module_name
from bot.core.adapter import Adapter
from bot.core.clock import Clock
from bot.core.cog import CommandSpec, check_query_name
from bot.core.commands import RawArgument, bind_options, closest, find_command, raw_arguments, split_line
from bot.core.context import Invocation
from bot.core.errors import Refusal, UsageError
from bot.core.events import EventBus
from bot.forms.cog import FormsCog
from bot.forms.engine import FormEngine
from bot.limits import Limits, LimitsCog
from bot.loops import Loops, describe
from bot.outbox import Outbox, OutboxCog
from bot.privacy import PrivacyCog
from bot.render import Rendered, Templates
from bot.render.templates import Escaped
from bot.scheduler import Scheduler
from bot.storage import (Database, DatabaseBusy, DatabaseFull, DatabaseReadOnly, Location, StorageError,
                         apply_migrations)
from bot.watchdog import Watchdog
from bot.workers import Workers

# Named as it was when this lived in bot/core/bot.py: operators' log filters know the one line per command by it.
log = logging.getLogger("bot.core.bot")

SHUTDOWN_SECONDS = 10  # a stop never takes longer, whatever state the database is in
CHECKPOINT_SECONDS = 5  # how often the database's write-ahead log is copied into it (Database.checkpoint)


# The services: each a package with its migrations (and, where it has words of its own, its templates) beside
# it, as a cog's are. Their tables are made at open, after the core's; their words are found after the
# community's overrides and the cogs' own.
SERVICES = ("outbox", "audit", "moderation", "privacy", "forms", "limits")


def migration_folders(cog_names: list[str]) -> dict[str, Traversable]:
    """The migrations folders of the core, the services and these cogs, by component, in the order they are
    applied (what `smallstep db check` compares with the database)."""
    found = {"core": files("bot.storage") / "migrations"}
    found.update({name: files(f"bot.{name}") / "migrations" for name in SERVICES})
    for name in cog_names:
        try:
            found[f"cog:{name}"] = files(cog_module_name(name)) / "migrations"
        except ModuleNotFoundError:
            continue
    return found


class Unflushed(StorageError):
    """The bot stopped, but something could not be finished or kept; `str()` says what."""


_SUBCOMMAND = re.compile(r"[a-z][a-z0-9-]{0,31}")

ERRORS = "core/errors.j2"
# Said only when core/errors.j2 itself cannot be rendered (a broken community override).
FALLBACK_APOLOGY = "Sorry, I couldn't do that, and I couldn't explain why either. Please tell a moderator."


class Bot:
    """Config, database, clock, templates, the event bus, the scheduler and the loaded cogs."""

    def __init__(self, config: Config, db: Database, clock: Clock, templates: Templates, *,
                 background: bool = True) -> None:
        self.config = config
        # Whether this process delivers the outbox and runs the scheduled jobs; without (`smallstep run
        # --no-background`), it only answers members, and `smallstep worker` does the rest.
        self.background = background
        self.db = db
        self.clock = clock
        self.templates = templates
        self.events = EventBus(db, clock)
        self.loops = Loops(db, clock)
        self.watchdog = Watchdog()
        self.scheduler = Scheduler(db, clock, self.loops, self.watchdog, served=lambda: self.adapters)
        self.cogs = CogRegistry(self)
        # The adapters serving this bot, by platform: how jobs reach members outside a command.
        self.adapters: dict[str, Adapter] = {}
        self.outbox = Outbox(self)
        self.audit = AuditLog(db, clock)
        self.limits = Limits(db, clock)
        self.forms = FormEngine(db, clock, self.render, self.render_unvarying, self.limits, self.adapters,
                                self.outbox, config.forms)
        self.workers = Workers()  # processes for CPU-heavy work (a pairing round), off the event loop
        templates.set_command_namer(self._command_text)

    @classmethod
    async def open(cls, config: Config, *, database: Location | None = None, clock: Clock | None = None,
                   background: bool = True) -> Bot:
        """Open the database (`database`, else the config's), apply the migrations of the core and the
        services, and check every template compiles. `background`: see `Bot.background`."""
        overrides = config.path(config.bot.templates_dir) if config.bot.templates_dir else None
        if overrides and not overrides.is_dir():
            raise ConfigError("bot.templates_dir", f"the folder {overrides} does not exist",
                              "create it (relative paths start at the config file's folder), or leave it empty",
                              config.source)
        templates = Templates(overrides, [Path(str(files(f"bot.{name}") / "templates")) for name in SERVICES])
        templates.check()
        db = await Database.open(database or config.database())
        try:
            for component, folder in migration_folders([]).items():
                await apply_migrations(db, component, folder)
        except StorageError:
            await db.close()
            raise
        return cls(config, db, clock or Clock(config.bot.timezone), templates, background=background)

    def _command_text(self, platform: str, name: str) -> str:
        adapter = self.adapters.get(platform)
        return adapter.command_text(name) if adapter is not None else f"/{name}"

    def attach(self, adapter: Adapter) -> None:
        """An adapter announces itself, so scheduled work can send on its platform."""
        self.adapters[adapter.platform] = adapter

    async def start(self) -> None:
        """Load the core's own commands and the forms' buttons and deadlines, then every enabled cog."""
        await self.outbox.start()
        await self.cogs.add_builtin("core", CoreCommands)
        await self.cogs.add_builtin("forms", FormsCog)
        await self.cogs.add_builtin("outbox", OutboxCog)
        await self.cogs.add_builtin("privacy", PrivacyCog)
        await self.cogs.add_builtin("limits", LimitsCog)
        await self.cogs.load_enabled(self.config.cogs.enabled)
        await self.forms.ask_again()  # once every form is registered

    def start_background(self, turn: asyncio.Lock | None = None) -> None:
        """Serve: scheduled jobs every `bot.scheduler_interval_seconds` (taking `turn` while they run,
        if given; not in a process without background work), the database's checkpoints, and the watchdog
        that logs stalls of the event loop."""
        if self.background:
            self.scheduler.keep_running(self.config.bot.scheduler_interval_seconds, turn)
        if self.db.needs_checkpoints:
            self.loops.start("checkpoint", self.db.checkpoint, every=CHECKPOINT_SECONDS)
        self.watchdog.start(self.loops)
        # What was made to start (modules, templates, the config) lives as long as the process: kept out of
        # the garbage collector's full passes, which would otherwise walk all of it while every member waits.
        gc.freeze()

    async def close(self, timeout: float = SHUTDOWN_SECONDS) -> None:
        """Stop within `timeout` seconds, whatever state the database is in: the loops, the outbox (after
        the message on its way), the cogs, the database. What was queued stays queued for the next start.
        Raises `Unflushed`, saying what, if something could not be finished or kept."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        left = lambda: max(0.1, deadline - loop.time())  # noqa: E731
        problems = []
        self.watchdog.stop()
        if not await self.loops.close(timeout=min(3, left())):
            problems.append("a background loop would not stop")
        await self.outbox.close(timeout=min(5, left()))
        try:
            await asyncio.wait_for(self.forms.close(), min(3, left()))
        except (Exception, asyncio.TimeoutError) as exc:
            problems.append(f"the forms could not record what members were shown ({describe(exc)})")
        self.workers.close()
        for name in [n for n in self.cogs.loaded if n not in self.cogs.builtin]:
            try:
                await asyncio.wait_for(self.cogs.unload(name), left())
            except (Exception, asyncio.TimeoutError) as exc:
                problems.append(f"the {name} cog did not stop cleanly ({describe(exc)})")
        try:
            await asyncio.wait_for(self.db.close(), left())
        except (Exception, asyncio.TimeoutError) as exc:
            problems.append(f"the database did not close ({describe(exc)})")
        if problems:
            raise Unflushed("; ".join(problems))

    def render(self, template: str, dialect: str, /, **variables: Any) -> Rendered:
        """Render a template for a platform; `program` (name, links) is always available."""
        return self.templates.render(template, dialect, program=self.config.program, **variables)

    def render_unvarying(self, template: str, dialect: str, /) -> Rendered:
        """`render` without variables, for words that say the same to everyone (kept until the file changes)."""
        return self.templates.unvarying(template, dialect, program=self.config.program)

    async def ask(self, query: str, *args: Any, default: Any = None) -> Any:
        """Ask another cog a question by name (see `@query`); `default` when no loaded cog answers."""
        handler = self.cogs.queries.get(check_query_name(query))
        return default if handler is None else await handler.callback(*args)

    # -- the ways in ---------------------------------------------------------------

    async def run_line(self, ctx: Invocation, line: str) -> None:
        """A command typed as text: `/share-prompt #general` (the leading slash is optional)."""

        async def run() -> None:
            words = split_line(line.strip().removeprefix("/"))
            if not words:
                raise UsageError("unknown_command", typed="", suggestion="")
            handler, rest = self._find(ctx, words)
            await self._run_handler(ctx, handler, raw_arguments(handler.spec, rest))

        await self.guarded(ctx, run, "command")

    async def run_command(self, ctx: Invocation, name: str, arguments: list[RawArgument]) -> None:
        """A command whose options arrive already named (Discord's slash commands)."""

        async def run() -> None:
            handler, _ = self._find(ctx, name.split())
            await self._run_handler(ctx, handler, arguments)

        await self.guarded(ctx, run, "command")

    async def press(self, ctx: Invocation, action: str, value: str = "") -> None:
        """A button was pressed."""

        async def run() -> None:
            handler = self.cogs.actions.get(action)
            if handler is None:
                raise UsageError("unknown_button")
            ctx.action = action
            ctx.cog = handler.cog.name
            self._require_permission(ctx, handler, f"button {action}")
            await handler.callback(ctx, value)

        await self.guarded(ctx, run, "button", action)

    async def suggest(self, ctx: Invocation, command: str, option: str, typed: str) -> list[str]:
        """Values to suggest for an option while the member types it (at most 25); [] if none."""
        handler = self.cogs.commands.get(command)
        spec = next((o for o in handler.spec.options if o.name == option), None) if handler else None
        if spec is None or spec.autocomplete is None:
            return []
        if handler.spec.moderator and not ctx.member.is_moderator:
            return []
        try:
            suggestions = await getattr(handler.cog, spec.autocomplete)(ctx, typed)
        except Exception:
            log.exception("suggestions for /%s %s failed", command, option)
            return []
        return [str(s) for s in suggestions][:25]

    async def receive_dm(self, ctx: Invocation, text: str) -> None:
        """Free text sent to the bot in a direct message."""

        async def run() -> None:
            if not await self.forms.handle_text(ctx, text):
                await ctx.reply(ctx.render(ERRORS)["dm_unknown"])

        await self.guarded(ctx, run, "dm", "forms")

    # -- internals -----------------------------------------------------------------

    def _find(self, ctx: Invocation, words: list[str]) -> tuple[Handler, list[str]]:
        """The handler the words name, or a UsageError that offers only what this member may use."""
        name, rest = find_command(words, self.cogs.commands)
        if name is not None:
            return self.cogs.commands[name], rest
        visible = [name for name, h in self.cogs.commands.items() if ctx.member.is_moderator or not h.spec.moderator]
        typed = words[0].lower()
        subcommands = [name.split(" ", 1)[1] for name in visible if name.startswith(typed + " ")]
        if subcommands:  # `/cogs` alone, or `/cogs lst`
            raise UsageError("missing_subcommand", group=typed, subcommands=subcommands,
                             suggestion=closest(words[1], subcommands) if len(words) > 1 else "")
        # `/pairing join` is named whole; in `/greet @bob` the second word is an option, not a subcommand.
        named = words[:2] if len(words) > 1 and _SUBCOMMAND.fullmatch(words[1]) else words[:1]
        raise UsageError("unknown_command", typed=" ".join(named), suggestion=closest(typed, visible))

    async def _run_handler(self, ctx: Invocation, handler: Handler, arguments: list[RawArgument]) -> None:
        spec = handler.spec
        ctx.command = spec.name
        ctx.cog = handler.cog.name
        self._require_permission(ctx, handler, f"/{spec.name}")
        cooldown = None
        if not ctx.member.is_moderator:
            who = (ctx.community.key, ctx.member.id)
            wait = await self.limits.rate(*who, self.config.safety.commands_per_minute)
            if wait:
                raise UsageError("slow_down", seconds=wait)
            cooldown = await self.limits.cooldown(*who, f"/{spec.name}", spec.cooldown) if spec.cooldown else None
            if cooldown is not None and cooldown.wait:
                raise UsageError("cooldown", seconds=cooldown.wait, name=spec.name)
        try:
            ctx.options = await bind_options(spec, arguments, ctx)
            await handler.callback(ctx, **ctx.options)
        except BaseException:
            if cooldown is not None:  # only what was done counts: a mistake can be fixed at once
                await self.limits.lift(cooldown)
            raise

    def _require_permission(self, ctx: Invocation, handler: Handler, what: str) -> None:
        if not handler.spec.moderator or ctx.member.is_moderator:
            return
        log.warning("refused %s in %s: not a moderator", what, ctx.community.key)
        if isinstance(handler.spec, CommandSpec):
            raise UsageError("not_moderator", name=handler.spec.name)
        raise UsageError("not_moderator_button")

    async def guarded(self, ctx: Invocation, run: Callable[[], Awaitable[None]], kind: str, name: str = "") -> None:
        """Run what a member asked for (a command, a press, a DM, a dialog sent: `kind`, and `name` for the
        log); whatever goes wrong, the member gets a clear private answer. Each run is one log line: where,
        which cog and command, how long, how it ended (never who, never what they wrote)."""
        started = time.perf_counter()
        outcome = "ok"

        def doing() -> str:  # for the watchdog: what this is, never who
            what = f"/{ctx.command}" if kind == "command" and ctx.command else name or ctx.command or "-"
            return f"{kind} {what} (cog {ctx.cog or '-'})"

        try:
            if ctx.from_member:  # they are here: what could not reach their DMs is tried again
                await self.outbox.member_active(ctx.community, ctx.member)
            with self.watchdog.doing(doing):
                async with self.outbox.answering(ctx.community, ctx.member):
                    await run()
        except UsageError as exc:
            outcome = f"refused:{exc.reason}"
            await self._apologise(ctx, exc.reason, exc.show_usage, exc.details)
        except Refusal as exc:
            outcome = "declined"
            reply = exc.text
            if exc.show_usage and ctx.command:
                usage = ctx.render(ERRORS, command=ctx.command, arguments=self.cogs.commands[ctx.command].spec.arguments)
                reply = Escaped(f"{reply}\n\n{usage['usage_hint']}")
            await ctx.reply_private(reply)
        except StorageError as exc:
            outcome = "storage_error"
            log.error("database trouble in %s %s (%s): %s", kind, name or ctx.command or "-", ctx.community.key, exc)
            reason = {DatabaseBusy: "storage_busy", DatabaseReadOnly: "storage_read_only",
                      DatabaseFull: "storage_full"}.get(type(exc), "storage_error")
            await self._apologise(ctx, reason)
        except Exception:
            outcome = "error"
            log.exception("%s failed in %s", ctx.command or "a button", ctx.community.key)
            await self._apologise(ctx, "internal_error")
        finally:
            if log.isEnabledFor(logging.INFO):
                log.info("%s community=%s cog=%s name=%s ms=%.1f outcome=%s", kind, ctx.community.key,
                         ctx.cog or "-", name or ctx.command or "-", (time.perf_counter() - started) * 1000, outcome)

    async def _apologise(self, ctx: Invocation, reason: str, show_usage: bool = False,
                         details: dict[str, Any] | None = None) -> None:
        """Tell the member what went wrong, from core/errors.j2; if even that fails, in plain words."""
        arguments = self.cogs.commands[ctx.command].spec.arguments if ctx.command in self.cogs.commands else ""
        try:
            errors = ctx.render(ERRORS, command=ctx.command, arguments=arguments, **(details or {}))
            reply = errors[reason]
            if show_usage and ctx.command:
                reply = Escaped(f"{reply}\n\n{errors['usage_hint']}")
        except Exception:
            log.exception("the template %s could not explain %r; sent the plain apology", ERRORS, reason)
            reply = FALLBACK_APOLOGY
        await ctx.reply_private(reply)

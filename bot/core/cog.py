"""Cogs: one class per feature, its commands and handlers declared by decorators.

```python
class Share(Cog):
    '''Step 1: members share their experience.'''

    @command("share", help="Ready-to-post texts and your badge graphic")
    async def share(self, ctx: Invocation) -> None: ...

    @command("share-prompt", help="Invite a channel to share", moderator=True)
    async def prompt(self, ctx: Invocation, channel: Channel = option("Where to post")) -> None: ...

    @action("share:done")
    async def done(self, ctx: Invocation, value: str) -> None: ...

    @listener("testimonial.approved")
    async def thank(self, event: DomainEvent) -> None: ...

    @job(every="7d")
    async def weekly(self, now: datetime) -> None: ...

    @query("share.count")
    async def count(self, community: Community) -> int: ...
```

A command's options are its parameters after `ctx`: the type hint is the option's type
(`str`, `int`, `float`, `bool`, `Channel`, `Member`, or `Literal["a", "b"]` for a fixed
choice), and `option(...)` gives its description and default. A cog's settings are a
dataclass assigned to `Settings`; the `[cogs.NAME]` table of the config fills it in. A service
brings decorators of its own, made with `declare` (the forms' `@on_submit(FORM)`).
"""

from __future__ import annotations

import inspect
import re
import types
import typing
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Awaitable, Callable, ClassVar, Literal, Mapping

from bot.core.context import Channel, Member
from bot.values import parse_duration

REQUIRED: Any = inspect.Parameter.empty
OPTION_TYPES = (str, int, float, bool, Channel, Member)
_COMMAND_NAME = re.compile(r"^[a-z][a-z0-9-]{0,31}( [a-z][a-z0-9-]{0,31})?$")
_ACTION_ID = re.compile(r"^[a-z][a-z0-9_-]*:[a-z][a-z0-9_-]*$")
DEFAULT_MAX_LENGTH = 1000


@dataclass(frozen=True)
class Option:
    """The default value of a command parameter, carrying its description."""

    help: str
    default: Any = REQUIRED
    max_length: int = DEFAULT_MAX_LENGTH
    autocomplete: str | None = None
    fits: Callable[[str], Any] | None = None
    trim: bool = True


def option(help: str, *, default: Any = REQUIRED, max_length: int = DEFAULT_MAX_LENGTH,
           autocomplete: str | None = None, fits: Callable[[str], Any] | None = None, trim: bool = True) -> Any:
    """Describe a command option: `channel: Channel = option("Where to post")`.

    `autocomplete` names a method of the cog, `async def f(self, ctx, typed: str) -> list[str]`,
    that suggests values while the member types (for long lists: partners, events).
    `fits` says which bare words can be this text option (`fits=looks_like_link`): in
    `/report Someone keeps posting spam`, words that cannot be the link stay with the text before it.
    `trim=False` keeps spaces around the value, for a text that must be exactly a reference:
    `/event " 1 "` is not event 1.
    """
    return Option(help, default, max_length, autocomplete, fits, trim)


@dataclass(frozen=True)
class OptionSpec:
    name: str
    kind: type
    help: str
    required: bool
    default: Any
    choices: tuple[str, ...] = ()
    max_length: int = DEFAULT_MAX_LENGTH
    autocomplete: str | None = None
    fits: Callable[[str], Any] | None = None  # which bare words can fill it (see `option`)
    trim: bool = True  # spaces around a text value are dropped (see `option`)


@dataclass(frozen=True)
class CommandSpec:
    """A slash command: `name` may be two words, a group and a subcommand (`cogs load`)."""

    name: str
    help: str
    moderator: bool
    options: tuple[OptionSpec, ...]
    attribute: str
    cooldown: timedelta | None = None  # how long a member waits before running it again

    @property
    def arguments(self) -> str:
        """How its options are written after the command: `<channel> [reason]`."""
        return " ".join(f"<{opt.name}>" if opt.required else f"[{opt.name}]" for opt in self.options)


@dataclass(frozen=True)
class ActionSpec:
    """A button handler, found by the button's stable action id."""

    action: str
    moderator: bool
    attribute: str


@dataclass(frozen=True)
class ListenerSpec:
    event: str
    attribute: str


@dataclass(frozen=True)
class JobSpec:
    name: str
    every: timedelta
    attribute: str
    at_start: bool = False


@dataclass(frozen=True)
class QuerySpec:
    name: str
    attribute: str


_MARK = "__smallstep__"


def _mark(fn: Callable[..., Any], spec_factory: Callable[[str], Any]) -> Callable[..., Any]:
    """Mark a cog's method with what it declares: `spec_factory(method name)` gives a spec, or a tuple of them."""
    if not inspect.iscoroutinefunction(fn):
        raise TypeError(f"{fn.__qualname__} must be declared with 'async def'")
    setattr(fn, _MARK, spec_factory)
    return fn


def declare(spec_factory: Callable[[str], Any]) -> Callable[[Callable[..., Any]], Any]:
    """A decorator of a service's own (the forms' `on_submit`): it marks a cog's method with
    `spec_factory(method name)`, which the cog's class keeps in `declared` for the service to find."""
    return lambda fn: _mark(fn, spec_factory)


def command(name: str, *, help: str, moderator: bool = False, cooldown: str | None = None,
            options: Mapping[str, tuple[Any, Option]] | None = None) -> Callable[[Callable[..., Awaitable[None]]], Any]:
    """Declare a slash command. `moderator=True` makes it moderator-only (checked on every run);
    `cooldown` ("1m") is how long a member waits before running it again (moderators never wait).

    `options` is for options made from a declaration of the cog's own rather than written as
    parameters (an event's fields, the same on /event create and /event edit): name → (type hint,
    `option(...)`), in order; the handler takes them as `**options`.
    """
    if not _COMMAND_NAME.match(name):
        raise ValueError(f"command name {name!r}: lower-case words, at most two (a group and a subcommand)")
    if not help.strip():
        raise ValueError(f"command {name!r} needs a help text")

    def decorate(fn: Callable[..., Awaitable[None]]) -> Any:
        specs = _options_of(fn, name) if options is None else _declared(fn, name, options)
        wait = parse_duration(cooldown) if cooldown else None
        return _mark(fn, lambda attr: CommandSpec(name, help, moderator, specs, attr, wait))

    return decorate


def action(*action_ids: str, moderator: bool = False) -> Callable[[Callable[..., Awaitable[None]]], Any]:
    """Declare a button handler: `async def f(self, ctx, value: str)`. Ids look like `share:done`. One
    handler may take several buttons; `ctx.action` says which was pressed."""
    for action_id in action_ids:
        if not _ACTION_ID.match(action_id):
            raise ValueError(f"action id {action_id!r} must look like 'cog:what' (lower case)")
    return lambda fn: _mark(fn, lambda attr: tuple(ActionSpec(a, moderator, attr) for a in action_ids))


def listener(event: str) -> Callable[[Callable[..., Awaitable[None]]], Any]:
    """Declare a domain-event listener: `async def f(self, event: DomainEvent)`."""
    return lambda fn: _mark(fn, lambda attr: ListenerSpec(event, attr))


def job(*, every: str, name: str | None = None, at_start: bool = False) -> Callable[[Callable[..., Awaitable[None]]], Any]:
    """Declare a periodic job: `async def f(self, now: datetime)`; its schedule survives restarts.

    `at_start=True` also runs it when the bot starts: for a job that looks for work that
    fell due while the bot was down (reminders, expiries).
    """
    period = parse_duration(every)
    return lambda fn: _mark(fn, lambda attr: JobSpec(name or attr, period, attr, at_start))


def query(name: str) -> Callable[[Callable[..., Awaitable[Any]]], Any]:
    """Answer a question other cogs may ask by name, without importing this one:
    `await self.bot.ask("partners.find", community, "KQED")`. Answers are plain data."""
    check_query_name(name)
    return lambda fn: _mark(fn, lambda attr: QuerySpec(name, attr))


def check_query_name(name: str) -> str:
    if not re.match(r"^[a-z][a-z_]*\.[a-z][a-z_]*$", name):
        raise ValueError(f"query names look like 'partners.find' (cog.question), not {name!r}")
    return name


def _options_of(fn: Callable[..., Any], command_name: str) -> tuple[OptionSpec, ...]:
    """Read a command's options from its signature: the hints are the schema."""
    options = []
    for param in list(inspect.signature(fn).parameters.values())[2:]:  # after self, ctx
        hint = param.annotation
        if isinstance(hint, str):  # postponed annotations: evaluate them as typing.get_type_hints would
            hint = eval(hint, fn.__globals__)  # noqa: S307 - the cog's own source code
        if hint is inspect.Parameter.empty:
            hint = str
        declared = param.default if isinstance(param.default, Option) else Option("", param.default)
        options.append(_option(command_name, param.name, hint, declared))
    return tuple(options)


def _declared(fn: Callable[..., Any], command_name: str,
              declared: Mapping[str, tuple[Any, Option]]) -> tuple[OptionSpec, ...]:
    """Options given to `command(options=...)`, for a handler that takes them as `**options`."""
    params = list(inspect.signature(fn).parameters.values())[2:]  # after self, ctx
    if [p.kind for p in params] != [inspect.Parameter.VAR_KEYWORD]:
        raise TypeError(f"/{command_name}: a command with declared options takes them as **options, and nothing else")
    return tuple(_option(command_name, name, hint, given) for name, (hint, given) in declared.items())


def _option(command_name: str, name: str, hint: Any, declared: Option) -> OptionSpec:
    if not declared.help:
        raise ValueError(f"/{command_name}: option {name!r} needs a description: = option('...')")
    kind, choices, optional = _kind_of(hint, command_name, name)
    if declared.autocomplete and (kind is not str or choices):
        raise TypeError(f"/{command_name} {name}: only a free text option can have suggestions")
    if declared.fits and (kind is not str or choices):
        raise TypeError(f"/{command_name} {name}: only a free text option says which words fit it")
    required = declared.default is REQUIRED and not optional
    default = None if declared.default is REQUIRED else declared.default
    return OptionSpec(name, kind, declared.help, required, default, choices, declared.max_length,
                      declared.autocomplete, declared.fits, declared.trim)


def _kind_of(hint: Any, command_name: str, option_name: str) -> tuple[type, tuple[str, ...], bool]:
    optional = False
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        optional = len(args) < len(typing.get_args(hint))
        if len(args) != 1:
            raise TypeError(f"/{command_name} {option_name}: an option has one type (or that type | None)")
        hint = args[0]
    if typing.get_origin(hint) is Literal:
        return str, tuple(str(a) for a in typing.get_args(hint)), optional
    if hint not in OPTION_TYPES:
        raise TypeError(f"/{command_name} {option_name}: options may be {', '.join(t.__name__ for t in OPTION_TYPES)}")
    return hint, (), optional


class Cog:
    """Base class of every feature. Subclasses declare commands and handlers with decorators.

    Available to every cog: `self.bot` (the running bot, bot.app.Bot: its services too), `self.db`,
    `self.clock`, `self.events`, `self.config` (the whole config) and `self.settings` (this cog's own
    `Settings`, from `[cogs.NAME]`).
    """

    #: A dataclass of this cog's settings; each field's default is used when the config is silent.
    Settings: ClassVar[type | None] = None
    #: The domain events this cog emits, so that others (badges) can check the names they rely on.
    emits: ClassVar[tuple[str, ...]] = ()
    #: The tables holding a member's own rows, each with the column naming the member, in the order
    #: they are deleted (children first): what /my-data exports, and what deleting one's data deletes.
    member_rows: ClassVar[dict[str, str]] = {}
    #: Columns naming a member in rows that are not theirs (who decided, who added): emptied when that
    #: member's data is deleted.
    member_mentions: ClassVar[dict[str, tuple[str, ...]]] = {}

    #: Everything the cog's methods declare (by decorator), in order; a service finds its own kind here.
    declared: ClassVar[tuple[Any, ...]] = ()
    commands: ClassVar[tuple[CommandSpec, ...]] = ()
    actions: ClassVar[tuple[ActionSpec, ...]] = ()
    listeners: ClassVar[tuple[ListenerSpec, ...]] = ()
    jobs: ClassVar[tuple[JobSpec, ...]] = ()
    queries: ClassVar[tuple[QuerySpec, ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        declared: list[Any] = []
        for klass in reversed(cls.__mro__):
            for attr, value in vars(klass).items():
                if hasattr(value, _MARK):
                    spec = getattr(value, _MARK)(attr)
                    declared.extend(spec if isinstance(spec, tuple) else (spec,))
        cls.declared = tuple(declared)
        cls.commands = tuple(s for s in cls.declared if isinstance(s, CommandSpec))
        cls.actions = tuple(s for s in cls.declared if isinstance(s, ActionSpec))
        cls.listeners = tuple(s for s in cls.declared if isinstance(s, ListenerSpec))
        cls.jobs = tuple(s for s in cls.declared if isinstance(s, JobSpec))
        cls.queries = tuple(s for s in cls.declared if isinstance(s, QuerySpec))

    def __init__(self, bot: Any, name: str) -> None:
        self.bot = bot
        self.name = name
        self.config = bot.config
        self.db = bot.db
        self.clock = bot.clock
        self.events = bot.events
        self.settings = bot.config.cog_settings(name, self.Settings) if self.Settings else None

    async def cog_load(self) -> None:
        """Called once the cog's migrations ran, before it receives anything."""

    async def cog_unload(self) -> None:
        """Called when the cog is unloaded or reloaded."""

    async def personal_data(self, community: Any, member_id: str) -> dict[str, list[dict[str, Any]]]:
        """Everything this cog keeps about a member, by table (for /my-data); from `member_rows` unless
        a cog has more to say."""
        found = {}
        for table, column in self.member_rows.items():
            rows = await self.db.fetchall(f"SELECT * FROM {table} WHERE community = ? AND {column} = ?",
                                          (community.key, member_id))
            if rows:
                found[table] = [dict(row) for row in rows]
        return found

    async def forget_member(self, ctx: Any) -> None:
        """Erase the member's personal data (`ctx.member`, who asked) from this cog's tables: their rows
        go, mentions of them are emptied. A cog with more to do (edit posts, rows that belong to two
        people) extends this."""
        community, member = ctx.community, ctx.member
        async with self.db.transaction() as tx:
            for table, column in self.member_rows.items():
                await tx.execute(f"DELETE FROM {table} WHERE community = ? AND {column} = ?", (community.key, member.id))
            for table, columns in self.member_mentions.items():
                for column in columns:
                    await tx.execute(f"UPDATE {table} SET {column} = '' WHERE community = ? AND {column} = ?",
                                     (community.key, member.id))

    def platform_needs(self) -> frozenset[str]:
        """What this cog asks of the platform beyond posting messages, decided once it has loaded (e.g. from
        its config): names from bot.core.adapter (EVENT_MIRRORS, THREADS). An adapter asks for them when it
        is invited, and says in the log and in `config check` what the platform does not allow it."""
        return frozenset()

    def listens_to(self) -> list[tuple[str, Callable[[Any], Awaitable[None]]]]:
        """Domain events this cog hears besides its `@listener`s, decided once it has loaded
        (e.g. from its config): (event name, handler) pairs."""
        return []

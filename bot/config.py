"""The bot's configuration: a TOML file, validated before anything starts.

Every key is declared once, in a dataclass below, with its type, default and a
one-line explanation. A bad file raises `ConfigError` naming the key, what is
wrong and how to fix it; `smallstep` turns that into exit status 2.

Secrets never live in the file: they come from environment variables only
(`DISCORD_TOKEN`, `SLACK_BOT_TOKEN`, `SLACK_APP_TOKEN`, `SLACK_SIGNING_SECRET`, and a PostgreSQL
address with its password in `SMALLSTEP_DATABASE_URL`).
"""

from __future__ import annotations

import dataclasses
import difflib
import importlib.util
import os
import re
import tomllib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError
from bot.values import closest_zones, parse_duration, web_address


DEFAULT_CONFIG_NAME = "smallstep.toml"
# The database's address with its password (PostgreSQL), kept out of the file like the tokens.
DATABASE_URL_ENV = "SMALLSTEP_DATABASE_URL"

# Where each secret comes from. A key with one of these names in the TOML file is refused.
SECRET_ENV = {
    "discord.token": "DISCORD_TOKEN",
    "slack.bot_token": "SLACK_BOT_TOKEN",
    "slack.app_token": "SLACK_APP_TOKEN",
    "slack.signing_secret": "SLACK_SIGNING_SECRET",
    "cogs.interviews.webhook_secret": "INTERVIEWS_WEBHOOK_SECRET",
}
_SECRET_KEY_WORDS = re.compile(r"token|secret|password", re.IGNORECASE)
# Values shaped like real credentials: Slack tokens, and Discord's three-part bot token.
_SECRET_VALUE = re.compile(
    r"^(xox[abposr]-|xapp-)|^[A-Za-z0-9_-]{23,28}\.[A-Za-z0-9_-]{6,7}\.[A-Za-z0-9_-]{27,}$"
)


class ConfigError(Exception):
    """A configuration problem, told as: where, which key, what is wrong, how to fix it."""

    def __init__(self, key: str, problem: str, fix: str, source: str = "") -> None:
        super().__init__(problem)
        self.key = key
        self.problem = problem
        self.fix = fix
        self.source = source

    def __str__(self) -> str:
        where = f"{self.source}: " if self.source else ""
        return f"config error: {where}{self.key}: {self.problem}\n  fix: {self.fix}"


Problem = tuple[str, str] | None  # (what is wrong, how to fix it), or None when the value is fine


def setting(default: Any, help: str, check: Callable[[Any], Problem] | None = None) -> Any:
    """Declare one config key: its default, what it is for, and an optional check.

    `check` returns (what is wrong, how to fix it), or None when the value is fine.
    """
    metadata = {"help": help, "check": check}
    if isinstance(default, (list, dict)):
        return field(default_factory=lambda: type(default)(default), metadata=metadata)
    return field(default=default, metadata=metadata)


# -- checks shared by several keys ------------------------------------------------------


def each(check: Callable[[Any], Problem]) -> Callable[[list[Any]], Problem]:
    """A check for a list: the first item's problem, if any."""
    return lambda values: next((problem for value in values if (problem := check(value))), None)


def duration(value: str) -> Problem:
    """A check for a key holding a duration ("90m", "25h", "7d")."""
    try:
        parse_duration(value)
    except ValueError as exc:
        return str(exc), 'write a duration like "90m", "25h", "7d" or "1d12h"'
    return None


def _https_url(value: str) -> Problem:
    if web_address(value) is None:
        return f"must be a full https:// address, got {value!r}", 'write it like "https://example.org/join"'
    return None


def _optional_https_url(value: str) -> Problem:
    return None if not value else _https_url(value)


def _host(value: str) -> Problem:
    if re.fullmatch(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+", value):
        return None
    return f"must be a host name in lower case, like archive.storycorps.org, got {value!r}", "write the host alone"


def _time_zone(value: str) -> Problem:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        near = closest_zones(value)
        hint = f"did you mean {' or '.join(repr(z) for z in near)}? " if near else ""
        return (f"{value!r} is not a time zone name from the IANA database",
                hint + "use a name like 'Europe/Berlin' or 'America/Chicago'")
    return None


def _log_level(value: str) -> Problem:
    levels = ("DEBUG", "INFO", "WARNING", "ERROR")
    if value.upper() in levels:
        return None
    return f"must be one of {', '.join(levels)}, got {value!r}", 'write e.g. log_level = "INFO"'


def _not_empty(value: str) -> Problem:
    return None if value.strip() else ("must not be empty", "write some text, or remove the key to keep the default")


def _seconds(value: int) -> Problem:
    return None if 1 <= value <= 3600 else ("must be between 1 and 3600", "write a number of seconds, e.g. 30")


def _lease(value: int) -> Problem:
    return None if 4 <= value <= 3600 else ("must be between 4 and 3600", "write a number of seconds, e.g. 180")


def _cog_names(value: list[str]) -> Problem:
    for name in value:
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*", name):
            return (f"{name!r} is not a cog name",
                    "name a folder under cogs/ (e.g. share) or a dotted module path (e.g. mycommunity.hello)")
    if len(set(value)) != len(value):
        return "lists a cog twice", "keep one of each"
    return None


# -- the sections -----------------------------------------------------------------------


@dataclass(frozen=True)
class ProgramConfig:
    """What the bot says about the program it serves."""

    name: str = setting("One Small Step", "The program's name, as members know it.", _not_empty)
    mark: str = setting(
        "", "A picture (PNG or JPEG) of the program's mark, drawn on profile cards beside its name. Relative to the"
        " config file. Empty: the bot draws its own, two circles meeting.")
    signup_url: str = setting(
        "https://takeonesmallstep.org", "Where someone new signs up for a conversation.", _https_url
    )
    donate_url: str = setting("https://storycorps.org/donate/", "Where members can give to the program.", _https_url)
    record_url: str = setting(
        "https://takeonesmallstep.org", "Where two members who met through pairing book the recording of a conversation"
        " for the program's archive (sent only when both agreed).", _https_url)
    diy_guide_url: str = setting(
        "", "The guide for organisations running their own program (shown by /partner-with-us). Empty: none.",
        _optional_https_url)
    archive_domains: list[str] = setting(
        ["archive.storycorps.org"], "Hosts whose links are public conversations members may submit as stories.",
        each(_host))


def _database(value: str) -> Problem:
    if not value:
        return _not_empty(value)
    if value.startswith(("postgresql://", "postgres://")) and urlsplit(value).password is not None:
        return ("holds a password, and secrets are never read from the config file",
                f"delete the password from the address and set the environment variable {DATABASE_URL_ENV} to the"
                " whole address (postgresql://USER:PASSWORD@HOST/DATABASE) instead")
    return None


@dataclass(frozen=True)
class BotConfig:
    """Where the bot keeps its data and how it behaves everywhere."""

    database: str = setting(
        "smallstep.db", "The SQLite file (created if missing), or a PostgreSQL address without its password"
        " (postgresql://bot@db.example.org/smallstep); SMALLSTEP_DATABASE_URL, with the password, wins over it.",
        _database)
    templates_dir: str = setting(
        "", "A folder of your own templates; a file there replaces the built-in one with the same path."
    )
    timezone: str = setting("UTC", "The community's time zone, used for dates on badges.", _time_zone)
    log_level: str = setting("INFO", "How much the bot logs: DEBUG, INFO, WARNING or ERROR.", _log_level)
    scheduler_interval_seconds: int = setting(
        30,
        "How often scheduled jobs are checked.",
        _seconds,
    )
    purge_after: str = setting(
        "30d", "How long a community's data is kept after it removed the bot, in case it comes back.", duration)
    outbox_lease_seconds: int = setting(
        180, "How long a process holds the messages it took to deliver, when several share one database: those"
        " of a process that died are sent by another after this. A send is given up after half of it.", _lease)


@dataclass(frozen=True)
class ConsoleConfig:
    """The console adapter: the whole bot in a terminal, no token needed."""

    community_name: str = setting("Console community", "The name of the pretend community.", _not_empty)
    member: str = setting("you", "Who you act as when the console starts.", _not_empty)
    channel: str = setting("general", "The channel you start in.", _not_empty)
    moderators: list[str] = setting(["admin"], "Console members who are moderators from the start.")
    images_dir: str = setting("", "Where images are saved; empty means a folder next to the database.")
    read_only_channels: list[str] = setting(
        [], "Channels the bot may not post in, to see what moderators are told when a channel is closed to it.")


def _optional_url(value: str) -> Problem:
    if not value or re.match(r"^(https?|wss?)://[^\s/]+", value):
        return None
    return f"must be a full address (https://... or wss://...), got {value!r}", "write the full address, or leave it empty"


def _rate(value: float) -> Problem:
    if 0 <= value <= 1000:
        return None
    return f"must be between 0 and 1000, got {value!r}", "write a number of messages per second; 0 means no pacing"


def _snowflake(value: str) -> Problem:
    if not value or value.isdigit():
        return None
    return f"must be a Discord id (digits), got {value!r}", "copy the server's id (Developer Mode: right-click the server)"


@dataclass(frozen=True)
class DiscordConfig:
    """Discord-specific settings (the token comes from DISCORD_TOKEN)."""

    moderator_role: str = setting(
        "Moderators", "The role (name or id) whose members may run moderator commands."
    )
    guild_id: str = setting(
        "", "The server (guild) the bot serves; direct messages belong to it. Empty: the server the bot is in.",
        _snowflake)
    members_intent: bool = setting(
        False, "Receive member joins (needs the Server Members intent in the developer portal).")
    api_base_url: str = setting(
        "", "Discord's REST address, for a shared rate-limit proxy or a local fake. Empty: Discord's own.",
        _optional_url)
    gateway_url: str = setting("", "Discord's gateway address. Empty: Discord's own.", _optional_url)
    requests_per_second: float = setting(
        48.0, "REST requests per second, for everything the bot does but answering interactions (Discord"
              " allows 50 in all).", _rate)


def _slack_command(value: str) -> Problem:
    if re.fullmatch(r"/[a-z0-9_-]{1,31}", value):
        return None
    return f"must be a slash and a lower-case word, got {value!r}", 'write e.g. command = "/smallstep"'


def _port(value: int) -> Problem:
    return None if 1 <= value <= 65535 else ("must be a port number, 1 to 65535", "write e.g. port = 3000")


@dataclass(frozen=True)
class SlackConfig:
    """Slack-specific settings (tokens come from SLACK_BOT_TOKEN, SLACK_APP_TOKEN, SLACK_SIGNING_SECRET)."""

    moderators: list[str] = setting([], "Slack user ids (U…) who may run moderator commands.")
    moderator_group: str = setting("", "A Slack user group id (S…) whose members are moderators too.")
    command: str = setting("/smallstep", "The one slash command that reaches every feature.", _slack_command)
    api_base_url: str = setting(
        "", "Slack's Web API address, for a proxy or a local fake. Empty: Slack's own.", _optional_url)
    outbox_per_second: float = setting(
        0.0, "Messages per second an announcement to many channels is paced to; 0: slack-sdk waits out rate limits.",
        _rate)
    host: str = setting("0.0.0.0", "HTTP mode: the address to listen on.", _not_empty)
    port: int = setting(3000, "HTTP mode: the port Slack sends requests to (path /slack/events).", _port)


@dataclass(frozen=True)
class FormsConfig:
    """Conversational forms in direct messages."""

    remind_after: str = setting("1d", "Silence after which a member with an unfinished form is reminded, once.",
                                duration)
    expire_after: str = setting("7d", "Silence after which an unfinished form is deleted (the member is told).",
                                duration)
    submit_cooldown: str = setting("1m", "How long a member waits between two submissions of the same form.",
                                   duration)


@dataclass(frozen=True)
class CogsConfig:
    """Which features run. Each cog's own settings go in a [cogs.NAME] table."""

    enabled: list[str] = setting(["share", "stories", "interviews", "testimonials", "partners", "events", "practice",
                                  "outreach", "badges", "welcome", "reports", "pairing"],
                                 "The cogs loaded at start, by folder name under cogs/.",
                                 _cog_names)


def _per_minute(value: int) -> Problem:
    return None if 0 <= value <= 1000 else ("must be between 0 and 1000", "write a number; 0 means no limit")


@dataclass(frozen=True)
class SafetyConfig:
    """Limits that keep one member from flooding the moderators or the channels (moderators have none)."""

    commands_per_minute: int = setting(30, "Commands one member may run in a minute; 0: no limit.", _per_minute)


SECTIONS: dict[str, type] = {
    "program": ProgramConfig,
    "bot": BotConfig,
    "cogs": CogsConfig,
    "forms": FormsConfig,
    "safety": SafetyConfig,
    "console": ConsoleConfig,
    "discord": DiscordConfig,
    "slack": SlackConfig,
}


@dataclass(frozen=True)
class Config:
    """The whole validated configuration."""

    program: ProgramConfig = field(default_factory=ProgramConfig)
    bot: BotConfig = field(default_factory=BotConfig)
    cogs: CogsConfig = field(default_factory=CogsConfig)
    forms: FormsConfig = field(default_factory=FormsConfig)
    safety: SafetyConfig = field(default_factory=SafetyConfig)
    console: ConsoleConfig = field(default_factory=ConsoleConfig)
    discord: DiscordConfig = field(default_factory=DiscordConfig)
    slack: SlackConfig = field(default_factory=SlackConfig)
    # The raw [cogs.NAME] tables; each cog validates its own when it loads.
    cog_tables: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    source: str = "built-in defaults"
    # Relative paths in the file are relative to the file's folder.
    base_dir: Path = field(default_factory=Path.cwd)

    def path(self, value: str) -> Path:
        """Resolve a path from the config against the config file's folder."""
        p = Path(value).expanduser()
        return p if p.is_absolute() else self.base_dir / p

    def database(self) -> Path | str:
        """Where the database is: SMALLSTEP_DATABASE_URL (a postgresql:// address with its password) if set,
        else `bot.database`, a PostgreSQL address or the SQLite file's path."""
        url = os.environ.get(DATABASE_URL_ENV, "").strip()
        if url:
            if not url.startswith(("postgresql://", "postgres://")):
                raise ConfigError(DATABASE_URL_ENV, f"must be a PostgreSQL address, got {url[:20]!r}...",
                                  "write it like postgresql://USER:PASSWORD@HOST:5432/DATABASE, or unset it to use"
                                  " bot.database", "the environment")
            return url
        if self.bot.database.startswith(("postgresql://", "postgres://")):
            return self.bot.database
        return self.path(self.bot.database)

    def cog_settings(self, cog: str, settings_class: type) -> Any:
        """Validate the [cogs.NAME] table against the cog's declared settings."""
        return load_section(settings_class, dict(self.cog_tables.get(cog, {})), f"cogs.{cog}", self.source)

    def replace(self, **changes: Any) -> Config:
        return dataclasses.replace(self, **changes)


# -- loading ---------------------------------------------------------------------------


def load_config(path: str | Path | None = None, *, cwd: Path | None = None) -> Config:
    """Read and validate the config.

    With no path, `smallstep.toml` in the working folder is used if it exists,
    otherwise the built-in defaults (the console needs no file at all).
    """
    cwd = cwd or Path.cwd()
    if path is None:
        candidate = cwd / DEFAULT_CONFIG_NAME
        if not candidate.exists():
            return Config(base_dir=cwd)
        path = candidate
    path = Path(path)
    source = str(path)
    if not path.is_file():
        raise ConfigError(
            "--config",
            f"the file {source} does not exist" if not path.exists() else f"{source} is not a file",
            "copy config.example.toml to that path, or leave out --config to use the built-in defaults",
        )
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError("(file)", f"cannot be read: {exc}", "make the file readable UTF-8 text", source)
    return parse_config(text, source=source, base_dir=path.resolve().parent)


def parse_config(text: str, *, source: str = "<config>", base_dir: Path | None = None) -> Config:
    """Validate TOML text into a `Config`; raises `ConfigError` on the first problem."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            "(file)",
            f"is not valid TOML: {exc}",
            "look at the line named; text values need quotes, tables are written [name]",
            source,
        ) from None
    _refuse_secrets(data, "", source)

    sections: dict[str, Any] = {}
    cog_tables: dict[str, Mapping[str, Any]] = {}
    for key, value in data.items():
        if key not in SECTIONS:
            raise _unknown(key, SECTIONS, "a section", source)
        if not isinstance(value, dict):
            raise ConfigError(key, "must be a table", f"write it as [{key}] followed by its keys", source)
        table = dict(value)
        if key == "cogs":
            cog_tables = _split_cog_tables(table, source)
        sections[key] = load_section(SECTIONS[key], table, key, source)
    config = Config(**sections, cog_tables=cog_tables, source=source, base_dir=base_dir or Path.cwd())
    check_cogs_exist(config)
    _check_form_deadlines(config)
    _check_program_mark(config)
    return config


def _check_program_mark(config: Config) -> None:
    """A mark that is not a picture is found now, not when the first card is drawn."""
    if not config.program.mark:
        return
    from PIL import Image, UnidentifiedImageError

    path = config.path(config.program.mark)
    try:
        with Image.open(path) as picture:
            picture.verify()
    except (OSError, UnidentifiedImageError) as exc:
        raise ConfigError("program.mark", f"cannot use {path} as the program's mark: {exc}",
                          "give the path of a PNG or JPEG (relative to the config file), or leave it empty for the"
                          " bot's own mark", config.source) from None


def _check_form_deadlines(config: Config) -> None:
    if parse_duration(config.forms.remind_after) >= parse_duration(config.forms.expire_after):
        raise ConfigError("forms.remind_after", "comes no earlier than forms.expire_after, so no reminder would be sent",
                          "make remind_after shorter than expire_after", config.source)


def _split_cog_tables(table: dict[str, Any], source: str) -> dict[str, Mapping[str, Any]]:
    """Take the [cogs.NAME] sub-tables out of [cogs], leaving its own keys."""
    cog_fields = {f.name for f in dataclasses.fields(CogsConfig)}
    tables = {}
    for name in [k for k, v in table.items() if isinstance(v, dict) and k not in cog_fields]:
        tables[name] = table.pop(name)
    return tables


def check_cogs_exist(config: Config) -> None:
    """Every enabled cog, and every [cogs.NAME] table, must name a cog that exists."""
    for index, name in enumerate(config.cogs.enabled):
        if not cog_exists(name):
            raise ConfigError(
                f"cogs.enabled[{index}]",
                f"there is no cog named {name!r}",
                _closest_hint(name, available_cogs()) + "remove it from cogs.enabled or install the cog",
                config.source,
            )
    for name in config.cog_tables:
        if not cog_exists(name):
            raise ConfigError(
                f"cogs.{name}",
                f"settings for a cog that does not exist ({name!r})",
                _closest_hint(name, available_cogs()) + "rename or remove the table",
                config.source,
            )


def cog_module_name(name: str) -> str:
    """`share` is the built-in `cogs.share`; a dotted name is a module path of its own."""
    return name if "." in name else f"cogs.{name}"


def cog_exists(name: str) -> bool:
    try:
        return importlib.util.find_spec(cog_module_name(name)) is not None
    except (ImportError, ValueError):
        return False


def available_cogs() -> list[str]:
    """The built-in cogs: the folders under cogs/ that are packages."""
    found = []
    for folder in importlib.util.find_spec("cogs").submodule_search_locations:
        for child in sorted(Path(folder).iterdir()):
            if (child / "__init__.py").exists():
                found.append(child.name)
    return found


def load_section(cls: type, table: dict[str, Any], prefix: str, source: str = "") -> Any:
    """Check a TOML table against a settings dataclass and build it."""
    fields = {f.name: f for f in dataclasses.fields(cls)}
    hints = typing.get_type_hints(cls)
    values = {}
    for key, value in table.items():
        full = f"{prefix}.{key}"
        if key not in fields:
            raise _unknown(full, fields, "a key", source)
        expected = hints[key]
        problem = _type_problem(value, expected)
        if problem:
            raise ConfigError(full, problem, f"write it as {_example(expected, key)}", source)
        check = fields[key].metadata.get("check")
        found = check(value) if check else None
        if found:
            raise ConfigError(full, *found, source=source)
        values[key] = value
    return cls(**values)


def _type_problem(value: Any, expected: Any) -> str | None:
    origin = typing.get_origin(expected)
    if origin is list:
        (item_type,) = typing.get_args(expected)
        if not isinstance(value, list):
            return f"must be a list, got {_describe(value)}"
        for item in value:
            if _type_problem(item, item_type):
                return f"every item must be {_name(item_type)}, got {_describe(item)}"
        return None
    if origin in (typing.Union, types.UnionType):
        if any(_type_problem(value, option) is None for option in typing.get_args(expected)):
            return None
        return f"must be {_name(expected)}, got {_describe(value)}"
    # bool is an int in Python, but `enabled = 1` is almost certainly a mistake in a config file.
    if expected is int and (isinstance(value, bool) or not isinstance(value, int)):
        return f"must be a whole number, got {_describe(value)}"
    if expected is float and (isinstance(value, bool) or not isinstance(value, (int, float))):
        return f"must be a number, got {_describe(value)}"
    if expected in (str, bool) and not isinstance(value, expected):
        return f"must be {_name(expected)}, got {_describe(value)}"
    return None


def _name(t: Any) -> str:
    names = {str: "text", int: "a whole number", float: "a number", bool: "true or false"}
    if typing.get_origin(t) is list:
        return f"a list of {_name(typing.get_args(t)[0])}"
    return names.get(t, getattr(t, "__name__", str(t)))


def _example(t: Any, key: str) -> str:
    examples = {str: f'{key} = "text"', int: f"{key} = 30", float: f"{key} = 1.5", bool: f"{key} = true"}
    if typing.get_origin(t) is list:
        return f'{key} = ["first", "second"]'
    return examples.get(t, "shown in config.example.toml")


def _describe(value: Any) -> str:
    kinds = {bool: "true/false", int: "a number", float: "a number", str: "text", list: "a list", dict: "a table"}
    return f"{kinds.get(type(value), type(value).__name__)} ({value!r})"


def _closest_hint(name: str, choices: typing.Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(choices), n=1)
    return f"did you mean {close[0]!r}? " if close else ""


def _unknown(key: str, known: typing.Iterable[str], what: str, source: str) -> ConfigError:
    leaf = key.rsplit(".", 1)[-1]
    return ConfigError(
        key,
        f"is not {what} the bot knows",
        _closest_hint(leaf, known) + "check the spelling against config.example.toml, or remove it",
        source,
    )


def _refuse_secrets(data: Mapping[str, Any], prefix: str, source: str) -> None:
    """Tokens in a file end up in backups and repositories: refuse them, say where they go."""
    for key, value in data.items():
        full = f"{prefix}{key}"
        if isinstance(value, dict):
            _refuse_secrets(value, f"{full}.", source)
            continue
        values = value if isinstance(value, list) else [value]
        looks_secret = _SECRET_KEY_WORDS.search(key) or any(
            isinstance(v, str) and _SECRET_VALUE.search(v.strip()) for v in values
        )
        if looks_secret:
            env = SECRET_ENV.get(full)
            where = f"the environment variable {env}" if env else "an environment variable"
            raise ConfigError(
                full,
                "looks like a secret, and secrets are never read from the config file",
                f"delete it from the file and set {where} instead",
                source,
            )

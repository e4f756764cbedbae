"""The `smallstep` command.

    smallstep                         the console (same as `smallstep console`)
    smallstep console [--config FILE] [--db FILE]
    smallstep run --platform discord  (DISCORD_TOKEN in the environment) [--no-background]
    smallstep sync-commands [--guild ID]
    smallstep invite-url [--application-id ID]
    smallstep run --platform slack    (SLACK_BOT_TOKEN, and SLACK_APP_TOKEN or SLACK_SIGNING_SECRET) [--no-background]
    smallstep worker --platform discord [--platform slack]   (the outbox and the jobs, REST only; PostgreSQL)
    smallstep slack-manifest [--request-url URL]
    smallstep config check [--config FILE]
    smallstep export testimonials [--format csv|json] [--community KEY] [--output FILE]
    smallstep export pairing-impact [--format csv|json] [--community KEY] [--output FILE]

Every command takes --config, --db and --log-level (one parent parser), and is registered with
the function that runs it (`CommandLine.command`). A cog adds its own commands (`export
testimonials`, `export pairing-impact`, `import interviews`, `badges backfill`) from a `cli.py` of
its own, with a function `command_line(cli)`: this module knows no cog.

Problems an operator can fix (a bad config, a database that cannot be written, a
broken template override) end with a message that says what to change, and exit
status 2. Nothing a person can fix ends in a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import importlib.util
import inspect
import json
import logging
import os
import signal
import sys
import tempfile
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, AsyncIterator, Awaitable, Callable, Coroutine

from bot import __version__
from bot.config import Config, ConfigError, cog_module_name, load_config
from bot.core.errors import UnknownName
from bot.render import TemplateProblem
from bot.storage import Location, StorageError, is_postgres

if TYPE_CHECKING:
    from bot.app import Bot

EXIT_USAGE = 2

log = logging.getLogger("bot.cli")

# What a command does with the database: nothing; one that may be new (made at start); one that must be
# there already; or one that must be there if --db names it (a mistyped --db is refused, not made anew and
# empty), while the config's own may be made (a first import before the first start).
NONE, MAY_BE_NEW, EXISTING, EXISTING_IF_NAMED = "none", "may be new", "existing", "existing if named"

Run = Callable[[argparse.Namespace, Config], "int | Awaitable[int]"]


class CommandLine:
    """The commands of `smallstep`, and of a group of them (`db`, `export`...): each registered with the
    function that runs it, `run(args, config)` returning the exit status (or a coroutine that does).
    `args.database` is the database the command works on (--db, else bot.database from the config)."""

    def __init__(self, commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
        self._commands = commands
        self._common = common
        self._groups: dict[str, CommandLine] = {}
        self.names: set[str] = set()

    def command(self, name: str, run: Run, *, help: str, database: str = NONE) -> argparse.ArgumentParser:
        """Add a command; returns its parser, for its own arguments."""
        parser = self._commands.add_parser(name, help=help, parents=[self._common])
        parser.set_defaults(run=run, database_use=database)
        self.names.add(name)
        return parser

    def group(self, name: str, *, help: str = "") -> CommandLine:
        """A command of commands (`smallstep db backup`), made on first use: a cog adds to `export`."""
        if name not in self._groups:
            parser = self._commands.add_parser(name, help=help)
            self._groups[name] = CommandLine(
                parser.add_subparsers(dest=f"{name}_command", metavar="ACTION", required=True), self._common)
        return self._groups[name]

    def has(self, name: str) -> bool:
        """Whether `name` is a command here, or a group with commands in it (`export` waits for the cogs')."""
        return name in self.names or bool(name in self._groups and self._groups[name].names)


def build_parser() -> argparse.ArgumentParser:
    """Every command: the core's and the cogs'."""
    parser, cli = _core_parser()
    _add_cogs_commands(cli)
    return parser


def _core_parser() -> tuple[argparse.ArgumentParser, CommandLine]:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", type=Path, help="the TOML config (default: ./smallstep.toml if present)")
    common.add_argument("--db", type=_location, help="the SQLite file, or a postgresql:// address (default:"
                                                     " SMALLSTEP_DATABASE_URL, else bot.database from the config)")
    # Either case is taken: the README writes `--log-level info`.
    common.add_argument("--log-level", type=str.upper, choices=["DEBUG", "INFO", "WARNING", "ERROR"],
                        help="how much to log (default: bot.log_level from the config)")

    parser = argparse.ArgumentParser(prog="smallstep", description="Small Step Bot: helps members stay involved.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    # No command at all: the console, with the defaults.
    parser.set_defaults(run=run_bot, database_use=MAY_BE_NEW, platform="console", config=None, db=None,
                        log_level=None, no_background=False, port=None)
    cli = CommandLine(parser.add_subparsers(dest="command", metavar="COMMAND"), common)

    cli.command("console", run_bot, help="run the bot in this terminal (no token needed)",
                database=MAY_BE_NEW).set_defaults(platform="console")
    run = cli.command("run", run_bot, help="serve a community: on the console, on Discord or on Slack",
                      database=MAY_BE_NEW)
    run.add_argument("--platform", choices=["console", "discord", "slack"], default="console")
    run.add_argument("--port", type=_port, metavar="PORT",
                     help="Slack in HTTP mode: the port to listen on (default: slack.port), one for each of several"
                          " processes of one machine behind a load balancer")
    run.add_argument("--no-background", action="store_true",
                     help="only answer members: the outbox and the scheduled jobs are left to `smallstep worker`"
                          " (PostgreSQL)")
    worker = cli.command("worker", run_worker, help="deliver the outbox and run the scheduled jobs over REST only,"
                         " beside the processes that answer members (PostgreSQL)", database=MAY_BE_NEW)
    worker.add_argument("--platform", choices=["discord", "slack"], action="append", required=True,
                        help="a platform to work for (give it once for each): its bot token is needed")

    sync = cli.command("sync-commands", sync_commands, help="register the bot's slash commands with Discord",
                       database=MAY_BE_NEW)
    sync.add_argument("--guild", type=int, help="one server's id: instant, for development (default: global)")
    invite = cli.command("invite-url", invite_url, help="print the link that adds the bot to a Discord server")
    invite.add_argument("--application-id", type=int, help="the application's id (default: asked of Discord)")
    manifest = cli.command("slack-manifest", slack_manifest,
                           help="print the Slack app manifest for the enabled cogs")
    manifest.add_argument("--request-url", help="HTTP mode: the bot's public address (default: Socket Mode)")

    cli.group("export", help="export data: the approved testimonials, pairing's impact (totals)")
    cli.group("import", help="import data, e.g. interviews that are ready, from a CSV file")

    purge = cli.command("purge-community", purge_community,
                        help="delete every row of one community, at once (asks first)", database=EXISTING)
    purge.add_argument("community", help="the community's key, e.g. discord:1234")
    purge.add_argument("--yes", action="store_true", help="really delete (without it: show what would go)")

    db = cli.group("db", help="look after the database: a backup while the bot runs, a check")
    db.command("backup", backup, help="copy the database safely, even while the bot runs",
               database=EXISTING).add_argument("path", type=Path, help="where to write the copy (a new file)")
    db.command("check", check_database, help="check the file's integrity and its migrations", database=EXISTING)
    cli.command("status", status, help="the bot's state: cogs, messages waiting, scheduled jobs, open forms",
                database=EXISTING)
    cli.group("config", help="work with the configuration file").command(
        "check", config_check, help="validate the config: start every enabled cog on a scratch database, then stop")

    return parser, cli


def _port(value: str) -> int:
    if not value.isdigit() or not 1 <= int(value) <= 65535:
        raise argparse.ArgumentTypeError(f"a port is a number from 1 to 65535, not {value!r}")
    return int(value)


def _location(value: str) -> Location:
    return value if is_postgres(value) else Path(value)


def _add_cogs_commands(cli: CommandLine) -> None:
    """The commands of each built-in cog with a `cli.py` (found by its file: cogs without one are not imported)."""
    found = importlib.util.find_spec("cogs")
    for folder in found.submodule_search_locations if found else []:
        for module in sorted(Path(folder).glob("*/cli.py")):
            importlib.import_module(f"{cog_module_name(module.parent.name)}.cli").command_line(cli)


def _needs_cogs(argv: list[str], cli: CommandLine) -> bool:
    """Whether the command line names a cog's command (or asks for the list of all). Importing the cogs takes
    what they import (aiohttp for a webhook, Pillow...): a third of a second for every `smallstep status`,
    so only then."""
    first = next((word for word in argv if not word.startswith("-")), None)
    return not cli.has(first) if first is not None else "-h" in argv or "--help" in argv


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser, cli = _core_parser()
    if _needs_cogs(argv, cli):
        _add_cogs_commands(cli)
    args = parser.parse_args(argv)
    try:
        config = load_config(args.config)
        # Only a bot serving Discord or Slack logs at the config's level by default. In the console the log
        # would interleave with the conversation, and a one-off command (status, export, ...) should print
        # its answer, not "cog loaded" lines: only warnings there, unless asked.
        serving = args.run is run_worker or (args.run is run_bot and args.platform in ("discord", "slack"))
        level = args.log_level or (config.bot.log_level.upper() if serving else "WARNING")
        logging.basicConfig(level=level, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
        args.database = args.db or config.database()
        must_exist = args.database_use == EXISTING or (args.database_use == EXISTING_IF_NAMED and args.db)
        # A PostgreSQL database that is not there is said so when it is reached.
        if must_exist and not is_postgres(args.database) and not args.database.is_file():
            print(f"error: there is no database at {args.database}; give the bot's file with --db", file=sys.stderr)
            return EXIT_USAGE
        status = args.run(args, config)
        return asyncio.run(status) if inspect.isawaitable(status) else status
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return EXIT_USAGE
    except (StorageError, TemplateProblem, UnknownName) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130


@contextlib.asynccontextmanager
async def started(config: Config, database: Location, needs: str | None = None) -> AsyncIterator[Bot | None]:
    """The bot on `database` with every enabled cog started (their migrations run), on no platform, for a
    command that works on its data; `needs` is a cog the command cannot do without. Yields None, having
    said so, when that cog is not enabled."""
    from bot.app import Bot

    bot = await Bot.open(config, database=database)
    try:
        await bot.start()
        if needs is not None and needs not in bot.cogs.loaded:
            print(f"error: the {needs} cog is not enabled (cogs.enabled in the config)", file=sys.stderr)
            yield None
        else:
            yield bot
    finally:
        await bot.close()


def write_out(text: str, output: Path | None) -> int:
    """A command's answer, to standard output or to the file asked for."""
    if output is None:
        sys.stdout.write(text)
        return 0
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        print(f"error: cannot write {output}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_USAGE
    return 0


# -- serving ---------------------------------------------------------------------------------------

def run_bot(args: argparse.Namespace, config: Config) -> int:
    """`smallstep`, `smallstep console` and `smallstep run`: serve until stopped."""
    if args.no_background and (args.platform == "console" or not is_postgres(args.database)):
        print("error: --no-background leaves the outbox and the scheduled jobs to `smallstep worker`, which needs"
              " a PostgreSQL database shared with it (SMALLSTEP_DATABASE_URL); on SQLite, or in the console, the one"
              " process does its background work itself: leave --no-background out", file=sys.stderr)
        return EXIT_USAGE
    if args.port is not None and args.platform != "slack":
        print("error: --port is the port Slack's requests come to (HTTP mode); leave it out", file=sys.stderr)
        return EXIT_USAGE
    if args.platform == "discord":
        return _discord(args, config)
    if args.platform == "slack":
        return _slack(args, config)
    from bot.platforms.console import run_console

    return asyncio.run(until_stopped(run_console(config, database=args.database, stdin=sys.stdin, write=_print),
                                     args.database))


async def until_stopped(run: Coroutine[Any, Any, None], database: Location) -> int:
    """Run the bot until it ends or SIGTERM or SIGINT arrives (a service manager stopping it, Ctrl-C).
    Then it is cancelled, so its cleanup runs: what is on its way is finished, what is queued stays
    queued, the database is closed. Whatever state the database is in, the process ends within
    `SHUTDOWN_SECONDS` (a second signal ends it at once), and says what was left waiting for the next
    start. Returns the exit status: 0 when everything was kept, 1 when something could not be."""
    from bot.app.bot import SHUTDOWN_SECONDS

    task = asyncio.ensure_future(run)
    loop = asyncio.get_running_loop()
    deadline: threading.Timer | None = None

    def stop(signal_name: str) -> None:
        nonlocal deadline
        if deadline is not None:  # asked twice: stop now
            _give_up(database, f"{signal_name} again")
        log.warning("%s: stopping (at most %d s)", signal_name, SHUTDOWN_SECONDS)
        deadline = threading.Timer(SHUTDOWN_SECONDS, _give_up, (database, f"not stopped after {SHUTDOWN_SECONDS} s"))
        deadline.daemon = True
        deadline.start()
        task.cancel()

    with contextlib.suppress(NotImplementedError):  # no signal handlers on some platforms
        loop.add_signal_handler(signal.SIGTERM, stop, "SIGTERM")
        loop.add_signal_handler(signal.SIGINT, stop, "SIGINT")  # Ctrl-C stops as cleanly
    status = 0
    try:
        await task
    except asyncio.CancelledError:
        if not task.cancelled():
            raise
    except StorageError as exc:
        if deadline is None:  # not stopping: a problem to report as usual
            raise
        print(f"error: {exc}", file=sys.stderr)
        status = 1
    finally:
        if deadline is not None:
            deadline.cancel()
    if deadline is not None:
        print(f"stopped; {_waiting(database)}", file=sys.stderr)
    return status


def _waiting(database: Location) -> str:
    """What waits for the next start, in words, read beside the bot (on a thread of its own, with its own
    event loop: the bot's may be stuck, or this may be called from inside it)."""
    from bot.storage.maintenance import left_waiting

    found: list[dict[str, int] | BaseException] = []

    def read() -> None:
        try:
            found.append(asyncio.run(left_waiting(database)))
        except BaseException as exc:  # reported below, in words
            found.append(exc)

    reader = threading.Thread(target=read, name="left waiting", daemon=True)
    reader.start()
    reader.join(timeout=3)
    left = found[0] if found else TimeoutError("no answer within 3 s")
    if isinstance(left, BaseException):
        return f"what is left waiting could not be read ({left})"
    messages, forms = left["outbox"], left["forms"]
    return (f"left waiting for the next start: {messages} message{'s' if messages != 1 else ''} in the outbox,"
            f" {forms} open form{'s' if forms != 1 else ''}")


def _give_up(database: Location, why: str) -> None:
    """The stop took too long (the database is stuck, say): say what waits, and end the process now."""
    print(f"error: {why}; ending now, without finishing the stop. {_waiting(database)}", file=sys.stderr, flush=True)
    logging.shutdown()
    os._exit(1)


def _discord(args: argparse.Namespace, config: Config) -> int:
    """Serve Discord; DISCORD_TOKEN is needed, and said plainly when it is missing or rejected."""
    from bot.platforms import discord as on_discord

    return _on_discord(lambda token: asyncio.run(until_stopped(
        on_discord.run_discord(config, token=token, database=args.database, background=not args.no_background),
        args.database)), config)


def run_worker(args: argparse.Namespace, config: Config) -> int:
    """`smallstep worker`: the outbox and the scheduled jobs of the platforms named, over REST, until stopped."""
    from bot.platforms.worker import run_worker as work

    if not is_postgres(args.database):
        print("error: smallstep worker needs a PostgreSQL database that the processes answering members share"
              " (SMALLSTEP_DATABASE_URL). On SQLite, one `smallstep run` process does everything: it delivers the"
              " outbox and runs the jobs itself", file=sys.stderr)
        return EXIT_USAGE
    platforms = set(args.platform)

    def serve(tokens: dict[str, str]) -> int:
        if "slack" in platforms and "slack" not in tokens:
            return _on_slack(lambda token: serve({**tokens, "slack": token}), config)
        return asyncio.run(until_stopped(work(config, tokens=tokens, database=args.database), args.database))

    if "discord" in platforms:
        return _on_discord(lambda token: serve({"discord": token}), config)
    return serve({})


def sync_commands(args: argparse.Namespace, config: Config) -> int:
    """`smallstep sync-commands`: the enabled cogs' commands, registered with Discord."""
    from bot.platforms import discord as on_discord

    def sync(token: str) -> int:
        count = asyncio.run(on_discord.sync_commands(config, token=token, guild_id=args.guild, database=args.database))
        where = f"server {args.guild}" if args.guild else "every server (global; may take up to an hour)"
        print(f"Registered {count} commands for {where}.")
        return 0

    return _on_discord(sync, config)


def invite_url(args: argparse.Namespace, config: Config) -> int:
    """`smallstep invite-url`: the link that adds the bot to a server, with the permissions its cogs need."""
    from bot.platforms import discord as on_discord

    if args.application_id:
        print(on_discord.invite_url(args.application_id, asyncio.run(enabled_needs(config))))
        return 0

    def ask(token: str) -> int:
        app_id = asyncio.run(on_discord.application_id(config, token=token))
        print(on_discord.invite_url(app_id, asyncio.run(enabled_needs(config))))
        return 0

    return _on_discord(ask, config)


def _on_discord(work: Callable[[str], int], config: Config) -> int:
    """Do `work(token)` with DISCORD_TOKEN; what Discord refuses is said with what to change."""
    import aiohttp
    import discord

    token = os.environ.get("DISCORD_TOKEN", "").strip()
    if not token:
        print("error: DISCORD_TOKEN is not set. Copy the bot's token from the Discord developer portal "
              "(your application, Bot, Reset Token) and run: export DISCORD_TOKEN=...", file=sys.stderr)
        return EXIT_USAGE
    try:
        return work(token)
    except discord.LoginFailure:
        print("error: Discord rejected the token in DISCORD_TOKEN. Reset it in the developer portal "
              "(your application, Bot, Reset Token) and export the new one.", file=sys.stderr)
        return EXIT_USAGE
    except discord.PrivilegedIntentsRequired:
        print("error: discord.members_intent is true, but the application may not receive member events. "
              "Switch on Server Members Intent in the developer portal (your application, Bot), "
              "or set discord.members_intent = false.", file=sys.stderr)
        return EXIT_USAGE
    except discord.Forbidden as exc:
        print(f"error: Discord refused: {exc.text or exc}. Is the bot in that server, invited with the "
              "applications.commands scope? (smallstep invite-url prints the right link.)", file=sys.stderr)
        return EXIT_USAGE
    except (aiohttp.ClientError, OSError) as exc:
        where = config.discord.api_base_url or "discord.com"
        print(f"error: cannot reach Discord at {where}: {exc}. Check the network, or discord.api_base_url.",
              file=sys.stderr)
        return 1


def slack_manifest(args: argparse.Namespace, config: Config) -> int:
    """`smallstep slack-manifest`: the Slack app manifest for the enabled cogs' commands."""
    from bot.platforms.slack.runner import manifest

    _, names, needs = asyncio.run(_started_on_scratch(config))
    print(json.dumps(manifest(config, names, needs=needs, request_url=args.request_url), indent=2,
                     ensure_ascii=False))
    return 0


def _slack(args: argparse.Namespace, config: Config) -> int:
    """Slack needs the bot token, and an app token (Socket Mode) or the signing secret (HTTP)."""
    from bot.platforms.slack.runner import run_slack

    def serve(bot_token: str) -> int:
        app_token = os.environ.get("SLACK_APP_TOKEN", "").strip()
        signing_secret = os.environ.get("SLACK_SIGNING_SECRET", "").strip()
        if app_token and not app_token.startswith("xapp-"):
            print("error: SLACK_APP_TOKEN must be an app-level token (xapp-...), made under Basic Information, "
                  "App-Level Tokens, with the connections:write scope.", file=sys.stderr)
            return EXIT_USAGE
        if not app_token and not signing_secret:
            print("error: set SLACK_APP_TOKEN (xapp-..., for Socket Mode: Basic Information, App-Level Tokens, "
                  "scope connections:write) or SLACK_SIGNING_SECRET (for HTTP mode: Basic Information, "
                  "Signing Secret).", file=sys.stderr)
            return EXIT_USAGE
        return asyncio.run(until_stopped(run_slack(
            config, bot_token=bot_token, app_token=app_token, signing_secret=signing_secret, database=args.database,
            background=not args.no_background, port=args.port), args.database))

    return _on_slack(serve, config)


def _on_slack(work: Callable[[str], int], config: Config) -> int:
    """Do `work(bot_token)` with SLACK_BOT_TOKEN; what Slack refuses is said with what to change."""
    import aiohttp
    from slack_sdk.errors import SlackApiError

    bot_token = os.environ.get("SLACK_BOT_TOKEN", "").strip()
    if not bot_token:
        print("error: SLACK_BOT_TOKEN is not set. Copy the Bot User OAuth Token (xoxb-...) from your app's "
              "OAuth & Permissions page and run: export SLACK_BOT_TOKEN=...", file=sys.stderr)
        return EXIT_USAGE
    try:
        return work(bot_token)
    except SlackApiError as exc:
        error = exc.response.get("error", "")
        if error in ("invalid_auth", "not_authed", "account_inactive", "token_revoked", "not_allowed_token_type"):
            print(f"error: Slack rejected the token ({error}). Check SLACK_BOT_TOKEN (and SLACK_APP_TOKEN).",
                  file=sys.stderr)
            return EXIT_USAGE
        raise
    except (aiohttp.ClientError, OSError) as exc:
        where = config.slack.api_base_url or "slack.com"
        print(f"error: cannot reach Slack at {where}: {exc}. Check the network, or slack.api_base_url.",
              file=sys.stderr)
        return 1


async def _started_on_scratch(config: Config) -> tuple[dict[str, str], list[str], frozenset[str]]:
    """Start the bot for real on a scratch database, then stop: which cogs failed, which commands exist, and
    what the cogs need of the platform (Cog.platform_needs)."""
    from bot.app import Bot

    with tempfile.TemporaryDirectory() as scratch:
        bot = await Bot.open(config, database=Path(scratch) / "check.db")
        try:
            await bot.start()
            needs = frozenset().union(*(cog.platform_needs() for cog in bot.cogs.loaded.values()))
            return dict(bot.cogs.failed), sorted(bot.cogs.commands), needs
        finally:
            await bot.close()


async def enabled_needs(config: Config) -> frozenset[str]:
    """What the enabled cogs need of the platform beyond posting (the scheduled events, threads, rooms)."""
    return (await _started_on_scratch(config))[2]


def config_check(args: argparse.Namespace, config: Config) -> Awaitable[int]:
    """`smallstep config check`."""
    return check_config(config, args.database)


async def check_config(config: Config, database: Location | None = None) -> int:
    """Start every enabled cog on a scratch database, so each checks its own settings, then stop; then say
    what the bot last found wrong in `database` (by default, the config's)."""
    from bot.storage import maintenance

    failed, _, _ = await _started_on_scratch(config)
    for name, problem in failed.items():
        print(f"cog {name} would not load: {problem}", file=sys.stderr)
    # What only the running bot can see (a channel closed to it, a permission its role lacks), as it last found it
    # in its database.
    for problem in await maintenance.unusable_channels(database or config.database()):
        print(f"warning: {problem}", file=sys.stderr)
    enabled = ", ".join(config.cogs.enabled) or "none"
    print(f"{config.source}: {'OK' if not failed else 'has problems'}. Cogs enabled: {enabled}.")
    return 0 if not failed else 1


# -- looking after the database ------------------------------------------------------------------

async def backup(args: argparse.Namespace, config: Config) -> int:
    """`smallstep db backup PATH`: a copy made safely, even while the bot runs; never over a file."""
    from bot.storage import maintenance

    target: Path = args.path
    if target.exists():
        print(f"error: {target} exists already; give a new file, so that nothing is overwritten", file=sys.stderr)
        return EXIT_USAGE
    try:
        target.parent.mkdir(parents=True, exist_ok=True)  # `backups/` on a fresh checkout
    except OSError as exc:
        print(f"error: cannot create the folder {target.parent} for the copy: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        print(await maintenance.backup(args.database, target))
    except StorageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    return 0


async def check_database(args: argparse.Namespace, config: Config) -> int:
    """`smallstep db check`: the file's integrity, and which migrations are applied and which wait."""
    from bot.app.bot import migration_folders
    from bot.storage import maintenance

    try:
        result = await maintenance.check(args.database, migration_folders(config.cogs.enabled))
    except StorageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    print(f"integrity: {', '.join(result.integrity)}"
          + (" (every table read; pg_amcheck checks further)" if is_postgres(args.database) else ""))
    for component, names in sorted(result.applied.items()):
        print(f"{component}: {len(names)} migration{'s' if len(names) != 1 else ''} applied")
    for component, names in sorted(result.pending.items()):
        print(f"{component}: not yet applied: {', '.join(names)} (they run when the bot starts)")
    return 0 if result.ok else 1


async def status(args: argparse.Namespace, config: Config) -> int:
    """`smallstep status`: the bot's loops, cogs, outbox, open forms and jobs, read beside it."""
    from bot.config import cog_exists
    from bot.storage import maintenance

    try:
        state = await maintenance.status(args.database)
    except StorageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    for name, ok_at, error_at, error, failures in state["loops"]:
        print(f"{name}: last worked {_moment(ok_at)}"
              + (f"; last error {_moment(error_at)}: {error}" if error_at else "; no error")
              + (f" ({failures} in a row, still failing)" if failures else ""))
    for name in config.cogs.enabled:
        print(f"cog {name}: {'enabled' if cog_exists(name) else 'enabled, but there is no such cog'}")
    waiting = state["outbox"]
    print("outbox: " + (", ".join(f"{n} {s}" for s, n in sorted(waiting.items())) or "empty"))
    forms = state["open_forms"]
    print("open forms: " + (", ".join(f"{n} {f}" for f, n in sorted(forms.items())) or "none"))
    for component, name, platforms, due in state["jobs"]:  # each set of platforms takes its own turns
        print(f"job {component}/{name}: next at {due[:19].replace('T', ' ')} UTC ({platforms or 'no platform'})")
    print("communities: " + (", ".join(state["communities"]) or "none yet"))
    for problem in state["channel_problems"] + state["missing_permissions"]:
        print(f"warning: {problem}")
    return 0


async def purge_community(args: argparse.Namespace, config: Config) -> int:
    """Delete a community's data at once; without --yes, show what would be deleted and stop."""
    from bot.privacy import community_rows, purge_community as purge

    key = args.community
    async with started(config, args.database) as bot:  # every cog's migrations: every table is there to purge
        counts = await community_rows(bot, key)
        if not counts:
            print(f"{key}: nothing to delete")
            return 0
        if not args.yes:
            print("\n".join(f"{table}: {count}" for table, count in sorted(counts.items())))
            print(f"error: this would delete {sum(counts.values())} rows of {key} for good; run it again with --yes",
                  file=sys.stderr)
            return EXIT_USAGE
        deleted = await purge(bot, key)
        logging.getLogger("bot.privacy").warning("purged %s from the command line: %d rows", key,
                                                 sum(deleted.values()))
        print(f"{key}: deleted {sum(deleted.values())} rows from {len(deleted)} tables")
        return 0


def _moment(stamped: str | None) -> str:
    return f"{stamped[:19].replace('T', ' ')} UTC" if stamped else "never"


def _print(text: str) -> None:
    print(text, flush=True)


if __name__ == "__main__":
    sys.exit(main())

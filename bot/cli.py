"""The `smallstep` command.

    smallstep                         the console (same as `smallstep console`)
    smallstep console [--config FILE] [--db FILE]
    smallstep run --platform discord  (DISCORD_TOKEN in the environment)
    smallstep sync-commands [--guild ID]
    smallstep invite-url [--application-id ID]
    smallstep run --platform slack    (SLACK_BOT_TOKEN, and SLACK_APP_TOKEN or SLACK_SIGNING_SECRET)
    smallstep slack-manifest [--request-url URL]
    smallstep config check [--config FILE]
    smallstep export testimonials [--format csv|json] [--community KEY] [--output FILE]
    smallstep export pairing-impact [--format csv|json] [--community KEY] [--output FILE]

Problems an operator can fix (a bad config, a database that cannot be written, a
broken template override) end with a message that says what to change, and exit
status 2. Nothing a person can fix ends in a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import signal
import sqlite3
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any, Coroutine

from bot import __version__
from bot.config import Config, ConfigError, load_config
from bot.render import TemplateProblem
from bot.storage import StorageError

EXIT_USAGE = 2

log = logging.getLogger("bot.cli")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="smallstep", description="Small Step Bot: helps members stay involved.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    console = commands.add_parser("console", help="run the bot in this terminal (no token needed)")
    _config_option(console)
    console.add_argument("--db", type=Path, help="the SQLite file to use (default: bot.database from the config)")

    run = commands.add_parser("run", help="serve a community: on the console, on Discord or on Slack")
    run.add_argument("--platform", choices=["console", "discord", "slack"], default="console")
    _config_option(run)
    run.add_argument("--db", type=Path, help="the SQLite file to use (default: bot.database from the config)")

    sync = commands.add_parser("sync-commands", help="register the bot's slash commands with Discord")
    sync.add_argument("--guild", type=int, help="one server's id: instant, for development (default: global)")
    _config_option(sync)
    sync.add_argument("--db", type=Path, help="the SQLite file to use (default: bot.database from the config)")

    invite = commands.add_parser("invite-url", help="print the link that adds the bot to a Discord server")
    invite.add_argument("--application-id", type=int, help="the application's id (default: asked of Discord)")
    _config_option(invite)

    manifest = commands.add_parser("slack-manifest", help="print the Slack app manifest for the enabled cogs")
    manifest.add_argument("--request-url", help="HTTP mode: the bot's public address (default: Socket Mode)")
    _config_option(manifest)

    export = commands.add_parser("export", help="export data: the approved testimonials, pairing's impact (totals)")
    export.add_argument("what", choices=["testimonials", "pairing-impact"], help="what to export")
    export.add_argument("--format", choices=["csv", "json"], default="csv", help="the file format (default csv)")
    export.add_argument("--community", help="one community's key, e.g. discord:1234 (default: all)")
    export.add_argument("--output", type=Path, help="write to this file instead of standard output")
    export.add_argument("--db", type=Path, help="the SQLite file (default: bot.database from the config)")
    _config_option(export)

    badges = commands.add_parser("badges", help="work with badges, e.g. give a new one to those who earned it")
    badges.add_argument("action", choices=["backfill"], help="backfill: award badges from recorded history")
    badges.add_argument("--community", help="one community's key, e.g. discord:1234 (default: all)")
    badges.add_argument("--db", type=Path, help="the SQLite file (default: bot.database from the config)")
    _config_option(badges)

    imports = commands.add_parser("import", help="import data, e.g. interviews that are ready, from a CSV file")
    imports.add_argument("what", choices=["interviews"], help="what to import")
    imports.add_argument("file", type=Path, help="the CSV file: columns member, url; optional partner, partner_name,"
                                                 " member_name, id")
    imports.add_argument("--community", required=True, help="the community's key, e.g. discord:1234")
    imports.add_argument("--db", type=Path, help="the SQLite file (default: bot.database from the config)")
    _config_option(imports)

    purge = commands.add_parser("purge-community", help="delete every row of one community, at once (asks first)")
    purge.add_argument("community", help="the community's key, e.g. discord:1234")
    purge.add_argument("--yes", action="store_true", help="really delete (without it: show what would go)")
    purge.add_argument("--db", type=Path, help="the SQLite file (default: bot.database from the config)")
    _config_option(purge)

    db = commands.add_parser("db", help="look after the database: a backup while the bot runs, a check")
    db_commands = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    db_backup = db_commands.add_parser("backup", help="copy the database safely, even while the bot runs")
    db_backup.add_argument("path", type=Path, help="where to write the copy (a new file)")
    db_check = db_commands.add_parser("check", help="check the file's integrity and its migrations")
    for sub in (db_backup, db_check):
        sub.add_argument("--db", type=Path, help="the SQLite file (default: bot.database from the config)")
        _config_option(sub)

    status = commands.add_parser("status", help="the bot's state: cogs, messages waiting, scheduled jobs, open forms")
    status.add_argument("--db", type=Path, help="the SQLite file (default: bot.database from the config)")
    _config_option(status)

    config = commands.add_parser("config", help="work with the configuration file")
    config_commands = config.add_subparsers(dest="config_command", metavar="ACTION", required=True)
    _config_option(config_commands.add_parser(
        "check", help="validate the config: start every enabled cog on a scratch database, then stop"))
    return parser


def _config_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path, help="the TOML config (default: ./smallstep.toml if present)")
    # Either case is taken: the README writes `--log-level info`.
    parser.add_argument("--log-level", type=str.upper, choices=["DEBUG", "INFO", "WARNING", "ERROR"],
                        help="how much to log (default: bot.log_level from the config)")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    command = args.command or "console"
    try:
        config = load_config(getattr(args, "config", None))
        # Only a bot serving Discord or Slack logs at the config's level by default. In the console the log
        # would interleave with the conversation, and a one-off command (status, export, ...) should print
        # its answer, not "cog loaded" lines: only warnings there, unless asked.
        serving = command == "run" and getattr(args, "platform", "") in ("discord", "slack")
        level = getattr(args, "log_level", None) or (config.bot.log_level.upper() if serving else "WARNING")
        logging.basicConfig(level=level, stream=sys.stderr,
                            format="%(levelname)s %(name)s: %(message)s")
        if command == "config":
            return asyncio.run(check_config(config))
        if command == "export":
            database = args.db or config.path(config.bot.database)
            if not database.is_file():
                print(f"error: there is no database at {database}; give the bot's file with --db", file=sys.stderr)
                return EXIT_USAGE
            exporting = export_testimonials if args.what == "testimonials" else export_pairing_impact
            text = asyncio.run(exporting(config, args.format, args.community, database))
            if args.output is None:
                sys.stdout.write(text)
                return 0
            try:
                args.output.write_text(text, encoding="utf-8")
            except OSError as exc:
                print(f"error: cannot write {args.output}: {exc.strerror or exc}", file=sys.stderr)
                return EXIT_USAGE
            return 0
        if command in ("db", "status"):
            database = args.db or config.path(config.bot.database)
            if not database.is_file():
                print(f"error: there is no database at {database}; give the bot's file with --db", file=sys.stderr)
                return EXIT_USAGE
            return look_after(command if command == "status" else args.db_command, config, database,
                              getattr(args, "path", None))
        if command == "purge-community":
            database = args.db or config.path(config.bot.database)
            if not database.is_file():
                print(f"error: there is no database at {database}; give the bot's file with --db", file=sys.stderr)
                return EXIT_USAGE
            return asyncio.run(purge(config, args.community, args.yes, database))
        if command == "import":
            database = args.db or config.path(config.bot.database)
            return asyncio.run(import_interviews(config, args.file, args.community, database))
        if command == "badges":
            database = args.db or config.path(config.bot.database)
            if not database.is_file():
                print(f"error: there is no database at {database}; give the bot's file with --db", file=sys.stderr)
                return EXIT_USAGE
            return asyncio.run(backfill_badges(config, args.community, database))
        if command in ("sync-commands", "invite-url") or getattr(args, "platform", "console") == "discord":
            return _discord(command, args, config)
        if command == "slack-manifest":
            from bot.platforms.slack.runner import manifest

            _, names, needs = asyncio.run(_started_on_scratch(config))
            print(json.dumps(manifest(config, names, needs=needs, request_url=args.request_url), indent=2,
                             ensure_ascii=False))
            return 0
        if getattr(args, "platform", "console") == "slack":
            return _slack(args, config)
        from bot.platforms.console import run_console

        database = getattr(args, "db", None) or config.path(config.bot.database)
        return asyncio.run(until_stopped(run_console(config, database=database, stdin=sys.stdin, write=_print),
                                         database))
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return EXIT_USAGE
    except (StorageError, TemplateProblem) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130


async def until_stopped(run: Coroutine[Any, Any, None], database: Path) -> int:
    """Run the bot until it ends or SIGTERM or SIGINT arrives (a service manager stopping it, Ctrl-C).
    Then it is cancelled, so its cleanup runs: what is on its way is finished, what is queued stays
    queued, the database is closed. Whatever state the database is in, the process ends within
    `SHUTDOWN_SECONDS` (a second signal ends it at once), and says what was left waiting for the next
    start. Returns the exit status: 0 when everything was kept, 1 when something could not be."""
    from bot.core.bot import SHUTDOWN_SECONDS

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


def _waiting(database: Path) -> str:
    """What waits for the next start, in words, read beside the bot."""
    from bot.storage.maintenance import left_waiting

    try:
        left = left_waiting(database)
    except sqlite3.Error as exc:
        return f"what is left waiting could not be read ({exc})"
    messages, forms = left["outbox"], left["forms"]
    return (f"left waiting for the next start: {messages} message{'s' if messages != 1 else ''} in the outbox,"
            f" {forms} open form{'s' if forms != 1 else ''}")


def _give_up(database: Path, why: str) -> None:
    """The stop took too long (the database is stuck, say): say what waits, and end the process now."""
    print(f"error: {why}; ending now, without finishing the stop. {_waiting(database)}", file=sys.stderr, flush=True)
    logging.shutdown()
    os._exit(1)


def _discord(command: str, args: argparse.Namespace, config: Config) -> int:
    """The Discord commands: they need DISCORD_TOKEN, and say plainly when it is missing or rejected."""
    import aiohttp
    import discord

    from bot.platforms import discord as on_discord

    if command == "invite-url" and args.application_id:
        print(on_discord.invite_url(args.application_id, asyncio.run(enabled_needs(config))))
        return 0
    token = os.environ.get("DISCORD_TOKEN", "").strip()
    if not token:
        print("error: DISCORD_TOKEN is not set. Copy the bot's token from the Discord developer portal "
              "(your application, Bot, Reset Token) and run: export DISCORD_TOKEN=...", file=sys.stderr)
        return EXIT_USAGE
    try:
        if command == "sync-commands":
            count = asyncio.run(on_discord.sync_commands(config, token=token, guild_id=args.guild, database=args.db))
            where = f"server {args.guild}" if args.guild else "every server (global; may take up to an hour)"
            print(f"Registered {count} commands for {where}.")
        elif command == "invite-url":
            app_id = asyncio.run(on_discord.application_id(config, token=token))
            print(on_discord.invite_url(app_id, asyncio.run(enabled_needs(config))))
        else:
            database = args.db or config.path(config.bot.database)
            return asyncio.run(until_stopped(on_discord.run_discord(config, token=token, database=database), database))
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
    return 0


def _slack(args: argparse.Namespace, config: Config) -> int:
    """Slack needs the bot token, and an app token (Socket Mode) or the signing secret (HTTP)."""
    import aiohttp
    from slack_sdk.errors import SlackApiError

    from bot.platforms.slack.runner import run_slack

    bot_token = os.environ.get("SLACK_BOT_TOKEN", "").strip()
    app_token = os.environ.get("SLACK_APP_TOKEN", "").strip()
    signing_secret = os.environ.get("SLACK_SIGNING_SECRET", "").strip()
    if not bot_token:
        print("error: SLACK_BOT_TOKEN is not set. Copy the Bot User OAuth Token (xoxb-...) from your app's "
              "OAuth & Permissions page and run: export SLACK_BOT_TOKEN=...", file=sys.stderr)
        return EXIT_USAGE
    if app_token and not app_token.startswith("xapp-"):
        print("error: SLACK_APP_TOKEN must be an app-level token (xapp-...), made under Basic Information, "
              "App-Level Tokens, with the connections:write scope.", file=sys.stderr)
        return EXIT_USAGE
    if not app_token and not signing_secret:
        print("error: set SLACK_APP_TOKEN (xapp-..., for Socket Mode: Basic Information, App-Level Tokens, "
              "scope connections:write) or SLACK_SIGNING_SECRET (for HTTP mode: Basic Information, "
              "Signing Secret).", file=sys.stderr)
        return EXIT_USAGE
    database = args.db or config.path(config.bot.database)
    try:
        return asyncio.run(until_stopped(run_slack(config, bot_token=bot_token, app_token=app_token,
                                                   signing_secret=signing_secret, database=database), database))
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
    return 0


async def _started_on_scratch(config: Config) -> tuple[dict[str, str], list[str], frozenset[str]]:
    """Start the bot for real on a scratch database, then stop: which cogs failed, which commands exist, and
    what the cogs need of the platform (Cog.platform_needs)."""
    from bot.core import Bot

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


async def check_config(config: Config) -> int:
    """Start every enabled cog on a scratch database, so each checks its own settings, then stop."""
    from bot.storage import maintenance

    failed, _, _ = await _started_on_scratch(config)
    for name, problem in failed.items():
        print(f"cog {name} would not load: {problem}", file=sys.stderr)
    # What only the running bot can see (a channel closed to it, a permission its role lacks), as it last found it
    # in its database.
    for problem in maintenance.unusable_channels(config.path(config.bot.database)):
        print(f"warning: {problem}", file=sys.stderr)
    enabled = ", ".join(config.cogs.enabled) or "none"
    print(f"{config.source}: {'OK' if not failed else 'has problems'}. Cogs enabled: {enabled}.")
    return 0 if not failed else 1


async def export_testimonials(config: Config, fmt: str, community: str | None, database: Path) -> str:
    """The approved, quotable testimonials, credited as each author chose, read from the database."""
    from importlib.resources import files

    from bot.core import Bot
    from bot.storage import apply_migrations
    from cogs.testimonials.export import export

    bot = await Bot.open(config, database=database)
    try:
        await apply_migrations(bot.db, "cog:testimonials", files("cogs.testimonials") / "migrations")
        anonymous = bot.render("testimonials/messages.j2", "plain")["anonymous"]
        return await export(bot.db, fmt, community, anonymous)
    finally:
        await bot.close()


async def export_pairing_impact(config: Config, fmt: str, community: str | None, database: Path) -> str:
    """The pairing pulse's totals, by community: how many answered both, and the change in their average (only
    from five of them); never anything per member."""
    from importlib.resources import files

    from bot.core import Bot, Community
    from bot.storage import apply_migrations
    from cogs.pairing.impact import export
    from cogs.pairing.store import PairingStore

    bot = await Bot.open(config, database=database)
    try:
        await apply_migrations(bot.db, "cog:pairing", files("cogs.pairing") / "migrations")
        platform, _, community_id = (community or "").partition(":")
        totals = await PairingStore(bot.db, bot.events).pulse(Community(platform, community_id) if community else None)
        return export(totals, fmt)
    finally:
        await bot.close()


def look_after(action: str, config: Config, database: Path, target: Path | None) -> int:
    """`smallstep db backup`, `smallstep db check` and `smallstep status`."""
    from bot.config import cog_exists
    from bot.storage import maintenance

    try:
        if action == "backup":
            if target.exists():
                print(f"error: {target} exists already; give a new file, so that nothing is overwritten",
                      file=sys.stderr)
                return EXIT_USAGE
            try:
                target.parent.mkdir(parents=True, exist_ok=True)  # `backups/` on a fresh checkout
            except OSError as exc:
                print(f"error: cannot create the folder {target.parent} for the copy: {exc.strerror or exc}",
                      file=sys.stderr)
                return EXIT_USAGE
            try:
                pages = maintenance.backup(database, target)
            except sqlite3.Error as exc:  # either file may be at fault: name both
                print(f"error: cannot copy {database} to {target}: {exc}", file=sys.stderr)
                return EXIT_USAGE
            print(f"copied {database} to {target} ({pages} pages)")
            return 0
        if action == "check":
            result = maintenance.check(database, maintenance.components(config.cogs.enabled))
            print(f"integrity: {', '.join(result.integrity)}")
            for component, names in sorted(result.applied.items()):
                print(f"{component}: {len(names)} migration{'s' if len(names) != 1 else ''} applied")
            for component, names in sorted(result.pending.items()):
                print(f"{component}: not yet applied: {', '.join(names)} (they run when the bot starts)")
            return 0 if result.ok else 1
        state = maintenance.status(database)
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
        for component, name, due in state["jobs"]:
            print(f"job {component}/{name}: next at {due[:19].replace('T', ' ')} UTC")
        print("communities: " + (", ".join(state["communities"]) or "none yet"))
        for problem in state["channel_problems"] + state["missing_permissions"]:
            print(f"warning: {problem}")
        return 0
    except sqlite3.Error as exc:
        print(f"error: {database}: {exc}", file=sys.stderr)
        return EXIT_USAGE


@contextlib.asynccontextmanager
async def _started(config: Config, database: Path, needs: tuple[str, str] | None = None):
    """The bot on `database` with every enabled cog started (their migrations run), on no platform;
    `needs` (a query, its cog) says which cog the command cannot do without. Yields None, having said
    so, when that cog is not enabled."""
    from bot.core import Bot

    bot = await Bot.open(config, database=database)
    try:
        await bot.start()
        if needs is not None and needs[0] not in bot.cogs.queries:
            print(f"error: the {needs[1]} cog is not enabled (cogs.enabled in the config)", file=sys.stderr)
            yield None
        else:
            yield bot
    finally:
        await bot.close()


async def purge(config: Config, key: str, really: bool, database: Path) -> int:
    """Delete a community's data at once; without `really`, show what would be deleted and stop."""
    from bot.privacy import community_rows, purge_community

    async with _started(config, database) as bot:  # every cog's migrations: every table is there to purge
        counts = await community_rows(bot, key)
        if not counts:
            print(f"{key}: nothing to delete")
            return 0
        if not really:
            print("\n".join(f"{table}: {count}" for table, count in sorted(counts.items())))
            print(f"error: this would delete {sum(counts.values())} rows of {key} for good; run it again with --yes",
                  file=sys.stderr)
            return EXIT_USAGE
        deleted = await purge_community(bot, key)
        logging.getLogger("bot.privacy").warning("purged %s from the command line: %d rows", key,
                                                 sum(deleted.values()))
        print(f"{key}: deleted {sum(deleted.values())} rows from {len(deleted)} tables")
        return 0


INTERVIEW_COLUMNS = ("member", "url", "partner", "partner_name", "member_name", "id")


async def import_interviews(config: Config, path: Path, community_key: str, database: Path) -> int:
    """Import recordings that are ready from a CSV file: good rows are taken, bad ones reported by
    line; importing the same file again adds nothing. The members' questions wait in the outbox
    for the bot's next start. Exit status 1 if any row was refused."""
    import csv

    from bot.core import Community

    platform, _, community_id = community_key.partition(":")
    if platform not in ("console", "discord", "slack") or not community_id:
        print(f"error: --community {community_key!r} is not a community key; write e.g. discord:1234 or slack:T0123",
              file=sys.stderr)
        return EXIT_USAGE
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        print(f"error: cannot read {path}: {getattr(exc, 'strerror', None) or exc}", file=sys.stderr)
        return EXIT_USAGE
    reader = csv.DictReader(text.splitlines())
    columns = [c.strip() for c in reader.fieldnames or []]
    missing = [c for c in ("member", "url") if c not in columns]
    unknown = [c for c in columns if c not in INTERVIEW_COLUMNS]
    if missing or unknown:
        print(f"error: {path}: the first line must name the columns; {'missing: ' + ', '.join(missing) if missing else ''}"
              f"{'; ' if missing and unknown else ''}{'unknown: ' + ', '.join(unknown) if unknown else ''}."
              f" Known columns: {', '.join(INTERVIEW_COLUMNS)}", file=sys.stderr)
        return EXIT_USAGE
    async with _started(config, database, ("interviews.add", "interviews")) as bot:
        if bot is None:
            return EXIT_USAGE
        community = Community(platform, community_id)
        taken = known = refused = 0
        for line, row in enumerate(reader, start=2):
            record = {k.strip(): (v or "").strip() for k, v in row.items() if k}
            result = await bot.ask("interviews.add", community, record, "import")
            if "problem" in result:
                print(f"line {line}: {result['problem']}", file=sys.stderr)
                refused += 1
                continue
            taken, known = (taken + 1, known) if result["new"] else (taken, known + 1)
        print(f"{path.name}: {taken} imported, {known} already there, {refused} refused")
        return 1 if refused else 0


async def backfill_badges(config: Config, community: str | None, database: Path) -> int:
    """Award every badge its history earns, in one community or all; the congratulations wait in
    the outbox for the bot's next start on that platform."""
    from bot.core import Community

    async with _started(config, database, ("badges.backfill", "badges")) as bot:
        if bot is None:
            return EXIT_USAGE
        keys = [community] if community else await bot.ask("badges.communities")
        for key in keys:
            platform, _, community_id = key.partition(":")
            given = await bot.ask("badges.backfill", Community(platform, community_id))
            print(f"{key}: gave {given} badge{'s' if given != 1 else ''}" if given else f"{key}: no badges to give")
        if not keys:
            print("no badges to give: nothing has happened in any community yet")
        return 0


def _moment(stamped: str | None) -> str:
    return f"{stamped[:19].replace('T', ' ')} UTC" if stamped else "never"


def _print(text: str) -> None:
    print(text, flush=True)


if __name__ == "__main__":
    sys.exit(main())

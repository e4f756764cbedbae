"""`smallstep badges backfill`: every badge the recorded history earns, while the bot is stopped."""

from __future__ import annotations

import argparse

from bot.cli import EXISTING, EXIT_USAGE, CommandLine, started
from bot.config import Config
from bot.core import Community


def command_line(cli: CommandLine) -> None:
    badges = cli.group("badges", help="work with badges, e.g. give a new one to those who earned it")
    badges.command("backfill", backfill, database=EXISTING, help="award badges from recorded history").add_argument(
        "--community", help="one community's key, e.g. discord:1234 (default: all)")


async def backfill(args: argparse.Namespace, config: Config) -> int:
    """Award every badge its history earns, in one community or all; the congratulations wait in
    the outbox for the bot's next start on that platform."""
    async with started(config, args.database, needs="badges") as bot:
        if bot is None:
            return EXIT_USAGE
        keys = [args.community] if args.community else await bot.ask("badges.communities")
        for key in keys:
            given = await bot.ask("badges.backfill", Community.from_key(key))
            print(f"{key}: gave {given} badge{'s' if given != 1 else ''}" if given else f"{key}: no badges to give")
        if not keys:
            print("no badges to give: nothing has happened in any community yet")
        return 0

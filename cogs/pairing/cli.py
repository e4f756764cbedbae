"""`smallstep export pairing-impact`: the pairing pulse's totals, by community; never anything per member."""

from __future__ import annotations

import argparse
from importlib.resources import files
from pathlib import Path

from bot.app import Bot
from bot.cli import EXISTING, CommandLine, write_out
from bot.config import Config
from bot.core import Community
from bot.storage import apply_migrations
from cogs.pairing.impact import export
from cogs.pairing.store import PairingStore


def command_line(cli: CommandLine) -> None:
    command = cli.group("export").command("pairing-impact", export_pairing_impact, database=EXISTING,
                                          help="pairing's impact: totals by community, nothing per member")
    command.add_argument("--format", choices=["csv", "json"], default="csv", help="the file format (default csv)")
    command.add_argument("--community", help="one community's key, e.g. discord:1234 (default: all)")
    command.add_argument("--output", type=Path, help="write to this file instead of standard output")


async def export_pairing_impact(args: argparse.Namespace, config: Config) -> int:
    """How many answered both pulses, and the change in their average (only from five of them), read from
    the database whether or not the cog is enabled now (its migrations are applied first)."""
    bot = await Bot.open(config, database=args.database)
    try:
        await apply_migrations(bot.db, "cog:pairing", files("cogs.pairing") / "migrations")
        community = Community.from_key(args.community) if args.community else None
        text = export(await PairingStore(bot.db, bot.events).pulse(community), args.format)
    finally:
        await bot.close()
    return write_out(text, args.output)

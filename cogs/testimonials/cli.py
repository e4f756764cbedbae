"""`smallstep export testimonials`: the approved, quotable testimonials, credited as each author chose."""

from __future__ import annotations

import argparse
from importlib.resources import files
from pathlib import Path

from bot.app import Bot
from bot.cli import EXISTING, CommandLine, write_out
from bot.config import Config
from bot.storage import apply_migrations
from cogs.testimonials.export import FORMATS, export


def command_line(cli: CommandLine) -> None:
    command = cli.group("export").command("testimonials", export_testimonials, database=EXISTING,
                                          help="the approved testimonials, as each author agreed to be quoted")
    command.add_argument("--format", choices=FORMATS, default="csv", help="the file format (default csv)")
    command.add_argument("--community", help="one community's key, e.g. discord:1234 (default: all)")
    command.add_argument("--output", type=Path, help="write to this file instead of standard output")


async def export_testimonials(args: argparse.Namespace, config: Config) -> int:
    """Read from the database, whether or not the cog is enabled now (its migrations are applied first)."""
    bot = await Bot.open(config, database=args.database)
    try:
        await apply_migrations(bot.db, "cog:testimonials", files("cogs.testimonials") / "migrations")
        anonymous = bot.render("testimonials/messages.j2", "plain")["anonymous"]
        text = await export(bot.db, args.format, args.community, anonymous)
    finally:
        await bot.close()
    return write_out(text, args.output)

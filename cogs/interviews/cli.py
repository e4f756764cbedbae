"""`smallstep import interviews FILE.csv`: recordings that are ready, from the archive's CSV file."""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

from bot.cli import EXISTING_IF_NAMED, EXIT_USAGE, CommandLine, started
from bot.config import Config
from bot.core import Community

COLUMNS = ("member", "url", "partner", "partner_name", "member_name", "id")


def command_line(cli: CommandLine) -> None:
    command = cli.group("import").command("interviews", import_interviews, database=EXISTING_IF_NAMED,
                                          help="interviews that are ready, from a CSV file")
    command.add_argument("file", type=Path, help="the CSV file: columns member, url; optional partner, partner_name,"
                                                 " member_name, id")
    command.add_argument("--community", required=True, help="the community's key, e.g. discord:1234")


async def import_interviews(args: argparse.Namespace, config: Config) -> int:
    """Import recordings that are ready from a CSV file: good rows are taken, bad ones reported by
    line; importing the same file again adds nothing. The members' questions wait in the outbox
    for the bot's next start. Exit status 1 if any row was refused."""
    path: Path = args.file
    community = Community.from_key(args.community)
    if community.platform not in ("console", "discord", "slack") or not community.id:
        print(f"error: --community {args.community!r} is not a community key; write e.g. discord:1234 or"
              " slack:T0123", file=sys.stderr)
        return EXIT_USAGE
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        print(f"error: cannot read {path}: {getattr(exc, 'strerror', None) or exc}", file=sys.stderr)
        return EXIT_USAGE
    reader = csv.DictReader(text.splitlines())
    columns = [c.strip() for c in reader.fieldnames or []]
    missing = [c for c in ("member", "url") if c not in columns]
    unknown = [c for c in columns if c not in COLUMNS]
    if missing or unknown:
        print(f"error: {path}: the first line must name the columns; {'missing: ' + ', '.join(missing) if missing else ''}"
              f"{'; ' if missing and unknown else ''}{'unknown: ' + ', '.join(unknown) if unknown else ''}."
              f" Known columns: {', '.join(COLUMNS)}", file=sys.stderr)
        return EXIT_USAGE
    async with started(config, args.database, needs="interviews") as bot:
        if bot is None:
            return EXIT_USAGE
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

"""One announcement to 1,000 channels through the outbox, against a fake Discord that allows
50 channel messages a second and answers 429 beyond that.

    python benchmarks/bench_outbox.py [--channels 1000] [--limit 50] [--all-cores]

The real discord.py client sends every message; the fake enforces the limit as Discord's
global one (429 with `global: true` and the time to wait). Printed: the total time as a
ratio to the theoretical minimum (channels / limit), how many sends got a 429, and whether
any channel got the announcement twice. Twice: with the outbox pacing itself to
discord.outbox_per_second (the default, 48), and with no pacing, where only discord.py's own
handling of 429s keeps it going.
"""

from __future__ import annotations

import asyncio
import collections
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))  # the fake Discord lives with the tests

import discord  # noqa: E402

from bot.config import parse_config  # noqa: E402
from bot.core import Bot, Channel, Message  # noqa: E402
from bot.platforms.discord import DiscordAdapter  # noqa: E402
from bot.platforms.discord.runner import point_at  # noqa: E402
from fakes.discord_server import FakeDiscord  # noqa: E402
from measure import command_line  # noqa: E402

FIRST_CHANNEL = 100_000


async def announce(folder: Path, channels: int, limit: int, pace: float) -> dict:
    fake = FakeDiscord()
    for i in range(channels):
        fake.add_channel(FIRST_CHANNEL + i, f"room-{i}")
    await fake.start()
    config = parse_config(f'[cogs]\nenabled = []\n[discord]\napi_base_url = "{fake.api_base}"\n'
                          f'gateway_url = "{fake.gateway_url}"\noutbox_per_second = {pace}\n', base_dir=folder)
    point_at(config.discord)
    bot = await Bot.open(config, database=folder / f"outbox-{pace}.db")
    adapter = DiscordAdapter(bot, guild_ready_timeout=0.1)
    await bot.start()
    client = asyncio.create_task(adapter.start("benchmark-token"))
    await asyncio.wait_for(adapter.ready.wait(), 30)
    community = adapter._community(adapter.client.guilds[0])
    fake.limit_channel_messages_per_second(limit)
    message = Message(title="Listening session", text="Thursday at 18:00, in the library. Everyone is welcome.")
    try:
        started = time.perf_counter()
        await bot.outbox.put(community, "benchmark:announce",
                             [(Channel(str(FIRST_CHANNEL + i), f"room-{i}"), message) for i in range(channels)])
        await fake.wait_for(lambda: len(fake.channel_messages) >= channels, timeout=channels / limit * 5 + 30)
        await bot.outbox.idle()
        elapsed = time.perf_counter() - started
        per_channel = collections.Counter(m["channel_id"] for m in fake.channel_messages)
        sent = await bot.db.fetchval("SELECT COUNT(*) FROM outbox WHERE status = 'sent'")
    finally:
        await adapter.close()
        await client
        await bot.close()
        await fake.close()
    return {"elapsed": elapsed, "rate_limited": fake.rate_limited, "duplicates": sum(c - 1 for c in per_channel.values()),
            "reached": len(per_channel), "marked_sent": sent}


def report(label: str, result: dict, channels: int, limit: int) -> None:
    minimum = channels / limit
    print(f"{label:<34} {result['elapsed']:6.1f} s   ratio to {minimum:.0f} s: {result['elapsed'] / minimum:4.2f}"
          f"   429s: {result['rate_limited']} ({result['rate_limited'] / channels:.1%})"
          f"   channels reached: {result['reached']}   duplicates: {result['duplicates']}"
          f"   rows marked sent: {result['marked_sent']}")


async def main() -> None:
    args, cores = command_line(__doc__, channels=1_000,
                               limit=(50, "channel messages a second the fake allows"))
    original = (discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY)
    print(f"one announcement to {args.channels:,} channels, the fake allowing {args.limit}/s ({cores})")
    with tempfile.TemporaryDirectory() as tmp:
        paced = await announce(Path(tmp), args.channels, args.limit, 48)
        report("outbox paced to 48/s (default)", paced, args.channels, args.limit)
        unpaced = await announce(Path(tmp), args.channels, args.limit, 0)
        report("no pacing: discord.py's 429 handling", unpaced, args.channels, args.limit)
    discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = original


if __name__ == "__main__":
    asyncio.run(main())

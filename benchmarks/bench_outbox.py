"""The outbox against Discord's global limit: 1,000 direct messages, and one announcement to 1,000
channels, through the real discord.py client and a fake Discord that counts every request toward its
limit of 50 a second (interaction answers aside, as Discord does) and answers 429 beyond it.

    python benchmarks/bench_outbox.py [--members 1000] [--channels 1000] [--all-cores]

For each: the requests made, the busiest one-second windows (max and 99th percentile, every window
that starts at a request), the 429s, any message that arrived twice, and the total time beside its
floor, the request count divided by 50 (no bot can do better without being refused). Each runs twice:
with the bot's pace (`discord.requests_per_second`, 48 by default) and with no pace, where only
discord.py's handling of the 429s it runs into keeps it going. The DMs run a second time after a
restart, when the DM channels are known: one request a message instead of two.
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

from bot.app import Bot
from bot.config import parse_config  # noqa: E402
from bot.core import Channel, Member, Message  # noqa: E402
from bot.platforms.discord import DiscordAdapter  # noqa: E402
from bot.platforms.discord.runner import point_at  # noqa: E402
from fakes.discord_server import GLOBAL_LIMIT, FakeDiscord  # noqa: E402
from measure import command_line  # noqa: E402

FIRST_ID = 100_000
MESSAGE = Message(title="Listening session", text="Thursday at 18:00, in the library. Everyone is welcome.")


async def deliver(fake: FakeDiscord, database: Path, pace: float, targets: list[Channel | Member]) -> dict:
    """Start a bot on `database`, queue MESSAGE to every target, and measure until all arrived."""
    config = parse_config(f'[cogs]\nenabled = []\n[discord]\napi_base_url = "{fake.api_base}"\n'
                          f'gateway_url = "{fake.gateway_url}"\nrequests_per_second = {pace}\n', base_dir=database.parent)
    point_at(config.discord)
    bot = await Bot.open(config, database=database)
    adapter = DiscordAdapter(bot, guild_ready_timeout=0.1)
    await bot.start()
    client = asyncio.create_task(adapter.start("benchmark-token"))
    await asyncio.wait_for(adapter.ready.wait(), 30)
    community = adapter._community(adapter.client.guilds[0])
    before_requests, before_messages, before_429 = len(fake.requests), len(fake.channel_messages), fake.rate_limited
    try:
        started = time.perf_counter()
        await bot.outbox.put(community, f"benchmark:{time.monotonic()}", [(to, MESSAGE) for to in targets])
        await fake.wait_for(lambda: len(fake.channel_messages) - before_messages >= len(targets),
                            timeout=len(targets) / 5 + 60)
        await bot.outbox.idle()
        elapsed = time.perf_counter() - started
    finally:
        await adapter.close()
        await client
        await bot.close()
    moments = sorted(at for at, _ in fake.requests[before_requests:])
    windows = sorted(sum(1 for _ in _within(moments, i)) for i in range(len(moments)))
    arrived = collections.Counter(m["channel_id"] for m in fake.channel_messages[before_messages:])
    return {"elapsed": elapsed, "requests": len(moments), "max": windows[-1], "p99": windows[int(len(windows) * 0.99)],
            "429s": fake.rate_limited - before_429, "duplicates": sum(n - 1 for n in arrived.values())}


def _within(moments: list[float], start: int):
    """The requests in the second that begins with request `start`."""
    for moment in moments[start:]:
        if moment >= moments[start] + 1:
            return
        yield moment


def report(label: str, result: dict) -> None:
    floor = result["requests"] / GLOBAL_LIMIT
    print(f"  {label:<30} {result['requests']:5} requests   busiest second: max {result['max']:3}, p99 {result['p99']:3}"
          f"   429s: {result['429s']:4}   duplicates: {result['duplicates']}"
          f"   {result['elapsed']:5.1f} s, {result['elapsed'] / floor:4.2f}x the floor of {floor:.1f} s")


async def main() -> None:
    args, cores = command_line(__doc__, members=1_000, channels=1_000)
    original = (discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY)
    print(f"the fake Discord allows {GLOBAL_LIMIT} requests a second ({cores})")
    with tempfile.TemporaryDirectory() as tmp:
        for pace, label in ((48, "paced to 48/s (default)"), (0, "no pace: discord.py's 429 handling")):
            fake = FakeDiscord()
            people = [Member("discord", str(FIRST_ID + i), f"member{i}") for i in range(args.members)]
            rooms = [Channel(str(2 * FIRST_ID + i), f"room-{i}") for i in range(args.channels)]
            for person in people:
                fake.add_member(int(person.id), person.display_name)
            for room in rooms:
                fake.add_channel(int(room.id), room.name)
            await fake.start()
            database = Path(tmp) / f"outbox-{pace}.db"
            try:
                print(f"{label}:")
                report(f"{args.members:,} DMs, channels unknown", await deliver(fake, database, pace, people))
                report(f"{args.members:,} DMs, channels kept", await deliver(fake, database, pace, people))
                report(f"{args.channels:,}-channel announcement", await deliver(fake, database, pace, rooms))
            finally:
                await fake.close()
    discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = original


if __name__ == "__main__":
    asyncio.run(main())

"""1,000 slash commands through the fake Discord gateway, each to its reply at the fake REST API.

    python benchmarks/bench_discord.py [--n 1000] [--all-cores]

Each `/share` goes the whole way a real one does: a gateway frame from the fake, discord.py
parsing it, the adapter building an Invocation, the core, the share cog writing SQLite, the
Message turned into an embed with buttons, and discord.py's HTTP callback to the fake, which
records it. Beside it, the same count of `/share` through the console adapter in the same run:
the ratio is what Discord's round trip costs on top of the bot's own work.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))  # the fake Discord lives with the tests

import discord  # noqa: E402

from bot.app import Bot  # noqa: E402
from bot.config import parse_config  # noqa: E402
from bot.platforms.discord import DiscordAdapter  # noqa: E402
from bot.platforms.discord.runner import point_at  # noqa: E402
from fakes.discord_server import FakeDiscord  # noqa: E402
from measure import UNLIMITED, command_line, describe, share_through_the_console  # noqa: E402

MEMBERS = 100


async def through_discord(folder: Path, n: int) -> dict:
    fake = FakeDiscord()
    for i in range(MEMBERS):
        fake.add_member(6000 + i, f"member{i}")
    await fake.start()
    config = parse_config(UNLIMITED + f'[discord]\napi_base_url = "{fake.api_base}"\ngateway_url = "{fake.gateway_url}"\n',
                          base_dir=folder)
    point_at(config.discord)
    bot = await Bot.open(config, database=folder / "discord.db")
    adapter = DiscordAdapter(bot, guild_ready_timeout=0.1)
    await bot.start()
    client = asyncio.create_task(adapter.start("benchmark-token"))
    await asyncio.wait_for(adapter.ready.wait(), 10)
    latencies = []
    try:
        for i in range(50):  # warm up discord.py's caches and the connection
            await fake.slash_command(6000 + i % MEMBERS, "share")
        await fake.wait_for(lambda: len(fake.interaction_responses) >= 50, timeout=30)
        started = time.perf_counter()
        for i in range(n):
            t0 = time.perf_counter()
            expected = len(fake.interaction_responses) + 1
            await fake.slash_command(6000 + i % MEMBERS, "share")
            await fake.wait_for(lambda: len(fake.interaction_responses) >= expected, timeout=30)
            latencies.append(time.perf_counter() - t0)
        elapsed = time.perf_counter() - started
    finally:
        await adapter.close()
        await client
        await bot.close()
        await fake.close()
    return {"elapsed": elapsed, "latencies": latencies}


async def main() -> None:
    args, cores = command_line(__doc__, n=1_000)
    original = (discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY)
    with tempfile.TemporaryDirectory() as tmp:
        on_discord = await through_discord(Path(tmp), args.n)
        discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = original
        on_console = await share_through_the_console(Path(tmp), args.n, MEMBERS)
    print(f"/share, {args.n:,} slash commands, fake Discord and bot in one process ({cores})")
    describe("through the fake Discord", "interactions", args.n, on_discord)
    describe("through the console", "commands", args.n, on_console)
    print(f"ratio Discord / console: {on_discord['elapsed'] / on_console['elapsed']:.2f}")


if __name__ == "__main__":
    asyncio.run(main())

"""Members stay answered while heavy work runs.

    python benchmarks/bench_responsiveness.py [--members 20] [--pairing 10000] [--channels 1000]
                                              [--backfill 10000] [--all-cores]

20 members send /share continuously (each sends the next as soon as the last was answered), through
the whole core on the console adapter (the Invocation built as the console builds it; only the
wait for the outbox after each line is left out, as no real platform waits for it). Each answer's
latency is from the command to its reply. While they do, in turn: a pairing round for 10,000 members
(the matcher in its worker process, pinned to the same core unless --all-cores), an announcement to
1,000 channels through the outbox, and a badge backfill that gives 10,000 members a badge (with its
congratulation DM). Beside them, the floor: the same members with nothing else running, in the same
run. Target: max under 100 ms, p99 under 2x the floor. The watchdog counts any stall of the event loop
over 250 ms.
"""

from __future__ import annotations

import asyncio
import logging
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_pairing import NOW, answers  # noqa: E402
from measure import UNLIMITED, command_line  # noqa: E402

from bot.app import Bot
from bot.config import parse_config  # noqa: E402
from bot.core import Channel, Community, Invocation, Member, Message  # noqa: E402
from bot.platforms.console import ConsoleAdapter  # noqa: E402

CONFIG = UNLIMITED + '[cogs]\nenabled = ["share", "pairing", "badges"]\n[cogs.pairing]\nevery = ""\n'
FLOOR_SECONDS = 5


class Stalls(logging.Handler):
    """Counts the watchdog's stall warnings."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.seen: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.seen.append(record.getMessage())


async def sharing_while(bot: Bot, adapter: ConsoleAdapter, members: int, work) -> list[float]:
    """Latencies of /share from `members` members, sent continuously until `work` is done."""
    done = asyncio.Event()
    latencies: list[float] = []

    async def member(name: str) -> None:
        ctx_member = adapter.member(name)
        while not done.is_set():
            ctx = Invocation(bot=bot, adapter=adapter, community=adapter.community, member=ctx_member,
                             channel=Channel("general", "general"))
            t0 = time.perf_counter()
            await bot.run_line(ctx, "/share")
            latencies.append(time.perf_counter() - t0)

    sharers = [asyncio.create_task(member(f"sharer{i}")) for i in range(members)]
    try:
        await work()
    finally:
        done.set()
        await asyncio.gather(*sharers)
    return latencies


def figures(label: str, latencies: list[float], floor_p99: float | None, seconds: float) -> float:
    lat = sorted(latencies)
    p50 = statistics.median(lat) * 1000
    p99 = lat[int(len(lat) * 0.99) - 1] * 1000
    top = lat[-1] * 1000
    versus = f"   p99 {p99 / floor_p99:4.2f}x the floor" if floor_p99 else ""
    print(f"{label:<34} {len(lat):>6} answers in {seconds:5.1f} s   p50 {p50:5.1f} ms   p99 {p99:6.1f} ms"
          f"   max {top:6.1f} ms{versus}")
    return p99


async def main() -> None:
    args, cores = command_line(__doc__, members=20, pairing=10_000, channels=1_000, backfill=10_000)
    stalls = Stalls()
    logging.getLogger("bot.watchdog").addHandler(stalls)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        bot = await Bot.open(parse_config(CONFIG, base_dir=folder), database=folder / "bench.db")
        adapter = ConsoleAdapter(bot, images_dir=folder / "images", write=lambda text: None)
        await adapter.start()
        await bot.start()
        community = adapter.community
        pairing = bot.cogs.loaded["pairing"]

        # Set-up, not measured: members who joined pairing, and a history that earns a badge.
        rng = random.Random(11)
        for i in range(args.pairing):
            await pairing.store.join(community, Member("console", f"p{i}", f"Member {i}"), f"s{i}", answers(rng), NOW)
        await bot.db.executemany(
            "INSERT INTO domain_events (community, member_id, name, data, at) VALUES (?, ?, 'share.completed', '{}',"
            " '2026-12-01T12:00:00.000000+00:00')", [(community.key, f"b{i}") for i in range(args.backfill)])
        for _ in range(50):  # warm up: templates compiled, caches filled
            await bot.run_line(adapter.invocation("general"), "/share")
        bot.start_background()  # as the console does once it serves: scheduled jobs, the watchdog

        print(f"{args.members} members sending /share continuously ({cores})")
        results = []

        async def nothing() -> None:
            await asyncio.sleep(FLOOR_SECONDS)

        async def pairing_round() -> None:
            made, _ = await pairing.run_round(community, NOW)
            assert made > args.pairing * 0.45, made

        async def announcement() -> None:
            card = Message(title="Listening session", text="Monday 18:00, online. Who is coming?")
            channels = [(Channel(f"room{i}", f"room{i}"), card) for i in range(args.channels)]
            assert await bot.outbox.put(community, "bench:announcement", channels) == args.channels
            while await bot.db.fetchval("SELECT COUNT(*) FROM outbox WHERE batch = 'bench:announcement'"
                                        " AND status = 'pending'"):
                await asyncio.sleep(0.05)

        async def backfill() -> None:
            given = await bot.ask("badges.backfill", community)
            assert given >= args.backfill, given

        floor_p99 = None
        for label, work in (("nothing else (floor)", nothing),
                            (f"a {args.pairing:,}-member pairing round", pairing_round),
                            (f"a {args.channels:,}-channel announcement", announcement),
                            (f"a {args.backfill:,}-member badge backfill", backfill)):
            before = len(stalls.seen)
            started = time.perf_counter()
            latencies = await sharing_while(bot, adapter, args.members, work)
            seconds = time.perf_counter() - started
            p99 = figures(label, latencies, floor_p99, seconds)
            floor_p99 = floor_p99 or p99
            results.append((label, max(latencies), stalls.seen[before:]))
            await bot.outbox.idle()  # what the work queued is delivered before the next, not measured
        for label, _, seen in results:
            for stall in seen:
                print(f"  stall during {label}: {stall}")
        await adapter.close()
        await bot.close()


if __name__ == "__main__":
    asyncio.run(main())

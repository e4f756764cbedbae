"""10,000 members each producing one domain event that earns a badge.

    python benchmarks/bench_badges.py [--members 10000] [--all-cores]

Each award goes the whole way: the event recorded and published, the badges cog's listener,
the rule's count read from history, the award written with its badge.awarded event, the
congratulation rendered and queued in the outbox (with the medal, stored once for all), and
the award marked announced. No platform is attached, so the DMs stay queued, as they would
wait for a busy platform. The floor is one aiosqlite insert per award in the same run.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from measure import command_line, describe, floor_connection  # noqa: E402

from bot.app import Bot
from bot.config import parse_config  # noqa: E402
from bot.core import Community, Member  # noqa: E402


async def through_the_bot(folder: Path, members: int) -> dict:
    bot = await Bot.open(parse_config('[cogs]\nenabled = ["share", "badges"]\n', base_dir=folder),
                         database=folder / "badges.db")
    await bot.start()
    community = Community("console", "local")
    people = [Member("console", f"member{i}", f"Member {i}") for i in range(members)]
    await bot.events.emit("share.completed", community, Member("console", "warm", "Warm up"))  # draws the medal
    latencies = []
    started = time.perf_counter()
    for person in people:
        t0 = time.perf_counter()
        await bot.events.emit("share.completed", community, person)
        latencies.append(time.perf_counter() - t0)
    elapsed = time.perf_counter() - started
    awarded = await bot.db.fetchval("SELECT COUNT(*) FROM badge_awards WHERE badge = 'step-1'")
    queued = await bot.db.fetchval("SELECT COUNT(*) FROM outbox WHERE batch LIKE 'badges:step-1:%'")
    files = await bot.db.fetchval("SELECT COUNT(*) FROM outbox_files")
    assert awarded == queued == members + 1, (awarded, queued)
    await bot.close()
    return {"elapsed": elapsed, "latencies": latencies, "files": files}


async def by_hand(folder: Path, members: int) -> dict:
    conn = await floor_connection(folder / "floor.db")
    await conn.execute("CREATE TABLE awards (community TEXT, member_id TEXT, badge TEXT, at TEXT,"
                       " PRIMARY KEY (community, member_id, badge))")
    latencies = []
    started = time.perf_counter()
    for i in range(members):
        t0 = time.perf_counter()
        await conn.execute("INSERT OR IGNORE INTO awards VALUES ('console:local', ?, 'step-1', ?)",
                           (f"member{i}", str(time.time())))
        latencies.append(time.perf_counter() - t0)
    elapsed = time.perf_counter() - started
    await conn.close()
    return {"elapsed": elapsed, "latencies": latencies}


async def main() -> None:
    args, cores = command_line(__doc__, members=10_000)
    with tempfile.TemporaryDirectory() as tmp:
        bot = await through_the_bot(Path(tmp), args.members)
        floor = await by_hand(Path(tmp), args.members)
    print(f"{args.members:,} members, one badge-earning event each ({cores})")
    describe("award, end to end", "awards", args.members, bot)
    describe("floor (one insert)", "awards", args.members, floor)
    print(f"ratio end to end / floor: {bot['elapsed'] / floor['elapsed']:.2f}")
    print(f"medal images stored for {args.members:,} queued DMs: {bot['files']}")


if __name__ == "__main__":
    asyncio.run(main())

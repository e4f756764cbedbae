"""How fast is /share through the whole core, against the same work done by hand?

    python benchmarks/bench_share.py [--n 10000] [--members 1000] [--all-cores]

The process is pinned to one core (the target is per core); --all-cores lets it spread.

The measured path is the console adapter's in-process one: the line `/share` is parsed,
the command found, the member's permission checked, the handler run, the kit template
and its post templates rendered, the offer written to SQLite, and the message formatted
for the terminal (printed to nowhere).

The floor is the least the same work can cost, done by hand in this run: render the same
templates with jinja2 and insert the same row with aiosqlite (same PRAGMAs, one
autocommit INSERT). The ratio says what the core's conveniences cost on top of that.
A second run overlaps commands (as a busy Discord or Slack server would send them):
their database writes queue up on aiosqlite's thread instead of waiting one by one.
Memory is measured in a separate pass with tracemalloc (which slows Python down), so
it does not distort the timings.
"""

from __future__ import annotations

import asyncio
import gc
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import jinja2

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from measure import UNLIMITED, command_line, describe, floor_connection  # noqa: E402

from bot.app import Bot
from bot.config import parse_config  # noqa: E402
from bot.core import Channel, Invocation  # noqa: E402
from bot.platforms.console import ConsoleAdapter  # noqa: E402
from bot.render.escape import escape_console  # noqa: E402
from bot.render.templates import builtin_templates_dir  # noqa: E402


async def through_the_core(folder: Path, n: int, members: int, *, measure_memory: bool = False) -> dict:
    bot = await Bot.open(parse_config(UNLIMITED, base_dir=folder), database=folder / "core.db")
    adapter = ConsoleAdapter(bot, images_dir=folder / "images", write=lambda text: None)
    await adapter.start()
    await bot.start()
    names = [f"member{i}" for i in range(members)]
    for name in names:  # first sight of each member happens once, as in a real community
        adapter.member(name)
    latencies = []
    gc.collect()
    if measure_memory:
        tracemalloc.start()
    started = time.perf_counter()
    for i in range(n):
        adapter.acting = names[i % members]
        t0 = time.perf_counter()
        await adapter.handle_line("/share")
        latencies.append(time.perf_counter() - t0)
    elapsed = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1] if measure_memory else 0
    if measure_memory:
        tracemalloc.stop()
    offers = await bot.db.fetchval("SELECT COUNT(*) FROM share_offers")
    assert offers == n, f"expected {n} offers recorded, found {offers}"
    await adapter.close()
    await bot.close()
    return {"elapsed": elapsed, "latencies": latencies, "peak": peak}


async def through_the_core_concurrently(folder: Path, n: int, members: int, in_flight: int) -> dict:
    """The same /share, with `in_flight` members' commands overlapping, as on a busy server."""
    bot = await Bot.open(parse_config(UNLIMITED, base_dir=folder), database=folder / "core.db")
    adapter = ConsoleAdapter(bot, images_dir=folder / "images", write=lambda text: None)
    await adapter.start()
    await bot.start()
    people = [adapter.member(f"member{i}") for i in range(members)]
    latencies = []
    gate = asyncio.Semaphore(in_flight)

    async def one(i: int) -> None:
        ctx = Invocation(bot=bot, adapter=adapter, community=adapter.community,
                         member=people[i % members], channel=Channel("general", "general"))
        async with gate:
            t0 = time.perf_counter()
            await bot.run_line(ctx, "/share")
            latencies.append(time.perf_counter() - t0)

    gc.collect()
    started = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(n)))
    elapsed = time.perf_counter() - started
    offers = await bot.db.fetchval("SELECT COUNT(*) FROM share_offers")
    assert offers == n, f"expected {n} offers recorded, found {offers}"
    await adapter.close()
    await bot.close()
    return {"elapsed": elapsed, "latencies": latencies}


async def by_hand(folder: Path, n: int, members: int) -> dict:
    """The floor: the same templates rendered with plain jinja2, the same row inserted with aiosqlite."""
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(builtin_templates_dir())),
                             finalize=lambda v: escape_console(str(v)), autoescape=False,
                             trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined)
    kit = env.get_template("share/kit.j2")
    posts = [env.get_template(name) for name in env.list_templates() if name.startswith("share/posts/")]
    program = {"name": "One Small Step", "signup_url": "https://takeonesmallstep.org"}
    conn = await floor_connection(folder / "floor.db")
    await conn.execute("CREATE TABLE share_offers (id INTEGER PRIMARY KEY, community TEXT NOT NULL,"
                       " member_id TEXT NOT NULL, offered_at TEXT NOT NULL)")
    await conn.execute("CREATE INDEX share_offers_by_member ON share_offers (community, member_id)")

    def blocks(template: jinja2.Template, names: list[str]) -> list[str]:
        context = template.new_context({"program": program})
        return ["".join(template.blocks[name](context)).strip() for name in names]

    latencies = []
    gc.collect()
    started = time.perf_counter()
    for i in range(n):
        t0 = time.perf_counter()
        blocks(kit, ["title", "text", "button_badge", "button_done"])
        for post in posts:
            blocks(post, ["label", "text"])
        await conn.execute("INSERT INTO share_offers (community, member_id, offered_at) VALUES (?, ?, ?)",
                           ("console:local", f"member{i % members}", "2026-11-25T00:00:00.000000+00:00"))
        latencies.append(time.perf_counter() - t0)
    elapsed = time.perf_counter() - started
    await conn.close()
    return {"elapsed": elapsed, "latencies": latencies}


async def main() -> None:
    args, cores = command_line(__doc__, n=10_000, members=1_000,
                               in_flight=(32, "overlapping commands in the concurrent run"))

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        await through_the_core(folder / "warm", min(500, args.n), args.members)  # warm imports and caches
        core = await through_the_core(folder / "core", args.n, args.members)
        floor = await by_hand(folder, args.n, args.members)
        overlapping = await through_the_core_concurrently(folder / "concurrent", args.n, args.members, args.in_flight)
        memory = await through_the_core(folder / "memory", min(2_000, args.n), args.members, measure_memory=True)

    print(f"/share through the full core on the console adapter, N = {args.n:,}, {args.members:,} members, {cores}")
    describe("full core", "cmds", args.n, core)
    describe("floor (jinja2 + insert)", "cmds", args.n, floor)
    print(f"ratio core / floor: {core['elapsed'] / floor['elapsed']:.2f}  (target <= 2)")
    describe(f"full core, {args.in_flight} in flight", "cmds", args.n, overlapping)
    print(f"peak Python memory during {min(2_000, args.n):,} commands (tracemalloc): {memory['peak'] / 1e6:.1f} MB")
    try:
        import resource

        print(f"process max RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    except ImportError:
        pass


if __name__ == "__main__":
    asyncio.run(main())

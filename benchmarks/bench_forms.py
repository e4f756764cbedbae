"""10,000 members with open forms, each answering one question in turn.

    python benchmarks/bench_forms.py [--members 10000] [--all-cores]

Each answer goes the whole way: a `:dm` line into the console adapter, the form engine
reading the member's draft from SQLite, checking the answer, writing the draft back, and
rendering the next question. The floor is the same read and write done directly with
aiosqlite in the same run. The two take turns, a block of members each, so that both meet
the machine as it is at that moment (on a shared machine its speed drifts by a third within
a minute; one measured after the other compared two different machines).

Memory: the engine must hold no per-form state between answers, so the Python memory
still allocated after all the answers (tracemalloc) should not grow with the number of
members, and the process's peak RSS over the whole run (opening the bot, starting every
form, every answer) above its baseline after the imports should stay under 50 MB.
"""

from __future__ import annotations

import asyncio
import gc
import json
import resource
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path


sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from measure import command_line, describe, floor_connection  # noqa: E402

from bot.app import Bot  # noqa: E402
from bot.config import Config  # noqa: E402
from bot.core import Invocation  # noqa: E402
from bot.forms import Form, long_text, short_text  # noqa: E402
from bot.platforms.console import ConsoleAdapter  # noqa: E402

FORM = Form("benchmark", template="forms/benchmark.j2", questions=(
    short_text("name"), long_text("story", min_length=10), short_text("town"),
))
TEMPLATE = ("{% block title %}The benchmark{% endblock %}{% block name %}Your name?{% endblock %}"
            "{% block story %}Your story?{% endblock %}{% block town %}Your town?{% endblock %}")
BLOCK = 500  # members answering in a row before the other side takes its turn


def rss_mb() -> float:
    """The process's peak RSS so far (MB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_now_mb() -> float:
    """The process's RSS now (MB), where the system says (Linux); else its peak so far."""
    try:
        resident_pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return rss_mb()
    return resident_pages * resource.getpagesize() / 2**20


class ThroughTheEngine:
    """The bot on the console, with `members` forms open, each at its first question."""

    def __init__(self, bot: Bot, adapter: ConsoleAdapter, people: list) -> None:
        self.bot, self.adapter, self.people = bot, adapter, people

    @classmethod
    async def open(cls, folder: Path, members: int) -> ThroughTheEngine:
        (folder / "templates" / "forms").mkdir(parents=True)
        (folder / "templates" / "forms" / "benchmark.j2").write_text(TEMPLATE)
        config = Config(base_dir=folder).replace()
        config = config.replace(bot=config.bot.__class__(templates_dir=str(folder / "templates")))
        bot = await Bot.open(config, database=folder / "forms.db")
        adapter = ConsoleAdapter(bot, images_dir=folder / "images", write=lambda text: None)
        await adapter.start()
        await bot.start()

        async def submitted(ctx: Invocation, submission) -> None:
            return None

        bot.forms.register(FORM, submitted)
        people = [adapter.member(f"member{i}") for i in range(members)]
        for member in people:  # everyone opens the form and is at its first question
            await bot.forms.start(Invocation(bot=bot, adapter=adapter, community=adapter.community, member=member,
                                             channel=None), FORM)
        gc.collect()
        return cls(bot, adapter, people)

    async def answer(self, members: range, latencies: list[float]) -> float:
        """Each of these members answers the question they are at: the time it took."""
        started = time.perf_counter()
        for i in members:
            member = self.people[i]
            t0 = time.perf_counter()
            self.adapter.acting = member.display_name
            await self.adapter.handle_line(f":dm name of {member.id}")
            latencies.append(time.perf_counter() - t0)
        # That these members were shown their next question is marked every 50 ms: what is still to be marked
        # is marked now, in the engine's time, not during the floor's turn that follows.
        await self.bot.forms.record_shown()
        return time.perf_counter() - started

    async def close(self) -> None:
        at_second = await self.bot.db.fetchval("SELECT COUNT(*) FROM form_drafts WHERE current = 'story'")
        assert at_second == len(self.people), f"expected {len(self.people)} drafts at the second question, found {at_second}"
        await self.adapter.close()
        await self.bot.close()


class ByHand:
    """The floor: the draft row read and written back, directly with aiosqlite."""

    def __init__(self, conn) -> None:
        self.conn = conn

    @classmethod
    async def open(cls, folder: Path, members: int) -> ByHand:
        conn = await floor_connection(folder / "floor.db")
        await conn.execute("CREATE TABLE drafts (community TEXT, member_id TEXT, answers TEXT, current TEXT,"
                           " PRIMARY KEY (community, member_id))")
        await conn.executemany("INSERT INTO drafts VALUES ('console:local', ?, '{}', 'name')",
                               [(f"member{i}",) for i in range(members)])
        return cls(conn)

    async def answer(self, members: range, latencies: list[float]) -> float:
        started = time.perf_counter()
        for i in members:
            t0 = time.perf_counter()
            rows = await self.conn.execute_fetchall(
                "SELECT answers FROM drafts WHERE community = 'console:local' AND member_id = ?", (f"member{i}",))
            answers = json.loads(rows[0][0])
            answers["name"] = f"name of member{i}"
            await self.conn.execute("INSERT OR REPLACE INTO drafts VALUES ('console:local', ?, ?, 'story')",
                                    (f"member{i}", json.dumps(answers)))
            latencies.append(time.perf_counter() - t0)
        return time.perf_counter() - started

    async def close(self) -> None:
        await self.conn.close()


async def side_by_side(folder: Path, members: int) -> tuple[dict, dict, float, float]:
    """Every member answers through the engine and by hand, the two taking turns a block at a time.
    Also returns the peak RSS the whole run added to the process, and how much its RSS grew over the answers
    (MB; the RSS then, not the peak, which opening every form has already set)."""
    baseline_rss = rss_mb()
    engine = await ThroughTheEngine.open(folder / "engine", members)
    floor = await ByHand.open(folder, members)
    results = {side: {"elapsed": 0.0, "latencies": []} for side in ("engine", "floor")}
    before_answers = rss_now_mb()
    for turn, start in enumerate(range(0, members, BLOCK)):
        block = range(start, min(start + BLOCK, members))
        sides = [("engine", engine), ("floor", floor)]
        for side, how in sides if turn % 2 == 0 else reversed(sides):  # each goes first in every other turn
            results[side]["elapsed"] += await how.answer(block, results[side]["latencies"])
    grown = rss_now_mb() - before_answers
    await engine.close()
    await floor.close()
    return results["engine"], results["floor"], rss_mb() - baseline_rss, grown


async def memory_held(folder: Path, members: int) -> float:
    """The Python memory still allocated after every member answered (tracemalloc, which slows Python down:
    the timed run goes without it), in MB."""
    engine = await ThroughTheEngine.open(folder, members)
    tracemalloc.start()
    baseline_traced = tracemalloc.get_traced_memory()[0]
    await engine.answer(range(members), [])
    gc.collect()
    retained = tracemalloc.get_traced_memory()[0] - baseline_traced
    tracemalloc.stop()
    await engine.close()
    return retained / 1e6


async def main() -> None:
    args, cores = command_line(__doc__, members=10_000)
    with tempfile.TemporaryDirectory() as tmp:
        engine, floor, whole_run, grown = await side_by_side(Path(tmp), args.members)
        retained = await memory_held(Path(tmp) / "memory", args.members)
    print(f"{args.members:,} members with open forms, each answering one question ({cores};"
          f" engine and floor taking turns, {BLOCK} members at a time)")
    describe("form engine", "answers", args.members, engine)
    describe("floor (read + write)", "answers", args.members, floor)
    print(f"ratio engine / floor: {engine['elapsed'] / floor['elapsed']:.2f}")
    print(f"Python memory still held after the answers: {retained:.2f} MB (no per-form state between answers)")
    print(f"process peak RSS above its baseline, whole run (the floor's included): {whole_run:.1f} MB"
          f" (target < 50 MB); RSS grown over the answers: {grown:.1f} MB")


if __name__ == "__main__":
    asyncio.run(main())

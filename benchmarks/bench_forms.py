"""10,000 members with open forms, each answering one question in turn.

    python benchmarks/bench_forms.py [--members 10000] [--all-cores]

Each answer goes the whole way: a `:dm` line into the console adapter, the form engine
reading the member's draft from SQLite, checking the answer, writing the draft back, and
rendering the next question. The floor is the same read and write done directly with
aiosqlite in the same run.

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

from bot.app import Bot
from bot.config import Config  # noqa: E402
from bot.core import Invocation  # noqa: E402
from bot.forms import Form, long_text, short_text  # noqa: E402
from bot.platforms.console import ConsoleAdapter  # noqa: E402

FORM = Form("benchmark", template="forms/benchmark.j2", questions=(
    short_text("name"), long_text("story", min_length=10), short_text("town"),
))
TEMPLATE = ("{% block title %}The benchmark{% endblock %}{% block name %}Your name?{% endblock %}"
            "{% block story %}Your story?{% endblock %}{% block town %}Your town?{% endblock %}")


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def through_the_engine(folder: Path, members: int, *, measure_memory: bool = False) -> dict:
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

    def dm_from(member) -> Invocation:
        return Invocation(bot=bot, adapter=adapter, community=adapter.community, member=member, channel=None)

    for member in people:  # everyone opens the form and is at its first question
        await bot.forms.start(dm_from(member), FORM)
    gc.collect()
    if measure_memory:  # tracemalloc slows Python down: the timed run goes without it
        tracemalloc.start()
    baseline_traced = tracemalloc.get_traced_memory()[0]
    baseline_rss = rss_mb()
    latencies = []
    started = time.perf_counter()
    for member in people:
        t0 = time.perf_counter()
        adapter.acting = member.display_name
        await adapter.handle_line(f":dm name of {member.id}")
        latencies.append(time.perf_counter() - t0)
    elapsed = time.perf_counter() - started
    gc.collect()
    retained = tracemalloc.get_traced_memory()[0] - baseline_traced
    if measure_memory:
        tracemalloc.stop()
    at_second = await bot.db.fetchval("SELECT COUNT(*) FROM form_drafts WHERE current = 'story'")
    assert at_second == members, f"expected {members} drafts at the second question, found {at_second}"
    await adapter.close()
    await bot.close()
    return {"elapsed": elapsed, "latencies": latencies, "retained": retained,
            "rss_growth": rss_mb() - baseline_rss}


async def by_hand(folder: Path, members: int) -> dict:
    """The floor: read the draft row and write it back, directly with aiosqlite."""
    conn = await floor_connection(folder / "floor.db")
    await conn.execute("CREATE TABLE drafts (community TEXT, member_id TEXT, answers TEXT, current TEXT,"
                       " PRIMARY KEY (community, member_id))")
    await conn.executemany("INSERT INTO drafts VALUES ('console:local', ?, '{}', 'name')",
                           [(f"member{i}",) for i in range(members)])
    latencies = []
    started = time.perf_counter()
    for i in range(members):
        t0 = time.perf_counter()
        rows = await conn.execute_fetchall(
            "SELECT answers FROM drafts WHERE community = 'console:local' AND member_id = ?", (f"member{i}",))
        answers = json.loads(rows[0][0])
        answers["name"] = f"name of member{i}"
        await conn.execute("INSERT OR REPLACE INTO drafts VALUES ('console:local', ?, ?, 'story')",
                           (f"member{i}", json.dumps(answers)))
        latencies.append(time.perf_counter() - t0)
    elapsed = time.perf_counter() - started
    await conn.close()
    return {"elapsed": elapsed, "latencies": latencies}


async def main() -> None:
    args, _ = command_line(__doc__, members=10_000)
    baseline_rss = rss_mb()  # the process with everything imported, before any bot exists
    with tempfile.TemporaryDirectory() as tmp:
        engine = await through_the_engine(Path(tmp) / "engine", args.members)
        whole_run = rss_mb() - baseline_rss
        floor = await by_hand(Path(tmp), args.members)
        memory = await through_the_engine(Path(tmp) / "memory", args.members, measure_memory=True)
    print(f"{args.members:,} members with open forms, each answering one question"
          f" ({'all cores' if args.all_cores else 'one core'})")
    describe("form engine", "answers", args.members, engine)
    describe("floor (read + write)", "answers", args.members, floor)
    print(f"ratio engine / floor: {engine['elapsed'] / floor['elapsed']:.2f}")
    print(f"Python memory still held after the answers: {memory['retained'] / 1e6:.2f} MB"
          " (no per-form state between answers)")
    print(f"process peak RSS above its baseline, whole run: {whole_run:.1f} MB (target < 50 MB);"
          f" of which during the answers: {engine['rss_growth']:.1f} MB")


if __name__ == "__main__":
    asyncio.run(main())

"""How long members and moderators wait for pictures: the profile card, the badge graphic and the charts.

    python benchmarks/bench_pictures.py [--n 40] [--all-cores]

Each picture is timed twice: drawn alone (the function the worker thread runs), and the whole way
through the console (command, database, templates, drawing, the reply). First of all, the first chart
after a start is timed through the console: it imports matplotlib, on its worker thread. The member's card holds all
the built-in badges (sixteen) under a long name; the chart has eight weeks of three series. While cards are
drawn one after another, a timer on the event loop measures how long the loop went unanswered: the
drawing runs on a worker thread, so other members are answered meanwhile; the same timer runs
while the first chart imports matplotlib.
"""

from __future__ import annotations

import asyncio
import resource
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Awaitable

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from measure import UNLIMITED, command_line  # noqa: E402

from bot.app import Bot  # noqa: E402
from bot.config import parse_config  # noqa: E402
from bot.platforms.console import ConsoleAdapter  # noqa: E402
from bot.render.charts import bar_chart  # noqa: E402
from bot.render.images import FontChain  # noqa: E402
from cogs.badges.art import BadgeFace, CardBadge, CardTexts, badge_colours, profile_card  # noqa: E402
from cogs.badges.catalogue import DEFAULT_CATALOGUE  # noqa: E402
from cogs.share.badge import BadgeTexts, render_badge  # noqa: E402

NAME = "Maximilian Alexander von Hohenzollern-Sigmaringen 👩🏽‍🚀"
EVERY_BADGE = ["share.completed", "story.shared", "interview.published", "testimonial.submitted", "partner.viewed",
               "practice.opened", "outreach.invited", "partner_interest.submitted", "support.opened",
               "pairing.met", "pairing.recording_agreed", "event.attended", "testimonial.approved"] + ["event.rsvp"] * 3
CONFIG = UNLIMITED + ('[cogs]\nenabled = ["share", "stories", "interviews", "testimonials", "partners", "events",'
                      ' "practice", "outreach", "badges", "pairing"]\n')


def timed(label: str, n: int, work) -> None:
    """Run `work` n times after one warm-up; print the median and the slowest."""
    first = time.perf_counter()
    work()
    cold = time.perf_counter() - first
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        work()
        times.append(time.perf_counter() - t0)
    print(f"{label:<44} first {cold * 1e3:6.0f} ms   p50 {statistics.median(times) * 1e3:6.1f} ms"
          f"   max {max(times) * 1e3:6.1f} ms")


async def loop_stalls(work: Awaitable) -> list[float]:
    """How late a 5 ms timer on the event loop fires, each time, while `work` runs: the loop's waits."""
    stalls: list[float] = []
    done = asyncio.Event()

    async def heartbeat() -> None:
        while not done.is_set():
            t0 = time.perf_counter()
            await asyncio.sleep(0.005)
            stalls.append(time.perf_counter() - t0 - 0.005)

    beat = asyncio.create_task(heartbeat())
    await work
    done.set()
    await beat
    return stalls


def print_stalls(label: str, stalls: list[float]) -> None:
    print(f"{label:<44} longest stall {max(stalls) * 1e3:6.1f} ms"
          f"   p99 {sorted(stalls)[int(len(stalls) * 0.99) - 1] * 1e3:5.1f} ms over {len(stalls)} ticks")


async def first_chart(folder: Path) -> None:
    """The first chart after a start, through the console: it imports matplotlib on its worker thread."""
    assert "matplotlib" not in sys.modules, "matplotlib is imported before the first chart"
    bot = await Bot.open(parse_config(CONFIG, base_dir=folder), database=folder / "first-chart.db")
    adapter = ConsoleAdapter(bot, images_dir=folder / "images", write=lambda text: None)
    await adapter.start()
    await bot.start()
    adapter.acting = "admin"
    t0 = time.perf_counter()
    stalls = await loop_stalls(adapter.handle_line("/community stats"))
    assert "matplotlib" in sys.modules, "/community stats drew no chart"
    print(f"{'first /community stats (imports matplotlib)':<44} {(time.perf_counter() - t0) * 1e3:6.0f} ms")
    print_stalls("event loop meanwhile", stalls)
    await adapter.close()
    await bot.close()


def drawn_alone(n: int) -> None:
    fonts = FontChain.default()
    colours = badge_colours(DEFAULT_CATALOGUE)
    badges = [CardBadge(BadgeFace(b.step, colours[b.id]), b.id.replace("-", " ").title()) for b in DEFAULT_CATALOGUE]
    texts = CardTexts("One Small Step", NAME, "10 of 10 steps taken", "Badges", "")
    timed(f"profile card, {len(badges)} badges, drawn alone", n, lambda: profile_card(texts, badges, [True] * 10, fonts))
    badge = BadgeTexts("One Small Step", NAME, "listened across the divide", "3 December 2026")
    timed("badge graphic, drawn alone", n, lambda: render_badge(badge, fonts))
    weeks = [date(2026, 10, 12) + timedelta(weeks=i) for i in range(8)]
    series = {"Shares": [0, 2, 5, 1, 0, 3, 7, 1], "Testimonials": [0, 1, 0, 0, 2, 1, 0, 1],
              "Event answers": [1, 0, 0, 4, 2, 0, 1, 12]}
    timed("chart, 8 weeks x 3 series, drawn alone", n, lambda: bar_chart(weeks, series, "Steps taken"))
    timed("chart, 1 round x 2 series, drawn alone", n, lambda: bar_chart(["#1"], {"Pairs": [3], "Met": [1]}, "Pairs"))


async def through_the_console(folder: Path, n: int) -> None:
    bot = await Bot.open(parse_config(CONFIG, base_dir=folder), database=folder / "pictures.db")
    adapter = ConsoleAdapter(bot, images_dir=folder / "images", write=lambda text: None)
    await adapter.start()
    await bot.start()
    member = adapter.member(NAME)
    for event in EVERY_BADGE:
        await bot.events.emit(event, adapter.community, member)
    await bot.outbox.idle()
    adapter.acting = NAME

    async def whole_way(label: str, *lines: str) -> None:
        times = []
        for attempt in range(n + 1):
            t0 = time.perf_counter()
            for line in lines:
                await adapter.handle_line(line)
            if attempt:  # the first is the warm-up
                times.append(time.perf_counter() - t0)
        print(f"{label:<44} p50 {statistics.median(times) * 1e3:6.1f} ms   max {max(times) * 1e3:6.1f} ms")

    await whole_way("/badges card, through the console", "/badges card")
    await whole_way("/share, then its badge graphic button", "/share", ":press Get my badge graphic")
    adapter.acting = "admin"
    await whole_way("/community stats, through the console", "/community stats")
    adapter.acting = NAME

    async def cards() -> None:
        for _ in range(n):
            await adapter.handle_line("/badges card")

    print_stalls("event loop while cards are drawn", await loop_stalls(cards()))
    await adapter.close()
    await bot.close()


def main() -> None:
    args, cores = command_line(__doc__, n=40)
    print(f"pictures, {cores}, n = {args.n}")
    with tempfile.TemporaryDirectory() as folder:
        asyncio.run(first_chart(Path(folder)))
        drawn_alone(args.n)
        asyncio.run(through_the_console(Path(folder), args.n))
    print(f"peak RSS of the process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()

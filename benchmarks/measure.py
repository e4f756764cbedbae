"""What the benchmarks share: their command line (and pinning to one core), opening the floor's
connection, printing figures."""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

import aiosqlite

# Benchmarks send thousands of commands as a few members: the per-member limit would refuse them.
UNLIMITED = "[safety]\ncommands_per_minute = 0\n"


def command_line(doc: str, **options: int | tuple[int, str]) -> tuple[argparse.Namespace, str]:
    """A benchmark's command line: its whole-number options (`members=10_000`, or `(default, help)`)
    and --all-cores. Unless that is given, the process is pinned to one core. Returns the arguments
    and which cores ran ("one core" or "all cores")."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    for name, given in options.items():
        default, help = given if isinstance(given, tuple) else (given, None)
        parser.add_argument("--" + name.replace("_", "-"), type=int, default=default, help=help)
    parser.add_argument("--all-cores", action="store_true", help="do not pin the process to one core")
    args = parser.parse_args()
    return args, "one core" if not args.all_cores and pin_to_one_core() else "all cores"


def pin_to_one_core() -> bool:
    """Targets are per core; pinned, aiosqlite's thread hand-offs also stay on one core."""
    if not hasattr(os, "sched_setaffinity"):
        return False
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    return True


async def floor_connection(path: Path) -> aiosqlite.Connection:
    """An aiosqlite connection set up as the bot's own (autocommit, WAL), for the floor."""
    conn = await aiosqlite.connect(path, isolation_level=None)
    for pragma in ("busy_timeout = 5000", "journal_mode = WAL", "synchronous = NORMAL", "foreign_keys = ON"):
        await conn.execute(f"PRAGMA {pragma}")
    return conn


def describe(label: str, unit: str, n: int, result: dict) -> None:
    """One line of figures: rate, median and 99th-percentile latency."""
    lat = sorted(result["latencies"])
    p50 = statistics.median(lat) * 1e6
    p99 = lat[int(len(lat) * 0.99) - 1] * 1e6
    print(f"{label:<26} {n / result['elapsed']:>9,.0f} {unit}/s   p50 {p50:>6.0f} µs   p99 {p99:>6.0f} µs")


async def share_through_the_console(folder: Path, n: int, members: int) -> dict:
    """`/share` n times through the console adapter: the figure the platform benchmarks compare with."""
    from bot.config import parse_config
    from bot.app import Bot
    from bot.platforms.console import ConsoleAdapter

    bot = await Bot.open(parse_config(UNLIMITED, base_dir=folder), database=folder / "console.db")
    adapter = ConsoleAdapter(bot, images_dir=folder / "images", write=lambda text: None)
    await adapter.start()
    await bot.start()
    for _ in range(50):  # warm up
        await adapter.handle_line("/share")
    latencies = []
    started = time.perf_counter()
    for i in range(n):
        adapter.acting = f"member{i % members}"
        t0 = time.perf_counter()
        await adapter.handle_line("/share")
        latencies.append(time.perf_counter() - t0)
    elapsed = time.perf_counter() - started
    await adapter.close()
    await bot.close()
    return {"elapsed": elapsed, "latencies": latencies}

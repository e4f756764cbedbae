"""Several processes on one PostgreSQL database beside one process on SQLite, in the same run: a 1,000-channel
announcement through the fake Discord, and 10,000 `/share` commands through the core, with 1, 2 and 4 processes.

    python benchmarks/bench_processes.py [--channels 1000] [--commands 10000] [--members 1000] [--in-flight 16]

The announcement: an event created with /event create in the process holding the fake Discord's gateway goes
to every room through the outbox. On SQLite one `smallstep run --platform discord` does it all; on PostgreSQL
`smallstep run --platform discord --no-background` queues it and 1, 2 or 4 `smallstep worker` processes send it,
sharing Discord's 50 requests a second through the database. Figures: deliveries a second, the time beside its
floor (the requests divided by 50: no bot does better without being refused), requests a second and the busiest
one-second window (every window that starts at a request), 429s, and rooms reached more than once.

The commands: 1, 2 or 4 processes each run their share of `/share` through the whole core on the console
adapter's in-process path (as bench_share.py does, with `--in-flight` commands overlapping in each, as a busy
server sends them), all started together once every process is ready. Figures: commands a second over all
processes (from the first start to the last end), latency, and the offers recorded (each command once).

Real processes, real PostgreSQL (the throwaway server the tests start, tests/databases.py), real discord.py; the
fake Discord runs in this process. Nothing is pinned: the processes share the machine's cores with each other,
with PostgreSQL and with the fake, so on a 2-core machine 4 processes cannot do more CPU-bound work than 2.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import json
import os
import signal
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))  # the fake Discord and the throwaway PostgreSQL live with the tests

from measure import UNLIMITED  # noqa: E402

GUILD, ADMIN, MODERATOR_ROLE, FIRST_ROOM = 2000, 5002, 4000, 100_000
COUNTS = (1, 2, 4)


# -- the announcement ------------------------------------------------------------------------------

async def announcement(folder: Path, database, workers: int, channels: int) -> dict:
    """One event announced to `channels` rooms: by one `run` process on SQLite (workers == 0), or by
    `workers` workers beside a `run --no-background` on PostgreSQL. Measured from the command to the last room."""
    from databases import query
    from fakes.discord_server import FakeDiscord

    fake = FakeDiscord(guild_id=GUILD)
    rooms = list(range(FIRST_ROOM, FIRST_ROOM + channels))
    for room in rooms:
        fake.add_channel(room, f"room-{room}")
    fake.add_role(MODERATOR_ROLE, "Moderators")
    fake.add_member(ADMIN, "admin", roles=[MODERATOR_ROLE])
    await fake.start()
    folder.mkdir(parents=True)
    (folder / "smallstep.toml").write_text(
        f'[bot]\ndatabase = "{database}"\n'
        f'[discord]\nguild_id = "{GUILD}"\napi_base_url = "{fake.api_base}"\ngateway_url = "{fake.gateway_url}"\n'
        '[cogs]\nenabled = ["events"]\n'
        f'[cogs.events]\nchannels = [{", ".join(json.dumps(str(room)) for room in rooms)}]\n')
    processes = [await _smallstep(folder, "run", "--platform", "discord", *(["--no-background"] if workers else []))]
    processes += [await _smallstep(folder, "worker", "--platform", "discord") for _ in range(workers)]
    try:
        await fake.wait_for(lambda: fake._bot_socket is not None, timeout=120)
        await _until(lambda: all(process.ready for process in processes[1:]))
        first_request = len(fake.requests)
        started = time.perf_counter()
        await fake.slash_command(ADMIN, "event", [{"name": "create", "type": 1, "options": [
            {"name": "title", "type": 3, "value": "Listening session"},
            {"name": "start", "type": 3, "value": "2030-01-14 18:00"}]}])
        reached = lambda: {m["channel_id"] for m in fake.channel_messages if m["channel_id"] >= FIRST_ROOM}  # noqa: E731
        await fake.wait_for(lambda: len(reached()) >= channels, timeout=channels / 5 + 120)
        elapsed = time.perf_counter() - started
        # Everything marked sent (nothing left to go twice), then counted.
        await _until(lambda: not query(database, "SELECT COUNT(*) FROM outbox WHERE status = 'pending'")[0][0])
        copies = Counter(m["channel_id"] for m in fake.channel_messages if m["channel_id"] >= FIRST_ROOM)
        moments = sorted(at for at, _ in fake.requests[first_request:])
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            await process.wait()
        await fake.close()
    busiest = max(bisect.bisect_left(moments, start + 1) - i for i, start in enumerate(moments))
    return {"elapsed": elapsed, "deliveries": len(copies), "requests": len(moments), "busiest": busiest,
            "429s": fake.rate_limited, "duplicates": sum(n - 1 for n in copies.values())}


class _Process:
    """A `smallstep` process; `ready` once a worker says it delivers (its log is read, and dropped)."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.ready = False
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        while line := await self.process.stderr.readline():
            self.ready = self.ready or b"worker: delivering" in line

    def send_signal(self, number: int) -> None:
        self.process.send_signal(number)

    async def wait(self) -> None:
        await self.process.wait()
        await self._reader


async def _smallstep(folder: Path, *args: str) -> _Process:
    return _Process(await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", *args, "--log-level", "INFO", cwd=folder,
        env={**os.environ, "DISCORD_TOKEN": "benchmark-token"},
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE))


async def _until(condition, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("no progress")
        await asyncio.sleep(0.05)


# -- the commands ----------------------------------------------------------------------------------

async def commands(database, processes: int, total: int, members: int, in_flight: int) -> dict:
    """`total` /share commands shared by `processes` processes on `database`, started together."""
    from databases import query

    before = query(database, "SELECT COUNT(*) FROM share_offers")[0][0] if _has_offers(query, database) else 0
    per = total // processes
    children = [await asyncio.create_subprocess_exec(
        sys.executable, __file__, "child", str(database), str(per), str(members), str(in_flight),
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        for _ in range(processes)]
    for child in children:
        ready = await child.stdout.readline()
        if ready.strip() != b"ready":
            raise RuntimeError(f"a child did not start: {ready!r} {(await child.stderr.read()).decode()[-2000:]}")
    for child in children:
        child.stdin.write(b"go\n")
        await child.stdin.drain()
    results = []
    for child in children:
        out, errors = await child.communicate()
        if child.returncode != 0:
            raise RuntimeError(f"a child failed: {errors.decode()[-2000:]}")
        results.append(json.loads(out))
    latencies = sorted(t for r in results for t in r["latencies"])
    elapsed = max(r["ended"] for r in results) - min(r["started"] for r in results)
    recorded = query(database, "SELECT COUNT(*) FROM share_offers")[0][0] - before
    return {"elapsed": elapsed, "commands": per * processes, "p50": statistics.median(latencies),
            "p99": latencies[int(len(latencies) * 0.99) - 1], "recorded": recorded - sum(r["warm"] for r in results)}


def _has_offers(query, database) -> bool:
    if str(database).startswith("postgresql"):
        return bool(query(database, "SELECT to_regclass('share_offers') IS NOT NULL")[0][0])
    return bool(query(database, "SELECT COUNT(*) FROM sqlite_master WHERE name = 'share_offers'")[0][0])


async def child(database: str, count: int, members: int, in_flight: int) -> None:
    """One process's share of the commands: start the bot, say "ready", wait for "go", run them, print figures."""
    from bot.app import Bot
    from bot.config import parse_config
    from bot.core import Channel, Invocation
    from bot.platforms.console import ConsoleAdapter

    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        bot = await Bot.open(parse_config(UNLIMITED, base_dir=folder),
                             database=database if database.startswith("postgresql") else Path(database))
        adapter = ConsoleAdapter(bot, images_dir=folder / "images", write=lambda text: None)
        await adapter.start()
        await bot.start()
        people = [adapter.member(f"member{i}") for i in range(members)]
        gate = asyncio.Semaphore(in_flight)
        latencies: list[float] = []

        async def one(i: int, keep: bool = True) -> None:
            ctx = Invocation(bot=bot, adapter=adapter, community=adapter.community, member=people[i % members],
                             channel=Channel("general", "general"))
            async with gate:
                t0 = time.perf_counter()
                await bot.run_line(ctx, "/share")
                if keep:
                    latencies.append(time.perf_counter() - t0)

        warm = 50
        await asyncio.gather(*(one(i, keep=False) for i in range(warm)))  # templates compiled, connections made
        print("ready", flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
        started = time.time()
        await asyncio.gather(*(one(i) for i in range(count)))
        ended = time.time()
        await bot.close()  # the console's screen (adapter.close saves it) is one terminal's, not several processes'
    print(json.dumps({"started": started, "ended": ended, "latencies": latencies, "warm": warm}), flush=True)


# -- the run ---------------------------------------------------------------------------------------

async def main(args: argparse.Namespace) -> None:
    from databases import postgresql_database
    from fakes.discord_server import GLOBAL_LIMIT

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        setups = [("SQLite, 1 process", folder / "sqlite.db", 0)]
        setups += [(f"PostgreSQL, {n} worker{'s' if n > 1 else ''}", postgresql_database(folder / f"fan-{n}"), n)
                   for n in COUNTS]
        print(f"A {args.channels:,}-channel announcement, the fake Discord allowing {GLOBAL_LIMIT} requests a second"
              f" ({cores} cores):")
        print(f"  {'':<24} {'deliveries/s':>12} {'time':>8} {'x floor':>8} {'requests':>9} {'req/s':>6}"
              f" {'busiest s':>10} {'429s':>5} {'duplicates':>11}")
        for label, database, workers in setups:
            result = await announcement(folder / f"announce-{workers}", database, workers, args.channels)
            floor = result["requests"] / GLOBAL_LIMIT
            print(f"  {label:<24} {result['deliveries'] / result['elapsed']:>12.1f} {result['elapsed']:>7.1f}s"
                  f" {result['elapsed'] / floor:>8.2f} {result['requests']:>9} {result['requests'] / result['elapsed']:>6.1f}"
                  f" {result['busiest']:>10} {result['429s']:>5} {result['duplicates']:>11}", flush=True)

        setups = [("SQLite, 1 process", folder / "commands.db", 1)]
        setups += [(f"PostgreSQL, {n} process{'es' if n > 1 else ''}", postgresql_database(folder / f"cmd-{n}"), n)
                   for n in COUNTS]
        print(f"{args.commands:,} /share commands through the core, {args.in_flight} in flight in each process,"
              f" {args.members:,} members ({cores} cores):")
        print(f"  {'':<24} {'commands/s':>12} {'p50':>9} {'p99':>9} {'recorded':>9}")
        for label, database, processes in setups:
            result = await commands(database, processes, args.commands, args.members, args.in_flight)
            print(f"  {label:<24} {result['commands'] / result['elapsed']:>12,.0f} {result['p50'] * 1e3:>7.2f}ms"
                  f" {result['p99'] * 1e3:>7.2f}ms {result['recorded']:>9,}", flush=True)


def command_line() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--channels", type=int, default=1_000)
    parser.add_argument("--commands", type=int, default=10_000)
    parser.add_argument("--members", type=int, default=1_000)
    parser.add_argument("--in-flight", type=int, default=16, help="overlapping commands in each process")
    return parser.parse_args()


if __name__ == "__main__":
    if sys.argv[1:2] == ["child"]:
        database, count, members, in_flight = sys.argv[2], *map(int, sys.argv[3:6])
        asyncio.run(child(database, count, members, in_flight))
    else:
        asyncio.run(main(command_line()))

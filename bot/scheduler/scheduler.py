"""Periodic jobs whose next run is kept in the database.

A cog declares `@job(every="7d")`; the scheduler stores when it is due next. When the
bot was down at that moment, the job runs once as soon as the bot is back (not once
per missed period). The next run is written before the job starts, so a crash in
the middle of a job does not make it run twice.

Each job runs as an attempt of `bot.loops` (named `job <component>/<name>`): a job that fails is
logged once and runs again at its next time; a tick that fails (the database is locked) is
tried again after a pause. Nothing a job does can stop the others, or the scheduler.

Several processes may share the database. A due run is taken by the process that moves the job's next
run on from the time it read (compare and set): the others find it moved, and leave it. Each set of
platforms keeps its own turn of a job (a job works for the platforms its process serves): a Slack process
never takes the turn of a Discord one.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Awaitable, Callable, Iterable

from bot.core.clock import Clock
from bot.loops import Loops
from bot.storage import Database
from bot.values import stamp
from bot.watchdog import Watchdog

log = logging.getLogger(__name__)

JobHandler = Callable[[datetime], Awaitable[None]]


@dataclass(frozen=True)
class PeriodicJob:
    component: str
    name: str
    every: timedelta
    handler: JobHandler
    # Also run as soon as the bot starts: for jobs that look for work that fell due meanwhile.
    at_start: bool = False


class Scheduler:
    """The periodic jobs of the core and the cogs, and when each runs next."""

    def __init__(self, db: Database, clock: Clock, loops: Loops, watchdog: Watchdog,
                 served: Callable[[], Iterable[str]] = tuple) -> None:
        self._db = db
        self._served = served  # the platforms this process serves
        self._clock = clock
        self._loops = loops
        self._watchdog = watchdog
        self._jobs: dict[tuple[str, str], PeriodicJob] = {}
        self._written: set[tuple[str, str, str]] = set()  # (component, name, platforms) on record

    def platforms(self) -> str:
        """Whose turn of each job this process takes: the platforms it serves, e.g. "discord slack"."""
        return " ".join(sorted(self._served()))

    async def add(self, job: PeriodicJob) -> None:
        """Register a job; the first run is one period from now unless one is already on record
        (or now, for an `at_start` job). Its turn is recorded for the platforms served (before an adapter has
        joined, at the first look for due jobs)."""
        self._jobs[(job.component, job.name)] = job
        if self.platforms():
            await self._record(job, self.platforms())

    async def _record(self, job: PeriodicJob, platforms: str) -> None:
        now = self._clock.now()
        key = (job.component, job.name, platforms)
        self._written.add(key)
        if job.at_start:
            await self._db.execute(
                "INSERT INTO scheduled_jobs (component, name, platforms, next_run_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (component, name, platforms) DO UPDATE SET next_run_at = excluded.next_run_at",
                (*key, stamp(now)))
        else:
            await self._db.execute(
                "INSERT INTO scheduled_jobs (component, name, platforms, next_run_at) VALUES (?, ?, ?, COALESCE("
                "(SELECT next_run_at FROM scheduled_jobs WHERE component = ? AND name = ? AND platforms = '*'), ?))"
                " ON CONFLICT DO NOTHING", (*key, job.component, job.name, stamp(now + job.every)))
            await self._at_most_one_period_away(job, now, platforms)
        # A time kept from before turns were per platform has been handed on.
        await self._db.execute("DELETE FROM scheduled_jobs WHERE component = ? AND name = ? AND platforms = '*'",
                               (job.component, job.name))

    async def clock_went_back(self) -> None:
        """The clock was set back (the console's `:clock reset`): a run planned by the later clock
        comes at most one period from now, not when that clock's time comes round."""
        now = self._clock.now()
        for job in self._jobs.values():
            await self._at_most_one_period_away(job, now)

    async def _at_most_one_period_away(self, job: PeriodicJob, now: datetime, platforms: str | None = None) -> None:
        await self._db.execute(
            "UPDATE scheduled_jobs SET next_run_at = ? WHERE component = ? AND name = ? AND platforms = ?"
            " AND next_run_at > ?", (stamp(now + job.every), job.component, job.name,
                                     self.platforms() if platforms is None else platforms, stamp(now + job.every)))

    def remove_component(self, component: str) -> None:
        """Forget a component's jobs (its cog was unloaded); their schedule stays on record."""
        self._jobs = {key: job for key, job in self._jobs.items() if key[0] != component}

    async def run_due(self) -> int:
        """Run every registered job whose time has come; returns how many ran."""
        platforms = self.platforms()
        for job in list(self._jobs.values()):
            if (job.component, job.name, platforms) not in self._written:
                await self._record(job, platforms)
        now = self._clock.now()
        rows = await self._db.fetchall(
            "SELECT component, name, next_run_at FROM scheduled_jobs WHERE platforms = ? AND next_run_at <= ?"
            " ORDER BY next_run_at", (platforms, stamp(now)))
        ran = 0
        for row in rows:
            job = self._jobs.get((row["component"], row["name"]))
            if job is None:
                continue
            if not await self._db.execute(
                    "UPDATE scheduled_jobs SET next_run_at = ? WHERE component = ? AND name = ? AND platforms = ?"
                    " AND next_run_at = ?", (stamp(now + job.every), job.component, job.name, platforms,
                                             row["next_run_at"])):
                continue  # another process serving these platforms took this run
            name = f"job {job.component}/{job.name}"
            with self._watchdog.doing(name):
                await self._loops.attempt(name, partial(job.handler, now), again=job.every)
            ran += 1
        return ran

    def keep_running(self, interval_seconds: float, turn: asyncio.Lock | None = None) -> None:
        """Run due jobs now (what fell due while the bot was down), then every interval, in the
        background until the bot closes.

        `turn`, if given, is held while jobs run, so they take turns with other work.
        """
        async def tick() -> None:
            if turn is None:
                await self.run_due()
            else:
                async with turn:
                    await self.run_due()

        self._loops.start("scheduler", tick, every=interval_seconds)

"""Background work that survives: every loop the bot runs on its own goes through `Loops`.

The scheduler's tick, each scheduled job, the outbox's delivery and the watchdog are *attempts*
under a name. An attempt that fails (a database locked by another process, a platform that is
down) is logged once, with its name and the error, the first time it fails; the ones after it
fail quietly until it works again, which is logged too. A loop waits longer after each failure
in a row (`BACKOFF`), then tries again: nothing ends for good. A loop task that ends anyway (a
library cancelled it, a bug let something through) is noticed and started again.

How each is doing (its last success, its last error) is kept in `loop_health`, so that
`smallstep status`, run from another process, can show it. A row is written when the state
changes, and at most once a minute while all goes well; while the database itself is what
fails, it waits in memory and is written once the database works again.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any, Awaitable, Callable

from bot.core.clock import Clock
from bot.storage import Database, StorageError
from bot.values import stamp

log = logging.getLogger(__name__)

# Seconds to wait after the 1st, 2nd, 3rd ... failure in a row (the last one repeats).
BACKOFF = (1, 2, 5, 10, 30, 60)
# While all goes well, a loop's last success is written at most this often.
SAVE_EVERY = timedelta(minutes=1)

Work = Callable[[], Awaitable[Any]]


@dataclass
class Health:
    """How one loop or job is doing."""

    name: str
    last_ok: datetime | None = None
    last_error: datetime | None = None
    error: str = ""
    failures: int = 0  # in a row, since the last success
    saved_at: datetime | None = None
    dirty: bool = False


def describe(exc: BaseException) -> str:
    """An error for the log's first line and for `smallstep status`: its kind and what it says."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}"[:300] if text else type(exc).__name__


class Loops:
    """The bot's background loops and how each is doing."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock
        self.health: dict[str, Health] = {}
        self._tasks: dict[str, asyncio.Task] = {}
        self._writer: asyncio.Task | None = None
        self._stopping = False

    # -- one attempt ----------------------------------------------------------------------

    async def attempt(self, name: str, work: Work, *, again: timedelta | None = None) -> bool:
        """Do `work` once under `name`; True if it worked. An error is logged (once per streak) and
        recorded, never raised: the caller tries again after `backoff(name)`, or `again` (a job's
        period), which the log line says."""
        try:
            await work()
        except Exception as exc:
            self._failed(name, exc, again)
            return False
        self._worked(name)
        return True

    def backoff(self, name: str) -> float:
        """How long to wait before trying `name` again, after its failures in a row."""
        failures = self.health[name].failures if name in self.health else 0
        return BACKOFF[min(max(failures, 1), len(BACKOFF)) - 1]

    def _failed(self, name: str, exc: Exception, again: timedelta | None) -> None:
        health = self._health(name)
        health.failures += 1
        health.last_error = self._clock.now()
        health.error = describe(exc)
        if health.failures == 1:
            log.error("%s failed; trying again in %s (logged once until it works again): %s", name,
                      again or timedelta(seconds=self.backoff(name)), health.error,
                      exc_info=None if isinstance(exc, StorageError) else exc)  # its words say it all
        else:
            log.debug("%s failed again (%d in a row): %s", name, health.failures, health.error)
        if isinstance(exc, StorageError):  # the database is what failed: the record waits until it works
            health.dirty = True
        else:
            self._save(health)

    def _worked(self, name: str) -> None:
        health = self._health(name)
        now = self._clock.now()
        recovered = health.failures > 0
        if recovered:
            log.warning("%s works again, after %d failure%s in a row", name, health.failures,
                        "" if health.failures == 1 else "s")
            health.failures = 0
        health.last_ok = now
        if recovered or health.dirty or health.saved_at is None or now - health.saved_at >= SAVE_EVERY:
            self._save(health)

    def _health(self, name: str) -> Health:
        if name not in self.health:
            self.health[name] = Health(name)
        return self.health[name]

    def _save(self, health: Health) -> None:
        """Write how the loops are doing, in the background: a loop never waits for its own record."""
        health.dirty = True
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write(), name="loop health")

    async def _write(self) -> None:
        while waiting := [h for h in self.health.values() if h.dirty]:  # changes made meanwhile too
            for health in waiting:
                health.dirty = False
                try:
                    await self._db.execute(
                        "INSERT INTO loop_health (name, last_ok_at, last_error_at, last_error, failures)"
                        " VALUES (?, ?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET last_ok_at = excluded.last_ok_at,"
                        " last_error_at = excluded.last_error_at, last_error = excluded.last_error,"
                        " failures = excluded.failures",
                        (health.name, stamp(health.last_ok) if health.last_ok else None,
                         stamp(health.last_error) if health.last_error else None, health.error or None,
                         health.failures))
                except Exception as exc:
                    health.dirty = True  # written with the next change, once the database works
                    log.debug("could not record how the loops are doing: %s", describe(exc))
                    return
                health.saved_at = self._clock.now()

    # -- loops ----------------------------------------------------------------------------

    def start(self, name: str, work: Work, every: float, *, after: float = 0) -> None:
        """Do `work` every `every` seconds (the first time `after` seconds from now) until `close`, surviving
        anything."""
        task = asyncio.create_task(self._forever(name, work, every, after), name=name)
        self._tasks[name] = task
        task.add_done_callback(partial(self._ended, name, work, every))

    async def _forever(self, name: str, work: Work, every: float, after: float = 0) -> None:
        await asyncio.sleep(after)
        while True:
            worked = await self.attempt(name, work)
            await asyncio.sleep(every if worked else self.backoff(name))

    def _ended(self, name: str, work: Work, every: float, task: asyncio.Task) -> None:
        if self._stopping:
            return
        why = "it was cancelled" if task.cancelled() else describe(task.exception())
        log.error("the background loop %s ended (%s); starting it again", name, why)
        self.start(name, work, every)

    def running(self, name: str) -> bool:
        task = self._tasks.get(name)
        return task is not None and not task.done()

    async def close(self, timeout: float = 5) -> bool:
        """Stop every loop (a job in the middle of its work is cancelled: its next run is on record);
        False if one would not stop within `timeout` seconds."""
        self._stopping = True
        tasks = [t for t in self._tasks.values() if not t.done()]
        for task in tasks:
            task.cancel()
        if any(h.dirty for h in self.health.values()):  # the last record of how they did
            self._save(next(h for h in self.health.values() if h.dirty))
        if self._writer is not None and not self._writer.done():
            tasks.append(self._writer)
        if not tasks:
            return True
        _, pending = await asyncio.wait(tasks, timeout=timeout)
        for task in pending:
            log.error("%s did not stop within %s s", task.get_name(), timeout)
            task.cancel()
        return not pending

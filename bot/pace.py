"""A pace for requests to a platform: one every 1/per_second seconds, never in a burst, so that no second
of the platform's sees more than `per_second` of them.

An SQLite bot is one process, which keeps its pace in memory. Processes that share a PostgreSQL database
share the pace through it (Discord's 50 requests a second count every process of a bot together): each
request takes the next free moment in `send_pace` (one statement) and waits for it. Moments are wall-clock
time, which the machines of one bot agree on (NTP). Should the database not answer, the process keeps at
least its own pace.
"""

from __future__ import annotations

import asyncio
import time

from aiolimiter import AsyncLimiter

from bot.storage import Database, StorageError


class Pace:
    """One platform's pace; `await pace.wait()` before each request."""

    def __init__(self, db: Database, platform: str, per_second: float) -> None:
        self._db = db
        self._platform = platform
        self._gap = 1 / per_second
        self._alone = AsyncLimiter(1, self._gap)

    async def wait(self) -> None:
        if not self._db.shared:
            await self._alone.acquire()
            return
        now = time.time()
        try:
            turn = await self._db.fetchval(
                "INSERT INTO send_pace (platform, next_at) VALUES (?, ?) ON CONFLICT (platform) DO UPDATE SET"
                " next_at = CASE WHEN send_pace.next_at > ? THEN send_pace.next_at ELSE ? END + ? RETURNING next_at",
                (self._platform, now + self._gap, now, now, self._gap))
        except StorageError:
            await self._alone.acquire()
            return
        wait = turn - self._gap - time.time()
        if wait > 0:
            await asyncio.sleep(wait)

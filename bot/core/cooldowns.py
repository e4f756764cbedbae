"""Per-member limits, so that one member cannot flood the moderators' queue or the channels.

Kept in memory: a restart forgets them, which errs on the member's side. Moderators have none.
"""

from __future__ import annotations

import math
from collections import deque
from datetime import datetime, timedelta
from typing import Hashable

from bot.core.clock import Clock

_TIDY_EVERY = 1000  # calls between two sweeps of keys no longer held back


class Cooldowns:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._recent: dict[Hashable, deque[datetime]] = {}
        self._last: dict[Hashable, datetime] = {}
        self._calls = 0

    def rate(self, key: Hashable, per_minute: int) -> int:
        """0 if one more is allowed now (and it is counted), else the seconds until it is."""
        if per_minute <= 0:
            return 0
        now = self._tick()
        recent = self._recent.setdefault(key, deque())
        while recent and recent[0] <= now - timedelta(minutes=1):
            recent.popleft()
        if len(recent) >= per_minute:
            return max(1, math.ceil((recent[0] + timedelta(minutes=1) - now).total_seconds()))
        recent.append(now)
        return 0

    def left(self, key: Hashable, gap: timedelta) -> int:
        """The seconds left until `gap` has passed since the last time marked (0: it has)."""
        now = self._tick()
        last = self._last.get(key)
        if last is not None and now - last < gap:
            return max(1, math.ceil((last + gap - now).total_seconds()))
        return 0

    def mark(self, key: Hashable) -> None:
        """It happened now: the next one waits its gap from here."""
        self._last[key] = self._tick()

    def _tick(self) -> datetime:
        now = self._clock.now()
        self._calls += 1
        if self._calls % _TIDY_EVERY == 0:
            minute_ago = now - timedelta(minutes=1)
            self._recent = {k: q for k, q in self._recent.items() if q and q[-1] > minute_ago}
            self._last = {k: t for k, t in self._last.items() if t > now - timedelta(days=1)}
        return now

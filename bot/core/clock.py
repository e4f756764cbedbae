"""The bot's clock. Nothing in the bot reads the wall clock directly: it asks a Clock,
so the console (`:clock +25h`) and tests can move time forward and watch scheduled
work happen."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

_DURATION = re.compile(r"(\d+)\s*(w|d|h|m|s)")
_UNITS = {"w": "weeks", "d": "days", "h": "hours", "m": "minutes", "s": "seconds"}


def parse_duration(text: str) -> timedelta:
    """'25h', '7d', '1d12h', '90m', '2w' → a timedelta. Raises ValueError with the accepted forms."""
    cleaned = text.strip().lstrip("+").replace(" ", "").lower()
    parts = _DURATION.findall(cleaned)
    if not cleaned or "".join(n + u for n, u in parts) != cleaned:
        raise ValueError(f"{text!r} is not a duration; write e.g. 90m, 25h, 7d or 1d12h")
    return sum((timedelta(**{_UNITS[unit]: int(number)}) for number, unit in parts), timedelta())


class Clock:
    """Real time, optionally shifted forward by a fixed offset (the console's `:clock`)."""

    def __init__(self, tz: str = "UTC", offset: timedelta = timedelta(0)) -> None:
        self.tz = ZoneInfo(tz)
        self.offset = offset

    def now(self) -> datetime:
        """The current moment, timezone-aware, in UTC."""
        return datetime.now(timezone.utc) + self.offset

    def today(self) -> date:
        """Today's date in the community's time zone."""
        return self.now().astimezone(self.tz).date()

    def advance(self, delta: timedelta) -> None:
        if delta < timedelta(0):
            raise ValueError("the clock only moves forward")
        self.offset += delta


def stamp(moment: datetime) -> str:
    """A moment as stored in the database: UTC, fixed width, so text order is time order."""
    return moment.astimezone(timezone.utc).isoformat(timespec="microseconds")

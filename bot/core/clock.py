"""The bot's clock. Nothing in the bot reads the wall clock directly: it asks a Clock,
so the console (`:clock +25h`) and tests can move time forward and watch scheduled
work happen."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo


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
        """Move the clock forward; refuses (ValueError) to go back or past the year 9999."""
        if delta < timedelta(0):
            raise ValueError("the clock only moves forward")
        try:
            self.now() + delta
        except OverflowError:
            raise ValueError("that would move the clock past the year 9999") from None
        self.offset += delta

    def reset(self) -> None:
        """Back to real time: the only way the clock goes back (the console's `:clock reset`)."""
        self.offset = timedelta(0)


"""The bot's clock. Nothing in the bot reads the wall clock directly: it asks a Clock,
so the console (`:clock +25h`) and tests can move time forward and watch scheduled
work happen."""

from __future__ import annotations

import difflib
import functools
import re
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

_DURATION = re.compile(r"(\d{1,7})\s*(w|d|h|m|s)")
LONGEST = timedelta(days=3650)
_SECONDS = {"w": 7 * 86400, "d": 86400, "h": 3600, "m": 60, "s": 1}


def parse_duration(text: str) -> timedelta:
    """'25h', '7d', '1d12h', '90m', '2w' → a timedelta, up to ten years. Raises ValueError saying what fits."""
    cleaned = text.strip().lstrip("+").replace(" ", "").lower()
    parts = _DURATION.findall(cleaned)
    if not cleaned or "".join(n + u for n, u in parts) != cleaned:
        raise ValueError(f"{text!r} is not a duration; write e.g. 90m, 25h, 7d or 1d12h")
    # Counted in whole seconds, which have no upper limit, before a timedelta (which has) is made.
    seconds = sum(int(number) * _SECONDS[unit] for number, unit in parts)
    if seconds > LONGEST.total_seconds():
        raise ValueError(f"{text!r} is longer than ten years, the longest duration the bot takes")
    return timedelta(seconds=seconds)


def zone(name: str) -> ZoneInfo | None:
    """The IANA time zone of that name (`Europe/Berlin`, any case), or None if there is none."""
    real = _zone_names().get(name.strip().casefold())
    return ZoneInfo(real) if real else None


def closest_zones(name: str, n: int = 3) -> list[str]:
    """IANA names near what was typed, for a 'did you mean': `Europe/Berln` → Europe/Berlin.
    A city alone (`berlin`) finds its zone too."""
    typed = name.strip().casefold().replace(" ", "_")
    names = _zone_names()
    by_city = [real for key, real in names.items() if key.rsplit("/", 1)[-1] == typed]
    near = difflib.get_close_matches(typed, list(names), n=n, cutoff=0.6)
    return list(dict.fromkeys([*by_city, *(names[key] for key in near)]))[:n]


@functools.cache
def _zone_names() -> dict[str, str]:
    return {z.casefold(): z for z in sorted(available_timezones()) if "/" in z or z == "UTC"}


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


def stamp(moment: datetime) -> str:
    """A moment as stored in the database: UTC, fixed width, so text order is time order."""
    return moment.astimezone(timezone.utc).isoformat(timespec="microseconds")

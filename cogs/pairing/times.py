"""Times for a pair to talk: the hours both are free, as moments to pick, and a calendar file of the one picked.

Each member said when they are usually free, in their own time zone (`matching.SLOTS`); a moment both
are free is an hour whose bit is set in both members' masks of that week (`matching.free_hours`), so
daylight saving and the two zones are counted as the matcher counts them.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import icalendar

from cogs.pairing.matching import free_hours

AHEAD = timedelta(hours=2)  # the first moment offered: time for an hour's reminder, and to get ready
LOOK_AHEAD = timedelta(days=14)
LENGTH = timedelta(hours=1)


def shared_moments(first: tuple[str, list[str]], second: tuple[str, list[str]], now: datetime, viewer: str,
                   most: int = 5) -> list[datetime]:
    """Moments (UTC, on the hour) in the next two weeks when both are free, `(zone, slots)` each: the first
    such hour of each day, as the day falls in the `viewer`'s zone, up to `most` days."""
    start = (now + AHEAD).astimezone(timezone.utc).replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    found: list[datetime] = []
    days: set = set()
    moment = start
    while moment < now + LOOK_AHEAD and len(found) < most:
        hour = 1 << (moment.weekday() * 24 + moment.hour)  # the masks' hour of the week, from Monday 00:00 UTC
        day = moment.astimezone(ZoneInfo(viewer)).date()
        if day not in days and all(free_hours(zone, slots, moment.astimezone(ZoneInfo(zone)).date()) & hour
                                   for zone, slots in (first, second)):
            found.append(moment)
            days.add(day)
        moment += timedelta(hours=1)
    return found


def calendar_file(uid: str, title: str, start: datetime, zone: str, description: str, now: datetime) -> bytes:
    """An .ics file (RFC 5545) with one hour from `start`, written in the member's own `zone`."""
    cal = icalendar.Calendar()
    cal.add("prodid", "-//Small Step Bot//pairing//EN")
    cal.add("version", "2.0")
    event = icalendar.Event()
    local = start.astimezone(ZoneInfo(zone))
    event.add("uid", uid)
    event.add("dtstamp", now)
    event.add("dtstart", local)
    event.add("dtend", local + LENGTH)
    event.add("summary", title)
    event.add("description", description)
    alarm = icalendar.Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("description", title)
    alarm.add("trigger", -LENGTH)
    event.add_component(alarm)
    cal.add_component(event)
    cal.add_missing_timezones()
    return cal.to_ical()

"""When events happen: a wall-clock start in the event's own time zone, an optional
recurrence (an RFC 5545 RRULE, read by dateutil), and calendar files (icalendar).

Times are kept as the organiser wrote them, in their zone: a weekly event at 18:00 in
Berlin stays at 18:00 across a daylight-saving change, which means its moment in UTC moves.
Occurrences are computed on the local wall clock and only then given their zone.
"""

from __future__ import annotations

import functools
import re
from calendar import isleap
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import islice, pairwise
from typing import Any, Iterable
from zoneinfo import ZoneInfo

import icalendar
from dateutil import parser as dates
from dateutil import rrule

from bot.core.errors import Explained
from bot.values import parse_duration

LONGEST_EVENT = timedelta(days=14)
# A repeat rule is judged by its first occurrences: any two closer than a day are refused (a reminder
# storm is never what an organiser meant), and so is a rule with none within the horizon (a yearly
# 29 February comes within five years).
SHORTEST_REPEAT = timedelta(days=1)
REPEAT_HORIZON = timedelta(days=5 * 366)
REPEATS_CHECKED = 100
_SHORTHANDS = {"daily": "FREQ=DAILY", "weekly": "FREQ=WEEKLY", "fortnightly": "FREQ=WEEKLY;INTERVAL=2",
               "biweekly": "FREQ=WEEKLY;INTERVAL=2", "monthly": "FREQ=MONTHLY"}
_CLOCK = re.compile(r"^\d{1,2}[:.h]\d{2}$|^\d{1,2}\s*(am|pm)$", re.IGNORECASE)


class TimeProblem(Explained):
    """What cannot be taken about a time; `reason` is a block of events/messages.j2."""


@dataclass(frozen=True)
class Occurrence:
    """One time an event happens: start and end, aware, in the event's zone."""

    start: datetime
    end: datetime


def parse_start(text: str, zone: ZoneInfo, now: datetime) -> datetime:
    """A start as typed ("2026-12-10 18:00", "10 Dec 2026 6pm") → the local wall-clock time, naive.

    A time with its own offset ("...T18:00+01:00") is converted into the event's zone.
    """
    today = now.astimezone(zone).replace(hour=0, minute=0, second=0, microsecond=0, tzinfo=None)
    try:
        parsed = dates.parse(text, default=today)
    except (ValueError, OverflowError):
        raise TimeProblem("bad_start", value=text) from None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(zone).replace(tzinfo=None)
    if not re.search(r"\d{1,2}[:.h]\d{2}|\d\s*(am|pm)\b", text, re.IGNORECASE):
        raise TimeProblem("start_needs_time", value=text)
    return parsed.replace(second=0, microsecond=0)


def parse_length(text: str, start: datetime) -> timedelta:
    """How long, as typed: a duration ("90m", "1h30m") or when it ends ("19:30", "2026-12-10 19:30")."""
    text = text.strip()
    try:
        length = parse_duration(text)
    except ValueError:
        try:
            end = dates.parse(text, default=start.replace(hour=0, minute=0))
        except (ValueError, OverflowError):
            raise TimeProblem("bad_length", value=text) from None
        if end.tzinfo is not None:
            raise TimeProblem("bad_length", value=text)
        if _CLOCK.match(text) and end <= start:
            raise TimeProblem("ends_before_start", value=text)
        length = end - start
    if length <= timedelta(0):
        raise TimeProblem("ends_before_start", value=text)
    if length > LONGEST_EVENT:
        raise TimeProblem("too_long_event", value=text)
    return length


def parse_recurrence(text: str, start: datetime) -> str:
    """`weekly`, `monthly`, ... or an RRULE (`FREQ=WEEKLY;BYDAY=TU;COUNT=6`) → the RRULE, checked."""
    rule = _SHORTHANDS.get(text.strip().lower(), text.strip())
    rule = re.sub(r"^RRULE:", "", rule, flags=re.IGNORECASE).upper()
    try:
        parsed = rrule.rrulestr(rule, dtstart=start)
    except (ValueError, TypeError):
        raise TimeProblem("bad_recurrence", value=text) from None
    check_recurrence(parsed, start, text)
    return rule


def check_recurrence(rule: rrule.rrule, start: datetime, text: str) -> None:
    """Refuse a repeat rule that never happens within REPEAT_HORIZON, or whose occurrences come closer
    together than SHORTEST_REPEAT, by the occurrences themselves (FREQ=DAILY;BYMINUTE=0,1,2 is every minute)."""
    # dateutil checks UNTIL only against occurrences it found, so it searches up to the year 9999 for a rule
    # that never happens. The rule is therefore run on the same calendar just before 9999, where that search
    # ends a few decades on, whatever the rule.
    shift = _twin_shift(start)
    late = rule.replace(dtstart=start + shift, count=None, until=start + shift + REPEAT_HORIZON)
    found = [moment - shift for moment in islice(late, REPEATS_CHECKED)]
    # The rule's own COUNT and UNTIL keep the first of those; asked one for each, it finds each at once.
    first = [moment for _, moment in zip(found, rule)]
    if not first:
        raise TimeProblem("recurrence_never", value=text, years=REPEAT_HORIZON.days // 365)
    if any(later - earlier < SHORTEST_REPEAT for earlier, later in pairwise(first)):
        raise TimeProblem("recurrence_too_often", value=text)


def _twin_shift(start: datetime) -> timedelta:
    """How far to move `start` so that the years from there to 9999 have the same calendar, day for day
    (weekdays, leap years), as the years from `start` on: the latest such place that leaves REPEAT_HORIZON
    before 9999. One is always found, as the calendar repeats itself every 400 years."""
    last = datetime.max.year - REPEAT_HORIZON.days // 365 - 2
    weekday = date(start.year, 1, 1).weekday()
    for twin in range(last, last - 400, -1):
        if date(twin, 1, 1).weekday() == weekday and all(
                isleap(start.year + n) == isleap(twin + n) for n in range(datetime.max.year - twin + 1)):
            return datetime(twin, 1, 1) - datetime(start.year, 1, 1)
    raise AssertionError("the Gregorian calendar repeats every 400 years")


_WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_BYDAY = re.compile(r"^([+-]?[1-5])?(MO|TU|WE|TH|FR|SA|SU)$")


def recurrence_in_words(rule: str | None, first: datetime) -> dict[str, Any]:
    """How a rule repeats, in parts a template can put into words ("every Tuesday", "every other week on
    Monday", "monthly on the first Monday", "6 times"): `freq` (daily, weekly, monthly, yearly, or custom
    when the rule is more than these say), `interval`, `weekdays` (0 is Monday), `nth` (1 to 5, or -1 for
    the last) with one weekday, `monthday`, and `count` or `until` (a date). {} for no rule."""
    if not rule:
        return {}
    parts = {key: list(values) for key, values in icalendar.vRecur.from_ical(rule).items()}
    words: dict[str, Any] = {"freq": "custom", "interval": int(parts.pop("INTERVAL", [1])[0]), "weekdays": [],
                             "nth": None, "monthday": None, "count": None, "until": None}
    parts.pop("WKST", None)  # which day a week starts on changes nothing a member sees here
    if "COUNT" in parts:
        words["count"] = int(parts.pop("COUNT")[0])
    if "UNTIL" in parts:
        until = parts.pop("UNTIL")[0]
        words["until"] = until.date() if isinstance(until, datetime) else until
    freq = parts.pop("FREQ", [""])[0].lower()
    days = [_BYDAY.match(str(day)) for day in parts.pop("BYDAY", [])]
    monthdays = [int(day) for day in parts.pop("BYMONTHDAY", [])]
    if parts or not all(days) or len(monthdays) > 1 or (days and monthdays):
        return words  # BYMONTH, BYSETPOS, several month days...: a custom schedule
    numbered = [m for m in days if m.group(1)]
    if freq in ("daily", "yearly") and not days and not monthdays:
        words["freq"] = freq
    elif freq == "weekly" and not numbered and not monthdays:
        words["freq"] = freq
        words["weekdays"] = sorted({_WEEKDAYS.index(m.group(2)) for m in days}) or [first.weekday()]
    elif freq == "monthly" and len(days) == 1 and numbered and int(days[0].group(1)) in (1, 2, 3, 4, 5, -1):
        words.update(freq=freq, nth=int(days[0].group(1)), weekdays=[_WEEKDAYS.index(days[0].group(2))])
    elif freq == "monthly" and not days and all(day > 0 for day in monthdays):  # not counted from the end
        words.update(freq=freq, monthday=monthdays[0] if monthdays else first.day)
    return words


@functools.lru_cache(maxsize=1024)
def ever(recurrence: str, first: datetime) -> bool:
    """Whether a stored repeat rule happens at all (one kept from before rules were checked may not:
    FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30). dateutil would look for its next occurrence until the year 9999,
    seconds of work at every look; the rule is looked at once on the twin calendar just before 9999 (as
    `check_recurrence` does), then answered from memory."""
    shift = _twin_shift(first)
    pattern = rrule.rrulestr(recurrence, dtstart=first + shift).replace(count=None, until=None)
    return pattern.after(first + shift, inc=True) is not None


def starts(first: datetime, recurrence: str | None, after: datetime, before: datetime) -> list[datetime]:
    """Local wall-clock starts in [after, before], naive."""
    if recurrence is None:
        return [first] if after <= first <= before else []
    if not ever(recurrence, first):
        return []
    return rrule.rrulestr(recurrence, dtstart=first).between(after, before, inc=True)


def occurrences(first: datetime, zone: ZoneInfo, length: timedelta, recurrence: str | None, *,
                ending_after: datetime, until: datetime) -> list[Occurrence]:
    """The occurrences that have not ended by `ending_after` and start by `until` (aware moments)."""
    # On the wall clock, with a day's margin either side for offsets; exact comparisons follow.
    low = ending_after.astimezone(zone).replace(tzinfo=None) - length - timedelta(days=1)
    high = until.astimezone(zone).replace(tzinfo=None) + timedelta(days=1)
    found = []
    for local in starts(first, recurrence, low, high):
        start = local.replace(tzinfo=zone)
        occurrence = Occurrence(start, (local + length).replace(tzinfo=zone))
        if occurrence.end > ending_after and start <= until:
            found.append(occurrence)
    return found


def next_occurrence(first: datetime, zone: ZoneInfo, length: timedelta, recurrence: str | None,
                    now: datetime) -> Occurrence | None:
    """The occurrence happening now or next, however far ahead; None once the last one is over."""
    def at(local: datetime) -> Occurrence:
        return Occurrence(local.replace(tzinfo=zone), (local + length).replace(tzinfo=zone))

    if recurrence is None:
        return at(first) if at(first).end > now else None
    if not ever(recurrence, first):
        return None
    rule = rrule.rrulestr(recurrence, dtstart=first)
    local = rule.after(now.astimezone(zone).replace(tzinfo=None) - length - timedelta(days=1), inc=True)
    while local is not None and at(local).end <= now:
        local = rule.after(local)
    return at(local) if local is not None else None


@dataclass(frozen=True)
class CalendarEntry:
    """What a calendar file says about one event."""

    uid: str
    title: str
    first: Occurrence
    recurrence: str | None
    description: str
    place: str
    link: str
    revision: int
    cancelled: bool


def calendar(entries: Iterable[CalendarEntry], now: datetime) -> bytes:
    """An .ics file (RFC 5545) with each event, its zone and its recurrence."""
    cal = icalendar.Calendar()
    cal.add("prodid", "-//Small Step Bot//events//EN")
    cal.add("version", "2.0")
    for entry in entries:
        event = icalendar.Event()
        event.add("uid", entry.uid)
        event.add("dtstamp", now)
        event.add("dtstart", entry.first.start)
        event.add("dtend", entry.first.end)
        event.add("summary", entry.title)
        event.add("sequence", entry.revision)
        event.add("status", "CANCELLED" if entry.cancelled else "CONFIRMED")
        if entry.description:
            event.add("description", entry.description)
        if entry.place:
            event.add("location", entry.place)
        if entry.link:
            event.add("url", entry.link)
        if entry.recurrence:
            event.add("rrule", icalendar.vRecur.from_ical(entry.recurrence))
        cal.add_component(event)
    cal.add_missing_timezones()
    return cal.to_ical()

"""A moment as each platform can show it: in every reader's own time zone where the platform can.

Discord and Slack turn a Unix time in a message into the reader's own local time, on their own
device, without asking them for a zone: Discord's `<t:UNIX:STYLE>` (reference.mdx, "Timestamp
Styles": F is the full date with a short time, t a short time, R a relative time such as "in 3
days"), Slack's `<!date^UNIX^TOKENS|fallback>` (docs.slack.dev, "Formatting message text",
"Date formatting": the fallback is shown where the client cannot format the date). The console
has no such thing: there the moment is written out in the zone it carries, which the caller
chose (the member's own, or the event's).

One function per platform, used through the template filter `when` (bot.render.templates):

    {{ start | when }}                      Tue 5 Jan 2027, 18:00 CET   (console)
    {{ start | when(end, relative=True) }}  <t:1799..:F>–<t:1799..:t> (<t:1799..:R>)   (Discord)
    {{ item.start | when(zone=False) }}     Tue 5 Jan 2027, 18:00   (the zone said once, elsewhere)

Only where markup is read: a message's text and its fields, not a title, a button or a
suggestion, which show plain text.
"""

from __future__ import annotations

from datetime import datetime
from typing import Callable

from bot.render.escape import escape_slack

MONTHS = ("January", "February", "March", "April", "May", "June", "July",
          "August", "September", "October", "November", "December")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

# Slack's tokens (docs.slack.dev, "Date formatting"): "today", "tomorrow" or the long date, then the time
# as the reader set their clock (12 or 24 hours).
SLACK_DATE = "{date_long_pretty} at {time}"
SLACK_TIME = "{time}"


def short_date(value: datetime) -> str:
    """Wed 25 Nov 2026."""
    return f"{WEEKDAYS[value.weekday()][:3]} {value.day} {MONTHS[value.month - 1][:3]} {value.year}"


def clock_time(value: datetime) -> str:
    """18:30, in the time zone the moment carries."""
    return f"{value.hour:02d}:{value.minute:02d}"


def console_time(start: datetime, end: datetime | None = None, *, zone: bool = True, relative: bool = False) -> str:
    """In the zone the moments carry, named once at the end: `Tue 5 Jan 2027, 18:00–19:30 CET`; an end on
    another day says its day too. A terminal cannot say "in 3 days" as time passes: `relative` is left out."""
    text = f"{short_date(start)}, {clock_time(start)}"
    if end is not None:
        text += "–" + (f"{short_date(end)}, " if end.date() != start.date() else "") + clock_time(end)
    return f"{text} {start.tzname() or ''}".rstrip() if zone else text


def discord_time(start: datetime, end: datetime | None = None, *, zone: bool = True, relative: bool = False) -> str:
    """`<t:UNIX:F>`, with `–<t:UNIX:t>` for an end and ` (<t:UNIX:R>)` for "in 3 days": each reader's own zone."""
    text = f"<t:{_unix(start)}:F>"
    if end is not None:
        text += f"–<t:{_unix(end)}:t>"
    return text + (f" (<t:{_unix(start)}:R>)" if relative else "")


def slack_time(start: datetime, end: datetime | None = None, *, zone: bool = True, relative: bool = False) -> str:
    """`<!date^UNIX^{date_long_pretty} at {time}|fallback>`: each reader's own zone, and "today" or "tomorrow"
    when it is (so `relative` adds nothing). The fallback is the console's text, escaped for mrkdwn."""
    text = _slack_date(start, SLACK_DATE, console_time(start, zone=True))
    if end is not None:
        text += "–" + _slack_date(end, SLACK_TIME, clock_time(end))
    return text


def _slack_date(moment: datetime, tokens: str, fallback: str) -> str:
    return f"<!date^{_unix(moment)}^{tokens}|{escape_slack(fallback)}>"


def _unix(moment: datetime) -> int:
    return int(moment.timestamp())


LOCAL_TIMES: dict[str, Callable[..., str]] = {
    "discord": discord_time,
    "slack": slack_time,
    "console": console_time,
    "image": console_time,
    "plain": console_time,
}

#: The platforms whose readers see every time in their own zone, whatever zone the moment carries.
READERS_OWN_ZONE = frozenset({"discord", "slack"})
